using Sealer.Core.Delivery;
using Spectre.Console;

namespace Sealer.Cli.Guided;

/// <summary>
/// The live view of a guided run: one row per host with its current step and, while the image is distributed, a
/// progress bar of the bytes it receives (rate, time left). It is fed by the install pipeline's own reports
/// (<see cref="RunOptions.Steps"/> from the step runner, <see cref="RunOptions.TransferProgress"/> from the distributor),
/// so it shows what the pipeline does and nothing is run twice.
/// </summary>
internal sealed class LiveView(IReadOnlyList<string> hosts) : IProgress<StepEvent>, IProgress<TransferProgress>
{
    private readonly Dictionary<string, ProgressTask> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _step = new(StringComparer.Ordinal);

    /// <summary>The last step that failed, and where.</summary>
    public StepEvent? LastFailure { get; private set; }

    public async Task<T> RunAsync<T>(IAnsiConsole console, RunOptions options, Func<RunOptions, Task<T>> run)
    {
        T result = default!;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                lock (_rows)
                {
                    foreach (var h in hosts)
                    {
                        _rows[h] = ctx.AddTask(Describe(h, "waiting"), autoStart: true, maxValue: 1);
                        _step[h] = "waiting";
                    }
                }
                try
                {
                    result = await run(options with { Steps = this, TransferProgress = this }).ConfigureAwait(false);
                    lock (_rows)
                    {
                        foreach (var (h, row) in _rows)
                        {
                            row.Description = Describe(h, "[green]done[/]", escaped: true);
                            row.Value = row.MaxValue;
                            row.StopTask();
                        }
                    }
                }
                finally
                {
                    ctx.Refresh();
                }
            }).ConfigureAwait(false);
        return result;
    }

    public void Report(StepEvent value)
    {
        lock (_rows)
        {
            if (value.Kind == StepEventKind.Failed) LastFailure = value;
            if (!_rows.TryGetValue(value.Host, out var row)) return;
            switch (value.Kind)
            {
                case StepEventKind.Started:
                    _step[value.Host] = value.Step;
                    row.Description = Describe(value.Host, value.Step + "...");
                    break;
                case StepEventKind.Done or StepEventKind.Skipped:
                    row.Description = Describe(value.Host, value.Step + (value.Kind == StepEventKind.Done ? " ok" : " done before"));
                    if (value.Step == "distribute") row.Value = row.MaxValue;
                    break;
                case StepEventKind.Failed:
                    row.Description = Describe(value.Host, $"[red]{Markup.Escape(value.Step)} FAILED[/]", escaped: true);
                    break;
            }
        }
    }

    public void Report(TransferProgress value)
    {
        if (value.Host is null || value.HostBytesTotal <= 0) return;
        lock (_rows)
        {
            if (!_rows.TryGetValue(value.Host, out var row)) return;
            if (row.MaxValue != value.HostBytesTotal) row.MaxValue = value.HostBytesTotal;
            row.Value = Math.Min(value.HostBytesDone, value.HostBytesTotal);
        }
    }

    private static string Describe(string host, string what, bool escaped = false) =>
        $"[bold]{Markup.Escape(host),-15}[/] {(escaped ? what : Markup.Escape(what)),-24}";
}
