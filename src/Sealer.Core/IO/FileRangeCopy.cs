using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Sealer.Core.IO;

/// <summary>
/// Copies a byte range of one file into another through a pooled 1 MiB buffer (pread, pwrite), optionally hashing what it
/// copies (<see cref="CopyHashed"/>: each chunk read once, hashed and written from the buffer). Not the kernel's
/// copy_file_range: on ext4 (no shared extents) that is a page-by-page splice, from a cold page cache the slowest and most
/// variable way (an 8 GiB build archive: 19–37 s, against 15–18 s through the buffer on one thread and 11–13 s on two), and
/// a blob whose digest is checked must reach user space anyway (a kernel copy plus a second read of the copy for the hash:
/// `sealer load` of 8 GiB with two writers 10.4–11.1 s, through the buffer with four 9.0–9.4 s, reading the archive once
/// instead of twice; build/bench/RESULTS.md, 2026-12-03 and 2026-12-04). The archive formats put data at 512-byte offsets,
/// so XFS/Btrfs extent sharing would not apply either. Used by the build archive, <c>sealer save</c>, <c>sealer load</c>
/// (<see cref="Layout.OciLayout"/>'s ImportRegion) and the assembly's image-blob layers.
/// </summary>
public static class FileRangeCopy
{
    /// <summary>Copies <paramref name="length"/> bytes at <paramref name="sourceOffset"/> of <paramref name="source"/> to
    /// <paramref name="destinationOffset"/> of <paramref name="destination"/> and appends every byte copied to
    /// <paramref name="hash"/>, in order; reports bytes copied so far; cancellation is checked before each chunk. Throws
    /// <see cref="EndOfStreamException"/> when the source ends early.</summary>
    public static void CopyHashed(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        IncrementalHash hash, Action<long>? progress = null, CancellationToken cancellationToken = default)
        => BufferedCopy(source, sourceOffset, destination, destinationOffset, length, hash, progress, cancellationToken);

    /// <summary><see cref="CopyHashed"/> without the hash.</summary>
    public static void CopyBuffered(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        Action<long>? progress = null, CancellationToken cancellationToken = default)
        => BufferedCopy(source, sourceOffset, destination, destinationOffset, length, null, progress, cancellationToken);

    /// <summary>The buffer: 1 MiB, pooled (a fresh one per blob costs page faults, dear on some VMs), so a multi-GB blob is a
    /// few thousand reads and writes, and Ctrl+C is seen within a millisecond or so.</summary>
    internal const int Chunk = 1 << 20;

    private static void BufferedCopy(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long length,
        IncrementalHash? hash, Action<long>? progress, CancellationToken cancellationToken)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            long done = 0;
            while (done < length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(Chunk, length - done)), sourceOffset + done);
                if (n == 0) throw new EndOfStreamException($"The source ended {length - done} bytes early.");
                hash?.AppendData(buffer, 0, n);
                RandomAccess.Write(destination, buffer.AsSpan(0, n), destinationOffset + done);
                done += n;
                progress?.Invoke(done);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
