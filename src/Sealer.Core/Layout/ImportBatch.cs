using Microsoft.Win32.SafeHandles;
using Sealer.Core.IO;

namespace Sealer.Core.Layout;

/// <summary>
/// Verified blobs waiting, under their private temp names in <c>ingest/</c>, for one durability point shared by many
/// (<see cref="OciLayout.ImportRegion"/> of a load): <see cref="Commit"/> syncs every file's data (their write-back was started
/// when they were copied, and the first sync's journal commit carries the others' metadata, so the rest cost little), then
/// renames each to its final name, then syncs the blob directories once. A blob under its final name is therefore always
/// complete, verified and on the disk; a crash or a cancellation before the commit loses the batch (the temp files, which
/// <see cref="Dispose"/> deletes), never leaves a bad blob under a final name. One fsync and one rename per blob in a row
/// cost a journal commit each: 600 blobs of a large load spent seconds there.
/// </summary>
public sealed class ImportBatch : IDisposable
{
    /// <summary>Pending bytes at which <see cref="Add"/> commits by itself (bounds what a crash loses and the commit's wait).</summary>
    public const long MaxBytes = 512L << 20;

    /// <summary>Pending files at which <see cref="Add"/> commits by itself (bounds the open handles).</summary>
    public const int MaxFiles = 128;

    private readonly List<(string Temp, string Final, SafeFileHandle Handle)> _pending = [];
    private long _bytes;

    internal ImportBatch()
    {
    }

    /// <summary>Blobs placed under their final names by this batch's commits so far.</summary>
    public int Committed { get; private set; }

    /// <summary>Blobs waiting for the next commit.</summary>
    public int Pending => _pending.Count;

    /// <summary>Takes a verified temp file (and its open handle) that becomes <paramref name="final"/> at the next commit.</summary>
    internal void Add(string temp, string final, SafeFileHandle handle, long size)
    {
        _pending.Add((temp, final, handle));
        _bytes += size;
        if (_bytes >= MaxBytes || _pending.Count >= MaxFiles) Commit();
    }

    /// <summary>Syncs the pending files, renames them to their final names, syncs their directories.</summary>
    public void Commit()
    {
        if (_pending.Count == 0) return;
        foreach (var p in _pending) RandomAccess.FlushToDisk(p.Handle);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        while (_pending.Count > 0)
        {
            var p = _pending[^1];
            string dir = Path.GetDirectoryName(p.Final)!;
            if (dirs.Add(dir)) Directory.CreateDirectory(dir);
            AtomicFile.Replace(p.Temp, p.Final);
            p.Handle.Dispose();
            _pending.RemoveAt(_pending.Count - 1);
            Committed++;
        }
        _bytes = 0;
        foreach (var d in dirs) WriteBack.SyncDirectory(d);
    }

    /// <summary>Deletes what was not committed (a failed or cancelled load).</summary>
    public void Dispose()
    {
        foreach (var p in _pending)
        {
            p.Handle.Dispose();
            OciLayout.TryDelete(p.Temp);
        }
        _pending.Clear();
        _bytes = 0;
    }
}
