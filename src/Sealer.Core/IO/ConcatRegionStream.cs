namespace Sealer.Core.IO;

/// <summary>
/// A seekable, read-only view of several file regions one after the other, as one stream: how an OCI archive split over
/// the parts of a site bundle (Bundle/SiteBundle, <c>--split</c>) is walked and re-hashed as the one archive it is. Each
/// region is opened when the reading reaches it (one file open at a time).
/// </summary>
public sealed class ConcatRegionStream : Stream
{
    private readonly IReadOnlyList<(string Path, long Offset, long Length)> _regions;
    private readonly long[] _starts;
    private readonly int _bufferSize;
    private readonly long _length;
    private FileRegionStream? _current;
    private int _currentIndex = -1;
    private long _position;

    public ConcatRegionStream(IReadOnlyList<(string Path, long Offset, long Length)> regions, int bufferSize = 1 << 16)
    {
        _regions = regions;
        _bufferSize = bufferSize;
        _starts = new long[regions.Count];
        long at = 0;
        for (int i = 0; i < regions.Count; i++)
        {
            _starts[i] = at;
            at += regions[i].Length;
        }
        _length = at;
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

    /// <summary>The region holding logical offset <paramref name="position"/> (the last one at the end), and the offset within it.</summary>
    private (int Index, long Within) Find(long position)
    {
        int i = Array.BinarySearch(_starts, position);
        if (i < 0) i = ~i - 1;
        // regions of length 0 share a start with the next one: take the last region starting there that has bytes
        while (i + 1 < _regions.Count && _starts[i + 1] == position) i++;
        return (Math.Max(i, 0), position - _starts[Math.Max(i, 0)]);
    }

    private FileRegionStream? At(long position)
    {
        if (position >= _length || _regions.Count == 0) return null;
        var (index, within) = Find(position);
        if (index != _currentIndex)
        {
            _current?.Dispose();
            _current = null;
            var r = _regions[index];
            _current = new FileRegionStream(r.Path, r.Offset, r.Length, _bufferSize);
            _currentIndex = index;
        }
        if (_current!.Position != within) _current.Position = within;
        return _current;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0 || At(_position) is not { } s) return 0;
        int n = s.Read(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0 || At(_position) is not { } s) return 0;
        int n = await s.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (target < 0) throw new IOException("Seek before the start of the regions.");
        _position = target;
        return target;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _current?.Dispose();
        base.Dispose(disposing);
    }
}
