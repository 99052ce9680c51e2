using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sealer.Core.IO;

/// <summary>
/// Early write-back: on Linux <c>sync_file_range(2)</c> starts writing a range of a file's dirty pages to the disk while the
/// writer goes on, so the durability point that follows (<c>fsync</c>, <see cref="RandomAccess.FlushToDisk"/>) finds little
/// left to write, and a multi-GB copy's disk writes overlap its copying instead of following it. It is only a hint: it
/// makes nothing durable (no metadata, no disk cache flush), so every caller still flushes before a rename. Where the call
/// is missing (another OS, ENOSYS, a file system that refuses it) <see cref="Start"/> and <see cref="Wait"/> do nothing and
/// the final flush does all the work, as before.
/// </summary>
public static partial class WriteBack
{
    private static volatile bool _unavailable = !OperatingSystem.IsLinux();
    private static long _startedBytes;

    /// <summary>Bytes this process asked the kernel to start writing back so far (tests check the early write-back is used).</summary>
    internal static long StartedBytes => Interlocked.Read(ref _startedBytes);

    /// <summary>Whether the call is there (false once it failed with ENOSYS or could not be bound).</summary>
    public static bool Available => !_unavailable;

    /// <summary>Starts the write of <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="file"/> to
    /// the disk and returns at once (SYNC_FILE_RANGE_WRITE). False when early write-back is unavailable.</summary>
    public static bool Start(SafeFileHandle file, long offset, long length)
        => length > 0 && Call(file, offset, length, SyncFileRangeWrite);

    /// <summary>Waits until <paramref name="length"/> bytes at <paramref name="offset"/> are on the disk, writing what is still
    /// dirty there (WAIT_BEFORE | WRITE | WAIT_AFTER): bounds how much a long copy leaves dirty. Data only, not durable.</summary>
    public static bool Wait(SafeFileHandle file, long offset, long length)
        => length > 0 && Call(file, offset, length, SyncFileRangeWaitBefore | SyncFileRangeWrite | SyncFileRangeWaitAfter);

    /// <summary>Makes a directory's entries durable (<c>fsync</c> of the directory: the renames into it). Does nothing where
    /// directories cannot be opened (Windows) and ignores file systems that refuse it.</summary>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
        try
        {
            int fd = open(path, ORdOnly | (OperatingSystem.IsLinux() ? ODirectoryLinux : 0));
            if (fd < 0) return;
            try { _ = fsync(fd); } finally { _ = close(fd); }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    private static bool Call(SafeFileHandle file, long offset, long length, uint flags)
    {
        if (_unavailable) return false;
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            int fd = (int)file.DangerousGetHandle();
            while (true)
            {
                if (sync_file_range(fd, offset, length, flags) == 0)
                {
                    if ((flags & SyncFileRangeWaitAfter) == 0) Interlocked.Add(ref _startedBytes, length);
                    return true;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == ENOSYS) _unavailable = true;
                // EINVAL/ESPIPE/EIO...: a hint that did not take; the caller's fsync reports real write errors.
                return false;
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false; // closed under a late caller (a range worker finishing as its cancelled download is disposed): nothing to start
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    private const uint SyncFileRangeWaitBefore = 1, SyncFileRangeWrite = 2, SyncFileRangeWaitAfter = 4;
    private const int EINTR = 4, ENOSYS = 38, ORdOnly = 0, ODirectoryLinux = 0x10000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc")]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}

/// <summary>
/// Early write-back of a file as one writer fills it: <see cref="Advance"/> after each piece starts the write of what was
/// added since the last start once <see cref="Step"/> bytes gathered, and waits for the oldest started ranges once more
/// than the lag is in flight, so the writer runs ahead of the disk by at most that much (dirty memory stays bounded and the
/// final flush has at most ~lag bytes to write). A writer that fills the file front to back only advances; one of several
/// writers filling their own parts of it (the build archive's entries, written at once) calls <see cref="MoveTo"/> before each
/// part, with a lag of its share. Once <c>cancellationToken</c> is cancelled it starts writes but no longer waits for any: a
/// writer stopping on Ctrl+C must not first wait for the disk to catch up (a busy disk can hold a range for a second).
/// A <c>lag</c> of null only starts writes and never waits: for a writer fed by the network (a downloading blob), whose
/// waits would stall its socket while the kernel's own limits already bound its dirty pages. A <c>flush</c>, when the
/// writer buffers (a <see cref="FileStream"/>), is called before each start so the range started is all in the kernel.
/// </summary>
public sealed class WriteBehind(SafeFileHandle file, long from = 0, long? lag = WriteBehind.Lag, CancellationToken cancellationToken = default, Action? flush = null)
{
    /// <summary>How much is gathered before a write is started (8 MiB: big enough for the disk, a few hundred calls per 8 GB).</summary>
    public const long Step = 8L << 20;

    /// <summary>How far one writer may run ahead of the disk (256 MiB: well under a second of a disk's writing).</summary>
    public const long Lag = 256L << 20;

    private readonly Queue<(long Offset, long Length)> _inFlight = new();
    private long _inFlightBytes, _started = from, _end = from;

    /// <summary>The file now holds its bytes up to <paramref name="end"/> (of the part this writer is at).</summary>
    public void Advance(long end)
    {
        _end = end;
        if (end - _started >= Step) StartGathered(wait: true);
    }

    /// <summary>The writer goes on at <paramref name="offset"/>: what it gathered where it was is started first.</summary>
    public void MoveTo(long offset)
    {
        StartGathered(wait: true);
        _started = _end = offset;
    }

    /// <summary>Starts the write of what is left (before the final flush).</summary>
    public void Finish(long end)
    {
        _end = Math.Max(_end, end);
        StartGathered(wait: false);
    }

    private void StartGathered(bool wait)
    {
        if (_end <= _started) return;
        long offset = _started, length = _end - _started;
        _started = _end;
        flush?.Invoke();
        if (!WriteBack.Start(file, offset, length) || lag is not { } most) return; // unavailable: the final flush does it all
        _inFlight.Enqueue((offset, length));
        _inFlightBytes += length;
        while (wait && _inFlightBytes > most + Step && !cancellationToken.IsCancellationRequested)
        {
            var (o, l) = _inFlight.Dequeue();
            WriteBack.Wait(file, o, l);
            _inFlightBytes -= l;
        }
    }
}
