using System.Text;
using Sealer.Core.Charts.Remote;

namespace Sealer.Charts.Tests.Remote;

/// <summary>
/// The index.yaml line scanner against the full YAML reader (YamlDotNet events): on every index it accepts the two agree
/// (names, versions in order, URLs, digests, for all charts and for one kept chart); shapes it does not read make it give up
/// (null), and <see cref="RepositoryIndex.Read"/> then still answers what the full reader answers.
/// </summary>
[Collection(ChartRepoCollection.Name)]
public sealed class IndexScannerTests(ChartRepoServer repo)
{
    private static string Dump(RepositoryIndex index)
    {
        var sb = new StringBuilder();
        foreach (var (name, list) in index.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            sb.Append(name).Append('\n');
            foreach (var v in list) sb.Append("  ").Append(v.Name).Append(" | ").Append(v.Version).Append(" | ").Append(v.Digest ?? "-").Append(" | ").AppendJoin(" , ", v.Urls).Append('\n');
        }
        return sb.ToString();
    }

    private static void AssertScansLikeTheFullReader(string yaml, string? keepName = null)
    {
        Func<string, bool>? keep = keepName is null ? null : n => n == keepName;
        var full = RepositoryIndex.Parse(new StringReader(yaml), "index.yaml", keep);
        var scanned = RepositoryIndex.TryScan(new StringReader(yaml), keep);
        Assert.True(scanned is not null, "the scanner gave up on:\n" + yaml[..Math.Min(yaml.Length, 3000)]);
        Assert.Equal(Dump(full), Dump(scanned));
        if (keepName is null) Assert.NotEmpty(full.Entries.SelectMany(e => e.Value)); // the comparison compared something
    }

    private static void AssertFallsBackToTheFullReader(string yaml)
    {
        Assert.Null(RepositoryIndex.TryScan(new StringReader(yaml)));
        string file = Path.Combine(Directory.CreateTempSubdirectory("sealer-index-").FullName, "index.yaml");
        File.WriteAllText(file, yaml);
        Assert.Equal(Dump(RepositoryIndex.Parse(new StringReader(yaml), "index.yaml")), Dump(RepositoryIndex.Read(file, "index.yaml")));
        Directory.Delete(Path.GetDirectoryName(file)!, true);
    }

    [Fact]
    public void A_real_published_index_with_folded_descriptions_scans_like_the_full_reader()
    {
        string yaml = File.ReadAllText(Repo.Path("tests", "Sealer.Charts.Tests", "Remote", "index-corpus", "1password-connect.yaml"));
        AssertScansLikeTheFullReader(yaml);
        AssertScansLikeTheFullReader(yaml, "connect");
    }

    [Fact]
    public void Real_helm_repo_index_output_of_real_charts_scans_like_the_full_reader()
    {
        // Real Chart.yaml files (artifacthub block-scalar annotations, long descriptions, maintainers, dependencies),
        // indexed by the real helm repo index, next to the fixture's own charts.
        string dir = Directory.CreateTempSubdirectory("sealer-index-real-").FullName;
        foreach (var f in Directory.GetFiles(Path.Combine(repo.Www, "open"), "*.tgz")) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        foreach (var chart in new[] { "argo-cd", "traefik", "ingress-nginx", "metrics-server", "argo-workflows", "bitnami-redis" })
        {
            ChartRepoServer.Run(repo.Helm, "package", Path.Combine(HelmOracle.CorpusDir, chart), "-d", dir);
        }
        ChartRepoServer.Run(repo.Helm, "repo", "index", dir, "--url", "https://charts.example/stable");
        string yaml = File.ReadAllText(Path.Combine(dir, "index.yaml"));
        Assert.Contains("artifacthub.io/changes: |", yaml);
        AssertScansLikeTheFullReader(yaml);
        AssertScansLikeTheFullReader(yaml, "argo-cd");
        AssertScansLikeTheFullReader(File.ReadAllText(Path.Combine(repo.Www, "open", "index.yaml")), "demo");
        Directory.Delete(dir, true);
    }

    /// <summary>Indexes in every style a writer may use around the fields that are read, built from a seed.</summary>
    private static string Generated(int seed)
    {
        var rnd = new Random(seed);
        string Pick(params string[] xs) => xs[rnd.Next(xs.Length)];
        string Quote(string s) => rnd.Next(3) switch { 0 => s, 1 => "'" + s.Replace("'", "''") + "'", _ => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"" };
        int n = 2 * rnd.Next(1, 3);               // indent of chart names
        int d = n + (rnd.Next(2) == 0 ? 0 : 2);   // dash of versions: at the names' indent (helm) or deeper
        string c = new(' ', d + 2);               // the version mapping's keys
        var sb = new StringBuilder();
        if (rnd.Next(4) == 0) sb.Append("---\n# a comment\n");
        sb.Append(Pick("apiVersion: v1\n", "apiVersion: \"v1\"\n", "apiVersion: 'v1' # comment\n"));
        if (rnd.Next(2) == 0) sb.Append("generated: \"2024-01-01T00:00:00Z\"\nserverInfo: {}\n");
        sb.Append("entries:\n");
        int charts = rnd.Next(2, 6);
        for (int ci = 0; ci < charts; ci++)
        {
            string name = $"chart-{seed}-{ci}";
            sb.Append(' ', n).Append(rnd.Next(8) == 0 ? $"'{name}'" : name).Append(":\n");
            if (ci > 0 && rnd.Next(10) == 0) { sb.Length -= 2; sb.Append(": []\n"); continue; }
            int versions = rnd.Next(1, 8);
            for (int v = 0; v < versions; v++)
            {
                string ver = Pick($"{v}.{rnd.Next(5)}.{rnd.Next(3)}", $"{v}.0.0-rc.{rnd.Next(3)}", $"v{v}.1.0", $"{v}.2.{rnd.Next(9)}+build.{rnd.Next(9)}");
                var fields = new List<string>
                {
                    "apiVersion: v2",
                    $"name: {Quote(name)}",
                    $"version: {Quote(ver)}",
                    $"appVersion: {Quote(ver)}",
                    $"created: \"2024-0{1 + v % 9}-10T10:00:00.{v:000000}Z\"",
                    $"digest: {Quote(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name + ver))))}",
                    Pick("description: A short one", "description: A long description that helm folds onto the next line because it is longer\n" + c + "  than eighty columns - with 'quotes', \"double\" ones and a # sign",
                        "description: \"a double-quoted description\\n with an escape and a line break in it that go-yaml\n" + c + "  \\ continues on the next line\"",
                        "description: 'it''s single-quoted and\n" + c + "  continues'", "description: |-\n" + c + "  a block scalar\n" + c + "  - name: not a list item\n" + c + "    version: 9.9.9\n\n" + c + "  'unbalanced quote"),
                    Pick("keywords:\n" + c + "- one\n" + c + "- \"two: three\"", "keywords: [one, \"two, three\", 'four]']", "keywords:\n" + c + "  - nested deeper"),
                    Pick("annotations:\n" + c + "  artifacthub.io/changes: |\n" + c + "    - kind: fixed\n" + c + "      description: \"unbalanced\n" + c + "  category: Database",
                        "annotations:\n" + c + "  images: >\n" + c + "    folded\n" + c + "    version: 0.0.0-not-this", "annotations: {a: b, c: \"d}\"}"),
                    Pick("dependencies:\n" + c + "- name: common\n" + c + "  repository: oci://registry-1.docker.io/bitnamicharts\n" + c + "  version: 2.x.x\n" + c + "  tags:\n" + c + "  - bitnami-common",
                        "maintainers:\n" + c + "- email: a@b.c\n" + c + "  name: Someone # comment", "home: https://example.com/#anchor", $"icon: &icon{v} https://example.com/i.png"),
                };
                int urls = rnd.Next(0, 3);
                string u(int i) => Quote(rnd.Next(2) == 0 ? $"{name}-{ver}-{i}.tgz" : $"https://charts.example/{name}-{ver}-{i}.tgz");
                string urlIndent = c + (rnd.Next(2) == 0 ? "" : "  ");
                fields.Add(urls == 0 ? "urls: []" : "urls:\n" + string.Join("\n", Enumerable.Range(0, urls).Select(i => urlIndent + "- " + u(i)).ToArray()));
                if (v > 0 && rnd.Next(12) == 0) fields.RemoveAll(f => f.StartsWith("version:", StringComparison.Ordinal)); // skipped by both
                var ordered = fields.OrderBy(_ => rnd.Next()).ToList();
                for (int i = 0; i < ordered.Count; i++)
                {
                    sb.Append(i == 0 ? new string(' ', d) + "- " : c).Append(ordered[i]).Append('\n');
                    if (rnd.Next(15) == 0) sb.Append('\n');
                    if (rnd.Next(15) == 0) sb.Append(new string(' ', rnd.Next(8))).Append("# a comment line\n");
                }
            }
        }
        sb.Append(Pick("", "generated: \"2024-01-01T00:00:00Z\"\n", "serverInfo:\n  contextPath: /api\n"));
        return sb.ToString();
    }

    [Fact]
    public void Generated_indexes_in_every_writer_style_scan_like_the_full_reader()
    {
        for (int seed = 1; seed <= 300; seed++)
        {
            string yaml = Generated(seed);
            try
            {
                AssertScansLikeTheFullReader(yaml);
                AssertScansLikeTheFullReader(yaml, $"chart-{seed}-1");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: {ex.Message}\n--- index ---\n{yaml}");
            }
        }
    }

    [Theory]
    [InlineData("urls in flow style", "apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    urls: [a-1.0.0.tgz, 'b.tgz']\n")]
    [InlineData("a merge key in an entry", "apiVersion: v1\nbase: &b\n  urls:\n  - a.tgz\nentries:\n  a:\n  - <<: *b\n    version: 1.0.0\n")]
    [InlineData("an anchored version and its alias", "apiVersion: v1\nentries:\n  a:\n  - version: &v 1.0.0\n    urls:\n    - a.tgz\n  b:\n  - version: *v\n    urls:\n    - b.tgz\n")]
    [InlineData("a version folded over two lines", "apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n      -rc.1\n    urls:\n    - a.tgz\n")]
    [InlineData("a multi-line quoted url", "apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    urls:\n    - \"https://example.com/\n      a.tgz\"\n")]
    [InlineData("a JSON index", "{\"apiVersion\": \"v1\", \"entries\": {\"a\": [{\"version\": \"1.0.0\", \"urls\": [\"a.tgz\"]}]}}\n")]
    [InlineData("entries in flow style", "apiVersion: v1\nentries: {a: [{version: 1.0.0, urls: [a.tgz]}]}\n")]
    [InlineData("a tagged version", "apiVersion: v1\nentries:\n  a:\n  - version: !!str 1.0.0\n    urls:\n    - a.tgz\n")]
    [InlineData("a YAML directive", "%YAML 1.1\n---\napiVersion: v1\nentries:\n  a:\n  - version: 1.0.0\n    urls:\n    - a.tgz\n")]
    public void Shapes_the_scanner_does_not_read_fall_back_to_the_full_reader(string what, string yaml)
    {
        _ = what;
        AssertFallsBackToTheFullReader(yaml);
    }

    [Fact]
    public void An_index_without_apiVersion_still_gets_the_full_readers_coded_error()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("sealer-index-").FullName, "index.yaml");
        File.WriteAllText(file, "entries:\n  a:\n  - version: 1.0.0\n    urls:\n    - a.tgz\n");
        Assert.Null(RepositoryIndex.TryScan(new StringReader(File.ReadAllText(file))));
        var ex = Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => RepositoryIndex.Read(file, "repo/index.yaml"));
        Assert.Equal(Sealer.Core.Diagnostics.ErrorCodes.ChartRepositoryIndexInvalid, ex.Code);
        Assert.Contains("no apiVersion", ex.Message);
        Directory.Delete(Path.GetDirectoryName(file)!, true);
    }
}
