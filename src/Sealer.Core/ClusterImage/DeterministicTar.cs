using System.Formats.Tar;
using System.Security.Cryptography;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// Writes tar streams that depend only on their content: entries in the order given (callers sort), one fixed mtime
/// (0 or SOURCE_DATE_EPOCH) for atime/ctime too, uid/gid 0, no user or group names, modes 0644/0755.
/// GNU format so long rootfs paths work; umoci, containerd and skopeo read it.
/// </summary>
internal sealed class DeterministicTar : IDisposable
{
    private readonly TarWriter _writer;
    private readonly DateTimeOffset _time;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);

    public DeterministicTar(Stream output, long sourceDateEpoch)
    {
        _writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        _time = DateTimeOffset.FromUnixTimeSeconds(sourceDateEpoch);
    }

    private const UnixFileMode DirMode = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode FileMode = (UnixFileMode)0b110_100_100; // 0644

    /// <summary>Adds every missing parent directory of <paramref name="path"/> (parents first).</summary>
    public void AddParents(string path)
    {
        int slash = path.LastIndexOf('/');
        if (slash <= 0) return;
        string parent = path[..slash];
        if (_directories.Contains(parent)) return;
        AddParents(parent);
        AddDirectory(parent);
    }

    public void AddDirectory(string path)
    {
        if (!_directories.Add(path)) return;
        var entry = NewEntry(TarEntryType.Directory, path + "/", DirMode);
        _writer.WriteEntry(entry);
    }

    public void AddFile(string path, Stream content, bool executable)
    {
        var entry = NewEntry(TarEntryType.RegularFile, path, executable ? DirMode : FileMode);
        entry.DataStream = content;
        _writer.WriteEntry(entry);
    }

    private GnuTarEntry NewEntry(TarEntryType type, string name, UnixFileMode mode) => new(type, name)
    {
        ModificationTime = _time,
        AccessTime = _time,
        ChangeTime = _time,
        Uid = 0,
        Gid = 0,
        UserName = "",
        GroupName = "",
        Mode = mode,
    };

    public void Dispose() => _writer.Dispose();
}

/// <summary>A write-only pass-through that hashes (sha256) and counts what goes through it.</summary>
internal sealed class HashingWriteStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public HashingWriteStream(Stream inner, bool leaveOpen = false)
    {
        _inner = inner;
        _leaveOpen = leaveOpen;
    }

    public long BytesWritten { get; private set; }

    public Digest GetDigest() => Digest.FromHash("sha256", _hash.GetCurrentHash());

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        BytesWritten += buffer.Length;
        _inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => _inner.Flush();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen) _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
