using System.Buffers;
using System.Security.Cryptography;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>
/// A blob being written into an <see cref="OciLayout"/>: bytes are appended (possibly across attempts, for resume),
/// hashed as they go, and <see cref="CommitAsync"/> checks size and digest before renaming into <c>blobs/</c>.
/// Disposing without commit keeps the partial file for a later resume (unless it is a private temp file).
/// </summary>
public sealed class BlobIngest : IAsyncDisposable
{
    private readonly OciLayout _layout;
    private readonly string _path;
    private readonly FileStream _stream;
    private IncrementalHash? _hash;
    private bool _committed;
    // The disk write of what this ingest appends is started as it grows (start only, never a wait on the socket's path):
    // the commit's flush then finds at most WriteBehind.Step bytes left to write, not the whole blob (a 500 MB layer's
    // fsync held its stream ~1 s).
    private WriteBehind _writeBehind;

    internal BlobIngest(OciLayout layout, Digest expected, long expectedSize, string path, FileStream stream)
    {
        _layout = layout;
        Expected = expected;
        ExpectedSize = expectedSize;
        _path = path;
        _stream = stream;
        if (_stream.Length > expectedSize) _stream.SetLength(0);
        _writeBehind = NewWriteBehind(_stream.Length);
    }

    private WriteBehind NewWriteBehind(long from) => new(_stream.SafeFileHandle, from, lag: null, flush: _stream.Flush);

    public Digest Expected { get; }

    public long ExpectedSize { get; }

    /// <summary>Bytes already written (by an earlier attempt or this one). Resume the download from here.</summary>
    public long Offset => _stream.Length;

    /// <summary>Drops what was written so far (e.g. a server ignored our Range request).</summary>
    public Task ResetAsync(CancellationToken cancellationToken = default)
    {
        _stream.SetLength(0);
        _writeBehind = NewWriteBehind(0);
        _hash?.Dispose();
        _hash = null;
        return Task.CompletedTask;
    }

    /// <summary>Appends <paramref name="source"/> to the end, reporting cumulative bytes (including earlier ones).</summary>
    public async Task AppendAsync(Stream source, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        await EnsureHashAsync(cancellationToken).ConfigureAwait(false);
        _stream.Seek(0, SeekOrigin.End);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (_stream.Length + n > ExpectedSize)
                {
                    throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {Expected} is longer than the {ExpectedSize} bytes its descriptor says; refusing it.");
                }
                _hash!.AppendData(buffer, 0, n);
                try
                {
                    await _stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
                {
                    throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while writing blob {Expected} under '{_layout.Root}'. Free some space and run again; the download resumes.", inner: ex);
                }
                long end = _stream.Position;
                _writeBehind.Advance(end);
                progress?.Report(end);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks size and digest and moves the blob into place. On mismatch the partial file is deleted.</summary>
    public async Task<Descriptor> CommitAsync(CancellationToken cancellationToken = default)
    {
        await EnsureHashAsync(cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        long length = _stream.Length;
        var actual = Digest.FromHash(Expected.Algorithm, _hash!.GetHashAndReset());
        _hash.Dispose();
        _hash = null;
        try
        {
            var descriptor = _layout.PlaceIngested(_path, _stream.SafeFileHandle, Expected, ExpectedSize, actual, length);
            _committed = true;
            return descriptor;
        }
        catch (SealerException ex) when (ex.Code is ErrorCodes.SizeMismatch or ErrorCodes.DigestMismatch)
        {
            _stream.SetLength(0); // a corrupt .partial must not be resumed from
            throw;
        }
    }

    private async Task EnsureHashAsync(CancellationToken cancellationToken)
    {
        if (_hash is not null) return;
        _hash = Expected.CreateHash();
        if (_stream.Length == 0) return;
        // Resuming: hash what an earlier attempt wrote.
        _stream.Seek(0, SeekOrigin.Begin);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
        try
        {
            int n;
            while ((n = await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0) _hash.AppendData(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _hash?.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (!_committed && _path.EndsWith(".tmp", StringComparison.Ordinal)) OciLayout.TryDelete(_path);
    }
}
