#:package Microsoft.Diagnostics.Tracing.TraceEvent@3.1.21
#:property ManagePackageVersionsCentrally=false
// Where a process allocates: sums the GC AllocationTick events (one every ~100 KB allocated) of a trace taken with
//   dotnet-trace collect --profile gc-verbose -o T.nettrace -- dotnet build ...
// by type, by stack frame matching FRAME_REGEX (inclusive), and by the innermost DEPTH matching frames + type, large-object
// heap allocations marked [LOH] (they count towards gen2 collections). Used for the one-chart rebuild's GCs (RESULTS,
// session 20):
//   dotnet run build/bench/alloc-report.cs -- T.nettrace [FRAME_REGEX=Sealer] [TOP=40] [DEPTH=1]
using System.Text.RegularExpressions;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

var path = args[0];
var rx = new Regex(args.Length > 1 ? args[1] : "Sealer");
int top = args.Length > 2 ? int.Parse(args[2]) : 40;
int depth = args.Length > 3 ? int.Parse(args[3]) : 1;
var etlx = TraceLog.CreateFromEventPipeDataFile(path);
using var log = new TraceLog(etlx);
var byType = new Dictionary<string, long>();
var byFrame = new Dictionary<string, long>();
var byLeaf = new Dictionary<string, long>();
long total = 0;
foreach (var ev in log.Events)
{
    if (ev is not GCAllocationTickTraceData t) continue;
    long amount = t.AllocationAmount64;
    total += amount;
    byType[t.TypeName] = byType.GetValueOrDefault(t.TypeName) + amount;
    var cs = ev.CallStack();
    var seen = new HashSet<string>();
    string? leaf = null; int got = 0;
    for (var f = cs; f != null; f = f.Caller)
    {
        string name = f.CodeAddress.FullMethodName ?? "?";
        if (!rx.IsMatch(name)) continue;
        if (got++ < depth) leaf = leaf is null ? Short(name) : leaf + " <- " + Short(name);
        if (seen.Add(name)) byFrame[name] = byFrame.GetValueOrDefault(name) + amount;
    }
    string key = (t.AllocationKind == GCAllocationKind.Large ? "[LOH] " : "") + (leaf ?? "(no match)") + "  <" + t.TypeName + ">";
    byLeaf[key] = byLeaf.GetValueOrDefault(key) + amount;
}
Console.WriteLine($"total sampled {total >> 20} MiB");
Console.WriteLine("== by type"); foreach (var (k, v) in byType.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{v / 1048576.0,8:F1} {k}");
Console.WriteLine("== by matching frame (inclusive)"); foreach (var (k, v) in byFrame.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{v / 1048576.0,8:F1} {k}");
Console.WriteLine("== by innermost matching frame + type"); foreach (var (k, v) in byLeaf.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{v / 1048576.0,8:F1} {k}");

static string Short(string n) { int p = n.IndexOf('('); return p > 0 ? n[..p] : n; }
