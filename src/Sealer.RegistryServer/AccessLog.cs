using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Sealer.RegistryServer;

/// <summary>
/// One line per request, in the common log format plus the duration, written by a background task so requests never wait
/// on the console or disk: <c>127.0.0.1 - user [25/Nov/2026:09:30:00 +0000] "GET /v2/... HTTP/1.1" 200 1234 0.002</c>.
/// The query (which may carry ns) is logged; credentials never are.
/// </summary>
public sealed class AccessLog : IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(65536) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private readonly Task _pump;

    public AccessLog(TextWriter writer, bool ownsWriter)
    {
        _writer = writer;
        _ownsWriter = ownsWriter;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>"-" is stdout; anything else a file appended to.</summary>
    public static AccessLog Open(string destination)
        => destination == "-"
            ? new AccessLog(Console.Out, ownsWriter: false)
            : new AccessLog(new StreamWriter(new FileStream(destination, FileMode.Append, FileAccess.Write, FileShare.Read)), ownsWriter: true);

    public void Write(HttpContext ctx, string? user, TimeSpan elapsed)
    {
        var req = ctx.Request;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{ctx.Connection.RemoteIpAddress} - {user ?? "-"} [{DateTimeOffset.UtcNow:dd/MMM/yyyy:HH:mm:ss} +0000] \"{req.Method} {req.Path}{req.QueryString} {req.Protocol}\" {ctx.Response.StatusCode} {ctx.Response.ContentLength ?? 0} {elapsed.TotalSeconds:0.000}");
        _lines.Writer.TryWrite(line);
    }

    private async Task PumpAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line)) await _writer.WriteLineAsync(line).ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        if (_ownsWriter) await _writer.DisposeAsync().ConfigureAwait(false);
    }
}
