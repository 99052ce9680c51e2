namespace Sealer.TestSupport;

/// <summary>A tmux server of the test's own (its socket under the work directory): real terminals to type into and read
/// (the guided run), and whose raw output can be recorded (<see cref="Record"/>: live progress lines redrawn in place).</summary>
public sealed class Tmux(string socket, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);

    public void Start(string dir, string command, string window = "main")
    {
        var r = window == "main"
            ? Run("new-session", "-d", "-s", "guided", "-n", window, "-x", "160", "-y", "50", "-c", dir, command)
            : Run("new-window", "-t", "guided", "-n", window, "-c", dir, command);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    public void Keys(params string[] keys) => Keys("main", keys);

    /// <summary>Types <paramref name="text"/> literally, without Enter.</summary>
    public void Type(string text, string window = "main") => Keys(window, ["-l", text]);

    private void Keys(string window, string[] keys)
    {
        var r = Run(["send-keys", "-t", "guided:" + window, .. keys]);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    /// <summary>Waits for the prompt <paramref name="prompt"/> to appear (once more than before), then types <paramref name="answer"/> and Enter.</summary>
    public void Answer(string prompt, string answer, string window = "main")
    {
        _seen.TryGetValue(window + prompt, out int n);
        WaitFor(prompt, occurrence: n + 1, window: window);
        _seen[window + prompt] = n + 1;
        if (answer.Length > 0) Keys(window, ["-l", answer]);
        Keys(window, ["Enter"]);
    }

    /// <summary>Appends everything the window's program writes, control characters and all, to <paramref name="file"/>.</summary>
    public void Record(string file, string window = "main")
    {
        var r = Run("pipe-pane", "-o", "-t", "guided:" + window, $"cat >> '{file}'");
        Assert.True(r.ExitCode == 0, r.Output);
    }

    public string WaitFor(string text, TimeSpan? timeout = null, int occurrence = 1, string window = "main")
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        string screen = "";
        while (DateTime.UtcNow < until)
        {
            screen = Capture(window);
            if (Count(screen, text) >= occurrence) return screen;
            if (screen.Contains("error SEA", StringComparison.Ordinal) && !text.Contains("exit=", StringComparison.Ordinal)) break;
            Thread.Sleep(300);
        }
        log.WriteLine(screen);
        throw new Xunit.Sdk.XunitException($"'{text}' (#{occurrence}) did not appear on the terminal; the screen:\n{screen}");
    }

    /// <summary>The whole terminal: what scrolled off and the visible screen, without colours.</summary>
    private string Capture(string window)
    {
        var r = Run("capture-pane", "-p", "-J", "-S", "-2000", "-t", "guided:" + window);
        return r.StdOut;
    }

    private static int Count(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private ProcessResult Run(params string[] args) => Processes.Run("tmux", ["-S", socket, .. args], null, [new("TERM", "xterm-256color")], 30_000);

    public void Dispose()
    {
        try
        {
            log.WriteLine(Capture("main"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            // no server left
        }
        Run("kill-server");
    }
}
