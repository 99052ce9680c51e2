namespace Sealer.Core.IO;

/// <summary>
/// Progress that a person can follow: keeps the latest report and writes a line at a steady pace (every
/// <c>every</c>), whether reports come a thousand times a second or stall on one big blob, with a
/// <see cref="TransferMeter"/> for the rate and the time left. Nothing is written before the first report, and nothing
/// after <see cref="Dispose"/> (which waits for a line being written).
/// </summary>
public sealed class PeriodicProgress<T> : IProgress<T>, IDisposable
{
    private readonly Func<T, TransferMeter, string?> _format;
    private readonly Action<string> _write;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private T _latest = default!;
    private bool _reported;
    private bool _stopped;

    /// <param name="format">The line for a report (null: write nothing this time); call <see cref="TransferMeter.Describe"/> for bytes.</param>
    /// <param name="write">Where lines go (an MSBuild message, the terminal's live line).</param>
    public PeriodicProgress(Func<T, TransferMeter, string?> format, Action<string> write, TimeSpan every, TimeProvider? time = null)
    {
        _format = format;
        _write = write;
        Meter = new TransferMeter(time);
        _timer = (time ?? TimeProvider.System).CreateTimer(_ => Tick(), null, every, every);
    }

    public TransferMeter Meter { get; }

    public void Report(T value)
    {
        lock (_gate)
        {
            _latest = value;
            _reported = true;
        }
    }

    /// <summary>Writes the line for the latest report now (the timer calls it; tests and the end of a phase may too).</summary>
    public void Tick()
    {
        lock (_gate)
        {
            if (_stopped || !_reported) return;
            string? line = _format(_latest, Meter);
            if (line is not null) _write(line);
        }
    }

    public void Dispose()
    {
        lock (_gate) _stopped = true;
        _timer.Dispose();
    }
}
