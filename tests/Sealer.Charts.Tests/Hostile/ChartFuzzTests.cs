using System.Formats.Tar;
using System.IO.Compression;
using Sealer.Core.Charts;
using Sealer.Core.Discovery;

namespace Sealer.Charts.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): real charts of the corpus with one file mutated (Chart.yaml, values, a template,
/// a helper), or the packaged archive's bytes mutated, go through what discovery does with a chart: load the .tgz,
/// render it, split and parse every manifest, walk it for images. Each input is rendered or refused with a coded error,
/// within a time limit, never a crash.
/// </summary>
public class ChartFuzzTests
{
    private static readonly string[] Charts = ["jiralert", "metrics-server", "kube-state-metrics", "bitnami-nginx"];

    [Fact]
    public void Mutated_charts_render_or_are_refused_with_a_code_never_a_crash_or_a_hang()
    {
        var charts = Charts.Select(Read).ToList();
        var report = Fuzz.Run("chart", Inputs(charts, 300 * Fuzz.Scale), (tgz, ct) =>
        {
            var chart = ChartLoader.LoadArchive(new MemoryStream(tgz), "fuzz.tgz", ct);
            var rendered = ChartRenderer.Render(chart, [], null, null, null, null, [], ct);
            foreach (var t in rendered.Templates)
            {
                foreach (var doc in ManifestDocuments.SplitLikeHelm(t.Text)) ImageWalker.Walk(ManifestDocuments.ParseDocument(doc, t.SourceFile));
            }
        }, TimeSpan.FromSeconds(5));
        report.AssertClean(300);
    }

    private sealed record ChartFiles(string Name, List<(string Path, byte[] Data)> Files);

    private static ChartFiles Read(string name)
    {
        string dir = Repo.Path("tests", "Sealer.Charts.Tests", "corpus", name);
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(r => !r.EndsWith(".md", StringComparison.Ordinal) && !r.EndsWith("LICENSE", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(r => (r, File.ReadAllBytes(Path.Combine(dir, r)))).ToList();
        return new ChartFiles(name, files);
    }

    /// <summary>The unmutated charts first, then mostly one mutated file per archive, one in six a mutated archive.</summary>
    private static IEnumerable<byte[]> Inputs(List<ChartFiles> charts, int count)
    {
        var random = new Random(Fuzz.Seed);
        foreach (var c in charts) yield return Pack(c, -1, null);
        for (int i = 0; i < count; i++)
        {
            var c = charts[random.Next(charts.Count)];
            if (random.Next(6) == 0)
            {
                yield return Fuzz.MutateOnce(Pack(c, -1, null), random);
                continue;
            }
            // the files that steer rendering, weighted toward them over the rest
            var steering = c.Files.Select((f, idx) => (f.Path, idx)).Where(f => f.Path.EndsWith("Chart.yaml", StringComparison.Ordinal)
                || f.Path.EndsWith("values.yaml", StringComparison.Ordinal) || f.Path.Contains("templates/", StringComparison.Ordinal)).ToList();
            int which = random.Next(3) == 0 ? random.Next(c.Files.Count) : steering[random.Next(steering.Count)].idx;
            yield return Pack(c, which, Fuzz.MutateOnce(c.Files[which].Data, random));
        }
    }

    private static byte[] Pack(ChartFiles c, int replace, byte[]? data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            for (int i = 0; i < c.Files.Count; i++)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, c.Name + "/" + c.Files[i].Path) { DataStream = new MemoryStream(i == replace ? data! : c.Files[i].Data) };
                tar.WriteEntry(entry);
            }
        }
        return ms.ToArray();
    }
}
