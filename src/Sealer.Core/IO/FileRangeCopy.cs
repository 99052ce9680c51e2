using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Sealer.Core.IO;

/// <summary>
/// Copies a byte range of one file into another. On Linux through <c>copy_file_range(2)</c>: the bytes stay in the kernel
/// (no read into and write out of a user buffer; XFS and Btrfs share extents instead of copying), which is what makes
/// <c>cp</c> fast. Where the call is missing or refuses these files (another OS, an old kernel, EXDEV across file systems
/// before Linux 5.3, EINVAL/EOPNOTSUPP on some file systems) the rest is copied through a 1 MiB buffer, so the result is
/// always the same bytes. Used where one big file is read front to back (<c>sealer load</c> of a plain archive into the
/// store); copies of many blob files (the build archive, <c>sealer save</c>) go through the buffer (<see cref="CopyBuffered"/>).
/// <see cref="CopyHashed"/> also hashes what it copies (a cluster image's image-blob layers, whose digest is new): then
/// every chunk is read once into a pooled buffer, hashed and written from it.
/// </summary>
public static partial class FileRangeCopy
{
    /// <summary>One call's most, so cancellation is checked between chunks (16 MiB: under 0.1 s of a slow disk; Ctrl+C
    /// must stop a multi-GB copy within a second).</summary>
    private const long Chunk = 16L << 20;

    private static volatile bool _kernelCopyUnavailable = !OperatingSystem.IsLinux();
    private static long _kernelBytes;

    /// <summary>Bytes this process copied inside the kernel so far (tests check the fast path is taken).</summary>
    internal static long KernelBytes => Interlocked.Read(ref _kernelBytes);

    /// <summary>Copies <paramref name="length"/> bytes at <paramref name="sourceOffset"/> of <paramref name="source"/> to
    /// <paramref name="destinationOffset"/> of <paramref name="destination"/>; reports bytes copied so far. Throws
    /// <see cref="EndOfStreamException"/> when the source ends early.</summary>
    public static void Copy(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        Action<long>? progress = null, CancellationToken cancellationToken = default)
        => Copy(source, sourceOffset, destination, destinationOffset, length, progress, allowKernel: true, cancellationToken);

    /// <summary>Copies as <see cref="Copy(SafeFileHandle, long, SafeFileHandle, long, long, Action{long}?, CancellationToken)"/>
    /// does and appends every byte copied to <paramref name="hash"/>, in order: through a <see cref="HashedChunk"/> buffer (the
    /// bytes must reach user space to be hashed; a kernel copy plus a second read for the hash measured no cheaper), each chunk read
    /// once, hashed and written; cancellation is checked before each chunk.</summary>
    public static void CopyHashed(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        IncrementalHash hash, Action<long>? progress = null, CancellationToken cancellationToken = default)
        => BufferedCopy(source, sourceOffset, destination, destinationOffset, length, 0, hash, progress, cancellationToken);

    /// <summary>Copies through a <see cref="HashedChunk"/> buffer (pread, pwrite), never in the kernel. On ext4 (no shared
    /// extents) the kernel copy is a page-by-page splice: an 8 GiB build archive from a cold page cache took 19–37 s by
    /// copy_file_range and 15–18 s through the buffer on one thread, 11–13 s on two (build/bench/RESULTS.md, 2026-12-03).</summary>
    public static void CopyBuffered(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        Action<long>? progress = null, CancellationToken cancellationToken = default)
        => BufferedCopy(source, sourceOffset, destination, destinationOffset, length, 0, null, progress, cancellationToken);

    /// <summary>The buffer of a hashed copy: 1 MiB, pooled (a fresh one per blob costs page faults, dear on some VMs), so a
    /// multi-GB blob is a few thousand reads and writes, and Ctrl+C is seen within a millisecond or so.</summary>
    internal const int HashedChunk = 1 << 20;

    /// <param name="allowKernel">false: through the buffer only (tests of the fallback).</param>
    internal static void Copy(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        Action<long>? progress, bool allowKernel, CancellationToken cancellationToken)
    {
        long done = 0;
        if (allowKernel && !_kernelCopyUnavailable)
        {
            done = KernelCopy(source, sourceOffset, destination, destinationOffset, length, progress, cancellationToken);
        }
        if (done < length)
        {
            BufferedCopy(source, sourceOffset + done, destination, destinationOffset + done, length - done, done, null, progress, cancellationToken);
        }
    }

    /// <summary>Copies what the kernel accepts; returns how much (less than asked when the call is unavailable or refused).</summary>
    private static long KernelCopy(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        Action<long>? progress, CancellationToken cancellationToken)
    {
        bool srcRef = false, dstRef = false;
        long done = 0;
        try
        {
            source.DangerousAddRef(ref srcRef);
            destination.DangerousAddRef(ref dstRef);
            int fdIn = (int)source.DangerousGetHandle(), fdOut = (int)destination.DangerousGetHandle();
            long inOff = sourceOffset, outOff = destinationOffset;
            while (done < length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                nint n = copy_file_range(fdIn, ref inOff, fdOut, ref outOff, (nuint)Math.Min(length - done, Chunk), 0);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    if (errno is ENOSYS or EXDEV or EINVAL or EOPNOTSUPP or EBADF or EPERM) _kernelCopyUnavailable |= errno is ENOSYS;
                    else throw new IOException($"copy_file_range failed (errno {errno}).", errno);
                    return done;
                }
                if (n == 0) throw new EndOfStreamException($"The source ended {length - done} bytes early.");
                done += n;
                Interlocked.Add(ref _kernelBytes, n);
                progress?.Invoke(done);
            }
            return done;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _kernelCopyUnavailable = true;
            return done;
        }
        finally
        {
            if (srcRef) source.DangerousRelease();
            if (dstRef) destination.DangerousRelease();
        }
    }

    private static void BufferedCopy(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        long doneBefore, IncrementalHash? hash, Action<long>? progress, CancellationToken cancellationToken)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(HashedChunk);
        try
        {
            long done = 0;
            while (done < length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - done)), sourceOffset + done);
                if (n == 0) throw new EndOfStreamException($"The source ended {length - done} bytes early.");
                hash?.AppendData(buffer, 0, n);
                RandomAccess.Write(destination, buffer.AsSpan(0, n), destinationOffset + done);
                done += n;
                progress?.Invoke(doneBefore + done);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const int EPERM = 1, EINTR = 4, EBADF = 9, EXDEV = 18, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint copy_file_range(int fdIn, ref long offIn, int fdOut, ref long offOut, nuint len, uint flags);
}
