using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.TestSupport;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The upgrade's copy of the running rootfs's registry blobs into the new one (<see cref="UnpackStep.KeepOldBlobsScript"/>),
/// run by this machine's bash on real files: hard links <see cref="SshHost.ChunkSize"/> to an <c>ln</c>, copies where a chunk
/// cannot be linked (another device, or an <c>ln</c> that stopped part way), and nothing the new rootfs has in either form.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KeepOldBlobsTests
{
    private const int Blobs = 2 * SshHost.ChunkSize + 201;

    /// <summary>Runs <paramref name="script"/> in bash with <c>set -e</c> (as <see cref="SshHost.RunAsync"/> does); returns stdout.</summary>
    private static string Bash(string script)
    {
        var result = Processes.Run("bash", "-c", "set -e\n" + script);
        Assert.True(result.ExitCode == 0, result.StdErr);
        return result.StdOut;
    }

    private static string Q(string s) => SshHost.ShellQuote(s);

    /// <summary>An old rootfs at <paramref name="r"/> with <see cref="Blobs"/> blob files and 3 links to store layers, and a
    /// new one at <paramref name="t"/> that has 3 of the blobs as files and 2 (one of them a store layer) as links.</summary>
    private static (List<string> Copied, List<string> NewHas) Seed(string r, string t, string store)
    {
        string ob = Path.Combine(r, "registry/blobs/sha256"), ol = UnpackStep.LinkDirectory(r);
        string nb = Path.Combine(t, "registry/blobs/sha256"), nl = UnpackStep.LinkDirectory(t);
        foreach (var d in new[] { ob, ol, nb, nl, store }) Directory.CreateDirectory(d);
        var names = Enumerable.Range(0, Blobs).Select(i => $"{i:x64}").ToList();
        foreach (var n in names) File.WriteAllText(Path.Combine(ob, n), "old " + n);
        File.SetUnixFileMode(Path.Combine(ob, names[7]), UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var newHas = new List<string> { names[0], names[600], names[^1], names[1], names[2] };
        foreach (var n in newHas.Take(3)) File.WriteAllText(Path.Combine(nb, n), "new " + n);
        foreach (var n in newHas.Skip(3)) File.CreateSymbolicLink(Path.Combine(nl, n), "/nowhere/" + n);
        for (int i = 0; i < 3; i++)
        {
            string layer = $"{0xf00 + i:x64}";
            File.WriteAllText(Path.Combine(store, layer), "layer");
            File.CreateSymbolicLink(Path.Combine(ol, layer), Path.Combine(store, layer));
        }
        File.CreateSymbolicLink(Path.Combine(nl, $"{0xf00:x64}"), "/nowhere/layer");
        return (names.Except(newHas).ToList(), newHas);
    }

    /// <summary>Inode and mode of every file in <paramref name="dir"/>, by name.</summary>
    private static Dictionary<string, (string Inode, string Mode)> Stat(string dir)
        => Bash($"cd {Q(dir)} && stat -c '%n %d:%i %a' -- *\n").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(f => f[0], f => (f[1], f[2]));

    /// <summary>Every blob of <paramref name="copied"/> is in the new rootfs with the old bytes and mode, a hard link of the old
    /// file where <paramref name="linked"/> says so and a copy elsewhere; what the new rootfs had is as it was.</summary>
    private static void AssertKept(string r, string t, List<string> copied, List<string> newHas, Func<string, bool> linked)
    {
        string ob = Path.Combine(r, "registry/blobs/sha256"), nb = Path.Combine(t, "registry/blobs/sha256");
        var old = Stat(ob);
        var now = Stat(nb);
        foreach (var n in copied)
        {
            Assert.True(now.ContainsKey(n), n + " was not kept");
            Assert.Equal("old " + n, File.ReadAllText(Path.Combine(nb, n)));
            Assert.Equal(old[n].Mode, now[n].Mode);
            Assert.True(linked(n) == (old[n].Inode == now[n].Inode), $"{n}: linked {old[n].Inode == now[n].Inode}, expected {linked(n)}");
        }
        // what the new rootfs had is left as it was, in its own form
        foreach (var n in newHas.Take(3)) Assert.Equal("new " + n, File.ReadAllText(Path.Combine(nb, n)));
        foreach (var n in newHas.Skip(3)) Assert.False(File.Exists(Path.Combine(nb, n)));
        Assert.Equal(copied.Count + 3, now.Count);
        // the store layers' links: the two the new rootfs lacked, as links to the same targets; its own one untouched
        string nl = UnpackStep.LinkDirectory(t), ol = UnpackStep.LinkDirectory(r);
        for (int i = 0; i < 3; i++)
        {
            string layer = $"{0xf00 + i:x64}";
            Assert.Equal(i == 0 ? "/nowhere/layer" : File.ResolveLinkTarget(Path.Combine(ol, layer), false)!.FullName,
                File.ResolveLinkTarget(Path.Combine(nl, layer), false)!.FullName);
        }
    }

    [Fact]
    public void Old_blobs_are_hard_linked_a_chunk_to_a_process_and_what_the_new_rootfs_has_is_left()
    {
        using var dir = new TempDir();
        string r = dir.Sub("old"), t = dir.Sub("new");
        var (copied, newHas) = Seed(r, t, dir.Sub("store"));
        string calls = dir.Sub("ln-calls");
        // ln counted: a function of the same name comes before the command in bash
        Bash($"ln() {{ echo x >> {Q(calls)}; command ln \"$@\"; }}\nr={Q(r)}; t={Q(t)}\n{UnpackStep.KeepOldBlobsScript()}");
        AssertKept(r, t, copied, newHas, _ => true);
        Assert.Equal((copied.Count + SshHost.ChunkSize - 1) / SshHost.ChunkSize, File.ReadAllLines(calls).Length);

        // run again (a retried upgrade): nothing to do, nothing changed
        Bash($"r={Q(r)}; t={Q(t)}\n{UnpackStep.KeepOldBlobsScript()}");
        AssertKept(r, t, copied, newHas, _ => true);
    }

    [Fact]
    public void A_chunk_ln_stops_in_is_copied_without_the_ones_it_linked()
    {
        using var dir = new TempDir();
        string r = dir.Sub("old"), t = dir.Sub("new");
        var (copied, newHas) = Seed(r, t, dir.Sub("store"));
        // an ln that links the first 10 of its chunk and fails (as a full disk or a file system's limit would)
        Bash($"ln() {{ local d=\"${{@: -1}}\"; shift; command ln -- \"${{@:1:10}}\" \"$d\"; return 1; }}\nr={Q(r)}; t={Q(t)}\n{UnpackStep.KeepOldBlobsScript()}");
        // the first 10 of each chunk are links, the rest copies (cp is not handed the ones linked: no "same file" error)
        var first = copied.Chunk(SshHost.ChunkSize).SelectMany(c => c.Take(10)).ToHashSet();
        Assert.Equal(30, first.Count);
        AssertKept(r, t, copied, newHas, first.Contains);
    }

    [TmpfsFact]
    public void Across_devices_every_blob_is_copied()
    {
        // the old rootfs on a tmpfs of its own, the new one on the temp dir's file system: ln cannot link a single one
        using var dir = new TempDir();
        using var other = new Tmpfs("64m");
        string r = Path.Combine(other.Root, "old"), t = dir.Sub("new");
        var (copied, newHas) = Seed(r, t, Path.Combine(other.Root, "store"));
        string calls = dir.Sub("cp-calls");
        Bash($"cp() {{ echo x >> {Q(calls)}; command cp \"$@\"; }}\nr={Q(r)}; t={Q(t)}\n{UnpackStep.KeepOldBlobsScript()}");
        AssertKept(r, t, copied, newHas, _ => false);
        // a cp per chunk the ln could not link, and one for the store layers' links: not one per blob
        Assert.Equal((copied.Count + SshHost.ChunkSize - 1) / SshHost.ChunkSize + 1, File.ReadAllLines(calls).Length);
    }
}
