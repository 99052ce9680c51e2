using Microsoft.Extensions.Logging;

namespace Sealer.TestSupport;

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
