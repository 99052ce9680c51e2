namespace Sealer.Core.IO;

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread: <c>Progress&lt;T&gt;</c> posts each report to the
/// SynchronizationContext or the thread pool, out of order and a hop per chunk.</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
