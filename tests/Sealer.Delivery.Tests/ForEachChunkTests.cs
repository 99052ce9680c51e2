using System.Text;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Delivery.Tests;

/// <summary>
/// <see cref="SshHost.ForEachChunk"/> run by this machine's bash: the inventories, the delta run's host listing and the
/// upgrade's link copy hand items to one process per <see cref="SshHost.ChunkSize"/>, each item whole and in order.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ForEachChunkTests
{
    /// <summary>Runs a bash array of <paramref name="items"/> through ForEachChunk into a function that prints its call and
    /// arguments; returns the output's lines.</summary>
    private static List<string> Run(IReadOnlyList<string> items)
    {
        var sb = new StringBuilder("f() { echo \"call $#\"; printf '%s\\n' \"$@\"; }\nx=()\n");
        foreach (var item in items) sb.Append("x+=(").Append(SshHost.ShellQuote(item)).Append(")\n");
        sb.Append(SshHost.ForEachChunk("x", "f {}")).Append('\n');
        var (exit, stdout, stderr) = Processes.RunWithInput("bash", [], sb.ToString());
        Assert.True(exit == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    [Fact]
    public void Items_go_to_one_process_per_chunk_whole_and_in_order()
    {
        // names a shell would split, glob or expand if the items were not quoted
        var items = Enumerable.Range(0, 2 * SshHost.ChunkSize + 201).Select(i => i switch
        {
            0 => "with space",
            1 => "it's",
            2 => "*",
            3 => "$HOME",
            4 => "-n",
            _ => $"{i:x64}",
        }).ToList();
        var lines = Run(items);
        var expected = new List<string>();
        foreach (var chunk in items.Chunk(SshHost.ChunkSize))
        {
            expected.Add($"call {chunk.Length}");
            expected.AddRange(chunk);
        }
        Assert.Equal(expected, lines);
        Assert.Equal(3, lines.Count(l => l.StartsWith("call ", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_empty_array_runs_nothing_and_a_bad_name_or_a_command_without_its_items_is_refused()
    {
        Assert.Empty(Run([]));
        Assert.Equal(["call 1", "one"], Run(["one"]));
        Assert.Throws<ArgumentException>(() => SshHost.ForEachChunk("x y", "stat {}"));
        Assert.Throws<ArgumentException>(() => SshHost.ForEachChunk("x", "stat -- \"$x\""));
    }
}
