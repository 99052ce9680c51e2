namespace Sealer.Core.IO;

/// <summary>The file systems paths lie on.</summary>
public static class Drives
{
    /// <summary>The file system holding <paramref name="dir"/>, its type read; null when it cannot be inspected.</summary>
    public static DriveInfo? Of(string dir)
    {
        try
        {
            var drive = new DriveInfo(dir);
            _ = drive.DriveFormat;
            return drive;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
