using Sealer.Core.Yaml;
using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kustomize;

/// <summary>configMapGenerator, secretGenerator (names get kustomize's content hash at the end of the build) and helmCharts
/// (rendered with our Helm engine from a local chart home).</summary>
internal static class Generators
{
    public static void Run(KustomizationFile k, string dir, List<KResource> acc, Kustomizer.BuildContext build)
    {
        var options = k["generatorOptions"] as YMap;
        foreach (var g in k.Maps("configMapGenerator")) Generate(k, dir, acc, build, g, "ConfigMap", options);
        foreach (var g in k.Maps("secretGenerator")) Generate(k, dir, acc, build, g, "Secret", options);
        HelmCharts(k, dir, acc, build);
        if (k["helmChartInflationGenerator"] is YSeq { Items.Count: > 0 } old)
        {
            throw new SealerException(ErrorCodes.KustomizeUnsupported, "helmChartInflationGenerator is kustomize's removed form; use helmCharts: (name, releaseName, valuesFile, valuesInline) with a local chart home.", k.File, old.Line);
        }
    }

    private static void Generate(KustomizationFile k, string dir, List<KResource> acc, Kustomizer.BuildContext build, YMap g, string kind, YMap? globalOptions)
    {
        string name = KYaml.AsString(g.Get("name")) ?? throw k.Invalid(g, $"{(kind == "ConfigMap" ? "configMapGenerator" : "secretGenerator")}: an entry needs a name.");
        string? ns = KYaml.AsString(g.Get("namespace"));
        string behavior = KYaml.AsString(g.Get("behavior")) ?? "create";
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal);

        if (g.Get("literals") is YSeq literals)
        {
            foreach (var item in literals.Items)
            {
                string lit = KYaml.AsString(item) ?? "";
                int eq = lit.IndexOf('=');
                if (eq <= 0) throw k.Invalid(item, $"literal '{lit}' must be KEY=VALUE.");
                string v = lit[(eq + 1)..];
                if (v.Length >= 2 && (v[0] == '"' && v[^1] == '"' || v[0] == '\'' && v[^1] == '\'')) v = v[1..^1];
                data[lit[..eq]] = v;
            }
        }
        if (g.Get("files") is YSeq files)
        {
            foreach (var item in files.Items)
            {
                string spec = KYaml.AsString(item) ?? "";
                int eq = spec.IndexOf('=');
                string key = eq > 0 ? spec[..eq] : Path.GetFileName(spec);
                string path = eq > 0 ? spec[(eq + 1)..] : spec;
                data[key] = ReadGeneratorFile(k, dir, build, path, item);
            }
        }
        var envFiles = new List<YNode>();
        if (g.Get("envs") is YSeq envs) envFiles.AddRange(envs.Items);
        if (g.Get("env") is YScalar env && !YamlReader.IsNull(env)) envFiles.Add(env);
        foreach (var item in envFiles)
        {
            string text = ReadGeneratorFile(k, dir, build, KYaml.AsString(item) ?? "", item);
            foreach (var raw in text.Split('\n'))
            {
                string line = raw.TrimEnd('\r').TrimStart();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                int eq = line.IndexOf('=');
                if (eq < 0) continue; // KEY alone takes the value from kustomize's environment: nothing offline.
                data[line[..eq]] = line[(eq + 1)..];
            }
        }

        var labels = new List<KeyValuePair<string, string>>();
        var annotations = new List<KeyValuePair<string, string>>();
        bool disableHash = false;
        bool? immutable = null;
        foreach (var opts in new[] { globalOptions, g.Get("options") as YMap })
        {
            if (opts is null) continue;
            labels.AddRange(k.StringMap(opts.Get("labels"), "labels"));
            annotations.AddRange(k.StringMap(opts.Get("annotations"), "annotations"));
            if (KYaml.AsString(opts.Get("disableNameSuffixHash")) is { } d) disableHash = d == "true";
            if (KYaml.AsString(opts.Get("immutable")) is { } im) immutable = im == "true";
        }

        if (behavior is "merge" or "replace")
        {
            var existing = acc.FirstOrDefault(r => r.Kind == kind && r.PreviousNames.Contains(name) && (ns is null || r.Namespace == ns))
                ?? throw k.Invalid(g, $"{kind} '{name}' has behavior: {behavior} but no {kind} of that name comes from the resources of this kustomization.");
            var target = KYaml.Map(existing.Node, "data", create: true)!;
            if (behavior == "replace") target.Entries.Clear();
            foreach (var (key, v) in data) KYaml.Set(target, key, DataValue(kind, v));
            foreach (var (key, v) in labels) KYaml.Set(KYaml.Map(KYaml.Map(existing.Node, "metadata", true)!, "labels", true)!, key, KYaml.Str(v));
            foreach (var (key, v) in annotations) KYaml.Set(KYaml.Map(KYaml.Map(existing.Node, "metadata", true)!, "annotations", true)!, key, KYaml.Str(v));
            existing.NeedsHash = existing.NeedsHash && !disableHash;
            return;
        }
        if (behavior != "create") throw k.Invalid(g.Get("behavior"), $"behavior '{behavior}' is not one of create, merge, replace.");

        var node = new YMap { Line = g.Line };
        KYaml.Set(node, "apiVersion", KYaml.Str("v1"));
        KYaml.Set(node, "kind", KYaml.Str(kind));
        var meta = new YMap();
        KYaml.Set(meta, "name", KYaml.Str(name));
        if (ns is not null) KYaml.Set(meta, "namespace", KYaml.Str(ns));
        if (labels.Count > 0)
        {
            var l = new YMap();
            foreach (var (key, v) in labels) KYaml.Set(l, key, KYaml.Str(v));
            KYaml.Set(meta, "labels", l);
        }
        if (annotations.Count > 0)
        {
            var a = new YMap();
            foreach (var (key, v) in annotations) KYaml.Set(a, key, KYaml.Str(v));
            KYaml.Set(meta, "annotations", a);
        }
        KYaml.Set(node, "metadata", meta);
        if (data.Count > 0)
        {
            var d = new YMap();
            foreach (var (key, v) in data) KYaml.Set(d, key, DataValue(kind, v));
            KYaml.Set(node, "data", d);
        }
        if (kind == "Secret") KYaml.Set(node, "type", KYaml.Str(KYaml.AsString(g.Get("type")) ?? "Opaque"));
        if (immutable == true) KYaml.Set(node, "immutable", KYaml.Plain("true"));
        Kustomizer.BuildContext.AddUnique(acc, new KResource(node, k.File) { NeedsHash = !disableHash }, k.File, g.Line);
    }

    private static YScalar DataValue(string kind, string value)
        => kind == "Secret" ? KYaml.Str(Convert.ToBase64String(Encoding.UTF8.GetBytes(value))) : new YScalar { Value = value, Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted };

    private static string ReadGeneratorFile(KustomizationFile k, string dir, Kustomizer.BuildContext build, string path, YNode at)
    {
        if (Kustomizer.IsRemote(path)) throw new SealerException(ErrorCodes.KustomizeRemoteResource, $"'{path}' is remote; the build is offline. Vendor the file.", k.File, at.Line);
        string full = Path.GetFullPath(Path.Combine(dir, path));
        if (!File.Exists(full)) throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"generator file '{path}' does not exist (looked in '{full}').", k.File, at.Line);
        return build.ReadFile(full);
    }

    private static void HelmCharts(KustomizationFile k, string dir, List<KResource> acc, Kustomizer.BuildContext build)
    {
        var charts = k.Maps("helmCharts");
        if (charts.Count == 0) return;
        string home = KYaml.AsString((k["helmGlobals"] as YMap)?.Get("chartHome")) ?? "charts";
        string chartHome = Path.GetFullPath(Path.Combine(dir, home));
        foreach (var h in charts)
        {
            string name = KYaml.AsString(h.Get("name")) ?? throw k.Invalid(h, "helmCharts: an entry needs a name.");
            string? version = KYaml.AsString(h.Get("version"));
            string? repo = KYaml.AsString(h.Get("repo"));
            string[] candidates = version is null
                ? [Path.Combine(chartHome, name)]
                : [Path.Combine(chartHome, $"{name}-{version}", name), Path.Combine(chartHome, name)];
            string? chartDir = candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "Chart.yaml")));
            if (chartDir is null)
            {
                if (repo is not null && Kustomizer.IsRemote(repo))
                {
                    throw new SealerException(ErrorCodes.KustomizeRemoteResource,
                        $"helmCharts '{name}' is not in the chart home '{chartHome}' and would be pulled from '{repo}'; the build is offline. Vendor the chart (helm pull {name} --repo {repo}{(version is null ? "" : " --version " + version)} --untar --untardir {home}).",
                        k.File, h.Line);
                }
                throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"helmCharts '{name}': no chart at '{candidates[0]}' (chart home '{home}').", k.File, h.Line);
            }
            var chart = ChartLoader.Load(chartDir, CancellationToken.None);
            var inputFiles = new List<string>(ChartLoader.EnumerateInputFiles(chartDir));
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (KYaml.AsString(h.Get("valuesFile")) is { } vf)
            {
                string full = Path.GetFullPath(Path.Combine(dir, vf));
                if (!File.Exists(full)) throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"helmCharts '{name}': valuesFile '{vf}' does not exist.", k.File, h.Get("valuesFile")!.Line);
                values = HelmYaml.ParseValues(build.ReadFile(full), full);
            }
            if (h.Get("additionalValuesFiles") is YSeq more)
            {
                foreach (var item in more.Items)
                {
                    string full = Path.GetFullPath(Path.Combine(dir, KYaml.AsString(item) ?? ""));
                    if (!File.Exists(full)) throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"helmCharts '{name}': values file '{KYaml.AsString(item)}' does not exist.", k.File, item.Line);
                    values = HelmYaml.MergeMaps(values, HelmYaml.ParseValues(build.ReadFile(full), full));
                }
            }
            if (h.Get("valuesInline") is YMap inline && YamlReader.ToValue(inline) is Dictionary<string, object?> inl)
            {
                string merge = KYaml.AsString(h.Get("valuesMerge")) ?? "override";
                values = merge switch
                {
                    "replace" => inl,
                    "merge" => HelmYaml.MergeMaps(inl, values),
                    _ => HelmYaml.MergeMaps(values, inl),
                };
            }
            string release = KYaml.AsString(h.Get("releaseName")) ?? "release-name";
            string? ns = KYaml.AsString(h.Get("namespace"));
            string? kubeVersion = KYaml.AsString(h.Get("kubeVersion")) ?? build.Options.KubeVersion;
            var apiVersions = h.Get("apiVersions") is YSeq av ? av.Items.Select(i => KYaml.AsString(i) ?? "").ToList() : [];
            var rendered = ChartRenderer.Render(chart, values, release, ns, kubeVersion, apiVersions, inputFiles, CancellationToken.None);
            foreach (var f in rendered.InputFiles) build.InputFiles.Add(Path.GetFullPath(f));
            bool includeCrds = KYaml.AsString(h.Get("includeCRDs")) == "true";
            bool skipTests = KYaml.AsString(h.Get("skipTests")) == "true";
            if (includeCrds)
            {
                foreach (var (c, crd) in CrdFiles(rendered.Chart))
                {
                    foreach (var doc in YamlReader.ParseStream(Encoding.UTF8.GetString(crd.Data), c.SourcePath + "/" + crd.Name, ErrorCodes.InvalidManifest))
                    {
                        var objs = new List<KResource>();
                        Kustomizer.BuildContext.AddObjects(doc.Root, Path.Combine(c.SourcePath, crd.Name), objs);
                        foreach (var o in objs) Kustomizer.BuildContext.AddUnique(acc, o, k.File, h.Line);
                    }
                }
            }
            foreach (var t in rendered.Templates)
            {
                foreach (var doc in ManifestDocuments.SplitLikeHelm(t.Text))
                {
                    var root = ManifestDocuments.ParseDocument(doc, t.SourceFile);
                    var objs = new List<KResource>();
                    Kustomizer.BuildContext.AddObjects(root, t.SourceFile, objs);
                    foreach (var o in objs)
                    {
                        if (skipTests && (o.Metadata?.Get("annotations") as YMap)?.GetString("helm.sh/hook") is { } hook && hook.Contains("test", StringComparison.Ordinal)) continue;
                        Kustomizer.BuildContext.AddUnique(acc, o, k.File, h.Line);
                    }
                }
            }
        }
    }

    private static IEnumerable<(Chart Chart, ChartFile File)> CrdFiles(Chart chart)
    {
        foreach (var f in chart.Files)
        {
            if (f.Name.StartsWith("crds/", StringComparison.Ordinal) && (f.Name.EndsWith(".yaml", StringComparison.Ordinal) || f.Name.EndsWith(".yml", StringComparison.Ordinal) || f.Name.EndsWith(".json", StringComparison.Ordinal)))
            {
                yield return (chart, f);
            }
        }
        foreach (var d in chart.Dependencies)
        {
            foreach (var x in CrdFiles(d)) yield return x;
        }
    }
}
