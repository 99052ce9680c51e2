using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The rootfs layer's gzip written as gzip members back to back, one per group of tar entries (a chart, a top-level
/// folder: <see cref="GroupOf"/>), cut by the writer between groups (<see cref="Cut"/>). RFC 1952 makes a gzip file a series
/// of members, and the readers of layers read them as one stream (Go's compress/gzip in containerd, skopeo and umoci; GNU
/// gzip under <c>tar xzf</c> on the hosts; .NET's GZipStream; Python's gzip), as they read eStargz layers. A member whose
/// uncompressed bytes are those of a member of the previous build's rootfs layer (<see cref="PreviousMembers"/>) is copied
/// from there, once its gzip trailer (CRC-32, length) is seen to be those bytes' (<see cref="TryCopyPrevious"/>), instead of
/// compressed again: a rebuild after one chart changed compresses that chart's group, not the project (60 MiB of rootfs
/// files: 1088 → 441 ms of assembly, build/bench/RESULTS.md).
/// <para>The bytes are a function of the tar's bytes and the compressor only, never of what was reused: a member is the gzip
/// of its bytes written in one call, or, past <see cref="MaxKeptMember"/> (a big file COPY'd into the rootfs), spooled to a
/// file while it is hashed and then compressed in writes of exactly <see cref="SpoolChunk"/>; a reused member was made so
/// by the same compressor (<see cref="Compressor"/>), else it is not reused.</para>
/// </summary>
internal sealed class GzipMembers : Stream
{
    /// <summary>Uncompressed bytes a member is held in memory for (looked up and compressed in one call); past this it is
    /// spooled to a file.</summary>
    public const int MaxKeptMember = 16 << 20;

    /// <summary>The writes a spooled member is compressed in (fixed, so its bytes depend on its content only).</summary>
    public const int SpoolChunk = 1 << 20;

    /// <summary>What made the members: a member is reused only from a layer made by the same (else the bytes of a rebuild
    /// would depend on what it reused, not only on its input).</summary>
    public static readonly string Compressor = $"{RuntimeInformation.FrameworkDescription}; zlib {typeof(GZipStream).Assembly.GetName().Version}; Optimal; v1";

    private readonly Stream _output;
    private readonly PreviousMembers? _previous;
    private readonly string _spoolDirectory;
    private readonly long _base;
    private readonly MemoryStream _pending = new();
    private Spool? _spool;
    private byte[]? _chunk;
    private readonly List<GzipMemberEntry> _members = [];
    private readonly CancellationToken _cancellationToken;

    /// <summary>The last layers' blobs opened to copy members from: once per layer, not per member (300 charts: 300 opens).</summary>
    private readonly Dictionary<string, SafeFileHandle?> _sources = new(StringComparer.Ordinal);

    /// <param name="output">The layer file: its <c>Length</c> is the bytes written so far.</param>
    /// <param name="spoolDirectory">Where a member over <see cref="MaxKeptMember"/> is spooled (a file removed when it is cut).</param>
    /// <param name="cancellationToken">Seen between the chunks of a spooled member (a big file is seconds of compression).</param>
    public GzipMembers(Stream output, PreviousMembers? previous, string spoolDirectory, CancellationToken cancellationToken = default)
    {
        _output = output;
        _previous = previous;
        _spoolDirectory = spoolDirectory;
        _base = output.Length;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The members written that a later build may reuse (offsets from the start of the layer).</summary>
    public IReadOnlyList<GzipMemberEntry> Members => _members;

    public int Reused { get; private set; }

    public int Compressed { get; private set; }

    /// <summary>The group of a rootfs path: its folder, cut to two levels — <c>charts/redis</c> (the chart with its
    /// templates and subcharts), <c>scripts</c>, <c>manifests</c>, the top level's files together — and to three under
    /// <c>application/apps/</c> (one app each).</summary>
    public static string GroupOf(string path)
    {
        int slash = path.LastIndexOf('/');
        string dir = slash < 0 ? "" : path[..slash];
        int depth = dir.StartsWith("application/apps/", StringComparison.Ordinal) ? 3 : 2;
        int end = -1;
        for (int i = 0; i < depth; i++)
        {
            end = dir.IndexOf('/', end + 1);
            if (end < 0) return dir;
        }
        return dir[..end];
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_spool is not null)
        {
            _spool.Append(buffer);
            return;
        }
        _pending.Write(buffer);
        if (_pending.Length > MaxKeptMember)
        {
            _spool = new Spool(Path.Combine(_spoolDirectory, $"{Guid.NewGuid():N}.member"));
            _spool.Append(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
            _pending.SetLength(0);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Ends the member being written (nothing when it is empty); the next write starts another.</summary>
    public void Cut()
    {
        if (_spool is not null)
        {
            CutSpooled();
            return;
        }
        if (_pending.Length == 0) return;
        var bytes = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
        string key = Convert.ToHexStringLower(SHA256.HashData(bytes));
        long at = _output.Length - _base;
        if (!TryCopyPrevious(key, System.IO.Hashing.Crc32.HashToUInt32(bytes), bytes.Length))
        {
            using (var gz = new GZipStream(_output, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(bytes);
            Compressed++;
        }
        _members.Add(new GzipMemberEntry { Tar = key, At = at, Size = _output.Length - _base - at });
        _pending.SetLength(0);
    }

    /// <summary>A member past <see cref="MaxKeptMember"/>: copied from the last layer when it is there, else compressed
    /// from the spool file in <see cref="SpoolChunk"/> writes.</summary>
    private void CutSpooled()
    {
        var spool = _spool!;
        _spool = null;
        using (spool)
        {
            string key = spool.Key();
            long at = _output.Length - _base;
            if (!TryCopyPrevious(key, spool.Crc, spool.Length))
            {
                byte[] chunk = Chunk();
                using (var gz = new GZipStream(_output, CompressionLevel.Optimal, leaveOpen: true))
                {
                    for (long done = 0; done < spool.Length;)
                    {
                        _cancellationToken.ThrowIfCancellationRequested();
                        int want = (int)Math.Min(chunk.Length, spool.Length - done);
                        spool.ReadExactly(chunk.AsSpan(0, want), done);
                        gz.Write(chunk, 0, want);
                        done += want;
                    }
                }
                Compressed++;
            }
            _members.Add(new GzipMemberEntry { Tar = key, At = at, Size = _output.Length - _base - at });
        }
    }

    private byte[] Chunk() => _chunk ??= new byte[SpoolChunk];

    /// <summary>
    /// Copies to the output the last layer's member of the bytes whose SHA-256 is <paramref name="key"/>, when the layer map
    /// names one and it is one gzip member of them: the gzip magic first, and its trailer's CRC-32 and length (RFC 1952)
    /// <paramref name="crc"/> and <paramref name="length"/>. A layer map that names the wrong member for some bytes is so not
    /// trusted (the old layer blob itself was checked against its digest), at the cost of a CRC-32 of the bytes
    /// (vectorised; inflating each copied member instead cost ~165 ms for 60 MiB). False when nothing was copied.
    /// </summary>
    private bool TryCopyPrevious(string key, uint crc, long length)
    {
        if (_previous?.TryLocate(key) is not { Size: >= 18 } old) return false;
        byte[] chunk = Chunk();
        if (!_sources.TryGetValue(old.Path, out var src))
        {
            try
            {
                src = File.OpenHandle(old.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            }
            catch (IOException)
            {
                src = null;
            }
            _sources[old.Path] = src;
        }
        if (src is null) return false;
        if (old.At + old.Size > RandomAccess.GetLength(src)
            || RandomAccess.Read(src, chunk.AsSpan(0, 3), old.At) != 3 || chunk[0] != 0x1F || chunk[1] != 0x8B || chunk[2] != 8
            || RandomAccess.Read(src, chunk.AsSpan(0, 8), old.At + old.Size - 8) != 8
            || BinaryPrimitives.ReadUInt32LittleEndian(chunk) != crc || BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4)) != (uint)length)
        {
            return false;
        }
        for (long done = 0; done < old.Size;)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            int n = RandomAccess.Read(src, chunk.AsSpan(0, (int)Math.Min(chunk.Length, old.Size - done)), old.At + done);
            if (n <= 0) throw new IOException($"'{old.Path}' ended inside the rootfs member it was to give.");
            _output.Write(chunk, 0, n);
            done += n;
        }
        Reused++;
        return true;
    }

    public override void Flush() { }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _spool?.Dispose();
            _pending.Dispose();
            foreach (var src in _sources.Values) src?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>A member's bytes in a private file, hashed (SHA-256 for its key, CRC-32 for its trailer) as they come.</summary>
    private sealed class Spool : IDisposable
    {
        private readonly string _path;
        private readonly SafeFileHandle _handle;
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly System.IO.Hashing.Crc32 _crc = new();

        public Spool(string path)
        {
            _path = path;
            _handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        }

        public long Length { get; private set; }

        public uint Crc => _crc.GetCurrentHashAsUInt32();

        public string Key() => Convert.ToHexStringLower(_sha.GetCurrentHash());

        public void Append(ReadOnlySpan<byte> data)
        {
            RandomAccess.Write(_handle, data, Length);
            _sha.AppendData(data);
            _crc.Append(data);
            Length += data.Length;
        }

        public void ReadExactly(Span<byte> into, long at)
        {
            for (int got = 0; got < into.Length;)
            {
                int n = RandomAccess.Read(_handle, into[got..], at + got);
                if (n <= 0) throw new IOException($"The spooled rootfs member '{_path}' ended early.");
                got += n;
            }
        }

        public void Dispose()
        {
            _handle.Dispose(); // DeleteOnClose
            _sha.Dispose();
        }
    }
}

/// <summary>
/// The members of the previous build's rootfs layers (from the layer map), by the SHA-256 of their uncompressed bytes. A
/// layer's blob is hashed once, before its first member is copied, and must match its digest (else none of its members is
/// used): a damaged blob in the layout is never copied into a new layer.
/// </summary>
internal sealed class PreviousMembers
{
    private readonly Dictionary<string, (string Layer, long At, long Size)> _byTar = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _verified = new(StringComparer.Ordinal); // layer digest → blob path, or null when unusable
    private readonly Func<Digest, string?> _locate;

    /// <param name="locate">Where a layer's blob is (the layout being written, or the previous output), or null.</param>
    public PreviousMembers(IReadOnlyDictionary<string, List<GzipMemberEntry>> layers, Func<Digest, string?> locate)
    {
        _locate = locate;
        foreach (var (layer, members) in layers)
        {
            foreach (var m in members)
            {
                if (m.Size > 0 && m.At >= 0) _byTar.TryAdd(m.Tar, (layer, m.At, m.Size));
            }
        }
    }

    /// <summary>Where the member whose uncompressed bytes hash to <paramref name="tarSha256"/> is (in a layer blob that
    /// matches its digest), or null.</summary>
    public (string Path, long At, long Size)? TryLocate(string tarSha256)
    {
        if (!_byTar.TryGetValue(tarSha256, out var m)) return null;
        return BlobOf(m.Layer) is { } path ? (path, m.At, m.Size) : null;
    }

    private string? BlobOf(string layer)
    {
        if (_verified.TryGetValue(layer, out var known)) return known;
        string? path = null;
        if (Digest.TryParse(layer, out var digest) && digest.Algorithm == "sha256" && _locate(digest) is { } p)
        {
            try
            {
                using var f = File.OpenRead(p);
                if (Convert.ToHexStringLower(SHA256.HashData(f)) == digest.Encoded) path = p;
            }
            catch (IOException)
            {
            }
        }
        _verified[layer] = path;
        return path;
    }
}
