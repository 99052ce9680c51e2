using Sealer.Core.IO;

namespace Sealer.Layout.Tests;

/// <summary>
/// The build archive's writers and the assembly's image-blob layers run on threads of their own (blocking I/O there kept
/// MSBuild's cancellation waiting for the thread pool): every item once, the first real failure thrown, Ctrl+C as a cancellation.
/// </summary>
public class DedicatedWorkersTests
{
    [Fact]
    public async Task Every_item_is_taken_once_on_threads_that_are_not_the_pools()
    {
        var seen = new int[1000];
        int poolThreads = 0;
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        await DedicatedWorkers.RunAsync(3, seen.Length, (next, ct) =>
        {
            if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref poolThreads);
            threads[Environment.CurrentManagedThreadId] = true;
            for (int i = next(); i >= 0; i = next()) Interlocked.Increment(ref seen[i]);
        }, CancellationToken.None);
        Assert.All(seen, c => Assert.Equal(1, c));
        Assert.Equal(0, poolThreads);
        Assert.InRange(threads.Count, 1, 3);
    }

    [Fact]
    public async Task The_first_failure_is_thrown_and_stops_the_others()
    {
        int afterStop = 0;
        var ex = await Assert.ThrowsAsync<IOException>(() => DedicatedWorkers.RunAsync(2, 1_000_000, (next, ct) =>
        {
            for (int i = next(); i >= 0; i = next())
            {
                if (i == 10) throw new IOException("disk full at item 10");
                if (ct.IsCancellationRequested) { Interlocked.Increment(ref afterStop); ct.ThrowIfCancellationRequested(); }
                Thread.Sleep(1);
            }
        }, CancellationToken.None));
        Assert.Equal("disk full at item 10", ex.Message);
        Assert.InRange(afterStop, 0, 1); // the other worker stopped at its next check, not at the end of the items
    }

    [Fact]
    public async Task A_cancellation_is_thrown_as_one_and_seen_at_once()
    {
        using var cts = new CancellationTokenSource();
        var started = new ManualResetEventSlim();
        var run = DedicatedWorkers.RunAsync(2, int.MaxValue, (next, ct) =>
        {
            for (int i = next(); i >= 0; i = next())
            {
                started.Set();
                ct.ThrowIfCancellationRequested();
                Thread.Sleep(1);
            }
        }, cts.Token);
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"stopped after {sw.Elapsed}");
    }
}
