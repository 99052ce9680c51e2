namespace Sealer.TestSupport;

/// <summary>A tmpfs of a given size, mounted for one test (root only: <see cref="TmpfsFactAttribute"/>), unmounted and
/// removed on dispose: a real full disk for the tests of what a full disk does.</summary>
public sealed class Tmpfs : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sealer-full-" + Guid.NewGuid().ToString("N"));

    public Tmpfs(string size)
    {
        Directory.CreateDirectory(Root);
        Assert.Equal(0, Processes.Run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", Root).ExitCode);
    }

    /// <summary>Writes a file until the tmpfs is full.</summary>
    public void Fill()
    {
        using var filler = new FileStream(Path.Combine(Root, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[4096];
        try
        {
            while (true) filler.Write(chunk);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        Processes.Run("umount", Root);
        Directory.Delete(Root, true);
    }
}
