using System.Globalization;

namespace Sealer.Core.IO;

/// <summary>
/// The rate and the time left of a transfer that reports how many bytes are done so far: the rate is taken over the last
/// <see cref="Window"/> (a stall shows as a falling rate, not as the average since the start), the time left from that
/// rate. <see cref="Describe"/> is the text long phases print (MSBuild messages, the CLI's live line):
/// <c>412.3/1024.0 MiB, 85.2 MiB/s, 7 s left</c>.
/// </summary>
public sealed class TransferMeter(TimeProvider? time = null)
{
    /// <summary>How far back the rate looks.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Queue<(long Timestamp, long Bytes)> _samples = new();
    private readonly object _gate = new();

    /// <summary>Records that <paramref name="bytesDone"/> bytes are done in all (not a delta).</summary>
    public void Record(long bytesDone)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            _samples.Enqueue((now, bytesDone));
            // Keep the oldest sample that is still inside the window, plus one before it (the rate spans the window).
            while (_samples.Count > 2 && _time.GetElapsedTime(SecondOldest(), now) >= Window) _samples.Dequeue();
        }
    }

    private long SecondOldest()
    {
        using var e = _samples.GetEnumerator();
        e.MoveNext();
        e.MoveNext();
        return e.Current.Timestamp;
    }

    /// <summary>Forgets every sample: the next transfer (another stage of the same phase) starts from zero.</summary>
    public void Reset()
    {
        lock (_gate) _samples.Clear();
    }

    /// <summary>Bytes per second over the window; 0 before two samples a measurable time apart.</summary>
    public double BytesPerSecond
    {
        get
        {
            lock (_gate)
            {
                if (_samples.Count < 2) return 0;
                var first = _samples.Peek();
                var last = _samples.Last();
                double seconds = _time.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds;
                return seconds <= 0 ? 0 : Math.Max(0, last.Bytes - first.Bytes) / seconds;
            }
        }
    }

    /// <summary>The time left to reach <paramref name="bytesTotal"/> at the current rate; null when unknown (no rate yet,
    /// or no total).</summary>
    public TimeSpan? Remaining(long bytesDone, long bytesTotal)
    {
        double rate = BytesPerSecond;
        if (bytesTotal <= 0 || rate <= 0) return null;
        return TimeSpan.FromSeconds(Math.Max(0, bytesTotal - bytesDone) / rate);
    }

    /// <summary>Records <paramref name="bytesDone"/> and describes the transfer: done/total, rate, time left (what is
    /// not known yet is left out).</summary>
    public string Describe(long bytesDone, long bytesTotal)
    {
        Record(bytesDone);
        string text = bytesTotal > 0 ? $"{MiB(bytesDone)}/{MiB(bytesTotal)} MiB" : $"{MiB(bytesDone)} MiB";
        double rate = BytesPerSecond;
        if (rate > 0) text += $", {MiB((long)rate)} MiB/s";
        if (Remaining(bytesDone, bytesTotal) is { } left) text += $", {Duration(left)} left";
        return text;
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>7 s, 2 min 05 s, 1 h 02 min.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t.TotalSeconds < 60) return $"{Math.Ceiling(t.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s";
        if (t.TotalMinutes < 60) return $"{(int)t.TotalMinutes} min {t.Seconds:D2} s";
        return $"{(int)t.TotalHours} h {t.Minutes:D2} min";
    }
}
