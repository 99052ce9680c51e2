using Microsoft.Win32.SafeHandles;

namespace Sealer.Core.IO;

/// <summary>
/// A write-only stream over a file handle, keeping its own position (positional writes, a 1 MiB buffer), into which a
/// <see cref="FileRangeSource"/> copies with <see cref="FileRangeCopy"/> when a writer such as <c>TarWriter</c> copies
/// one into it: the bytes of a multi-GB blob then never pass through user space.
/// </summary>
public sealed class FileAppendStream(SafeFileHandle handle, long position = 0) : Stream
{
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _count;
    private long _position = position;

    public SafeFileHandle Handle => handle;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position + _count;

    public override long Position
    {
        get => _position + _count;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_count + buffer.Length > _buffer.Length)
        {
            Flush();
            if (buffer.Length >= _buffer.Length)
            {
                RandomAccess.Write(handle, buffer, _position);
                _position += buffer.Length;
                return;
            }
        }
        buffer.CopyTo(_buffer.AsSpan(_count));
        _count += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Appends <paramref name="length"/> bytes of <paramref name="source"/> from <paramref name="sourceOffset"/>.</summary>
    public void AppendFrom(SafeFileHandle source, long sourceOffset, long length, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        Flush();
        FileRangeCopy.Copy(source, sourceOffset, handle, _position, length, progress, cancellationToken);
        _position += length;
    }

    public override void Flush()
    {
        if (_count == 0) return;
        RandomAccess.Write(handle, _buffer.AsSpan(0, _count), _position);
        _position += _count;
        _count = 0;
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }
}

/// <summary>
/// A read-only, seekable stream over a whole file (a blob) that, copied into a <see cref="FileAppendStream"/>, is copied
/// file to file by <see cref="FileRangeCopy"/>; into any other stream through a 1 MiB buffer. Owns the handle.
/// </summary>
public sealed class FileRangeSource : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;
    private long _position;

    public FileRangeSource(string path)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        _length = RandomAccess.GetLength(_handle);
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(Span<byte> buffer)
    {
        if (_position >= _length) return 0;
        int n = RandomAccess.Read(_handle, buffer[..(int)Math.Min(buffer.Length, _length - _position)], _position);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void CopyTo(Stream destination, int bufferSize) => CopyCore(destination, CancellationToken.None);

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        if (destination is not FileAppendStream) return base.CopyToAsync(destination, Math.Max(bufferSize, 1 << 20), cancellationToken);
        CopyCore(destination, cancellationToken);
        return Task.CompletedTask;
    }

    private void CopyCore(Stream destination, CancellationToken cancellationToken)
    {
        long rest = _length - _position;
        if (rest <= 0) return;
        if (destination is FileAppendStream append)
        {
            append.AppendFrom(_handle, _position, rest, null, cancellationToken);
            _position = _length;
            return;
        }
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int n;
            while ((n = Read(buffer)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                destination.Write(buffer, 0, n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _handle.Dispose();
        base.Dispose(disposing);
    }
}
