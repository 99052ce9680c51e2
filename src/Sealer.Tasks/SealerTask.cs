using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.Extensions.Logging;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using Task = System.Threading.Tasks.Task;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;

namespace Sealer.Tasks;

/// <summary>
/// The shape every Sealer task shares: async work on <see cref="ExecuteCoreAsync"/>, cancellation through
/// <see cref="ICancelableTask"/>, <see cref="SealerException"/> mapped to a coded MSBuild error with file and line,
/// and <c>return !Log.HasLoggedErrors</c>.
/// </summary>
public abstract class SealerTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<IDisposable> _progress = [];

    /// <summary>How often long phases print a progress message (bytes, rate, time left); SEALER_PROGRESS_SECONDS overrides.</summary>
    public static TimeSpan ProgressInterval =>
        double.TryParse(Environment.GetEnvironmentVariable("SEALER_PROGRESS_SECONDS"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(2);

    /// <summary>MSBuild calls it on Ctrl+C or an IDE's cancel: the work stops at its next cancellation check (blob copies and
    /// downloads check every buffer) and leaves nothing half-written in the caches.</summary>
    public void Cancel() => _cts.Cancel();

    public sealed override bool Execute()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan jitTime = System.Runtime.JitInfo.GetCompilationTime();
        long jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
        TimeSpan gcPause = GC.GetTotalPauseDuration();
        int gcs = GC.CollectionCount(0);
        long allocated = GC.GetTotalAllocatedBytes();
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
        finally
        {
            // No progress message after the task returned (MSBuild refuses logging then).
            lock (_progress) foreach (var p in _progress) p.Dispose();
            // Where a short task's time goes (-v:d): what the runtime spent compiling code that was not precompiled
            // (generic instantiations over value types, mostly) and the garbage collections' pauses (MSBuild's heap is
            // large, so a pause costs more than our allocations alone would) are process-wide, so other threads' count too.
            Log.LogMessage(MessageImportance.Low, "{0}: {1:F0} ms, {2:F0} ms of it compiling {3} methods (JIT), {4:F0} ms paused in {5} garbage collections, {6:F1} MiB allocated (whole process)",
                GetType().Name, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, (System.Runtime.JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds,
                System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods, (GC.GetTotalPauseDuration() - gcPause).TotalMilliseconds, GC.CollectionCount(0) - gcs,
                (GC.GetTotalAllocatedBytes() - allocated) / 1048576.0);
        }
        return !Log.HasLoggedErrors;
    }

    protected void LogSealerError(SealerException ex)
        => Log.LogError(null, ex.Code, null, ex.File, ex.Line, ex.Column, 0, 0, ex.Message);

    protected abstract Task ExecuteCoreAsync(CancellationToken cancellationToken);

    /// <summary>An <see cref="ILogger"/> for Core that writes MSBuild messages (warnings as warnings).</summary>
    protected ILogger CreateLogger() => new MSBuildLogger(Log);

    /// <summary>Progress as MSBuild messages (high importance, so the default console shows them) at a steady pace
    /// (<see cref="ProgressInterval"/>): the latest report every few seconds however often or rarely reports come, with the
    /// bytes, rate and time left the format takes from the <see cref="TransferMeter"/>.</summary>
    protected IProgress<T> CreateProgress<T>(Func<T, TransferMeter, string?> format, TimeSpan? every = null)
    {
        var p = new PeriodicProgress<T>(format, text => Log.LogMessage(MessageImportance.High, text), every ?? ProgressInterval);
        lock (_progress) _progress.Add(p);
        return p;
    }

    private sealed class MSBuildLogger(TaskLoggingHelper log) : ILogger
    {
        /// <summary>A Core message logged as <c>"{Code}: {File}({Line}): text"</c> (the template's Code, File, Line values):
        /// MSBuild gets the code and location as such, and the text without them.</summary>
        internal static (string Code, string? File, int Line, string Message)? Coded<TState>(TState state, string text)
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> values) return null;
            string? code = null, file = null;
            int line = 0;
            foreach (var kv in values)
            {
                if (kv.Key == "Code") code = kv.Value as string;
                else if (kv.Key == "File") file = kv.Value as string;
                else if (kv.Key == "Line" && kv.Value is int l) line = l;
            }
            if (code is null) return null;
            string message = text;
            string prefix = file is null ? code + ": " : $"{code}: {file}({line}): ";
            if (message.StartsWith(prefix, StringComparison.Ordinal)) message = message[prefix.Length..];
            else if (message.StartsWith(code + ": ", StringComparison.Ordinal)) message = message[(code.Length + 2)..];
            return (code, file, line, message);
        }

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
                case LogLevel.Warning when Coded(state, text) is { } coded:
                    log.LogWarning(null, coded.Code, null, coded.File, coded.Line, 0, 0, 0, coded.Message);
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
