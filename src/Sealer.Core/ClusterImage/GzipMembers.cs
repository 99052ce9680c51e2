using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The rootfs layer's gzip written as gzip members back to back, one per group of tar entries (a chart, a top-level
/// folder: <see cref="GroupOf"/>), cut by the writer between groups (<see cref="Cut"/>). RFC 1952 makes a gzip file a series
/// of members, and the readers of layers read them as one stream (Go's compress/gzip in containerd, skopeo and umoci; GNU
/// gzip under <c>tar xzf</c> on the hosts; .NET's GZipStream; Python's gzip), as they read eStargz layers. A member whose
/// uncompressed bytes are those of a member of the previous build's rootfs layer (<see cref="PreviousMembers"/>) is copied
/// from there, once its gzip trailer (CRC-32, length) is seen to be those bytes' (<see cref="IsMemberOf"/>), instead of
/// compressed again: a rebuild after one chart changed compresses that chart's group, not the project (60 MiB of rootfs
/// files: 1088 → 441 ms of assembly, build/bench/RESULTS.md).
/// <para>The bytes are a function of the tar's bytes and the compressor only, never of what was reused: every member is the
/// gzip of its bytes in one call (a reused one was made so by the same compressor, <see cref="Compressor"/>, else it is
/// not reused); a member bigger than <see cref="MaxKeptMember"/> (a big file COPY'd into the rootfs) is compressed as it
/// streams, every time, and not offered for reuse.</para>
/// </summary>
internal sealed class GzipMembers : Stream
{
    /// <summary>Uncompressed bytes a member is held in memory for (to be looked up and compressed in one call); past this it streams.</summary>
    public const int MaxKeptMember = 16 << 20;

    /// <summary>What made the members: a member is reused only from a layer made by the same (else the bytes of a rebuild
    /// would depend on what it reused, not only on its input).</summary>
    public static readonly string Compressor = $"{RuntimeInformation.FrameworkDescription}; zlib {typeof(GZipStream).Assembly.GetName().Version}; Optimal; v1";

    private readonly Stream _output;
    private readonly PreviousMembers? _previous;
    private readonly long _base;
    private readonly MemoryStream _pending = new();
    private GZipStream? _streaming;
    private readonly List<GzipMemberEntry> _members = [];

    /// <param name="output">The layer file: its <c>Length</c> is the bytes written so far.</param>
    public GzipMembers(Stream output, PreviousMembers? previous)
    {
        _output = output;
        _previous = previous;
        _base = output.Length;
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
        if (_streaming is not null)
        {
            _streaming.Write(buffer);
            return;
        }
        _pending.Write(buffer);
        if (_pending.Length > MaxKeptMember)
        {
            // Too big to keep: this member is compressed as it streams (and not offered for reuse).
            _streaming = new GZipStream(_output, CompressionLevel.Optimal, leaveOpen: true);
            _streaming.Write(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
            _pending.SetLength(0);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Ends the member being written (nothing when it is empty); the next write starts another.</summary>
    public void Cut()
    {
        if (_streaming is not null)
        {
            _streaming.Dispose(); // its trailer
            _streaming = null;
            Compressed++;
            return;
        }
        if (_pending.Length == 0) return;
        var bytes = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
        string key = Convert.ToHexStringLower(SHA256.HashData(bytes));
        long at = _output.Length - _base;
        byte[]? member = _previous?.TryRead(key);
        if (member is not null && IsMemberOf(member, bytes))
        {
            Reused++;
        }
        else
        {
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(bytes);
            member = ms.ToArray();
            Compressed++;
        }
        _output.Write(member);
        _members.Add(new GzipMemberEntry { Tar = key, At = at, Size = member.Length });
        _pending.SetLength(0);
    }

    /// <summary>
    /// Whether <paramref name="member"/> is one gzip member of <paramref name="expected"/>: the gzip magic first, and the
    /// trailer's CRC-32 and length (RFC 1952) those of the bytes it stands for. A layer map that names the wrong member for
    /// some bytes is so not trusted (the old layer blob itself was checked against its digest), at the cost of a CRC-32 of
    /// the bytes (vectorised; inflating each copied member instead cost 165 ms for 60 MiB).
    /// </summary>
    private static bool IsMemberOf(byte[] member, ReadOnlySpan<byte> expected)
    {
        if (member.Length < 18 || member[0] != 0x1F || member[1] != 0x8B || member[2] != 8) return false;
        uint crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(member.AsSpan(member.Length - 8));
        uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(member.AsSpan(member.Length - 4));
        return length == (uint)expected.Length && crc == System.IO.Hashing.Crc32.HashToUInt32(expected);
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
            _streaming?.Dispose();
            _pending.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The members of the previous build's rootfs layers (from the layer map), by the SHA-256 of their uncompressed bytes. A
/// layer's blob is hashed once, before its first member is copied, and must match its digest (else none of its members is
/// used): a damaged blob in the layout is never copied into a new layer.
/// </summary>
internal sealed class PreviousMembers
{
    private readonly Dictionary<string, (string Layer, long At, int Size)> _byTar = new(StringComparer.Ordinal);
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
                if (m.Size is > 0 and <= int.MaxValue && m.At >= 0) _byTar.TryAdd(m.Tar, (layer, m.At, (int)m.Size));
            }
        }
    }

    public int Count => _byTar.Count;

    /// <summary>The compressed bytes of the member whose uncompressed bytes hash to <paramref name="tarSha256"/>, or null.</summary>
    public byte[]? TryRead(string tarSha256)
    {
        if (!_byTar.TryGetValue(tarSha256, out var m)) return null;
        string? path = BlobOf(m.Layer);
        if (path is null) return null;
        try
        {
            using var f = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            if (m.At + m.Size > RandomAccess.GetLength(f)) return null;
            var bytes = new byte[m.Size];
            return RandomAccess.Read(f, bytes, m.At) == m.Size ? bytes : null;
        }
        catch (IOException)
        {
            return null;
        }
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
