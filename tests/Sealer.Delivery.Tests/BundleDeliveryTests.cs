using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// A site bundle made by the NativeAOT sealer delivers a cluster on the sshd hosts with nothing else on the machine: the
/// file's own words (clusterfile, run, check, inspect), the archive read in place, the embedded sealer serving the
/// registry on master0 that a real containerd pulls through; a truncated copy refused before any host changes.
/// </summary>
[Collection(HostsCollection.Name)]
public class BundleDeliveryTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : HostsTest(hosts, "sealer-bundle-")
{
    private ProcessResult Bundle(string file, params string[] args)
    {
        var r = SealerCli.RunExecutable(file, args, Work);
        log.WriteLine($"$ {Path.GetFileName(file)} {string.Join(' ', args)}  (exit {r.ExitCode})\n{r.Output}");
        return r;
    }

    [Fact]
    public async Task Bundle_alone_delivers_a_cluster_and_a_truncated_copy_is_refused_before_any_host_changes()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024 * 1024);
        string archive = Path.Combine(Work, "fixture.tar");
        var tar = SealerCli.RunExecutable("tar", ["-C", image.Dir, "-cf", archive, "oci-layout", "index.json", "blobs"]);
        Assert.True(tar.ExitCode == 0, tar.Output);
        string template = Path.Combine(Work, "Clusterfile.template");
        File.WriteAllText(template, FixtureClusterfile(MasterAndNode));

        // the build machine: the NativeAOT sealer makes the bundle
        string run = Path.Combine(Work, "fixture-linux-amd64.run");
        var made = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", run, "--clusterfile", template]);
        Assert.True(made.ExitCode == 0, made.Output);
        Assert.Contains("Bundled example.com/fixture/kubernetes:v1 (linux/amd64)", made.StdOut, StringComparison.Ordinal);
        Assert.Equal(new FileInfo(SealerCli.Aot()).Length + 32 + new FileInfo(archive).Length + new FileInfo(template).Length, new FileInfo(run).Length - ManifestAndTrailer(run));

        // the site: the bundle's own words, no stdin (never waits for input)
        var help = Bundle(run);
        Assert.Equal(2, help.ExitCode);
        Assert.Contains("run -f Clusterfile", help.StdOut, StringComparison.Ordinal);
        var inspect = Bundle(run, "inspect");
        Assert.True(inspect.ExitCode == 0, inspect.Output);
        Assert.Contains(image.ManifestDigest, inspect.StdOut, StringComparison.Ordinal);
        Assert.Contains("docker.io/library/demo:1.0", inspect.StdOut, StringComparison.Ordinal);
        var clusterfile = Bundle(run, "clusterfile");
        Assert.Equal(File.ReadAllText(template), clusterfile.StdOut);
        File.WriteAllText(Path.Combine(Work, "Clusterfile"), clusterfile.StdOut);

        // a truncated copy: refused with the code, nothing reaches a host
        string cut = Path.Combine(Work, "cut.run");
        File.Copy(run, cut);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(cut, (UnixFileMode)0b111_101_101);
        using (var fs = new FileStream(cut, FileMode.Open)) fs.SetLength(fs.Length - 4096);
        var refused = Bundle(cut, "run", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"error {ErrorCodes.BundleDamaged}", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("the file is truncated", refused.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));
        Assert.Equal("", Evidence(0));

        // the whole delivery from the bundle; its archive is read in place (no unpacked copy under the temp directory)
        string unpacked = Path.Combine(Path.GetTempPath(), "sealer-images");
        int unpackedBefore = Directory.Exists(unpacked) ? Directory.GetDirectories(unpacked).Length : 0;
        var delivered = Bundle(run, "run", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"), "--parallel", "1");
        Assert.True(delivered.ExitCode == 0, delivered.Output);
        Assert.Equal(unpackedBefore, Directory.Exists(unpacked) ? Directory.GetDirectories(unpacked).Length : 0);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm join", Evidence(1), StringComparison.Ordinal);
        foreach (var d in image.RegistryContentDigests.Append(image.RootfsDigest))
        {
            Assert.True(File.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data/.store/blobs/sha256/" + d["sha256:".Length..])), $"master0 lacks {d}");
        }
        // the registry host runs the sealer that was inside the bundle
        Assert.Equal(File.ReadAllBytes(SealerCli.Aot()), File.ReadAllBytes(Lab.Hosts[0].OnHost("/usr/local/bin/sealer")));

        // a real containerd on the node pulls the app image by its original name through the delivered registry
        await using (var node = await Lab.ConnectAsync("10.200.0.12"))
        {
            var fetched = await RealContainerd.FetchAsync(node, null, ["docker.io/library/demo:1.0"]);
            Assert.Contains(image.AppManifestDigest, fetched, StringComparison.Ordinal);
        }

        var check = Bundle(run, "check", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("cluster 'fixture' is healthy", check.StdOut, StringComparison.Ordinal);

        // the same command again resumes: nothing is done twice
        var again = Bundle(run, "run", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"), "--parallel", "1");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(1, Evidence(0).Split('\n').Count(l => l.StartsWith("kubeadm init ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Split_bundle_delivers_from_its_parts_in_one_folder_and_a_missing_part_is_named_before_any_host_changes()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 4 * 1024 * 1024);
        string archive = Path.Combine(Work, "fixture.tar");
        var tar = SealerCli.RunExecutable("tar", ["-C", image.Dir, "-cf", archive, "oci-layout", "index.json", "blobs"]);
        Assert.True(tar.ExitCode == 0, tar.Output);
        string template = Path.Combine(Work, "Clusterfile.template");
        File.WriteAllText(template, FixtureClusterfile(OneMaster));

        // the build machine: no file over the split size (the first one holds the ~23 MB sealer, so the size is above it)
        long split = new FileInfo(SealerCli.Aot()).Length + (1 << 20);
        string made = Path.Combine(Work, "build", "fixture-linux-amd64.run");
        Directory.CreateDirectory(Path.GetDirectoryName(made)!);
        var bundled = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", made, "--clusterfile", template, "--split", split.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(bundled.ExitCode == 0, bundled.Output);
        var files = Directory.GetFiles(Path.GetDirectoryName(made)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["fixture-linux-amd64.run", "fixture-linux-amd64.run.part2-of-2"], files.Select(Path.GetFileName));
        Assert.Contains("Split in 2 files; carry them all into one folder at the site:", bundled.StdOut, StringComparison.Ordinal);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= split, $"{f}: {new FileInfo(f).Length} > {split}"));

        // the site: the first file alone says which part is missing; nothing reaches a host
        string site = Path.Combine(Work, "site");
        Directory.CreateDirectory(site);
        string run = Path.Combine(site, "fixture-linux-amd64.run");
        File.Copy(files[0], run);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(run, (UnixFileMode)0b111_101_101);
        var clusterfile = Bundle(run, "clusterfile");
        Assert.True(clusterfile.ExitCode == 0, clusterfile.Output); // the template is in the first file
        File.WriteAllText(Path.Combine(Work, "Clusterfile"), clusterfile.StdOut);
        var help = Bundle(run, "--help");
        Assert.Contains("It is split in 2 files, kept together in one folder: fixture-linux-amd64.run, fixture-linux-amd64.run.part2-of-2.", help.StdOut, StringComparison.Ordinal);
        var refused = Bundle(run, "run", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"error {ErrorCodes.BundlePartMissing}", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("'fixture-linux-amd64.run.part2-of-2' is not beside it", refused.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));

        // with the part beside it: verify, then one command delivers, the archive read in place across both files
        File.Copy(files[1], Path.Combine(site, Path.GetFileName(files[1])));
        var verify = Bundle(run, "verify");
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("every part matches its digest", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("in 2 files", verify.StdOut, StringComparison.Ordinal);
        var delivered = Bundle(run, "run", "-f", "Clusterfile", "--known-hosts", Lab.KnownHostsFile, "--state-dir", Path.Combine(Work, "state"), "--parallel", "1");
        Assert.True(delivered.ExitCode == 0, delivered.Output);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        foreach (var d in image.RegistryContentDigests.Append(image.RootfsDigest))
        {
            Assert.True(File.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data/.store/blobs/sha256/" + d["sha256:".Length..])), $"master0 lacks {d}");
        }
        await using var master = await Lab.ConnectAsync("10.200.0.11");
        var fetched = await RealContainerd.FetchAsync(master, null, ["docker.io/library/demo:1.0"]);
        Assert.Contains(image.AppManifestDigest, fetched, StringComparison.Ordinal);
    }

    /// <summary>The manifest and trailer at the end of a bundle (the manifest's length is in the trailer's first 8 bytes).</summary>
    private static long ManifestAndTrailer(string file)
    {
        using var fs = File.OpenRead(file);
        fs.Seek(-64, SeekOrigin.End);
        var b = new byte[8];
        fs.ReadExactly(b);
        return BitConverter.ToInt64(b) + 64;
    }
}
