using System.Runtime.InteropServices;

namespace Sealer.Core.ClusterImage;

/// <summary>Hard links (so a rebuild re-uses unchanged blobs of the previous output without copying gigabytes).</summary>
internal static partial class NativeLink
{
    /// <summary>Hard-links <paramref name="existing"/> at <paramref name="link"/>, or copies it when links are not possible
    /// (another file system, Windows without support). The copy goes through a temp file, so it is never half-written.</summary>
    public static void LinkOrCopy(string existing, string link)
    {
        if (File.Exists(link)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        if (!OperatingSystem.IsWindows())
        {
            if (Link(existing, link) == 0) return;
            if (File.Exists(link)) return; // raced with another writer of the same content
        }
        string temp = link + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.Copy(existing, temp);
            File.Move(temp, link, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string oldPath, string newPath);
}
