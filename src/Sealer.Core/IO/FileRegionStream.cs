namespace Sealer.Core.IO;

/// <summary>
/// A seekable, read-only view of the bytes [<c>offset</c>, <c>offset + length</c>) of a file: how an OCI archive inside a
/// site bundle (or a blob inside an archive) is read in place, without copying it out first.
/// </summary>
public sealed class FileRegionStream : Stream
{
    private readonly FileStream _file;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    public FileRegionStream(string path, long offset, long length, int bufferSize = 1 << 16)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
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

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
