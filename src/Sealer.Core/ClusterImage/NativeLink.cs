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
        if (!OperatingSystem.IsWindows() && TryLink(existing, link)) return;
        string temp = Layout.AtomicFile.TempPathFor(link);
        try
        {
            File.Copy(existing, temp);
            Layout.AtomicFile.Replace(temp, link);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>link(2); false where links are not allowed (another file system, a FAT/exFAT or network volume, a
    /// platform without libc's link) so the caller copies instead.</summary>
    private static bool TryLink(string existing, string link)
    {
        try
        {
            if (Link(existing, link) == 0) return true;
            return File.Exists(link); // raced with another writer of the same content
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string oldPath, string newPath);
}
