using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>
/// A blob written out of order (parallel HTTP ranges) into a private temp file under <c>ingest/</c>, sized up front.
/// Writers call <see cref="WriteAsync"/> at any offset and <see cref="MarkWritten"/> for each finished span; a hasher
/// (started with the ingest) reads the contiguous prefix back from the page cache and hashes it in order while the rest
/// is still arriving, so <see cref="CommitAsync"/> has only the tail to hash. The commit checks the digest, syncs, then
/// renames into <c>blobs/</c>; an ingest disposed without commit deletes its temp file (cancellation or failure leaves
/// neither a blob nor a temp behind). Nothing resumes from it: a later attempt starts again.
/// </summary>
public sealed class RangedBlobIngest : IAsyncDisposable
{
    private const int HashBufferSize = 1 << 20;
    private readonly OciLayout _layout;
    private readonly SafeFileHandle _handle;
    private readonly object _gate = new();
    // Finished spans not yet joined to the hashed prefix: start -> end (exclusive).
    private readonly SortedDictionary<long, long> _done = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _hashWhileWriting;
    private long _writtenPrefix;
    // The written prefix's disk write is started as it grows (start only), so the commit's flush has little left to write.
    // WriteBehind has one writer: the range workers take turns under its own lock, outside _gate.
    private readonly WriteBehind _writeBehind;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<Digest>? _hasher;
    private bool _committed;

    internal RangedBlobIngest(OciLayout layout, Digest expected, long size, string path, bool hashWhileWriting)
    {
        _layout = layout;
        Expected = expected;
        Size = size;
        TempPath = path;
        _hashWhileWriting = hashWhileWriting;
        _handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, FileOptions.None, preallocationSize: 0);
        try
        {
            RandomAccess.SetLength(_handle, size);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            _handle.Dispose();
            OciLayout.TryDelete(path);
            throw DiskFull(ex);
        }
        _writeBehind = new WriteBehind(_handle, lag: null);
        if (hashWhileWriting) _hasher = Task.Run(() => HashAsync(_stop.Token));
    }

    public Digest Expected { get; }

    public long Size { get; }

    /// <summary>The private temp file (under the layout's <c>ingest/</c>).</summary>
    public string TempPath { get; }

    /// <summary>Bytes of the blob, from its start, that are written without a gap.</summary>
    public long ContiguousBytes
    {
        get { lock (_gate) return _writtenPrefix; }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (within the blob's size).</summary>
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (offset < 0 || offset + data.Length > Size)
        {
            throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {Expected}: {data.Length} bytes at {offset} fall outside its {Size} bytes; refusing them.");
        }
        try
        {
            await RandomAccess.WriteAsync(_handle, data, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw DiskFull(ex);
        }
    }

    /// <summary>Records that [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) is written (any order; spans may be reported in pieces).</summary>
    public void MarkWritten(long offset, long count)
    {
        if (count <= 0) return;
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            long end = offset + count;
            if (_done.TryGetValue(offset, out long existing)) end = Math.Max(end, existing);
            _done[offset] = end;
            long before = _writtenPrefix;
            while (_done.Count > 0)
            {
                // Spans are reported as they finish; joining at the prefix only needs the smallest start.
                var first = _done.First();
                if (first.Key > _writtenPrefix) break;
                _writtenPrefix = Math.Max(_writtenPrefix, first.Value);
                _done.Remove(first.Key);
            }
            if (_writtenPrefix != before)
            {
                wake = _advanced;
                _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        if (wake is null) return;
        wake.TrySetResult();
        // The prefix is read again under the write-behind's lock, so the ends it is given never go back.
        lock (_writeBehind) _writeBehind.Advance(ContiguousBytes);
    }

    /// <summary>
    /// Checks that the whole blob is written and matches its digest, syncs it to disk, and renames it into <c>blobs/</c>.
    /// On a mismatch the temp file is deleted and <see cref="ErrorCodes.DigestMismatch"/> is thrown.
    /// </summary>
    public async Task<Descriptor> CommitAsync(CancellationToken cancellationToken = default)
    {
        long prefix = ContiguousBytes;
        if (prefix != Size)
        {
            throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {Expected} is incomplete ({prefix} of {Size} bytes written without a gap); it was not stored.");
        }
        _hasher ??= Task.Run(() => HashAsync(_stop.Token));
        Digest actual;
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _stop))
        {
            actual = await _hasher.ConfigureAwait(false);
        }
        // The handle is open with FileShare.Delete: a rename Windows allows too.
        var descriptor = _layout.PlaceIngested(TempPath, _handle, Expected, Size, actual, Size);
        _committed = true;
        return descriptor;
    }

    /// <summary>Hashes the file in order, reading each part once it is inside the written prefix.</summary>
    private async Task<Digest> HashAsync(CancellationToken cancellationToken)
    {
        using var hash = Expected.CreateHash();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            long hashed = 0;
            while (hashed < Size)
            {
                long available;
                Task wait;
                lock (_gate)
                {
                    available = _writtenPrefix;
                    wait = _advanced.Task;
                }
                if (available == hashed)
                {
                    await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                while (hashed < available)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int want = (int)Math.Min(buffer.Length, available - hashed);
                    int n = RandomAccess.Read(_handle, buffer.AsSpan(0, want), hashed);
                    if (n <= 0) throw new IOException($"'{TempPath}' ended at {hashed} of {Size} bytes while it was being hashed.");
                    hash.AppendData(buffer, 0, n);
                    hashed += n;
                }
            }
            return Digest.FromHash(Expected.Algorithm, hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private SealerException DiskFull(IOException ex)
        => new(ErrorCodes.DiskWriteFailed, $"The disk is full while writing blob {Expected} under '{_layout.Root}'. Free some space and run again.", inner: ex);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_hasher is not null)
        {
            try
            {
                await _hasher.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SealerException)
            {
                // The ingest is abandoned; its hash no longer matters.
            }
        }
        _handle.Dispose();
        _stop.Dispose();
        if (!_committed) OciLayout.TryDelete(TempPath);
    }
}
