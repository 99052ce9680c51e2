using System.Diagnostics;

namespace Sealer.TestSupport;

/// <summary>What a child process printed and how it ended.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Standard output, then standard error.</summary>
    public string Output => StdOut + StdErr;

    /// <summary>
    /// <c>var (code, output) = Processes.Run(...)</c>: the exit code, and stdout when the tool succeeded (to parse: a
    /// warning on stderr must not break skopeo's JSON) or stdout+stderr when it failed (to show).
    /// </summary>
    public void Deconstruct(out int exitCode, out string output)
    {
        exitCode = ExitCode;
        output = ExitCode == 0 ? StdOut : Output;
    }
}

/// <summary>
/// Runs the real tools tests compare against (skopeo, umoci, zstd, helm, mount, dotnet, bash, the sealer CLI) and captures their output:
/// stdin closed (or fed the bytes given to <see cref="RunWithInput"/>), both streams read concurrently (no pipe deadlock),
/// killed with its children after a timeout.
/// </summary>
public static class Processes
{
    /// <summary>Five minutes: a `dotnet build` of a sample on a busy machine.</summary>
    public const int DefaultTimeoutMs = 300_000;

    /// <summary>Whether <paramref name="tool"/> is an executable file on PATH.</summary>
    public static bool OnPath(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, tool)));

    /// <summary>Runs <paramref name="file"/> with one argument per element (no quoting rules).</summary>
    public static ProcessResult Run(string file, params string[] args) => Run(file, args, workDir: null, env: null);

    /// <summary>Runs <paramref name="file"/>; <paramref name="env"/> sets variables (a null value removes one).</summary>
    public static ProcessResult Run(string file, IEnumerable<string> args, string? workDir, IEnumerable<KeyValuePair<string, string?>>? env, int timeoutMs = DefaultTimeoutMs)
    {
        var psi = new ProcessStartInfo(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Run(psi, workDir, env, timeoutMs);
    }

    /// <summary>Runs <paramref name="file"/> with a command-line string (split as .NET splits arguments: spaces, double quotes).</summary>
    public static ProcessResult RunCommandLine(string file, string arguments, string? workDir = null, IEnumerable<KeyValuePair<string, string?>>? env = null, int timeoutMs = DefaultTimeoutMs)
        => Run(new ProcessStartInfo(file, arguments), workDir, env, timeoutMs);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="input"/> on its standard input, then end of file: the way a host
    /// script reads what sealer sends it (a script too large for one <c>bash -c</c> argument, or one that reads a stream).
    /// A process that stops reading early is not an error here: its exit code and stderr say why.
    /// </summary>
    public static ProcessResult RunWithInput(string file, IEnumerable<string> args, ReadOnlyMemory<byte> input, IEnumerable<KeyValuePair<string, string?>>? env = null, int timeoutMs = DefaultTimeoutMs)
    {
        var psi = new ProcessStartInfo(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Run(psi, workDir: null, env, timeoutMs, input);
    }

    /// <inheritdoc cref="RunWithInput(string, IEnumerable{string}, ReadOnlyMemory{byte}, IEnumerable{KeyValuePair{string, string?}}?, int)"/>
    public static ProcessResult RunWithInput(string file, IEnumerable<string> args, string input, IEnumerable<KeyValuePair<string, string?>>? env = null, int timeoutMs = DefaultTimeoutMs)
        => RunWithInput(file, args, System.Text.Encoding.UTF8.GetBytes(input), env, timeoutMs);

    private static ProcessResult Run(ProcessStartInfo psi, string? workDir, IEnumerable<KeyValuePair<string, string?>>? env, int timeoutMs, ReadOnlyMemory<byte> input = default)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        psi.UseShellExecute = false;
        psi.WorkingDirectory = workDir ?? Environment.CurrentDirectory;
        foreach (var (key, value) in env ?? [])
        {
            if (value is null) psi.Environment.Remove(key);
            else psi.Environment[key] = value;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var fed = Feed(p.StandardInput, input);
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)}{psi.Arguments} did not finish in {timeoutMs / 1000} s");
        }
        p.WaitForExit(); // the end of both streams
        fed.Wait();
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Writes <paramref name="input"/> (on a worker: the child may fill its output pipes before it reads), then
    /// closes the stream; a child that exits before reading all of it breaks the pipe, which is its business.</summary>
    private static Task Feed(StreamWriter stdin, ReadOnlyMemory<byte> input)
    {
        if (input.IsEmpty)
        {
            Close(stdin);
            return Task.CompletedTask;
        }
        return Task.Run(async () =>
        {
            try { await stdin.BaseStream.WriteAsync(input); }
            catch (IOException) { /* the child stopped reading */ }
            Close(stdin);
        });
    }

    private static void Close(StreamWriter stdin)
    {
        try { stdin.Close(); }
        catch (IOException) { /* already broken: the child exited */ }
    }
}
