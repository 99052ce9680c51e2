using System.Runtime.ExceptionServices;

namespace Sealer.Core.IO;

/// <summary>
/// Work items shared out to a few threads of their own, not thread-pool threads: for workers that block in file I/O for as
/// long as the work lasts (the build archive's entry writers, the assembly's image-blob layers). With the pool's few threads
/// (one per core) taken by such work, whatever else needs the pool waits for it to grow: MSBuild's cancellation of a task
/// did — Ctrl+C was seen after 1.1–3.5 s mid-archive and 0.5–2.6 s mid-assembly (3 GiB project, 2 cores), after 0.04–0.05 s
/// with the writers on threads of their own (build/bench/RESULTS.md, 2026-12-03).
/// </summary>
public static class DedicatedWorkers
{
    /// <summary>Workers for copying blob files (the assembly's image-blob layers, the build archive's entries): one per core,
    /// at most 4 — past that the disk, not the copying or hashing, limits.</summary>
    public static int FileCopiers => Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>
    /// Runs <paramref name="worker"/> on <paramref name="workers"/> threads (at least one); each takes items by calling the
    /// function it is given: the next index below <paramref name="count"/>, or -1 when none is left. The first failure stops
    /// the others (through the token each worker gets) and is what this throws; a cancellation of
    /// <paramref name="cancellationToken"/> is thrown as one.
    /// </summary>
    public static async Task RunAsync(int workers, int count, Action<Func<int>, CancellationToken> worker, CancellationToken cancellationToken)
    {
        int next = -1;
        int Next()
        {
            int i = Interlocked.Increment(ref next);
            return i < count ? i : -1;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = Enumerable.Range(0, Math.Max(1, workers)).Select(_ => Task.Factory.StartNew(() =>
        {
            try
            {
                worker(Next, stop.Token);
            }
            catch
            {
                stop.Cancel(); // the other workers stop at their next check
                throw;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            // The worker that failed first, not one its stop cancelled.
            var cause = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).FirstOrDefault(x => x is not OperationCanceledException);
            if (cause is not null) ExceptionDispatchInfo.Throw(cause);
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
    }
}
