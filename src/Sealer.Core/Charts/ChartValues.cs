using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sealer.Core.Semver;

namespace Sealer.Core.Charts;

/// <summary>
/// Values coalescing exactly as helm 3.17 / 4.1 (pkg/chartutil/coalesce.go, dependencies.go; the differential tests'
/// oracles — helm's main branch has since stopped copying chart-default nulls):
/// chart defaults &lt; parent chart values &lt; user values; maps merge, scalars and lists replace; a null from a
/// higher level deletes the key; <c>global</c> flows down to every subchart; dependency <c>condition</c>/<c>tags</c>
/// enable or disable subcharts, <c>alias</c> renames a copy, <c>import-values</c> copies child values up.
/// </summary>
public static class ChartValues
{
    public const string GlobalKey = "global";

    /// <summary>Coalesces <paramref name="values"/> (user values) with the chart's defaults and all its subcharts' (nulls removed).</summary>
    public static Dictionary<string, object?> CoalesceValues(Chart chart, Dictionary<string, object?>? values, ILogger? logger = null)
        => Coalesce(logger ?? NullLogger.Instance, chart, DeepCopy(values) ?? new(StringComparer.Ordinal), "", merge: false);

    /// <summary>Like <see cref="CoalesceValues"/> but keeps nulls (helm's MergeValues).</summary>
    public static Dictionary<string, object?> MergeValues(Chart chart, Dictionary<string, object?>? values, ILogger? logger = null)
        => Coalesce(logger ?? NullLogger.Instance, chart, DeepCopy(values) ?? new(StringComparer.Ordinal), "", merge: true);

    /// <summary>dst is authoritative; src fills in. Nulls in dst delete keys.</summary>
    public static Dictionary<string, object?> CoalesceTables(Dictionary<string, object?>? dst, Dictionary<string, object?>? src)
        => CoalesceTablesFullKey(NullLogger.Instance, dst, src, "", merge: false)!;

    public static Dictionary<string, object?> MergeTables(Dictionary<string, object?>? dst, Dictionary<string, object?>? src)
        => CoalesceTablesFullKey(NullLogger.Instance, dst, src, "", merge: true)!;

    private static string ConcatPrefix(string a, string b) => a.Length == 0 ? b : a + "." + b;

    private static Dictionary<string, object?> Coalesce(ILogger log, Chart ch, Dictionary<string, object?> dest, string prefix, bool merge)
    {
        CoalesceValuesInto(log, ch, dest, prefix, merge);
        return CoalesceDeps(log, ch, dest, prefix, merge);
    }

    private static Dictionary<string, object?> CoalesceDeps(ILogger log, Chart ch, Dictionary<string, object?> dest, string prefix, bool merge)
    {
        foreach (var sub in ch.Dependencies)
        {
            if (!dest.TryGetValue(sub.Name, out var c))
            {
                dest[sub.Name] = new Dictionary<string, object?>(StringComparer.Ordinal);
            }
            else if (c is not Dictionary<string, object?>)
            {
                throw new Diagnostics.SealerException(Diagnostics.ErrorCodes.ValuesTypeMismatch,
                    $"type mismatch on '{ConcatPrefix(prefix, sub.Name)}': values for subchart '{sub.Name}' must be a map, not '{Format(c)}'. Fix the values that set '{sub.Name}'.");
            }
            var dvmap = (Dictionary<string, object?>)dest[sub.Name]!;
            string subPrefix = ConcatPrefix(prefix, ch.Name);
            CoalesceGlobals(log, dvmap, dest, subPrefix);
            dest[sub.Name] = Coalesce(log, sub, dvmap, subPrefix, merge);
        }
        return dest;
    }

    private static void CoalesceGlobals(ILogger log, Dictionary<string, object?> dest, Dictionary<string, object?> src, string prefix)
    {
        Dictionary<string, object?> dg, sg;
        if (!dest.TryGetValue(GlobalKey, out var destglob)) dg = new(StringComparer.Ordinal);
        else if (destglob is Dictionary<string, object?> d) dg = d;
        else { log.LogWarning("skipping globals because destination {Key} is not a table.", GlobalKey); return; }

        if (!src.TryGetValue(GlobalKey, out var srcglob)) sg = new(StringComparer.Ordinal);
        else if (srcglob is Dictionary<string, object?> s) sg = s;
        else { log.LogWarning("skipping globals because source {Key} is not a table.", GlobalKey); return; }

        foreach (var (key, val) in sg)
        {
            if (val is Dictionary<string, object?> valMap)
            {
                var vv = new Dictionary<string, object?>(valMap, StringComparer.Ordinal);
                if (!dg.TryGetValue(key, out var destv))
                {
                    dg[key] = vv;
                }
                else if (destv is not Dictionary<string, object?> destvmap)
                {
                    log.LogWarning("Conflict: cannot merge map onto non-map for {Key}. Skipping.", key);
                }
                else
                {
                    CoalesceTablesFullKey(log, vv, destvmap, ConcatPrefix(prefix, key), merge: true);
                    dg[key] = vv;
                }
            }
            else if (dg.TryGetValue(key, out var dv) && dv is Dictionary<string, object?>)
            {
                log.LogWarning("key {Key} is table. Skipping", key);
            }
            else
            {
                dg[key] = val;
            }
        }
        dest[GlobalKey] = dg;
    }

    private static void CoalesceValuesInto(ILogger log, Chart c, Dictionary<string, object?> v, string prefix, bool merge)
    {
        string subPrefix = ConcatPrefix(prefix, c.Name);
        var vc = DeepCopy(c.Values) ?? new(StringComparer.Ordinal);
        foreach (var (key, val) in vc)
        {
            if (v.TryGetValue(key, out var value))
            {
                if (value is null && !merge)
                {
                    v.Remove(key);
                }
                else if (value is Dictionary<string, object?> dest)
                {
                    if (val is not Dictionary<string, object?> src)
                    {
                        if (val is not null) log.LogWarning("skipped value for {Key}: Not a table.", subPrefix + "." + key);
                    }
                    else
                    {
                        bool childMerge = merge || c.Dependencies.Any(d => d.Name == key);
                        CoalesceTablesFullKey(log, dest, src, ConcatPrefix(subPrefix, key), childMerge);
                    }
                }
            }
            else
            {
                // helm 3.17 / 4.1: chart-default nulls are copied too (templates see `key: null`).
                v[key] = val;
            }
        }
    }

    private static Dictionary<string, object?>? CoalesceTablesFullKey(ILogger log, Dictionary<string, object?>? dst, Dictionary<string, object?>? src, string prefix, bool merge)
    {
        if (src is null) return dst;
        if (dst is null) return src;
        foreach (var (key, val) in src)
        {
            string fullkey = ConcatPrefix(prefix, key);
            bool ok = dst.TryGetValue(key, out var dv);
            if (ok && !merge && dv is null)
            {
                dst.Remove(key);
            }
            else if (!ok)
            {
                dst[key] = val;
            }
            else if (val is Dictionary<string, object?> valMap)
            {
                if (dv is Dictionary<string, object?> dvMap) CoalesceTablesFullKey(log, dvMap, valMap, fullkey, merge);
                else log.LogWarning("cannot overwrite table with non table for {Key} ({Value})", fullkey, Format(val));
            }
            else if (dv is Dictionary<string, object?> && val is not null)
            {
                log.LogWarning("destination for {Key} is a table. Ignoring non-table value ({Value})", fullkey, Format(val));
            }
        }
        return dst;
    }

    private static Dictionary<string, object?> TrimNilValues(Dictionary<string, object?> vals)
    {
        var copy = DeepCopy(vals)!;
        foreach (var (key, val) in copy.ToList())
        {
            if (val is null) copy.Remove(key);
            else if (val is Dictionary<string, object?> t) copy[key] = TrimNilValues(t);
        }
        return copy;
    }

    /// <summary>Deep copy of the value model.</summary>
    public static Dictionary<string, object?>? DeepCopy(Dictionary<string, object?>? v)
        => v is null ? null : (Dictionary<string, object?>)DeepCopyValue(v)!;

    internal static object? DeepCopyValue(object? v) => v switch
    {
        Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => DeepCopyValue(kv.Value), StringComparer.Ordinal),
        List<object?> l => l.Select(DeepCopyValue).ToList(),
        _ => v,
    };

    internal static string Format(object? v) => v switch
    {
        null => "<nil>",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        Dictionary<string, object?> => "map[...]",
        List<object?> => "[...]",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    // ---- helm's Values.Table / PathValue ----

    /// <summary>The table at a dotted path (<c>a.b.c</c>), or null when a segment is missing or not a table.</summary>
    public static Dictionary<string, object?>? Table(Dictionary<string, object?> values, string name)
    {
        var table = values;
        foreach (var n in name.Split('.'))
        {
            if (!table.TryGetValue(n, out var v2) || v2 is not Dictionary<string, object?> vv) return null;
            table = vv;
        }
        return table;
    }

    /// <summary>The non-table value at a dotted path; <paramref name="found"/> false when absent or a table.</summary>
    public static object? PathValue(Dictionary<string, object?> values, string path, out bool found)
    {
        found = false;
        if (path.Length == 0) return null;
        var parts = path.Split('.');
        Dictionary<string, object?>? t = parts.Length == 1 ? values : Table(values, string.Join('.', parts[..^1]));
        if (t is null) return null;
        if (t.TryGetValue(parts[^1], out var k) && k is not Dictionary<string, object?>)
        {
            found = true;
            return k;
        }
        return null;
    }

    // ---- dependencies.go ----

    /// <summary>
    /// helm's ProcessDependenciesWithMerge: drops subcharts disabled by condition/tags, applies aliases (copies of the
    /// subchart under another name), then imports values from children into parents. Mutates <paramref name="chart"/>.
    /// </summary>
    public static void ProcessDependencies(Chart chart, Dictionary<string, object?>? values, ILogger? logger = null)
    {
        var log = logger ?? NullLogger.Instance;
        ProcessDependencyEnabled(log, chart, values ?? new(StringComparer.Ordinal), "");
        ProcessDependencyImportValues(log, chart, merge: true);
    }

    private static void ProcessDependencyConditions(ILogger log, List<ChartDependency> reqs, Dictionary<string, object?> cvals, string cpath)
    {
        foreach (var r in reqs)
        {
            foreach (var raw in r.Condition.Trim().Split(','))
            {
                string c = raw;
                if (c.Length == 0) continue;
                var vv = PathValue(cvals, cpath + c, out bool found);
                if (found)
                {
                    if (vv is bool bv)
                    {
                        r.Enabled = bv;
                        break;
                    }
                    log.LogWarning("condition path '{Path}' for chart {Chart} returned non-bool value", c, r.Name);
                }
            }
        }
    }

    private static void ProcessDependencyTags(ILogger log, List<ChartDependency> reqs, Dictionary<string, object?> cvals)
    {
        var vt = Table(cvals, "tags");
        if (vt is null) return;
        foreach (var r in reqs)
        {
            bool hasTrue = false, hasFalse = false;
            foreach (var k in r.Tags)
            {
                if (vt.TryGetValue(k, out var b))
                {
                    if (b is bool bv) { if (bv) hasTrue = true; else hasFalse = true; }
                    else log.LogWarning("tag '{Tag}' for chart {Chart} returned non-bool value", k, r.Name);
                }
            }
            if (!hasTrue && hasFalse) r.Enabled = false;
            else if (hasTrue || (!hasTrue && !hasFalse)) r.Enabled = true;
        }
    }

    private static Chart? GetAliasDependency(List<Chart> charts, ChartDependency dep)
    {
        foreach (var c in charts)
        {
            if (c.Name != dep.Name) continue;
            if (!SemverConstraint.IsSatisfied(dep.Version, c.Metadata.Version)) continue;
            var copy = c.ShallowCopy();
            if (dep.Alias.Length > 0) copy.Metadata.Name = dep.Alias;
            return copy;
        }
        return null;
    }

    private static void ProcessDependencyEnabled(ILogger log, Chart c, Dictionary<string, object?> v, string path)
    {
        // helm returns early only when the field is nil (absent in Chart.yaml/requirements.yaml), not when it is [].
        if (!c.Metadata.DependenciesDeclared) return;
        var chartDependencies = new List<Chart>();
        foreach (var existing in c.Dependencies)
        {
            bool declared = c.Metadata.Dependencies.Any(req => existing.Name == req.Name && SemverConstraint.IsSatisfied(req.Version, existing.Metadata.Version));
            if (!declared) chartDependencies.Add(existing);
        }
        foreach (var req in c.Metadata.Dependencies)
        {
            var cd = GetAliasDependency(c.Dependencies, req);
            if (cd is not null) chartDependencies.Add(cd);
            if (req.Alias.Length > 0) req.Name = req.Alias;
        }
        c.Dependencies = chartDependencies;
        foreach (var d in chartDependencies) d.Parent = c;

        foreach (var lr in c.Metadata.Dependencies) lr.Enabled = true;
        var cvals = CoalesceValues(c, v, log);
        ProcessDependencyTags(log, c.Metadata.Dependencies, cvals);
        ProcessDependencyConditions(log, c.Metadata.Dependencies, cvals, path);
        var rm = new HashSet<string>(c.Metadata.Dependencies.Where(r => !r.Enabled).Select(r => r.Name), StringComparer.Ordinal);
        var kept = c.Dependencies.Where(n => !rm.Contains(n.Metadata.Name)).ToList();
        var keptMeta = c.Metadata.Dependencies.Where(n => !rm.Contains(n.Name)).ToList();
        foreach (var t in kept)
        {
            ProcessDependencyEnabled(log, t, cvals, path + t.Metadata.Name + ".");
        }
        c.Metadata.Dependencies = keptMeta;
        c.Metadata.DependenciesDeclared = keptMeta.Count > 0; // Go: append(nil, empty...) stays nil
        c.Dependencies = kept;
    }

    private static Dictionary<string, object?> PathToMap(string path, Dictionary<string, object?> data)
    {
        if (path == ".") return data;
        var parts = path.Split('.');
        var cur = data;
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            cur = new Dictionary<string, object?>(StringComparer.Ordinal) { [parts[i]] = cur };
        }
        return cur;
    }

    private static void ProcessImportValues(ILogger log, Chart c, bool merge)
    {
        if (!c.Metadata.DependenciesDeclared) return;
        var cvals = merge ? MergeValues(c, null, log) : CoalesceValues(c, null, log);
        var b = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var r in c.Metadata.Dependencies)
        {
            var outiv = new List<object?>();
            foreach (var riv in r.ImportValues)
            {
                switch (riv)
                {
                    case Dictionary<string, object?> iv:
                    {
                        string child = GoString(iv.GetValueOrDefault("child"));
                        string parent = GoString(iv.GetValueOrDefault("parent"));
                        outiv.Add(new Dictionary<string, object?>(StringComparer.Ordinal) { ["child"] = child, ["parent"] = parent });
                        var vv = Table(cvals, r.Name + "." + child);
                        if (vv is null)
                        {
                            log.LogWarning("ImportValues missing table from chart {Chart}: {Child}", r.Name, child);
                            continue;
                        }
                        var m = PathToMap(parent, DeepCopy(vv)!);
                        b = merge ? MergeTables(b, m) : CoalesceTables(b, m);
                        break;
                    }
                    case string s:
                    {
                        string child = "exports." + s;
                        outiv.Add(new Dictionary<string, object?>(StringComparer.Ordinal) { ["child"] = child, ["parent"] = "." });
                        var vm = Table(cvals, r.Name + "." + child);
                        if (vm is null)
                        {
                            log.LogWarning("ImportValues missing table: {Child}", r.Name + "." + child);
                            continue;
                        }
                        var copy = DeepCopy(vm)!;
                        b = merge ? MergeTables(b, copy) : CoalesceTables(b, copy);
                        break;
                    }
                }
            }
            r.ImportValues = outiv;
        }
        if (merge)
        {
            c.Values = MergeTables(DeepCopy(cvals), b);
        }
        else
        {
            c.Values = CoalesceTables(TrimNilValues(cvals), b);
        }
    }

    private static string GoString(object? v) => v switch
    {
        null => "<nil>",
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Format(v),
    };

    private static void ProcessDependencyImportValues(ILogger log, Chart c, bool merge)
    {
        foreach (var d in c.Dependencies) ProcessDependencyImportValues(log, d, merge);
        ProcessImportValues(log, c, merge);
    }
}
