using System.Text;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// A tar whose every entry is known before the first byte is written: its header, its size, and where its data comes from
/// (bytes in memory, or a file). Every entry's place in the file follows, so a file is written by several writers at once,
/// each entry at its place (<see cref="WriteAtPlacesAsync"/>); a stream (a pipe, a compressor) gets the same bytes in order
/// (<see cref="WriteInOrderAsync"/>). GNU headers (base-256 sizes past 8 GiB, <c>././@LongLink</c> past 100 bytes of name),
/// uid/gid 0, no user or group names, one mtime; two zero blocks end it. The build's archive
/// (<see cref="ClusterImageArchive"/>) and <c>sealer save</c> (Artifacts/OciArchive) are written by it.
/// </summary>
internal static class PlannedTar
{
    public const int Block = 512;
    public const UnixFileMode FileMode644 = (UnixFileMode)0b110_100_100;
    public const UnixFileMode DirMode755 = (UnixFileMode)0b111_101_101;

    /// <summary>Two zero blocks: the end of a tar, and the source of every entry's padding (read only, never written to).</summary>
    public static ReadOnlyMemory<byte> ZeroBlocks { get; } = new byte[2 * Block];

    /// <summary>The zeros after <paramref name="size"/> bytes of an entry's data, to the next block.</summary>
    public static int Padding(long size) => (int)((Block - size % Block) % Block);

    /// <summary>One planned entry: a directory, a small file given as bytes, or a file copied whole (a blob).</summary>
    internal sealed record Entry(string Name, bool Directory, long Size, byte[]? Bytes, string? SourcePath, byte[] Header)
    {
        public long Padded => Size + Padding(Size);

        public long Span => Header.Length + Padded;
    }

    public static Entry File(string name, byte[] bytes, long epoch) => new(name, false, bytes.Length, bytes, null, Header(name, '0', bytes.Length, FileMode644, epoch));

    public static Entry Directory(string name, long epoch) => new(name, true, 0, null, null, Header(name, '5', 0, DirMode755, epoch));

    /// <summary>The file at <paramref name="path"/>, of <paramref name="size"/> bytes (checked again when it is copied).</summary>
    public static Entry CopyOf(string name, string path, long size, long epoch) => new(name, false, size, null, path, Header(name, '0', size, FileMode644, epoch));

    /// <summary>The tar's length: every entry, then the two zero blocks.</summary>
    public static long Length(IEnumerable<Entry> plan) => plan.Sum(e => e.Span) + 2 * Block;

    /// <summary>
    /// Writes the whole of <paramref name="plan"/> into the empty file <paramref name="fs"/>, the trailer after it, and flushes
    /// it to disk (<see cref="WriteAtPlacesAsync"/> from the start).
    /// </summary>
    public static async Task WriteFileAsync(SafeFileHandle fs, IReadOnlyList<Entry> plan, IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        long total = Length(plan);
        await WriteAtPlacesAsync(fs, plan, (0, 0), total, progress, cancellationToken).ConfigureAwait(false);
        WriteTrailer(fs, total);
        RandomAccess.FlushToDisk(fs);
    }

    /// <summary>The two zero blocks at <paramref name="total"/> − 1024, and a check that the file is <paramref name="total"/> bytes.</summary>
    public static void WriteTrailer(SafeFileHandle fs, long total)
    {
        RandomAccess.Write(fs, ZeroBlocks.Span, total - 2 * Block);
        long length = RandomAccess.GetLength(fs);
        if (length != total) throw new SealerException(ErrorCodes.Internal, $"The tar has {length} bytes, not the {total} planned.");
    }

    /// <summary>
    /// Writes the entries after <paramref name="keep"/> (the first <c>Entries</c> of the plan, ending at <c>Offset</c>, are
    /// in the file already): every entry's place is known from the plan, so <see cref="DedicatedWorkers.FileCopiers"/>
    /// writers each take the next entry and write its header, data and padding there. File bytes go through a 1 MiB buffer
    /// (<see cref="FileRangeCopy.CopyBuffered"/>), their disk writes started as they go (<see cref="WriteBehind"/>, each
    /// writer with its share of the lag), so the flush at the end finds little left. On ext4 the kernel's copy_file_range is
    /// a page-by-page splice: an 8 GiB archive from a cold page cache took 19–37 s that way, 15–18 s through the buffer on
    /// one thread and 11–13 s on two (build/bench/RESULTS.md, 2026-12-03), under <c>cat</c> + <c>sync</c> of the same files
    /// (16 s). An interrupted write may leave holes after the first missing entry (a reader of the file must check what it
    /// keeps, as <see cref="ClusterImageArchive"/> does).
    /// </summary>
    /// <returns>Bytes written.</returns>
    public static async Task<long> WriteAtPlacesAsync(SafeFileHandle fs, IReadOnlyList<Entry> plan, (int Entries, long Offset) keep, long total,
        IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        int count = plan.Count - keep.Entries;
        var at = new long[count];
        long end = keep.Offset;
        for (int i = 0; i < count; i++)
        {
            at[i] = end;
            end += plan[keep.Entries + i].Span;
        }
        if (end + 2 * Block != total) throw new SealerException(ErrorCodes.Internal, $"The tar plan has {end + 2 * Block} bytes, not the {total} planned.");

        var gate = new Lock();
        long done = keep.Offset;
        void Report(long bytes)
        {
            lock (gate)
            {
                done += bytes;
                progress?.Report((done, total));
            }
        }

        int writers = Math.Max(1, Math.Min(DedicatedWorkers.FileCopiers, count));
        // Each writer on a thread of its own (DedicatedWorkers: they block in I/O for the whole tar).
        await DedicatedWorkers.RunAsync(writers, count, (next, stop) =>
        {
            var behind = new WriteBehind(fs, keep.Offset, WriteBehind.Lag / writers, stop);
            long last = keep.Offset;
            for (int i = next(); i >= 0; i = next())
            {
                stop.ThrowIfCancellationRequested();
                var e = plan[keep.Entries + i];
                long pos = at[i];
                behind.MoveTo(pos);
                RandomAccess.Write(fs, e.Header, pos);
                pos += e.Header.Length;
                long reported = 0;
                if (e.Bytes is not null)
                {
                    RandomAccess.Write(fs, e.Bytes, pos);
                }
                else if (e.SourcePath is not null)
                {
                    using var src = OpenSource(e);
                    long dataStart = pos;
                    // Bytes as they go: one big blob is minutes of a slow disk, and the reader wants to see them move.
                    FileRangeCopy.CopyBuffered(src, 0, fs, pos, e.Size, copied =>
                    {
                        behind.Advance(dataStart + copied);
                        Report(copied - reported);
                        reported = copied;
                    }, stop);
                }
                pos += e.Size;
                int pad = (int)(e.Padded - e.Size);
                if (pad > 0) RandomAccess.Write(fs, ZeroBlocks.Span[..pad], pos);
                pos += pad;
                behind.Advance(pos);
                last = pos;
                Report(e.Span - reported);
            }
            behind.Finish(last);
        }, cancellationToken).ConfigureAwait(false);
        return end - keep.Offset;
    }

    /// <summary>The same bytes as <see cref="WriteFileAsync"/>, in order, to a stream (a pipe, a compressor); not flushed.</summary>
    public static async Task WriteInOrderAsync(Stream output, IReadOnlyList<Entry> plan, IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        long total = Length(plan), done = 0;
        byte[]? buffer = null;
        foreach (var e in plan)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await output.WriteAsync(e.Header, cancellationToken).ConfigureAwait(false);
            done += e.Header.Length;
            if (e.Bytes is not null)
            {
                await output.WriteAsync(e.Bytes, cancellationToken).ConfigureAwait(false);
            }
            else if (e.SourcePath is not null)
            {
                using var src = OpenSource(e);
                buffer ??= new byte[1 << 20];
                for (long copied = 0; copied < e.Size;)
                {
                    int n = await RandomAccess.ReadAsync(src, buffer.AsMemory(0, (int)Math.Min(buffer.Length, e.Size - copied)), copied, cancellationToken).ConfigureAwait(false);
                    if (n == 0) throw new SealerException(ErrorCodes.BlobNotFound, $"'{e.SourcePath}' ended after {copied} of its {e.Size} bytes: it changed while being written. Run again.");
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    copied += n;
                    progress?.Report((done + copied, total));
                }
            }
            done += e.Size;
            int pad = (int)(e.Padded - e.Size);
            if (pad > 0) await output.WriteAsync(ZeroBlocks[..pad], cancellationToken).ConfigureAwait(false);
            done += pad;
            progress?.Report((done, total));
        }
        await output.WriteAsync(ZeroBlocks, cancellationToken).ConfigureAwait(false);
        progress?.Report((total, total));
    }

    private static SafeFileHandle OpenSource(Entry e)
    {
        var src = System.IO.File.OpenHandle(e.SourcePath!, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = RandomAccess.GetLength(src);
        if (length == e.Size) return src;
        src.Dispose();
        throw new SealerException(ErrorCodes.BlobNotFound, $"'{e.SourcePath}' has {length} bytes, not the {e.Size} planned for '{e.Name}': it changed while being written. Run again.");
    }

    /// <summary>A GNU tar header (with a <c>././@LongLink</c> entry first when the name exceeds 100 bytes).</summary>
    public static byte[] Header(string name, char type, long size, UnixFileMode mode, long epoch)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length <= 100) return OneHeader(nameBytes, type, size, mode, epoch);
        byte[] longName = [.. nameBytes, 0];
        byte[] link = OneHeader(Encoding.ASCII.GetBytes("././@LongLink"), 'L', longName.Length, FileMode644, 0);
        int padded = (longName.Length + Block - 1) / Block * Block;
        var result = new byte[Block + padded + Block];
        link.CopyTo(result, 0);
        longName.CopyTo(result, Block);
        OneHeader(nameBytes.AsSpan(0, 100).ToArray(), type, size, mode, epoch).CopyTo(result, Block + padded);
        return result;
    }

    private static byte[] OneHeader(byte[] name, char type, long size, UnixFileMode mode, long epoch)
    {
        var h = new byte[Block];
        name.CopyTo(h, 0);
        Octal(h.AsSpan(100, 8), (long)mode);
        Octal(h.AsSpan(108, 8), 0);
        Octal(h.AsSpan(116, 8), 0);
        if (size < 1L << 33) Octal(h.AsSpan(124, 12), size);
        else
        {
            // GNU base-256 for sizes of 8 GiB and more.
            h[124] = 0x80;
            for (int i = 0; i < 8; i++) h[135 - i] = (byte)(size >> (8 * i));
        }
        Octal(h.AsSpan(136, 12), epoch);
        h[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar  \0").CopyTo(h, 257); // GNU magic + version
        h.AsSpan(148, 8).Fill((byte)' ');
        long sum = 0;
        foreach (byte b in h) sum += b;
        Octal(h.AsSpan(148, 7), sum); // six digits, NUL, then the space already there
        return h;
    }

    /// <summary>Zero-padded octal with a trailing NUL, filling the field.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        string s = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(s).CopyTo(field);
        field[^1] = 0;
    }
}
