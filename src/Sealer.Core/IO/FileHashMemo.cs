using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Globalization;
using System.Text;

namespace Sealer.Core.IO;

/// <summary>
/// The SHA-256 of input files, remembered between runs by full path, size and modification time: a file whose size and
/// time are what they were when it was hashed is not read again (as MSBuild and make judge inputs; a file rewritten with
/// its size and old time put back is not seen, and deleting the memo — <c>dotnet build --no-incremental</c> cleans obj/
/// — reads everything). Git's racy-clean rule keeps it honest within the clock's granularity: a file is remembered only
/// when its time is more than <see cref="RacyWindow"/> older than the run, and only if its size and time did not move
/// while it was read; any later write gives it a newer time. The memo is a text file (a header line, then per file its
/// full path, size, time in UTC ticks and SHA-256 in hex, tab-separated); a damaged one is an empty one; the next one
/// (<see cref="TextIfChanged"/>) keeps only the files this run asked for. Thread-safe.
/// </summary>
public sealed class FileHashMemo
{
    /// <summary>Files changed this recently before the run are hashed every time (a write in the same clock tick as the
    /// last one could keep the time).</summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private const string Header = "sealer-file-hashes v1";
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private readonly Dictionary<string, FileHashEntry> _known;
    private readonly ConcurrentDictionary<string, FileHashEntry> _used = new(StringComparer.Ordinal);
    private readonly long _trustedBefore;
    private int _read, _added;

    private FileHashMemo(Dictionary<string, FileHashEntry> known)
    {
        _known = known;
        _trustedBefore = (DateTime.UtcNow - RacyWindow).Ticks;
    }

    /// <summary>Files read and hashed by this run (not answered from the memo).</summary>
    public int FilesRead => Volatile.Read(ref _read);

    /// <summary>The memo at <paramref name="path"/> (empty when it is missing, damaged or of another version).</summary>
    public static FileHashMemo Open(string path)
    {
        var known = new Dictionary<string, FileHashEntry>(StringComparer.Ordinal);
        try
        {
            if (File.Exists(path))
            {
                using var reader = new StreamReader(path, Encoding.UTF8);
                if (reader.ReadLine() == Header)
                {
                    // path \t size \t time (UTC ticks) \t sha256 (hex); a line that does not parse ends the memo's use
                    while (reader.ReadLine() is { } line)
                    {
                        var parts = line.Split('\t');
                        if (parts.Length != 4 || parts[3].Length != 64 || parts[3].AsSpan().ContainsAnyExcept(LowerHex) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
                            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long time))
                        {
                            known.Clear();
                            break;
                        }
                        known[parts[0]] = new FileHashEntry(size, time, parts[3]);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            known.Clear(); // a memo that cannot be read costs a read of every file, nothing else
        }
        return new FileHashMemo(known);
    }

    /// <summary>The file's length and SHA-256, or null when it does not exist. <paramref name="full"/> is a full path as
    /// <see cref="Path.GetFullPath(string)"/> gives it (the memo's key; the caller has it already, and normalizing it again
    /// per file took ~7 ms of a 300-chart key pass in a profile).</summary>
    public (long Length, byte[] Sha256)? Hash(string full)
    {
        var before = new FileInfo(full);
        if (!before.Exists) return null;
        long size = before.Length, time = before.LastWriteTimeUtc.Ticks;
        if (_known.TryGetValue(full, out var entry) && entry.Size == size && entry.Time == time)
        {
            _used[full] = entry;
            return (size, Convert.FromHexString(entry.Sha256));
        }
        byte[] data = File.ReadAllBytes(full);
        Interlocked.Increment(ref _read);
        byte[] sha = SHA256.HashData(data);
        var after = new FileInfo(full);
        if (time < _trustedBefore && data.Length == size && after.Exists && after.Length == size && after.LastWriteTimeUtc.Ticks == time
            && full.IndexOfAny(['\t', '\n', '\r']) < 0)
        {
            _used[full] = new FileHashEntry(size, time, Convert.ToHexStringLower(sha));
            Interlocked.Increment(ref _added);
        }
        return (data.Length, sha);
    }

    /// <summary>The memo's text for the next run — the files this run asked for and could trust — or null when that is
    /// what it holds already. The owner writes it (atomically, where it opened it).</summary>
    public string? TextIfChanged()
    {
        if (Volatile.Read(ref _added) == 0 && _used.Count == _known.Count) return null; // every known file asked for, none new
        var text = new StringBuilder(Header).Append('\n');
        foreach (var (file, e) in _used.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append(file).Append('\t').Append(e.Size.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(e.Time.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(e.Sha256).Append('\n');
        }
        return text.ToString();
    }
}

internal sealed record FileHashEntry(long Size, long Time, string Sha256);
