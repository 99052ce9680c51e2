using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Layout;

namespace Sealer.Core.Delivery;

/// <summary>
/// What a run leaves on this machine besides its state (next to <c>state.json</c> in <c>~/.sealer/CLUSTER/</c>), for
/// whoever diagnoses it later (<c>sealer support-bundle</c>): <c>run.log</c>, every status line of run, join, check and
/// delete with its time (kept under <see cref="MaxLogBytes"/>: the older half moves to <c>run.log.1</c>), and
/// <c>last-failure.json</c>, the step and hosts of the last failed run (removed when a run finishes).
/// </summary>
public static class RunRecord
{
    public const long MaxLogBytes = 4 << 20;

    private static readonly Lock Gate = new();

    public static string LogPath(string stateFile) => Path.Combine(Path.GetDirectoryName(stateFile)!, "run.log");

    public static string FailurePath(string stateFile) => Path.Combine(Path.GetDirectoryName(stateFile)!, "last-failure.json");

    /// <summary>Appends a status line (best effort: a log that cannot be written never fails a run).</summary>
    public static void Append(string stateFile, string line)
    {
        string log = LogPath(stateFile);
        lock (Gate)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(log)!);
                if (File.Exists(log) && new FileInfo(log).Length > MaxLogBytes) File.Move(log, log + ".1", overwrite: true);
                File.AppendAllText(log, $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}\n");
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    public static void SaveFailure(string stateFile, RunFailure failure)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(stateFile)!);
            AtomicFile.WriteAllBytes(FailurePath(stateFile), JsonSerializer.SerializeToUtf8Bytes(failure, DeliveryJsonContext.Default.RunFailure));
        }
        catch (IOException)
        {
        }
    }

    public static void ClearFailure(string stateFile)
    {
        try
        {
            File.Delete(FailurePath(stateFile));
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The last failure recorded for the cluster whose state is <paramref name="stateFile"/>; null when none (or unreadable).</summary>
    public static RunFailure? LoadFailure(string stateFile)
    {
        try
        {
            return File.Exists(FailurePath(stateFile)) ? JsonSerializer.Deserialize(File.ReadAllBytes(FailurePath(stateFile)), DeliveryJsonContext.Default.RunFailure) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}

/// <summary>The last failed run: where (step, hosts) and why (code, message with the command's last output lines).</summary>
public sealed class RunFailure
{
    [JsonPropertyName("at")] public string At { get; set; } = "";
    /// <summary>The step that failed (null: before any step, e.g. preflight or connecting).</summary>
    [JsonPropertyName("step")] public string? Step { get; set; }
    [JsonPropertyName("hosts")] public List<string> Hosts { get; set; } = [];
    [JsonPropertyName("code")] public string Code { get; set; } = "";
    [JsonPropertyName("message")] public string Message { get; set; } = "";
}
