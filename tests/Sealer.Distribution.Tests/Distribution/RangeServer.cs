using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealer.Distribution.Tests.Distribution;

/// <summary>
/// A minimal HTTP/1.1 blob server on loopback (one request per connection) for the faults a real registry does not
/// produce: it can ignore Range, answer one range with wrong bytes or with another range than asked, close one range's
/// connection half-way (the body ends before its Content-Length), or send slowly. Every request's Range header (or null) is recorded.
/// </summary>
internal sealed class RangeServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly byte[] _blob;
    private int _dropsLeft;
    private int _open;
    private int _maxOpen;

    public RangeServer(byte[] blob)
    {
        _blob = blob;
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Range headers of the blob GETs, in arrival order (null: no Range).</summary>
    public ConcurrentQueue<string?> Ranges { get; } = new();

    /// <summary>The most requests this server was answering at the same time.</summary>
    public int MaxConcurrent => Volatile.Read(ref _maxOpen);

    /// <summary>Answer every request with 200 and the whole blob.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>The range starting here gets flipped bytes (same length, right Content-Range).</summary>
    public long? CorruptRangeAt { get; set; }

    /// <summary>The range starting here is answered as if it started 1 byte later (Content-Range says so).</summary>
    public long? ShiftedRangeAt { get; set; }

    /// <summary>A range ending here (the first request for it, or a resumed one) is cut after half its bytes, <see cref="Drops"/> times.</summary>
    public long? DropRangeEndingAt { get; set; }

    public int Drops { set => _dropsLeft = value; }

    /// <summary>Pause between 64 KiB pieces of a body.</summary>
    public TimeSpan SendDelay { get; set; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            bool headRead = false;
            try
            {
                var stream = client.GetStream();
                string head = await ReadHeadAsync(stream);
                headRead = true;
                int open = Interlocked.Increment(ref _open);
                for (int max = _maxOpen; open > max && Interlocked.CompareExchange(ref _maxOpen, open, max) != max; max = _maxOpen) { }
                string? range = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
                Ranges.Enqueue(range);
                long from = 0, to = _blob.Length - 1;
                bool partial = false;
                if (range is not null && !IgnoreRange)
                {
                    var parts = range["bytes=".Length..].Split('-');
                    from = long.Parse(parts[0], CultureInfo.InvariantCulture);
                    if (parts[1].Length > 0) to = Math.Min(to, long.Parse(parts[1], CultureInfo.InvariantCulture));
                    partial = true;
                }
                long sentFrom = ShiftedRangeAt == from && partial ? from + 1 : from;
                byte[] body = _blob.AsSpan((int)sentFrom, (int)(to - sentFrom + 1)).ToArray();
                if (partial && CorruptRangeAt == from) for (int i = 0; i < body.Length; i += 4096) body[i] ^= 0xFF;
                var sb = new StringBuilder();
                sb.Append(partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n");
                sb.Append("Content-Type: application/octet-stream\r\nConnection: close\r\n");
                sb.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
                if (partial) sb.Append(CultureInfo.InvariantCulture, $"Content-Range: bytes {sentFrom}-{to}/{_blob.Length}\r\n");
                sb.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), _stop.Token);
                int limit = body.Length;
                if (partial && DropRangeEndingAt == to && Interlocked.Decrement(ref _dropsLeft) >= 0) limit = body.Length / 2;
                for (int off = 0; off < limit; off += 65536)
                {
                    await stream.WriteAsync(body.AsMemory(off, Math.Min(65536, limit - off)), _stop.Token);
                    if (SendDelay > TimeSpan.Zero) await Task.Delay(SendDelay, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away (or we are stopping).
            }
            finally
            {
                if (headRead) Interlocked.Decrement(ref _open);
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (!(buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("connection closed before the request head ended");
            buffer.Add(one[0]);
        }
        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}
