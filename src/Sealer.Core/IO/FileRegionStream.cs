namespace Sealer.Core.IO;

/// <summary>
/// A seekable, read-only view of the bytes [<c>offset</c>, <c>offset + length</c>) of a file (or of a whole file): how an
/// OCI archive inside a site bundle (or a blob inside an archive) is read in place, without copying it out first. Copied
/// into a <see cref="FileAppendStream"/> (as <c>TarWriter</c> copies an entry's data), the bytes go file to file
/// (<see cref="FileAppendStream.AppendFrom"/>); into any other stream through a buffer of at least 1 MiB. A <c>cancellationToken</c>
/// given at opening is honoured by the synchronous consumers that take none (<c>TarWriter.WriteEntry</c> copying a 500 MB
/// blob): between the copy's chunks and on every read, so Ctrl+C stops within a chunk, not at the end of the blob.
/// </summary>
public sealed class FileRegionStream : Stream
{
    private readonly FileStream _file;
    private readonly long _start;
    private readonly long _length;
    private readonly CancellationToken _cancellationToken;
    private long _position;

    public FileRegionStream(string path, long offset, long length, int bufferSize = 1 << 16, FileShare share = FileShare.Read, CancellationToken cancellationToken = default)
    {
        _cancellationToken = cancellationToken;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, share, bufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        if (offset < 0 || length < 0 || offset + length > _file.Length)
        {
            long size = _file.Length;
            _file.Dispose();
            throw new ArgumentOutOfRangeException(nameof(length), $"bytes {offset}+{length} lie outside '{path}' ({size} bytes)");
        }
        _start = offset;
        _length = length;
        _file.Seek(offset, SeekOrigin.Begin);
    }

    /// <summary>The whole file (a blob); <see cref="FileShare.Delete"/> so a store's garbage collection may remove it meanwhile.</summary>
    public static FileRegionStream OpenWhole(string path, int bufferSize = 1 << 16, CancellationToken cancellationToken = default)
        => new(path, 0, new FileInfo(path).Length, bufferSize, FileShare.Read | FileShare.Delete, cancellationToken);

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        int n = _file.Read(buffer[..Clamp(buffer.Length)]);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await _file.ReadAsync(buffer[..Clamp(buffer.Length)], cancellationToken).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Clamp(int wanted) => (int)Math.Min(wanted, Math.Max(0, _length - _position));

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (target < 0) throw new IOException("Seek before the start of the region.");
        _position = target;
        _file.Seek(_start + target, SeekOrigin.Begin);
        return target;
    }

    public override void CopyTo(Stream destination, int bufferSize)
    {
        if (destination is FileAppendStream append) AppendTo(append, _cancellationToken);
        else base.CopyTo(destination, Math.Max(bufferSize, 1 << 20));
    }

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        if (destination is not FileAppendStream append) return base.CopyToAsync(destination, Math.Max(bufferSize, 1 << 20), cancellationToken);
        AppendTo(append, cancellationToken);
        return Task.CompletedTask;
    }

    private void AppendTo(FileAppendStream append, CancellationToken cancellationToken)
    {
        long rest = _length - _position;
        if (rest <= 0) return;
        append.AppendFrom(_file.SafeFileHandle, _start + _position, rest, null, cancellationToken);
        Seek(_length, SeekOrigin.Begin);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
