using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;

namespace Sealer.Bundle.Tests;

/// <summary>
/// `sealer bundle` (the NativeAOT binary) against a file system that refuses large files, as FAT32 media refuse any of
/// 4 GiB or more. The kernel's own EFBIG comes from a file size limit (`ulimit -f`, SIGXFSZ ignored as a FAT write has
/// none): a coded error that says to split, nothing left behind, and `--split` below the limit writes every file.
/// </summary>
public class BundleCliTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static ProcessResult Limited(long limitBytes, string workDir, params string[] sealerArgs) => LimitedRun(SealerCli.Aot(), limitBytes, workDir, sealerArgs);

    private static ProcessResult LimitedRun(string executable, long limitBytes, string workDir, params string[] args)
    {
        string quoted = string.Join(' ', args.Select(a => "'" + a + "'"));
        return Processes.Run("bash", ["-c", $"trap '' XFSZ; ulimit -f {limitBytes / 1024}; exec '{executable}' {quoted}"], workDir, env: null);
    }

    [Fact]
    public void On_a_terminal_a_bundle_shows_its_progress_and_in_a_pipe_only_the_result()
    {
        using var tmp = new TempDir();
        string archive = BundleFixtures.ZeroArchive(tmp, 1L << 30);
        using var tmux = new Tmux(Path.Combine(tmp.Path, "tmux.sock"), log);
        string recorded = Path.Combine(tmp.Path, "terminal.out");
        tmux.Start(tmp.Path, $"sleep 1; '{SealerCli.Aot()}' bundle '{archive}' -o '{Path.Combine(tmp.Path, "t.run")}'; echo \"bundle-exit=$?\"; sleep 600");
        tmux.Record(recorded);
        tmux.WaitFor("bundle-exit=0", TimeSpan.FromSeconds(120));
        var lines = File.ReadAllText(recorded).Split('\r', '\n');
        var live = lines.Where(l => l.StartsWith("bundled ", StringComparison.Ordinal)).ToList();
        Assert.True(live.Count >= 1, File.ReadAllText(recorded));
        Assert.All(live, l => Assert.Matches(@"^bundled [0-9.]+/1024\.[0-9] MiB", l)); // done/total: the archive and a bit

        var piped = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", Path.Combine(tmp.Path, "p.run")]);
        Assert.True(piped.ExitCode == 0, piped.Output);
        Assert.DoesNotContain("bundled ", piped.StdErr, StringComparison.Ordinal);
        Assert.Contains("p.run: ", piped.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_system_that_refuses_a_file_this_large_is_a_coded_error_and_split_below_it_writes_the_bundle()
    {
        using var tmp = new TempDir();
        var layout = Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp.Sub("layout"));
        OciImages.Add(layout, "example.com/shop:1.4.0", "big", layerBytes: 2_000_000, layers: 5);
        string archive = Path.Combine(tmp.Path, "image.tar");
        Assert.Equal(0, Processes.Run("tar", "-C", tmp.Sub("layout"), "-cf", archive, "oci-layout", "index.json", "blobs").ExitCode);
        long sealer = new FileInfo(SealerCli.Aot()).Length;
        long limit = sealer + (4 << 20); // the bundle (sealer + ~10 MB) does not fit in one file of this size
        string outDir = tmp.Sub("media");

        var refused = Limited(limit, tmp.Path, "bundle", archive, "-o", Path.Combine(outDir, "shop.run"));
        Assert.True(refused.ExitCode == 1, refused.Output);
        Assert.Contains($"error {ErrorCodes.BundleBadInput}", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("refused a file this large", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("--split fat32", refused.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", refused.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));

        var split = Limited(limit, tmp.Path, "bundle", archive, "-o", Path.Combine(outDir, "shop.run"), "--split", (sealer + (2 << 20)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(split.ExitCode == 0, split.Output);
        var files = Directory.GetFiles(outDir);
        Assert.True(files.Length >= 2, string.Join(", ", files));
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= limit, f));
        var verify = SealerCli.RunExecutable(Path.Combine(outDir, "shop.run"), ["verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);

        // the bundle's own `extract` onto such a file system: the ~23 MB sealer does not fit in a 5 MiB file
        string extracted = tmp.Sub("extracted");
        var extract = LimitedRun(Path.Combine(outDir, "shop.run"), 5 << 20, tmp.Path, "extract", "-o", extracted);
        Assert.True(extract.ExitCode == 1, extract.Output);
        Assert.Contains($"error {ErrorCodes.DiskWriteFailed}", extract.StdErr, StringComparison.Ordinal);
        Assert.Contains("refused a file of", extract.StdErr, StringComparison.Ordinal);
        Assert.Contains("run the bundle where it is", extract.StdErr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(extracted));
    }
}
