using Sealer.Core.Text;
using Sealer.Core.References;
using Sealer.Core.Yaml;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Images;

namespace Sealer.Core.Charts.Remote;

/// <summary>A dependency of a local chart that charts/ does not hold: fetched from a repository (<see cref="Request"/>) or a
/// chart directory (<see cref="LocalPath"/>, for <c>file://</c>).</summary>
public sealed record MissingDependency(ChartDependency Dependency, ChartRequest? Request, string? LocalPath);

/// <summary>What a local chart needs beyond its vendored charts/ (empty when everything is vendored).</summary>
public sealed record DependencyPlan(string ChartDirectory, string ChartName, IReadOnlyList<MissingDependency> Missing, string? LockFile);

/// <summary>
/// Unvendored dependencies of a local chart, planned like <c>helm dependency build</c>: dependencies charts/ already holds
/// (by chart name, as helm's CheckDependencies) are kept — vendored charts win; for the others Chart.lock (requirements.lock
/// for apiVersion v1) gives the exact versions, after helm's digest check of the lock against Chart.yaml, else the
/// version constraints of Chart.yaml are resolved. Repositories: <c>https://</c>/<c>http://</c>, <c>oci://</c>,
/// <c>file://</c> (a chart directory relative to the chart), <c>@name</c>/<c>alias:name</c> from helm's repositories file.
/// Conditions and tags are not looked at here: every dependency is fetched, and rendering decides what is enabled.
/// </summary>
public static class ChartDependencies
{
    public static DependencyPlan Plan(string chartDirectory, HelmRepositoriesFile repositories, CancellationToken cancellationToken = default)
    {
        string dir = Path.GetFullPath(chartDirectory);
        // Most charts declare no dependencies: decide that from Chart.yaml alone, without loading the chart.
        string chartYamlFile = Path.Combine(dir, "Chart.yaml");
        var metadata = ChartLoader.ParseMetadata(File.ReadAllText(chartYamlFile), chartYamlFile);
        bool requirementsYaml = File.Exists(Path.Combine(dir, "requirements.yaml"));
        if (metadata.Dependencies.Count == 0 && !requirementsYaml) return new DependencyPlan(dir, metadata.Name, [], null);
        // Every declared dependency vendored as a chart directory under charts/ (Bitnami's common and subcharts): nothing to
        // plan, and no need to load the whole chart (rendering loads it once more).
        if (!requirementsYaml && ChartLoader.VendoredChartNames(dir) is { } quick && metadata.Dependencies.All(d => quick.Contains(d.Name)))
        {
            return new DependencyPlan(dir, metadata.Name, [], null);
        }
        var chart = ChartLoader.LoadDirectory(dir, cancellationToken);
        string chartYaml = Path.Combine(dir, chart.Metadata.ApiVersion == "v1" && File.Exists(Path.Combine(dir, "requirements.yaml")) ? "requirements.yaml" : "Chart.yaml");
        var vendored = chart.Dependencies.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var declared = chart.Metadata.Dependencies;
        var missing = declared.Where(d => !vendored.Contains(d.Name)).ToList();
        if (missing.Count == 0) return new DependencyPlan(dir, chart.Name, [], null);

        string[] chartYamlLines = File.ReadAllLines(chartYaml);
        int LineOf(ChartDependency d)
        {
            for (int i = 0; i < chartYamlLines.Length; i++)
            {
                var t = chartYamlLines[i].Trim().TrimStart('-').Trim();
                if (t.StartsWith("name:", StringComparison.Ordinal) && t[5..].Trim().Trim('"', '\'') == d.Name) return i + 1;
            }
            return 1;
        }

        // helm's resolveRepoNames: @name / alias:name become the repository's URL (before the lock's digest is checked).
        var req = declared.Select(d => d.Clone()).ToList();
        foreach (var d in req)
        {
            string? alias = d.Repository.StartsWith('@') ? d.Repository[1..] : d.Repository.StartsWith("alias:", StringComparison.Ordinal) ? d.Repository[6..] : null;
            if (alias is null) continue;
            var entry = repositories.FindByName(alias) ?? throw new SealerException(ErrorCodes.ChartReferenceInvalid,
                $"dependency '{d.Name}' of chart '{chart.Name}' names the repository '{d.Repository}', which {repositories.Path} does not list. Add it there ('helm repo add {alias} URL'), or write the repository's URL.",
                chartYaml, LineOf(d));
            d.Repository = entry.Url;
        }

        string lockName = chart.Metadata.ApiVersion == "v1" ? "requirements.lock" : "Chart.lock";
        string lockPath = Path.Combine(dir, lockName);
        Dictionary<string, (string Version, string Repository)>? lockedVersions = null;
        if (File.Exists(lockPath))
        {
            var (digest, digestLine, lockDeps) = ReadLock(lockPath);
            string sum = HashReq(req, lockDeps);
            if (sum != digest)
            {
                throw new SealerException(ErrorCodes.ChartDependencyLockOutOfSync,
                    $"the lock file ({lockName}) of chart '{chart.Name}' is out of sync with the dependencies of {Path.GetFileName(chartYaml)} (its digest is {digest}, the dependencies give {sum}). Run 'helm dependency update' in {dir}, or delete {lockName}.",
                    lockPath, digestLine);
            }
            lockedVersions = new(StringComparer.Ordinal);
            foreach (var l in lockDeps) lockedVersions.TryAdd(l.Name, (l.Version, l.Repository));
        }

        var result = new List<MissingDependency>();
        foreach (var d in req.Where(d => !vendored.Contains(d.Name)))
        {
            int line = LineOf(d);
            var origin = new ImageSource(chartYaml, line, $"dependency {d.Name} of chart {chart.Name}");
            string version = d.Version;
            string repository = d.Repository;
            if (lockedVersions is not null && lockedVersions.TryGetValue(d.Name, out var l))
            {
                version = l.Version;
                if (l.Repository.Length > 0 && !l.Repository.StartsWith('@') && !l.Repository.StartsWith("alias:", StringComparison.Ordinal)) repository = l.Repository;
            }
            if (repository.Length == 0)
            {
                // Nothing to fetch from: helm expects it under charts/ (rendering reports it as missing).
                continue;
            }
            if (repository.StartsWith("file://", StringComparison.Ordinal))
            {
                string p = repository["file://".Length..];
                string local = Path.IsPathRooted(p) ? Path.GetFullPath(p) : Path.GetFullPath(Path.Combine(dir, p));
                if (!Directory.Exists(local) && !File.Exists(local))
                {
                    throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"dependency '{d.Name}' of chart '{chart.Name}': directory {local} not found ({repository}).", chartYaml, line);
                }
                result.Add(new MissingDependency(d, null, local));
                continue;
            }
            var entry = repositories.FindByUrl(repository);
            ChartRequest request;
            if (repository.StartsWith("oci://", StringComparison.Ordinal))
            {
                var image = OciChartSource.Parse(repository.TrimEnd('/') + "/" + d.Name, chartYaml, line);
                request = new ChartRequest(d.Name, "oci://" + image.Name, version, origin);
            }
            else
            {
                var location = HttpRepositoryLocation.Parse(repository, entry?.CaFile, entry?.InsecureSkipTlsVerify ?? false, chartYaml, line);
                request = new ChartRequest(d.Name, location.Display, version, origin, location.CaFile, location.InsecureSkipTlsVerify);
            }
            result.Add(new MissingDependency(d, request, null));
        }
        return new DependencyPlan(dir, chart.Name, result, File.Exists(lockPath) ? lockPath : null);
    }

    /// <summary>Reads Chart.lock: its digest (and the line of it) and the locked dependencies.</summary>
    public static (string Digest, int DigestLine, List<ChartDependency> Dependencies) ReadLock(string path)
    {
        var docs = YamlReader.ParseStream(File.ReadAllText(path), path, ErrorCodes.ChartDependencyLockOutOfSync);
        if (docs.FirstOrDefault()?.Root is not YMap root)
        {
            throw new SealerException(ErrorCodes.ChartDependencyLockOutOfSync, $"{Path.GetFileName(path)} is not a mapping with 'digest' and 'dependencies'. Run 'helm dependency update'.", path, 1);
        }
        var digestNode = root.Get("digest") as YScalar;
        var deps = new List<ChartDependency>();
        if (root.Get("dependencies") is YSeq seq)
        {
            foreach (var item in seq.Items.OfType<YMap>())
            {
                string S(string k) => item.Get(k) is YScalar s && YamlReader.Resolve(s) is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "";
                deps.Add(new ChartDependency { Name = S("name"), Version = S("version"), Repository = S("repository") });
            }
        }
        return (digestNode?.Value ?? "", digestNode?.Line ?? 1, deps);
    }

    /// <summary>helm's resolver.HashReq: <c>"sha256:" + hex(sha256(json.Marshal([2][]*chart.Dependency{req, lock})))</c>, with Go's JSON encoding.</summary>
    public static string HashReq(IReadOnlyList<ChartDependency> req, IReadOnlyList<ChartDependency> lockDeps)
    {
        var sb = new StringBuilder("[");
        WriteList(sb, req);
        sb.Append(',');
        WriteList(sb, lockDeps);
        sb.Append(']');
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static void WriteList(StringBuilder sb, IReadOnlyList<ChartDependency> deps)
    {
        if (deps.Count == 0) { sb.Append("null"); return; }
        sb.Append('[');
        for (int i = 0; i < deps.Count; i++)
        {
            if (i > 0) sb.Append(',');
            var d = deps[i];
            // Field order and omitempty of helm's chart.Dependency.
            sb.Append("{\"name\":"); GoString(sb, d.Name);
            if (d.Version.Length > 0) { sb.Append(",\"version\":"); GoString(sb, d.Version); }
            sb.Append(",\"repository\":"); GoString(sb, d.Repository);
            if (d.Condition.Length > 0) { sb.Append(",\"condition\":"); GoString(sb, d.Condition); }
            if (d.Tags.Count > 0)
            {
                sb.Append(",\"tags\":[");
                for (int t = 0; t < d.Tags.Count; t++) { if (t > 0) sb.Append(','); GoString(sb, d.Tags[t]); }
                sb.Append(']');
            }
            if (d.Enabled) sb.Append(",\"enabled\":true");
            if (d.ImportValues.Count > 0) { sb.Append(",\"import-values\":"); GoValue(sb, d.ImportValues); }
            if (d.Alias.Length > 0) { sb.Append(",\"alias\":"); GoString(sb, d.Alias); }
            sb.Append('}');
        }
        sb.Append(']');
    }

    private static void GoValue(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case string s: GoString(sb, s); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(Math.Floor(d) == d && Math.Abs(d) < 1e21 ? ((decimal)d).ToString(CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture)); break;
            case IDictionary<string, object?> map:
                sb.Append('{');
                bool first = true;
                foreach (var k in map.Keys.OrderBy(k => k, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    GoString(sb, k);
                    sb.Append(':');
                    GoValue(sb, map[k]);
                }
                sb.Append('}');
                break;
            case System.Collections.IEnumerable list:
                sb.Append('[');
                bool f = true;
                foreach (var item in list) { if (!f) sb.Append(','); f = false; GoValue(sb, item); }
                sb.Append(']');
                break;
            default: GoString(sb, Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""); break;
        }
    }

    /// <summary>A string as Go's encoding/json writes it (HTML-safe).</summary>
    private static void GoString(StringBuilder sb, string s) => StringEscapes.AppendJson(sb, s, escapeHtml: true);
}
