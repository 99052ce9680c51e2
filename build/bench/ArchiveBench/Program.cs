// sealer-archive-bench archive LAYOUT OUT.tar   writes the build archive of LAYOUT (ClusterImageArchive.WriteAsync, as
//                                                dotnet build does; OUT.tar must not exist: a first write)
// sealer-archive-bench load ARCHIVE STORE       loads ARCHIVE into the (empty) store STORE (OciArchive, as sealer load)
// sealer-archive-bench save STORE OUT.tar       saves every image of STORE to OUT.tar (OciArchive, as sealer save)
// Prints one line: what it did and the seconds it took inside the process. Ctrl+C cancels.
using System.Diagnostics;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;

if (args.Length != 3 || args[0] is not ("archive" or "load" or "save"))
{
    Console.Error.WriteLine("usage: sealer-archive-bench archive LAYOUT OUT.tar | load ARCHIVE STORE | save STORE OUT.tar");
    return 2;
}
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var sw = Stopwatch.StartNew();
if (args[0] == "archive")
{
    var r = await ClusterImageArchive.WriteAsync(args[1], args[2], cancellationToken: cts.Token);
    Console.WriteLine($"archive: {r.BytesWritten} bytes written, {r.EntriesWritten} entries, {sw.Elapsed.TotalSeconds:F2} s");
}
else if (args[0] == "save")
{
    var store = ClusterImageStore.Open(args[1]);
    var saved = await OciArchive.SaveAsync(store, store.List().Select(i => i.Name).ToList(), args[2], cancellationToken: cts.Token);
    Console.WriteLine($"save: {saved.Count} image(s), {new FileInfo(args[2]).Length} bytes, {sw.Elapsed.TotalSeconds:F2} s");
}
else
{
    var store = ClusterImageStore.Open(args[2]);
    var r = await OciArchive.LoadArchiveAsync(store, args[1], cancellationToken: cts.Token);
    Console.WriteLine($"load: {r.Images.Count} image(s), {r.BlobsLoaded} blobs, {r.BytesLoaded} bytes, {sw.Elapsed.TotalSeconds:F2} s");
}
return 0;
