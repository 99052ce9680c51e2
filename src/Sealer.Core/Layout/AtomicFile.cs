using Sealer.Core.Diagnostics;
using Sealer.Core.IO;

namespace Sealer.Core.Layout;

/// <summary>
/// The one atomic-write helper: write to a temp file beside the target, flush it to disk, then rename it over the target
/// (<see cref="Replace"/>), so readers see the old file or the new one, never a half-written one. On Windows a rename
/// fails while another process (antivirus, an IDE, a file viewer) has the target open; <see cref="Replace"/> retries that
/// for a few seconds and then throws SEA1310 (<see cref="ErrorCodes.FileInUse"/>) with the target unchanged.
/// </summary>
public static class AtomicFile
{
    /// <summary>Attempts of one rename another process blocks (the waits between them double from 50 ms to 1 s: ~6 s in all).</summary>
    public const int ReplaceAttempts = 10;

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data, string? tempDir = null)
    {
        string temp = TempPathFor(path, tempDir);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(data);
                fs.Flush(flushToDisk: true);
            }
            Replace(temp, path);
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            OciLayout.TryDelete(temp);
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full: cannot write '{path}'. Free some space and run again.", inner: ex);
        }
        catch
        {
            OciLayout.TryDelete(temp);
            throw;
        }
    }

    /// <summary>UTF-8 without a byte order mark; the text is written as given (generated text uses LF).</summary>
    public static void WriteAllText(string path, string text, string? tempDir = null)
        => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text), tempDir);

    /// <summary>A new temp file name next to <paramref name="path"/> (or in <paramref name="tempDir"/>, which must be on the
    /// same volume), hidden (leading dot) and ending in <c>.tmp</c>; its directory is created.</summary>
    public static string TempPathFor(string path, string? tempDir = null)
    {
        string dir = tempDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>
    /// Renames <paramref name="source"/> over <paramref name="destination"/> in one step (File.Move with overwrite: rename(2)
    /// on Unix, MoveFileEx(MOVEFILE_REPLACE_EXISTING) on Windows). While another process holds either file
    /// (<see cref="FilePlatform.IsInUse"/>) it retries with doubling waits, then throws SEA1310 naming the file. The
    /// source is left in place on failure (the caller deletes or keeps it); the destination is never half-written.
    /// </summary>
    public static void Replace(string source, string destination, FilePlatform? platform = null)
        => Move(source, destination, overwrite: true, platform);

    /// <summary><see cref="Replace"/>, or with <paramref name="overwrite"/> false a rename that fails when the destination exists.</summary>
    public static void Move(string source, string destination, bool overwrite, FilePlatform? platform = null)
    {
        platform ??= FilePlatform.Current;
        Retry(platform, destination, p => p.Move(source, destination, overwrite));
    }

    /// <summary>Renames a directory with the same retries as <see cref="Replace"/> (SEA1310 when it stays in use).</summary>
    public static void MoveDirectory(string source, string destination, FilePlatform? platform = null)
    {
        platform ??= FilePlatform.Current;
        Retry(platform, source, p => p.MoveDirectory(source, destination));
    }

    private static void Retry(FilePlatform platform, string destination, Action<FilePlatform> rename)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                rename(platform);
                return;
            }
            catch (Exception ex) when (platform.IsInUse(ex))
            {
                if (attempt >= ReplaceAttempts)
                {
                    throw new SealerException(ErrorCodes.FileInUse,
                        $"'{destination}' is in use by another process (an antivirus scan, an IDE or file viewer, another build or sealer) and could not be replaced after {attempt} attempts. " +
                        "It still holds its previous content. Close the program holding it (or wait for the scan) and run again.", destination, 0, inner: ex);
                }
                platform.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException ex)
    {
        int code = ex.HResult & 0xFFFF;
        return code is 28 or 122 or 0x70 or 0x27 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }
}
