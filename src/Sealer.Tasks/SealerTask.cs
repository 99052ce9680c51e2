using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.Extensions.Logging;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using Task = System.Threading.Tasks.Task;
using Sealer.Core.Diagnostics;

namespace Sealer.Tasks;

/// <summary>
/// The shape every Sealer task shares: async work on <see cref="ExecuteCoreAsync"/>, cancellation through
/// <see cref="ICancelableTask"/>, <see cref="SealerException"/> mapped to a coded MSBuild error with file and line,
/// and <c>return !Log.HasLoggedErrors</c>.
/// </summary>
public abstract class SealerTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cts = new();

    public void Cancel() => _cts.Cancel();

    public sealed override bool Execute()
    {
        try
        {
            ExecuteCoreAsync(_cts.Token).GetAwaiter().GetResult();
        }
        catch (SealerException ex)
        {
            LogSealerError(ex);
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            Log.LogMessage(MessageImportance.High, "Cancelled.");
            return false;
        }
        catch (AggregateException agg) when (agg.InnerExceptions.All(e => e is SealerException))
        {
            foreach (var e in agg.InnerExceptions) LogSealerError((SealerException)e);
        }
        return !Log.HasLoggedErrors;
    }

    protected void LogSealerError(SealerException ex)
        => Log.LogError(null, ex.Code, null, ex.File, ex.Line, ex.Column, 0, 0, ex.Message);

    protected abstract Task ExecuteCoreAsync(CancellationToken cancellationToken);

    /// <summary>An <see cref="ILogger"/> for Core that writes MSBuild messages (warnings as warnings).</summary>
    protected ILogger CreateLogger() => new MSBuildLogger(Log);

    /// <summary>Progress as MSBuild messages (high importance, so the default console shows them), throttled so a big
    /// pull prints a line every few seconds, not thousands.</summary>
    protected IProgress<T> CreateProgress<T>(Func<T, string?> format, TimeSpan? every = null)
        => new ThrottledProgress<T>(Log, format, every ?? TimeSpan.FromSeconds(2));

    private sealed class ThrottledProgress<T>(TaskLoggingHelper log, Func<T, string?> format, TimeSpan every) : IProgress<T>
    {
        private readonly object _gate = new();
        private DateTime _last = DateTime.MinValue;

        public void Report(T value)
        {
            lock (_gate)
            {
                var now = DateTime.UtcNow;
                if (now - _last < every) return;
                _last = now;
            }
            string? text = format(value);
            if (text is not null) log.LogMessage(MessageImportance.High, text);
        }
    }

    private sealed class MSBuildLogger(TaskLoggingHelper log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string text = formatter(state, exception);
            switch (logLevel)
            {
                case LogLevel.Critical:
                case LogLevel.Error:
                    log.LogError(text);
                    break;
                case LogLevel.Warning:
                    log.LogWarning(text);
                    break;
                case LogLevel.Information:
                    log.LogMessage(MessageImportance.Normal, text);
                    break;
                default:
                    log.LogMessage(MessageImportance.Low, text);
                    break;
            }
        }
    }
}
