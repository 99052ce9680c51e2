using System.CommandLine;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer completion bash|zsh</c>: prints a shell script that completes sealer's commands, options and option values.
/// The script asks sealer itself (System.CommandLine's <c>[suggest:N]</c> directive, as the dotnet CLI does, without the
/// dotnet-suggest tool), so completions always match the command tree; where sealer offers none (a path), the shell
/// completes file names.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new SealerCommand("completion", "Print a shell completion script (bash or zsh)", """
            bash: source <(sealer completion bash)   (or save it to /etc/bash_completion.d/sealer)
            zsh:  source <(sealer completion zsh)    (after compinit; or save it as _sealer in a directory of $fpath)
            """)
        {
            shell,
        };
        command.SetAction(p =>
        {
            Console.Out.Write(p.GetValue(shell) == "zsh" ? Zsh : Bash);
            return 0;
        });
        return command;
    }

    // The line up to the cursor, without the program word, goes to sealer as one argument; the directive's number is the
    // cursor position in it. System.CommandLine offers every item that contains the word; the scripts keep those that start
    // with it, as shells expect.
    internal const string Bash = """
        # bash completion for sealer: source <(sealer completion bash)
        _sealer_complete()
        {
            local exe="${COMP_WORDS[0]/#\~/$HOME}"
            local line="${COMP_LINE:0:COMP_POINT}"
            line="${line#"${COMP_WORDS[0]}"}"
            line="${line#"${line%%[![:space:]]*}"}"
            local cur="${line##*[[:space:]]}" c
            COMPREPLY=()
            while IFS= read -r c; do
                if [[ "$c" == "$cur"* ]]; then COMPREPLY+=("$c"); fi
            done < <("$exe" "[suggest:${#line}]" "$line" 2>/dev/null)
        }
        complete -o default -F _sealer_complete sealer

        """;

    internal const string Zsh = """
        #compdef sealer
        # zsh completion for sealer: source <(sealer completion zsh)   (after compinit)
        _sealer()
        {
            local line="${(j: :)words[2,CURRENT]}"
            local -a completions
            completions=(${(f)"$(${~words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)"})
            completions=(${(M)completions:#${words[CURRENT]}*})
            if (( ${#completions} )); then
                compadd -a completions
            else
                _files
            fi
        }
        compdef _sealer sealer

        """;
}
