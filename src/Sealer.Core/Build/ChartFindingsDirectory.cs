using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Discovery;
using Sealer.Core.IO;
using Sealer.Core.Layout;

namespace Sealer.Core.Build;

/// <summary>
/// The SDK's chart findings cache: one small JSON file per chart under the project's obj/ (<c>obj/sealer/charts/&lt;key&gt;.json</c>),
/// named by <see cref="ChartFindingsKey"/>. A damaged or foreign entry is a miss (the chart is rendered again and the
/// entry rewritten), never an error; entries are written to a temp file and renamed, so a reader never sees half of one
/// (no fsync: a cache entry lost to a power cut is only a render more). After a successful discovery only the entries it
/// used are kept, so the directory holds one entry per chart of the project. The keys' file hashes are remembered in
/// <c>file-hashes.memo</c> (a text file) beside them (<see cref="FileHashMemo"/>), saved with <see cref="Retain"/>.
/// </summary>
public sealed class ChartFindingsDirectory(string directory) : IChartFindingsCache
{
    private const string Extension = ".json";

    /// <summary>The file of <see cref="FileHashes"/> in <see cref="Directory"/> (not an entry's name: never dropped by <see cref="Retain"/>).</summary>
    public const string FileHashesName = "file-hashes.memo";

    public string Directory { get; } = Path.GetFullPath(directory);

    private FileHashMemo? _fileHashes;
    private object? _fileHashesLock;

    /// <summary>The memo, read once: the keys' parallel pass asks for it from every thread at once (without the lock each
    /// read and parsed the whole memo, 300 KB at 300 charts, three times over on two cores).</summary>
    public FileHashMemo FileHashes => LazyInitializer.EnsureInitialized(ref _fileHashes, ref _fileHashesLock, () => FileHashMemo.Open(Path.Combine(Directory, FileHashesName)));

    public ChartFindings? TryGet(string key)
    {
        string path = PathOf(key);
        if (!File.Exists(path)) return null;
        try
        {
            var entry = JsonSerializer.Deserialize(File.ReadAllBytes(path), ChartFindingsJsonContext.Default.ChartFindingsEntry);
            if (entry is null || entry.Key != key || entry.Images is null || entry.InputFiles is null) return Forget(path);
            return new ChartFindings(
                entry.Images.Select(i => new ChartFinding(i.Value, i.Line, i.Strict, i.File, i.Detail)).ToList(),
                entry.InputFiles);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return Forget(path);
        }
    }

    public void Put(string key, ChartFindings findings)
    {
        var entry = new ChartFindingsEntry
        {
            Key = key,
            Images = findings.Images.Select(i => new ChartFindingEntry { Value = i.Value, Line = i.Line, Strict = i.Strict, File = i.File, Detail = i.Detail }).ToList(),
            InputFiles = findings.InputFiles.ToList(),
        };
        WriteQuietly(PathOf(key), JsonSerializer.SerializeToUtf8Bytes(entry, ChartFindingsJsonContext.Default.ChartFindingsEntry));
    }

    /// <summary>A temp file renamed over <paramref name="path"/> (no fsync: a cache file lost to a power cut costs a render
    /// or a read more); a cache that cannot be written costs the same next time, nothing else.</summary>
    private static void WriteQuietly(string path, byte[] bytes)
    {
        string temp = AtomicFile.TempPathFor(path);
        try
        {
            File.WriteAllBytes(temp, bytes);
            AtomicFile.Replace(temp, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            OciLayout.TryDelete(temp);
        }
    }

    public void Retain(IReadOnlySet<string> keys)
    {
        if (_fileHashes?.TextIfChanged() is { } memo) WriteQuietly(Path.Combine(Directory, FileHashesName), Encoding.UTF8.GetBytes(memo));
        if (!System.IO.Directory.Exists(Directory)) return;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            // Only what this class writes (an entry, or a temp file of one a killed build left) is ever deleted here.
            string name = Path.GetFileName(file);
            bool entry = name.Length == 64 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal) && IsKey(name[..64]);
            bool temp = name.Length > 66 && name[0] == '.' && IsKey(name[1..65]) && name.EndsWith(".tmp", StringComparison.Ordinal)
                || name.StartsWith("." + FileHashesName + ".", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal);
            if (entry && !keys.Contains(name[..64]) || temp) OciLayout.TryDelete(file);
        }
    }

    private static bool IsKey(string s) => s.Length == 64 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private string PathOf(string key) => Path.Combine(Directory, key + Extension);

    private static ChartFindings? Forget(string path)
    {
        OciLayout.TryDelete(path);
        return null;
    }
}

internal sealed record ChartFindingsEntry
{
    [JsonPropertyName("key")] public string Key { get; init; } = "";
    [JsonPropertyName("images")] public List<ChartFindingEntry>? Images { get; init; }
    [JsonPropertyName("inputFiles")] public List<string>? InputFiles { get; init; }
}

internal sealed record ChartFindingEntry
{
    [JsonPropertyName("value")] public string Value { get; init; } = "";
    [JsonPropertyName("line")] public int Line { get; init; }
    [JsonPropertyName("strict")] public bool Strict { get; init; }
    [JsonPropertyName("file")] public string File { get; init; } = "";
    [JsonPropertyName("detail")] public string Detail { get; init; } = "";
}

/// <summary>Source-generated JSON for <see cref="ChartFindingsDirectory"/>'s entries (AOT-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(ChartFindingsEntry))]
internal sealed partial class ChartFindingsJsonContext : JsonSerializerContext;
