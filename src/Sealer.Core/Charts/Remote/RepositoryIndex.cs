using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using Sealer.Core.Yaml;

namespace Sealer.Core.Charts.Remote;

/// <summary>One chart version of a repository index: the fields a download needs (helm's repo.ChartVersion subset).</summary>
public sealed record IndexChartVersion(string Name, string Version, IReadOnlyList<string> Urls, string? Digest);

/// <summary>
/// A Helm repository <c>index.yaml</c>: only <c>entries.&lt;name&gt;[].{name, version, urls, digest}</c> are kept (of the
/// chart names asked for), every other field is skipped. <see cref="Read"/> tries the hand-written line scanner
/// (<see cref="IndexScanner"/>, the block style every index writer uses: a 20 MB index such as Bitnami's in well under a
/// second) and falls back to <see cref="Parse"/> — a stream of YAML parser events, never a document tree — for any other
/// shape. Versions are sorted newest first, as helm's <c>LoadIndexFile</c> does.
/// </summary>
public sealed class RepositoryIndex
{
    private RepositoryIndex(Dictionary<string, List<IndexChartVersion>> entries) => Entries = entries;

    public IReadOnlyDictionary<string, List<IndexChartVersion>> Entries { get; }

    /// <summary>Reads the index file at <paramref name="path"/>: the scanner when the file has the usual shape, else the full
    /// YAML reader (<see cref="Parse"/>, which also gives the coded error for an index that is not valid).</summary>
    public static RepositoryIndex Read(string path, string source, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        using (var reader = Open(path))
        {
            if (TryScan(reader, keep, cancellationToken) is { } scanned) return scanned;
        }
        using var full = Open(path);
        return Parse(full, source, keep, cancellationToken);
    }

    private static StreamReader Open(string path)
        => new(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });

    /// <summary>The index read by the line scanner alone, or null when the text is not in the shape it reads (then use
    /// <see cref="Parse"/>). Same result as <see cref="Parse"/> on every index it accepts.</summary>
    public static RepositoryIndex? TryScan(TextReader reader, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
        => IndexScanner.TryScan(reader, keep, cancellationToken) is { } entries ? Sorted(entries) : null;

    /// <summary>Parses an index with the full YAML reader. <paramref name="keep"/>: chart names to keep (null: all). <paramref name="source"/> names it in errors.</summary>
    public static RepositoryIndex Parse(TextReader reader, string source, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        var entries = new Dictionary<string, List<IndexChartVersion>>(StringComparer.Ordinal);
        var parser = new SafeParser(new Parser(new Scanner(reader, skipComments: true)));
        bool sawApiVersion = false, sawEntries = false;
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _)) throw Invalid(source, 1, "it is empty");
            parser.Consume<DocumentStart>();
            if (!parser.TryConsume<MappingStart>(out _)) throw Invalid(source, (int)parser.Current!.Start.Line, "it is not a mapping");
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = parser.Consume<Scalar>();
                switch (key.Value)
                {
                    case "apiVersion":
                        sawApiVersion = parser.TryConsume<Scalar>(out var api) && api.Value.Length > 0;
                        if (!sawApiVersion) parser.SkipThisAndNestedEvents();
                        break;
                    case "entries":
                        sawEntries = true;
                        ReadEntries(parser, entries, keep, cancellationToken);
                        break;
                    default:
                        parser.SkipThisAndNestedEvents();
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            throw new SealerException(ErrorCodes.ChartRepositoryIndexInvalid, $"{source} is not a valid Helm repository index: {ex.Message}", source, (int)ex.Start.Line, (int)ex.Start.Column, ex);
        }
        if (!sawApiVersion) throw Invalid(source, 1, "it has no apiVersion (helm: \"no API version specified\")");
        if (!sawEntries) entries.Clear();
        return Sorted(entries);
    }

    private static RepositoryIndex Sorted(Dictionary<string, List<IndexChartVersion>> entries)
    {
        var sorted = new Dictionary<string, List<IndexChartVersion>>(entries.Count, StringComparer.Ordinal);
        foreach (var (name, list) in entries) sorted[name] = ChartVersions.SortNewestFirst(list, v => v.Version);
        return new RepositoryIndex(sorted);
    }

    private static void ReadEntries(IParser parser, Dictionary<string, List<IndexChartVersion>> entries, Func<string, bool>? keep, CancellationToken ct)
    {
        if (parser.TryConsume<Scalar>(out var nullEntries))
        {
            if (nullEntries.Value is "" or "null" or "~") return;
            throw new YamlException(nullEntries.Start, nullEntries.End, "'entries' must be a mapping of chart names to version lists");
        }
        parser.Consume<MappingStart>();
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            ct.ThrowIfCancellationRequested();
            var name = parser.Consume<Scalar>().Value;
            if (keep is not null && !keep(name))
            {
                parser.SkipThisAndNestedEvents();
                continue;
            }
            if (!entries.TryGetValue(name, out var list)) entries[name] = list = [];
            if (parser.TryConsume<Scalar>(out _)) continue; // "name: null" or "name: []"-like scalar: no versions
            parser.Consume<SequenceStart>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                parser.Consume<MappingStart>();
                string? entryName = null, version = null, digest = null;
                var urls = new List<string>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var k = parser.Consume<Scalar>().Value;
                    switch (k)
                    {
                        case "name" when parser.Accept<Scalar>(out _): entryName = parser.Consume<Scalar>().Value; break;
                        case "version" when parser.Accept<Scalar>(out _): version = parser.Consume<Scalar>().Value; break;
                        case "digest" when parser.Accept<Scalar>(out _): digest = parser.Consume<Scalar>().Value; break;
                        case "urls" when parser.TryConsume<SequenceStart>(out _):
                            while (!parser.TryConsume<SequenceEnd>(out _))
                            {
                                if (parser.TryConsume<Scalar>(out var u)) urls.Add(u.Value);
                                else parser.SkipThisAndNestedEvents();
                            }
                            break;
                        default: parser.SkipThisAndNestedEvents(); break;
                    }
                }
                // helm skips entries without a version or URLs when choosing (and warns about invalid ones when loading).
                if (string.IsNullOrEmpty(version)) continue;
                list.Add(new IndexChartVersion(entryName ?? name, version, urls, string.IsNullOrEmpty(digest) ? null : digest));
            }
        }
    }

    private static SealerException Invalid(string source, int line, string why)
        => new(ErrorCodes.ChartRepositoryIndexInvalid, $"{source} is not a valid Helm repository index: {why}. Check the repository URL.", source, line);
}
