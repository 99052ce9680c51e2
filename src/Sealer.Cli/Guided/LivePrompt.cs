using System.Text;
using Sealer.Core.Delivery.Guided;
using Sealer.Core.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sealer.Cli.Guided;

/// <summary>
/// A one-line prompt that checks its answer as it is typed (Spectre's <c>TextPrompt</c> checks only on Enter): keys are
/// read one by one from Spectre's console input and a live display shows, under the answer, what is wrong with it
/// (in red) or what it was understood as (<c>3 hosts: 10.0.0.1-10.0.0.3</c>). Enter on an empty line takes
/// <see cref="Default"/>; Enter on an answer with a problem is refused and the problem stays on screen; Backspace removes
/// the last character, Ctrl+U or Esc the whole line; Ctrl+C cancels the run (nothing has been changed on any host while
/// questions are asked). A <see cref="Secret"/> answer is never shown and checked on Enter only (a passphrase would
/// otherwise be tried at every key). Once answered, the display is replaced by one plain line: the question, the answer
/// (not a secret one) and what it was understood as, which is what the terminal's history keeps.
/// </summary>
internal sealed class LivePrompt(string question, Func<string, AnswerCheck> check)
{
    /// <summary>The answer Enter takes on an empty line (shown in brackets).</summary>
    public string? Default { get; init; }

    /// <summary>Never echoed, not even as stars; checked on Enter.</summary>
    public bool Secret { get; init; }

    /// <summary>Shown under an empty line before anything is typed (when there is no default to show).</summary>
    public string? Hint { get; init; }

    public async Task<string> AskAsync(IAnsiConsole console, CancellationToken cancellationToken)
    {
        var typed = new StringBuilder();
        string? refused = null; // the problem of the last Enter, kept until the answer changes
        string answer = "";
        AnswerCheck taken = AnswerCheck.Good();
        await console.Live(Render(console, typed.ToString(), refused)).AutoClear(true).StartAsync(async ctx =>
        {
            ctx.Refresh(); // the question shows before the first key
            while (true)
            {
                // Ctrl+C is SIGINT (Program cancels the token): the wait for a key ends with OperationCanceledException
                var read = await console.Input.ReadKeyAsync(intercept: true, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                var key = read ?? throw new SealerException(ErrorCodes.GuidedAnswerMissing, "The terminal gives no key presses, so the guided run cannot ask. Run with a Clusterfile: 'run -f Clusterfile'.");
                if (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control))
                {
                    throw new SealerException(ErrorCodes.Cancelled, "Cancelled at a question; nothing was changed on any host.");
                }
                if (key.Key == ConsoleKey.Enter)
                {
                    string candidate = typed.Length == 0 && Default is not null ? Default : typed.ToString();
                    var result = check(candidate);
                    if (result.IsGood)
                    {
                        answer = candidate;
                        taken = result;
                        return;
                    }
                    refused = result.Problem;
                }
                else if (key.Key == ConsoleKey.Backspace)
                {
                    if (typed.Length > 0) typed.Length--;
                    refused = null;
                }
                else if (key.Key == ConsoleKey.Escape || (key.Key == ConsoleKey.U && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
                {
                    typed.Clear();
                    refused = null;
                }
                else if (!char.IsControl(key.KeyChar))
                {
                    typed.Append(key.KeyChar);
                    refused = null;
                }
                else continue; // arrows, tab, function keys: the line is edited at its end only
                ctx.UpdateTarget(Render(console, typed.ToString(), refused));
                ctx.Refresh();
            }
        }).ConfigureAwait(false);
        string shown = Secret ? "[grey](given, not shown)[/]" : "[bold]" + Markup.Escape(answer) + "[/]";
        string understood = string.IsNullOrEmpty(taken.Understood) ? "" : $"  [grey]{Markup.Escape(taken.Understood)}[/]";
        console.MarkupLine($"{Markup.Escape(question)} {shown}{understood}");
        return answer;
    }

    private IRenderable Render(IAnsiConsole console, string typed, string? refused)
    {
        bool unicode = console.Profile.Capabilities.Unicode;
        string bad = unicode ? "✗" : "x", good = unicode ? "✓" : "ok";
        var line = new StringBuilder(Markup.Escape(question)).Append(' ');
        if (Default is not null) line.Append("[grey](").Append(Markup.Escape(Default)).Append(")[/] ");
        if (!Secret) line.Append(Markup.Escape(typed));
        line.Append("[invert] [/]");

        string under;
        if (refused is not null)
        {
            under = $"[red]{bad} {Markup.Escape(refused)}[/] [grey](fix it, then Enter)[/]";
        }
        else if (Secret)
        {
            under = "[grey]not shown; Enter when done[/]";
        }
        else if (typed.Length == 0)
        {
            var d = Default is null ? null : check(Default);
            under = d is { IsGood: true } ? $"[grey]Enter takes {Markup.Escape(Default!)}{(string.IsNullOrEmpty(d.Understood) ? "" : " (" + Markup.Escape(d.Understood) + ")")}[/]"
                : $"[grey]{Markup.Escape(Hint ?? check("").Problem ?? "type the answer, then Enter")}[/]";
        }
        else
        {
            var c = check(typed);
            under = c.IsGood ? $"[green]{good}[/] {Markup.Escape(c.Understood ?? "")}" : $"[red]{bad} {Markup.Escape(c.Problem!)}[/]";
        }
        return new Rows(new Markup(line.ToString()), new Markup("  " + under));
    }
}
