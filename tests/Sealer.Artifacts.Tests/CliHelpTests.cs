using System.CommandLine;
using Sealer.Cli;

namespace Sealer.Artifacts.Tests;

/// <summary>
/// The command tree as users see it: every command's --help lists each of its options, usage errors keep their exit codes
/// and say what went wrong, and docs/cli.md and the README name what the binary has. Runs the real `sealer` process.
/// </summary>
public class CliHelpTests
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "sealer.dll");

    private static (int Code, string Stdout, string Stderr) Sealer(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("sealer " + string.Join(' ', args)); }
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Every command path of the real tree ("" is the root, "registry serve" a subcommand).</summary>
    private static List<string> AllPaths()
    {
        var paths = new List<string>();
        Walk(global::Sealer.Cli.SealerCli.CreateRootCommand(), "");
        return paths;

        void Walk(Command c, string path)
        {
            paths.Add(path);
            foreach (var sub in c.Subcommands) Walk(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name);
        }
    }

    private static List<string> LeafPaths() => [.. AllPaths().Where(p => p.Length > 0 && Find(p).Subcommands.Count == 0)];

    public static TheoryData<string> Commands() => [.. AllPaths()];

    public static TheoryData<string> LeafCommands() => [.. LeafPaths()];

    private static Command Find(string path)
    {
        Command c = global::Sealer.Cli.SealerCli.CreateRootCommand();
        foreach (var word in path.Split(' ', StringSplitOptions.RemoveEmptyEntries)) c = c.Subcommands.Single(s => s.Name == word);
        return c;
    }

    private static string[] Words(string path) => path.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_of_every_command_lists_each_of_its_options_with_a_description(string path)
    {
        var command = Find(path);
        var (code, stdout, stderr) = Sealer([.. Words(path), "--help"]);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("Description:", stdout, StringComparison.Ordinal);
        foreach (var option in command.Options.Where(o => !o.Hidden))
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"sealer {path}: {option.Name} has no description");
            foreach (var name in option.Aliases.Append(option.Name))
            {
                Assert.Matches($@"(^|[\s,]){System.Text.RegularExpressions.Regex.Escape(name)}([\s,]|$)", stdout);
            }
        }
        foreach (var sub in command.Subcommands) Assert.Contains("  " + sub.Name + " ", stdout, StringComparison.Ordinal);
        foreach (var argument in command.Arguments) Assert.False(string.IsNullOrWhiteSpace(argument.Description), $"sealer {path}: {argument.Name} has no description");
    }

    [Theory]
    [MemberData(nameof(LeafCommands))]
    public void An_unknown_option_is_a_usage_error_SEA5001_with_exit_code_1_naming_the_option(string path)
    {
        var (code, stdout, stderr) = Sealer([.. Words(path), "--no-such-option"]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error SEA5001: '{path}': unknown option '--no-such-option'. Run 'sealer {path} --help'.", stderr.TrimEnd());
    }

    [Fact]
    public void Each_command_group_lists_exactly_the_top_level_commands_its_factory_creates()
    {
        // Start-up builds only the group the first word names, found by these names: a name missing here would make its
        // command unknown (SEA5000) when called, while still listed by 'sealer --help'.
        foreach (var (names, create) in global::Sealer.Cli.SealerCli.Groups)
        {
            Assert.Equal(names, create().Select(c => c.Name));
        }
        Assert.Equal(global::Sealer.Cli.SealerCli.Groups.SelectMany(g => g.Names), global::Sealer.Cli.SealerCli.CreateRootCommand().Subcommands.Select(c => c.Name));
    }

    [Fact]
    public void A_command_runs_with_only_its_group_built_and_sees_the_same_options_as_in_the_whole_tree()
    {
        var (code, stdout, stderr) = Sealer("images", "--format", "json", "--store", Path.Combine(Path.GetTempPath(), "sealer-empty-" + Guid.NewGuid().ToString("N")));
        Assert.True(code == 0, stderr);
        Assert.Equal("[]", stdout.Trim());
        (code, stdout, _) = Sealer("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+\n$", stdout);
    }

    [Fact]
    public void An_unknown_command_is_SEA5000_with_exit_code_2()
    {
        var (code, _, stderr) = Sealer("regsitry", "serve");
        Assert.Equal(2, code);
        Assert.Equal("error SEA5000: unknown command 'regsitry'. Run 'sealer help' for the list.", stderr.TrimEnd());
        (code, _, stderr) = Sealer("registry", "srve");
        Assert.Equal(2, code);
        Assert.Contains("error SEA5000: unknown command 'registry srve'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Sealer_alone_or_a_group_alone_prints_its_commands_and_exits_2_help_exits_0()
    {
        var (code, stdout, _) = Sealer();
        Assert.Equal(2, code);
        Assert.Contains("  find-images ", stdout, StringComparison.Ordinal);
        (code, stdout, _) = Sealer("registry");
        Assert.Equal(2, code);
        Assert.Contains("  gen-certs ", stdout, StringComparison.Ordinal);
        Assert.Equal(0, Sealer("help").Code);
        Assert.Equal(0, Sealer("registry", "help").Code);
        (code, stdout, _) = Sealer("help", "registry", "serve");
        Assert.Equal(0, code);
        Assert.Contains("--shutdown-timeout", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_prints_the_three_part_version()
    {
        var (code, stdout, _) = Sealer("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+\n$", stdout);
        Assert.Equal(stdout, Sealer("version").Stdout);
    }

    [Fact]
    public void Bad_option_values_are_SEA5001_naming_the_option_and_what_it_takes()
    {
        var (code, _, stderr) = Sealer("registry", "serve", "--layout", "x", "--port", "70000");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001: 'registry serve': --port must be a number from 0 to 65535, not '70000'.", stderr, StringComparison.Ordinal);
        (code, _, stderr) = Sealer("images", "--format", "yaml");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001: 'images': Argument 'yaml' not recognized. Must be one of: 'table', 'json'.", stderr, StringComparison.Ordinal);
        (code, _, stderr) = Sealer("run", "-f");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001: 'run':", stderr, StringComparison.Ordinal);
        Assert.Contains("'-f'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_option_given_twice_takes_the_last_value_as_kubectl_and_helm_do()
    {
        string empty = Path.Combine(Path.GetTempPath(), "sealer-empty-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = Sealer("images", "--format", "table", "--store", "/nonexistent/elsewhere", "--format", "json", "--store", empty);
        Assert.True(code == 0, stderr);
        Assert.Equal("[]", stdout.Trim());
        (code, stdout, stderr) = Sealer("images", "--format", "json", "--format", "table", "--store", empty);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("NAME ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_occurrence_of_an_option_given_twice_is_checked_not_only_the_last()
    {
        var (code, _, stderr) = Sealer("registry", "serve", "--layout", "x", "--port", "http", "--port", "5000");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001: 'registry serve': --port must be a number from 0 to 65535, not 'http'.", stderr, StringComparison.Ordinal);
        (code, _, stderr) = Sealer("images", "--format", "yaml", "--format", "json");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001: 'images': Argument 'yaml' not recognized.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stray_argument_is_SEA5001_naming_it_with_a_help_hint()
    {
        var (code, stdout, stderr) = Sealer("images", "extra");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("error SEA5001: 'images': unexpected argument 'extra'. Run 'sealer images --help'.", stderr.TrimEnd());
        // an option takes one value an occurrence: a second word is stray, not a second value
        (code, _, stderr) = Sealer("images", "--store", "a", "b");
        Assert.Equal(1, code);
        Assert.Equal("error SEA5001: 'images': unexpected argument 'b'. Run 'sealer images --help'.", stderr.TrimEnd());
    }

    [Fact]
    public void Response_files_are_not_expanded_an_at_sign_argument_stays_a_path()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.Sub("args.rsp"), "--bogus\n");
        var (code, stdout, stderr) = Sealer("find-images", "@" + tmp.Sub("args.rsp"));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("error SEA3512", stderr, StringComparison.Ordinal); // an input that does not exist, not an unknown option
        Assert.DoesNotContain("--bogus", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_cli_md_is_the_help_of_every_command()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "build", "gen-cli-doc.py"));
        psi.ArgumentList.Add("--check");
        psi.Environment["SEALER_CLI"] = $"dotnet {Dll}";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), "gen-cli-doc.py timed out");
        Assert.True(p.ExitCode == 0, stdout + stderr.Result);

        string doc = File.ReadAllText(Path.Combine(Repo.Root, "docs", "cli.md"));
        foreach (var path in AllPaths())
        {
            Assert.Contains("\n## " + ("sealer " + path).TrimEnd() + "\n", doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_readme_command_table_names_every_command_and_links_the_reference()
    {
        string readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        string row = readme.Split('\n').Single(l => l.StartsWith("| on a site without .NET", StringComparison.Ordinal));
        Assert.Contains("docs/cli.md", row, StringComparison.Ordinal);
        foreach (var path in LeafPaths())
        {
            Assert.Contains("`" + path + "`", row, StringComparison.Ordinal);
        }
    }
}
