namespace Sealer.Artifacts.Tests;

/// <summary>
/// `sealer completion bash|zsh`: the printed script is sourced by the real shell and its completion function is called as
/// the shell would on TAB (COMP_LINE/COMP_POINT/COMP_WORDS for bash, words/CURRENT for zsh), with `sealer` on PATH.
/// </summary>
public sealed class CompletionTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public CompletionTests()
    {
        // `sealer` on PATH, as an installed binary would be (here the framework-dependent build next to the tests).
        string wrapper = _tmp.Sub("bin/sealer");
        Directory.CreateDirectory(Path.GetDirectoryName(wrapper)!);
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "sealer.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => _tmp.Dispose();

    private Dictionary<string, List<string>> RunShell(string shell, string script, IEnumerable<string> lines)
    {
        string path = Path.GetDirectoryName(_tmp.Sub("bin/sealer")) + ":" + Environment.GetEnvironmentVariable("PATH");
        var r = Processes.Run(shell, ["-c", script + string.Concat(lines.Select(l => $"\necho '== {l}'; comp '{l}'"))], workDir: null, env: [new("PATH", path)]);
        Assert.True(r.ExitCode == 0, r.Output);
        string stdout = r.StdOut;
        var result = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in stdout.Split('\n'))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal)) result[line[3..]] = current = [];
            else if (line.Length > 0) current?.Add(line);
        }
        return result;
    }

    private static readonly string[] Lines =
        ["sealer reg", "sealer registry s", "sealer images --f", "sealer images --format ", "sealer completion ", "sealer ", "sealer find-images --why x ./char"];

    private static void AssertCompletions(Dictionary<string, List<string>> got, string noMatch)
    {
        Assert.Equal(["registry"], got["sealer reg"]);
        Assert.Equal(["serve"], got["sealer registry s"]);
        Assert.Equal(["--format"], got["sealer images --f"]);
        Assert.Equal(["json", "table"], got["sealer images --format "].Order(StringComparer.Ordinal));
        Assert.Equal(["bash", "zsh"], got["sealer completion "].Where(c => !c.StartsWith('-')).Order(StringComparer.Ordinal));
        Assert.Contains("--help", got["sealer completion "]);
        Assert.Contains("find-images", got["sealer "]);
        Assert.Contains("registry", got["sealer "]);
        Assert.Contains("completion", got["sealer "]);
        Assert.DoesNotContain("attach", got["sealer reg"]);
        // nothing of sealer's matches a path being typed: the shell's own file completion takes over
        Assert.Equal(noMatch == "" ? [] : [noMatch], got["sealer find-images --why x ./char"]);
    }

    [Fact]
    public void Bash_script_completes_commands_subcommands_options_and_values()
    {
        var got = RunShell("bash", """
            set -e
            source <(sealer completion bash)
            spec="$(complete -p sealer)"
            [[ "$spec" == *"-o default"* ]] || { echo "not registered with file fallback: $spec" >&2; exit 1; }
            fn="${spec#*-F }"; fn="${fn%% *}"
            comp() {
                COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
                read -ra COMP_WORDS <<< "$COMP_LINE"
                [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                COMPREPLY=()
                "$fn" sealer "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                if (( ${#COMPREPLY[@]} )); then printf '%s\n' "${COMPREPLY[@]}"; fi
            }
            """, Lines);
        AssertCompletions(got, "");
    }

    [Fact]
    public void Zsh_script_completes_commands_subcommands_options_and_values()
    {
        if (!Processes.OnPath("zsh")) Assert.Fail("zsh is not installed; run build/install-test-deps.sh");
        // compadd/_files/compdef stand in for zsh's completion system builtins, which only exist inside a completion widget.
        var got = RunShell("zsh", """
            compdef() { [[ "$*" == "_sealer sealer" ]] || { print -u2 "compdef $*"; exit 1 } }
            compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
            _files() { print -r -- "(files)" }
            source <(sealer completion zsh) || exit 1
            comp() {
                words=(${=1}); [[ "$1" == *" " ]] && words+=("")
                CURRENT=${#words}
                _sealer
            }
            """, Lines);
        AssertCompletions(got, "(files)");
    }
}
