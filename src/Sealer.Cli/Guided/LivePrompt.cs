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
/// <see cref="Default"/>; Enter on an answer with a problem is refused and the problem stays on screen. The line is edited
/// as in a shell: Left/Right (Ctrl+B/F) move the cursor, Home/End (Ctrl+A/E) go to either end, Backspace and Delete (Ctrl+D)
/// remove the character before/under it, Ctrl+W the word before it, Ctrl+K the rest of the line, Ctrl+U or Esc the whole
/// line, and typed characters are inserted at the cursor; Ctrl+C cancels the run (nothing has been changed on any host while
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
        int cursor = 0; // where the next character goes: 0..typed.Length
        string? refused = null; // the problem of the last Enter, kept until the answer changes
        string answer = "";
        AnswerCheck taken = AnswerCheck.Good();
        await console.Live(Render(console, typed.ToString(), cursor, refused)).AutoClear(true).StartAsync(async ctx =>
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
                else if (Edit(typed, ref cursor, key))
                {
                    refused = null;
                }
                else if (!Moves(typed, ref cursor, key))
                {
                    continue; // tab, function keys, other control keys: nothing changes
                }
                ctx.UpdateTarget(Render(console, typed.ToString(), cursor, refused));
                ctx.Refresh();
            }
        }).ConfigureAwait(false);
        string shown = Secret ? "[grey](given, not shown)[/]" : "[bold]" + Markup.Escape(answer) + "[/]";
        string understood = string.IsNullOrEmpty(taken.Understood) ? "" : $"  [grey]{Markup.Escape(taken.Understood)}[/]";
        console.MarkupLine($"{Markup.Escape(question)} {shown}{understood}");
        return answer;
    }

    /// <summary>A key that changes the line (typing, deleting); false for any other key.</summary>
    private static bool Edit(StringBuilder typed, ref int cursor, ConsoleKeyInfo key)
    {
        bool ctrl = key.Modifiers.HasFlag(ConsoleModifiers.Control);
        switch (key.Key)
        {
            case ConsoleKey.Backspace:
                if (cursor > 0) typed.Remove(--cursor, 1);
                return true;
            case ConsoleKey.Delete:
            case ConsoleKey.D when ctrl:
                if (cursor < typed.Length) typed.Remove(cursor, 1);
                return true;
            case ConsoleKey.Escape:
            case ConsoleKey.U when ctrl:
                typed.Clear();
                cursor = 0;
                return true;
            case ConsoleKey.K when ctrl:
                typed.Length = cursor;
                return true;
            case ConsoleKey.W when ctrl:
                int start = cursor;
                while (start > 0 && typed[start - 1] == ' ') start--;
                while (start > 0 && typed[start - 1] != ' ') start--;
                typed.Remove(start, cursor - start);
                cursor = start;
                return true;
        }
        if (ctrl || char.IsControl(key.KeyChar)) return false; // '\0' (arrows, function keys) is a control character too
        typed.Insert(cursor++, key.KeyChar);
        return true;
    }

    /// <summary>A key that moves the cursor (the line stays as it is); false for any other key.</summary>
    private static bool Moves(StringBuilder typed, ref int cursor, ConsoleKeyInfo key)
    {
        bool ctrl = key.Modifiers.HasFlag(ConsoleModifiers.Control);
        int? to = key.Key switch
        {
            ConsoleKey.LeftArrow => cursor - 1,
            ConsoleKey.B when ctrl => cursor - 1,
            ConsoleKey.RightArrow => cursor + 1,
            ConsoleKey.F when ctrl => cursor + 1,
            ConsoleKey.Home => 0,
            ConsoleKey.A when ctrl => 0,
            ConsoleKey.End => typed.Length,
            ConsoleKey.E when ctrl => typed.Length,
            _ => null,
        };
        if (to is null) return false;
        cursor = Math.Clamp(to.Value, 0, typed.Length);
        return true;
    }

    private IRenderable Render(IAnsiConsole console, string typed, int cursor, string? refused)
    {
        bool unicode = console.Profile.Capabilities.Unicode;
        string bad = unicode ? "✗" : "x", good = unicode ? "✓" : "ok";
        var line = new StringBuilder(Markup.Escape(question)).Append(' ');
        if (Default is not null) line.Append("[grey](").Append(Markup.Escape(Default)).Append(")[/] ");
        if (Secret)
        {
            line.Append("[invert] [/]");
        }
        else
        {
            // the cursor: the character under it shown inverted (a space past the end)
            line.Append(Markup.Escape(typed[..cursor]))
                .Append("[invert]").Append(Markup.Escape(cursor < typed.Length ? typed[cursor].ToString() : " ")).Append("[/]")
                .Append(Markup.Escape(cursor < typed.Length ? typed[(cursor + 1)..] : ""));
        }

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
