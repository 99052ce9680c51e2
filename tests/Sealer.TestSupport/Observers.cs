using Microsoft.Extensions.Logging;

namespace Sealer.TestSupport;

/// <summary>Progress reported on the reporting thread, as it happens (<see cref="Progress{T}"/> would post it to the pool,
/// after the fact): for tests that count reports or cancel from one.</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>A logger keeping every message (with its exception, if any) as one line, from any thread.</summary>
public sealed class ListLogger : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add(formatter(state, exception) + exception);
    }
}
