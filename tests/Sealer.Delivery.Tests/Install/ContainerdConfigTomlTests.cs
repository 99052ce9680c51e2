using System.Diagnostics;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary>
/// <see cref="ContainerdConfigToml"/>: containerd's CRI plugin pointed at /etc/containerd/certs.d, only that value of the
/// host's config.toml changed. The real containerd (Debian's 1.6) is the oracle: what it reads back from our files with
/// <c>containerd config dump</c>, and whether its CRI plugin loads when a file has what we refuse.
/// </summary>
public class ContainerdConfigTomlTests
{
    private const string Dir = ContainerdConfigToml.CertsDir;
    private const string V2 = "plugins.\"io.containerd.grpc.v1.cri\".registry";

    private static string Edit(string? existing, int? major = 1) =>
        ContainerdConfigToml.WithConfigPath("10.0.0.1", existing, major).Content ?? throw new Xunit.Sdk.XunitException("unchanged");

    private static SealerException Refused(string existing) =>
        Assert.Throws<SealerException>(() => ContainerdConfigToml.WithConfigPath("10.0.0.1", existing, 1));

    /// <summary>The lines of <paramref name="after"/> that <paramref name="before"/> does not have, and how many of its lines went.</summary>
    private static (List<string> Added, int Removed) Diff(string before, string after)
    {
        var a = before.Split('\n').ToList();
        var b = after.Split('\n').ToList();
        int prefix = 0;
        while (prefix < a.Count && prefix < b.Count && a[prefix] == b[prefix]) prefix++;
        int suffix = 0;
        while (suffix < a.Count - prefix && suffix < b.Count - prefix && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;
        return (b.Skip(prefix).Take(b.Count - prefix - suffix).ToList(), a.Count - prefix - suffix);
    }

    /// <summary>A real tool's exit code and stdout+stderr (<see cref="Processes"/>), in 30 s at most.</summary>
    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var r = Processes.Run(file, args, workDir: null, env: null, timeoutMs: 30_000);
        return (r.ExitCode, r.Output);
    }

    /// <summary>The config_path containerd itself reads from <paramref name="toml"/> (<c>containerd config dump</c>).</summary>
    private static string EffectiveConfigPath(string toml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"ctrd-{Guid.NewGuid():N}.toml");
        File.WriteAllText(file, toml);
        try
        {
            var (code, output) = Run("containerd", "--config", file, "config", "dump");
            Assert.True(code == 0 && !output.Contains("failed to load", StringComparison.Ordinal), output);
            var lines = output.Split('\n');
            int table = Array.FindIndex(lines, l => l.Trim() == $"[{V2}]");
            Assert.True(table >= 0, output);
            var line = lines.Skip(table + 1).TakeWhile(l => !l.TrimStart().StartsWith('[')).Single(l => l.TrimStart().StartsWith("config_path", StringComparison.Ordinal));
            return line.Split('=', 2)[1].Trim().Trim('"');
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Starts containerd on <paramref name="toml"/> (its own root, state and socket) and returns the CRI plugin's status in <c>ctr plugins ls</c>, and its error from the log.</summary>
    private static async Task<string> CriStatusAsync(string toml)
    {
        var dir = Directory.CreateTempSubdirectory("ctrd-").FullName;
        var sock = Path.Combine(dir, "c.sock");
        // its own places: replaced where the file names them (containerd's default file), else added after the version
        var own = new Dictionary<string, string>
        {
            ["root"] = $"{dir}/root", ["state"] = $"{dir}/state", ["address"] = sock, ["path"] = $"{dir}/opt",
        };
        string placed = System.Text.RegularExpressions.Regex.Replace(toml, "^(root|state) = .*$", m => $"{m.Groups[1].Value} = \"{own[m.Groups[1].Value]}\"", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Replace("address = \"/run/containerd/containerd.sock\"", $"address = \"{sock}\"", StringComparison.Ordinal)
            .Replace("path = \"/opt/containerd\"", $"path = \"{own["path"]}\"", StringComparison.Ordinal);
        if (!placed.Contains(sock, StringComparison.Ordinal))
        {
            placed = placed.Replace("version = 2\n", $"version = 2\nroot = \"{dir}/root\"\nstate = \"{dir}/state\"\n[grpc]\n  address = \"{sock}\"\n", StringComparison.Ordinal);
        }
        File.WriteAllText(Path.Combine(dir, "config.toml"), placed);
        using var daemon = Process.Start(new ProcessStartInfo("containerd", ["--config", Path.Combine(dir, "config.toml")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var log = daemon.StandardError.ReadToEndAsync();
        try
        {
            for (int i = 0; i < 100 && !File.Exists(sock); i++) await Task.Delay(100);
            var (code, output) = Run("ctr", "--address", sock, "plugins", "ls");
            Assert.True(code == 0, output);
            var cri = output.Split('\n').Single(l => l.StartsWith("io.containerd.grpc.v1 ", StringComparison.Ordinal) && l.Contains(" cri ", StringComparison.Ordinal));
            string status = cri.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
            daemon.Kill();
            await daemon.WaitForExitAsync();
            var error = (await log).Split('\n').FirstOrDefault(l => l.Contains("failed to load plugin io.containerd.grpc.v1.cri", StringComparison.Ordinal)) ?? "";
            return status + " " + error;
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill();
            Directory.Delete(dir, true);
        }
    }

    private static string DefaultConfig()
    {
        var (code, output) = Run("containerd", "config", "default");
        Assert.True(code == 0, output);
        Assert.Contains($"[{V2}]", output);
        return output;
    }

    [Fact]
    public async Task Containerd_default_config_gets_config_path_in_one_changed_line_and_containerd_reads_it()
    {
        var before = DefaultConfig();
        Assert.Equal("", EffectiveConfigPath(before));
        var result = ContainerdConfigToml.WithConfigPath("10.0.0.1", before, 1);
        var (added, removed) = Diff(before, result.Content!);
        Assert.Equal(1, removed);
        Assert.Equal(["      config_path = \"" + Dir + "\""], added);
        Assert.Contains("line ", result.Says);
        Assert.Equal(Dir, EffectiveConfigPath(result.Content!));
        // its empty registry.mirrors/configs tables are no conflict: the CRI plugin loads
        Assert.StartsWith("ok", await CriStatusAsync(result.Content!));
        // again: nothing to do
        Assert.Null(ContainerdConfigToml.WithConfigPath("10.0.0.1", result.Content, 1).Content);
    }

    public static TheoryData<string, string> Accepted => new()
    {
        // the table's header without the key: inserted under it, indented one step further
        { "header without the key", $"version = 2\n\n  [{V2}]\n    [{V2}.mirrors]\n" },
        // single-quoted (containerd 2.x writes literal strings), spaces around the dots
        { "literal strings", "version = 2\n[ plugins . 'io.containerd.grpc.v1.cri' . registry ]\n  config_path = ''\n" },
        // a dotted key from the top level
        { "dotted from the top", $"version = 2\n{V2}.config_path = \"\"\n" },
        // the table defined by dotted keys under its parent: the key added beside them, after a value spanning lines
        { "dotted under the parent", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  registry.headers.X-Meta = [\n    \"a\",\n    \"b\",\n  ]\n  sandbox_image = \"pause:3.9\"\n" },
        // no registry table at all: appended, after a sub-table that already names it
        { "no table", $"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n[{V2}.headers]\n  X-Meta = [\"a\"]" },
        // version 1 (no version line): the short plugin name
        { "version 1", "[plugins.cri]\n  sandbox_image = \"pause:3.9\"\n[plugins.cri.registry]\n" },
        // a multi-line string that looks like the table's header, and a comment, are not read as tables
        { "multi-line string", $"version = 2\n# [{V2}]\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  Note = '''\n[{V2}]\nconfig_path = \"/elsewhere\"\n'''\n" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Each_way_of_writing_the_table_ends_with_containerd_reading_our_config_path(string name, string before)
    {
        Assert.NotEqual(Dir, EffectiveConfigPath(before));
        var after = Edit(before);
        var (added, removed) = Diff(before, after);
        Assert.True(removed <= 1 && added.Count <= 4, $"{name}: -{removed} +{string.Join(" | ", added)}");
        Assert.Equal(Dir, EffectiveConfigPath(after));
        Assert.Null(ContainerdConfigToml.WithConfigPath("10.0.0.1", after, 1).Content);
    }

    [Fact]
    public void Containerd_2_files_use_the_images_plugins_table()
    {
        // as containerd 2.x's `config default` writes it (literal strings, version 3)
        const string before = "version = 3\nroot = '/var/lib/containerd'\n\n[plugins]\n  [plugins.'io.containerd.cri.v1.images']\n    snapshotter = 'overlayfs'\n\n    [plugins.'io.containerd.cri.v1.images'.registry]\n      config_path = ''\n\n  [plugins.'io.containerd.cri.v1.runtime']\n    enable_selinux = false\n";
        var after = Edit(before, 2);
        Assert.Equal(before.Replace("config_path = ''", $"config_path = \"{Dir}\"", StringComparison.Ordinal), after);
        // without the key: under the header
        var noKey = before.Replace("      config_path = ''\n", "", StringComparison.Ordinal);
        Assert.Equal(after, Edit(noKey, 2));
        // the grpc.v1.cri table of a version 3 file is not containerd 2's: the images table is appended
        var wrongTable = $"version = 3\n[{V2}]\n  config_path = \"{Dir}\"\n";
        Assert.EndsWith($"\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"{Dir}\"\n", Edit(wrongTable, 2));
    }

    [Theory]
    [InlineData(1, "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n")]
    [InlineData(2, "version = 3\n\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n")]
    public void No_file_gets_one_with_config_path_only(int major, string expected)
    {
        Assert.Equal(expected, Edit(null, major));
        Assert.Equal(expected, Edit(" \n", major));
        if (major == 1) Assert.Equal(Dir, EffectiveConfigPath(expected));
        // no containerd on the host: nothing to write
        Assert.Null(ContainerdConfigToml.WithConfigPath("10.0.0.1", null, null).Content);
    }

    [Theory]
    [InlineData("\"/etc/containerd/certs.d\"")]
    [InlineData("\"/etc/containerd/certs.d/\"")]
    [InlineData("'/etc/containerd/certs.d:/etc/docker/certs.d'")]
    [InlineData("\"/etc/docker/certs.d:/etc/containerd/certs.d\"")]
    public void A_config_path_naming_ours_is_left(string value)
    {
        var r = ContainerdConfigToml.WithConfigPath("10.0.0.1", $"version = 2\n[{V2}]\n  config_path = {value}\n", 1);
        Assert.Null(r.Content);
        Assert.Contains("already", r.Says);
    }

    [Fact]
    public void Crlf_files_keep_their_line_ends()
    {
        var before = $"version = 2\r\n[{V2}]\r\n  config_path = \"\"\r\n[grpc]\r\n  address = \"/run/containerd/containerd.sock\"\r\n";
        Assert.Equal(before.Replace("config_path = \"\"", $"config_path = \"{Dir}\"", StringComparison.Ordinal), Edit(before));
        var noTable = "version = 2\r\n[grpc]\r\n  uid = 0\r\n";
        Assert.Equal(noTable + $"\r\n[{V2}]\r\n  config_path = \"{Dir}\"\r\n", Edit(noTable));
    }

    public static TheoryData<string, string, int> Refusals => new()
    {
        { "another folder", $"version = 2\n[{V2}]\n  config_path = \"/etc/docker/certs.d\"\n", 3 },
        { "mirrors", $"version = 2\n[{V2}]\n  config_path = \"\"\n[{V2}.mirrors]\n  [{V2}.mirrors.\"docker.io\"]\n    endpoint = [\"https://mirror.example\"]\n", 5 },
        { "mirrors as a key", $"version = 2\n[{V2}.mirrors]\n  \"quay.io\" = {{ endpoint = [\"https://mirror.example\"] }}\n", 3 },
        { "tls", $"version = 2\n[{V2}.configs.\"harbor.site\".tls]\n  ca_file = \"/etc/ssl/site.pem\"\n", 2 },
        { "tls inline", $"version = 2\n[{V2}.configs]\n  \"harbor.site\" = {{ tls = {{ insecure_skip_verify = true }} }}\n", 3 },
        { "inline table", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  registry = { config_path = \"\" }\n", 3 },
        { "not a string", $"version = 2\n[{V2}]\n  config_path = 5\n", 3 },
        { "version 4", "version = 4\n", 1 },
        { "unreadable line", "version = 2\n[grpc\n", 2 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void What_containerd_would_refuse_or_we_cannot_read_is_refused_at_its_line(string name, string existing, int line)
    {
        var ex = Refused(existing);
        Assert.Equal(ErrorCodes.ContainerdConfigRefused, ex.Code);
        Assert.Contains($"10.0.0.1: /etc/containerd/config.toml:{line}: ", ex.Message);
        Assert.Contains("then run again", ex.Message);
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public async Task The_refused_mirrors_and_tls_would_have_stopped_containerds_CRI_plugin()
    {
        // what the refusal prevents: the same files with config_path set fail the CRI plugin (and every pod with it) ...
        foreach (var (conflict, reason) in new[]
                 {
                     ($"[{V2}.mirrors.\"docker.io\"]\n  endpoint = [\"https://mirror.example\"]\n", "`mirrors` cannot be set when `config_path` is provided"),
                     ($"[{V2}.configs.\"harbor.site\".tls]\n  insecure_skip_verify = true\n", "`configs.tls` cannot be set when `config_path` is provided"),
                 })
        {
            var status = await CriStatusAsync($"version = 2\n[{V2}]\n  config_path = \"{Dir}\"\n{conflict}");
            Assert.StartsWith("error", status);
            Assert.Contains(reason, status);
            Assert.Throws<SealerException>(() => ContainerdConfigToml.WithConfigPath("10.0.0.1", $"version = 2\n{conflict}", 1));
        }
        // ... while credentials under configs are fine beside config_path, and kept
        var auth = $"version = 2\n[{V2}.configs.\"harbor.site\".auth]\n  username = \"robot\"\n";
        var edited = Edit(auth);
        Assert.StartsWith("ok", await CriStatusAsync(edited));
        Assert.Equal(Dir, EffectiveConfigPath(edited));
    }

    [Theory]
    [InlineData("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", 1)]
    [InlineData("containerd containerd.io 1.7.25 bcc810d6b9066471b0b6fa75f557a15a1cbf31bb", 1)]
    [InlineData("containerd github.com/containerd/containerd/v2 v2.1.3 c787fb98911740dd3ff2d0e45ce88cdf01410486", 2)]
    [InlineData("", null)]
    [InlineData("bash: containerd: command not found", null)]
    public void Containerd_major_version_from_its_version_line(string line, int? major) =>
        Assert.Equal(major, ContainerdConfigToml.MajorOf(line));
}
