namespace Sealer.Core.Layout;

/// <summary>Write-to-temp-then-rename, so readers never see a half-written file.</summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data, string? tempDir = null)
    {
        string dir = tempDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(data);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            OciLayout.TryDelete(temp);
            throw new Diagnostics.SealerException(Diagnostics.ErrorCodes.DiskWriteFailed, $"The disk is full: cannot write '{path}'. Free some space and run again.", inner: ex);
        }
        catch
        {
            OciLayout.TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text, string? tempDir = null)
        => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text), tempDir);

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException ex)
    {
        int code = ex.HResult & 0xFFFF;
        return code is 28 or 122 or 0x70 or 0x27 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }
}
