using Sealer.Core.IO;

namespace Sealer.Sdk.Tests.Progress;

/// <summary>What long phases print (TransferMeter, PeriodicProgress): bytes, a rate over the last seconds, time left, at a
/// steady pace whatever the reports do.</summary>
public sealed class ProgressTests
{
    /// <summary>A clock the test moves; timers never fire by themselves (the test ticks).</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Now;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Now;

        public void Advance(double seconds) => Now += (long)(seconds * 1000);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NoTimer();

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void The_meter_gives_bytes_rate_and_time_left_over_the_recent_window()
    {
        var time = new ManualTime();
        var meter = new TransferMeter(time);
        Assert.Equal("0.0/100.0 MiB", meter.Describe(0, 100L << 20));
        time.Advance(2);
        Assert.Equal("20.0/100.0 MiB, 10.0 MiB/s, 8 s left", meter.Describe(20L << 20, 100L << 20));
        // A stall: the rate falls as the window moves past the fast part, the time left grows.
        for (int i = 0; i < 6; i++)
        {
            time.Advance(2);
            meter.Describe(20L << 20, 100L << 20);
        }
        Assert.Equal(0, meter.BytesPerSecond);
        Assert.Null(meter.Remaining(20L << 20, 100L << 20));
        time.Advance(2);
        Assert.Equal("30.0/100.0 MiB, 1.0 MiB/s, 1 min 10 s left", meter.Describe(30L << 20, 100L << 20));
        Assert.Equal("2 h 05 min", TransferMeter.Duration(TimeSpan.FromMinutes(125)));
    }

    [Fact]
    public void Periodic_progress_writes_the_latest_report_on_each_tick_nothing_before_the_first_and_nothing_after_dispose()
    {
        var time = new ManualTime();
        var lines = new List<string>();
        var p = new PeriodicProgress<long>((bytes, meter) => "copied " + meter.Describe(bytes, 4L << 20), lines.Add, TimeSpan.FromSeconds(2), time);
        p.Tick();
        Assert.Empty(lines); // no report yet
        for (int i = 1; i <= 1000; i++) p.Report(i * 1024L); // many reports between two ticks: one line
        time.Advance(1);
        p.Tick();
        // A stall on one big blob: no report, the line still comes, with the time moving on.
        time.Advance(1);
        p.Tick();
        Assert.Equal(["copied 1.0/4.0 MiB", "copied 1.0/4.0 MiB"], lines);
        p.Report(2L << 20);
        time.Advance(1);
        p.Tick();
        Assert.Equal("copied 2.0/4.0 MiB, 0.5 MiB/s, 4 s left", lines[^1]);
        p.Dispose();
        p.Report(3L << 20);
        p.Tick();
        Assert.Equal(3, lines.Count);
    }
}
