using Sealer.Core.References;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Images;
using Sealer.Core.Layout;

namespace Sealer.Core.Charts.Remote;

/// <summary>
/// One pinned chart in charts.lock.json. <see cref="Repository"/> is the HTTP repository URL or the <c>oci://</c> repository
/// (<c>oci://host/ns/chart</c>); <see cref="Requested"/> the version (constraint) asked for, empty for "newest";
/// <see cref="Version"/> what it resolved to; <see cref="Url"/> where the archive was downloaded (HTTP) or the OCI
/// reference with its tag; <see cref="Digest"/> the sha256 of the packaged chart (.tgz) — for OCI the chart layer's digest.
/// </summary>
public sealed record LockedChart(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("repository")] string Repository,
    [property: JsonPropertyName("requested")] string Requested,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("sources")] IReadOnlyList<ImageSource> Sources)
{
    /// <summary>The key a request is looked up by: repository, name and the version asked for.</summary>
    public string Key => ChartsLock.KeyOf(Repository, Name, Requested);

    /// <summary>Where this entry was read from (charts.lock.json and the line its object starts on); null for a new entry.</summary>
    [JsonIgnore]
    public ImageSource? ReadFrom { get; init; }
}

/// <summary>
/// <c>charts.lock.json</c> (next to images.lock.json; commit it): every chart resolved from a repository or registry
/// — HelmChart items and unvendored dependencies of local charts — with the version and digest it resolved to. A locked
/// chart is not resolved again (no network at all when its archive is in the cache) unless a refresh is asked for; its
/// archive is always verified against the locked digest. Written atomically as stable, sorted JSON.
/// </summary>
public sealed class ChartsLock
{
    public const int CurrentVersion = 1;

    public ChartsLock(IEnumerable<LockedChart> charts)
    {
        Charts = charts
            .GroupBy(c => c.Key, StringComparer.Ordinal)
            .Select(g => g.First() with
            {
                Sources = g.SelectMany(c => c.Sources).Distinct().OrderBy(s => s.File, StringComparer.Ordinal).ThenBy(s => s.Line).ThenBy(s => s.Detail, StringComparer.Ordinal).ToList(),
            })
            .OrderBy(c => c.Repository, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Requested, StringComparer.Ordinal)
            .ToList();
    }

    public static ChartsLock Empty { get; } = new([]);

    public IReadOnlyList<LockedChart> Charts { get; }

    public static string KeyOf(string repository, string name, string requested) => $"{repository}\n{name}\n{requested}";

    public LockedChart? Find(string repository, string name, string requested)
    {
        string key = KeyOf(repository, name, requested);
        return Charts.FirstOrDefault(c => c.Key == key);
    }

    /// <summary>Reads a lock; a missing file is an empty lock.</summary>
    public static ChartsLock Read(string path)
    {
        if (!File.Exists(path)) return Empty;
        ChartsLockFile? file;
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            file = JsonSerializer.Deserialize(bytes, ChartsLockJsonContext.Default.ChartsLockFile);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.ChartsLockInvalid, $"'{path}' is not a valid charts.lock.json ({ex.Message}). Fix it, or delete it to resolve every chart again.", path, (int)(ex.LineNumber ?? -1) + 1, inner: ex);
        }
        if (file is null || file.Version != CurrentVersion || file.Charts is null)
        {
            throw new SealerException(ErrorCodes.ChartsLockInvalid, $"'{path}' has version {file?.Version}; this Sealer reads version {CurrentVersion}. Delete it to resolve every chart again.", path, 1);
        }
        foreach (var c in file.Charts)
        {
            if (string.IsNullOrEmpty(c.Name) || string.IsNullOrEmpty(c.Repository) || string.IsNullOrEmpty(c.Version) || !Oci.Digest.TryParse(c.Digest, out _))
            {
                throw new SealerException(ErrorCodes.ChartsLockInvalid, $"'{path}': the entry '{c.Name}' lacks a name, repository, version or a valid digest. Delete it to resolve it again.", path, 1);
            }
        }
        var lines = EntryLines(bytes);
        return new ChartsLock(file.Charts.Select((c, i) => c with
        {
            Sources = c.Sources ?? [], Requested = c.Requested ?? "", Url = c.Url ?? "",
            ReadFrom = new ImageSource(path, i < lines.Count ? lines[i] : 1, "charts.lock.json"),
        }));
    }

    /// <summary>The 1-based line each object of the top-level "charts" array starts on.</summary>
    private static List<int> EntryLines(byte[] bytes)
    {
        var lines = new List<int>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        bool inCharts = false;
        int line = 1;
        long counted = 0;
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName) inCharts = reader.ValueTextEquals("charts"u8);
            else if (inCharts && reader.CurrentDepth == 2 && reader.TokenType == JsonTokenType.StartObject)
            {
                line += bytes.AsSpan((int)counted, (int)(reader.TokenStartIndex - counted)).Count((byte)'\n');
                counted = reader.TokenStartIndex;
                lines.Add(line);
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 2) reader.Skip();
        }
        return lines;
    }

    public string ToJson()
        => System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new ChartsLockFile { Version = CurrentVersion, Charts = Charts.ToList() }, ChartsLockJsonContext.Default.ChartsLockFile)) + "\n";

    /// <summary>Writes the lock atomically, only when its content changed. Returns true when it wrote.</summary>
    public bool WriteIfChanged(string path)
    {
        string json = ToJson();
        if (File.Exists(path) && File.ReadAllText(path) == json) return false;
        AtomicFile.WriteAllText(path, json);
        return true;
    }
}

internal sealed record ChartsLockFile
{
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("charts")] public List<LockedChart>? Charts { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n", AllowTrailingCommas = true, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ChartsLockFile))]
internal sealed partial class ChartsLockJsonContext : JsonSerializerContext
{
}
