using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealer.Distribution.Tests.Distribution;

/// <summary>
/// A loopback TCP proxy in front of a real registry that records request heads and can cut the connection in the middle
/// of a blob's response (after <see cref="CutAfterBytes"/> response bytes), as a flaky network would.
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private int _cuts;

    public CuttingProxy(string targetAddress)
    {
        var parts = targetAddress.Split(':');
        _target = new IPEndPoint(IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _ = AcceptLoop();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Digest whose GET response gets cut.</summary>
    public string? CutBlob { get; set; }

    public long CutAfterBytes { get; set; } = 1_000_000;

    /// <summary>How many more times to cut.</summary>
    public int Cuts { get => Volatile.Read(ref _cuts); set => Volatile.Write(ref _cuts, value); }

    /// <summary>Request heads (request line and headers) seen, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Serve(client);
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
            var cs = client.GetStream();
            var us = upstream.GetStream();
            long armedLimit = -1; // response bytes still allowed; -1 = not armed
            var pending = new StringBuilder();
            var c2s = Task.Run(async () =>
            {
                var buf = new byte[65536];
                int n;
                while ((n = await cs.ReadAsync(buf, _stop.Token)) > 0)
                {
                    pending.Append(Encoding.Latin1.GetString(buf, 0, n));
                    int end;
                    while ((end = pending.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
                    {
                        string head = pending.ToString(0, end);
                        pending.Remove(0, end + 4);
                        Requests.Enqueue(head);
                        if (CutBlob is not null && head.StartsWith("GET ", StringComparison.Ordinal) && head.Contains("/blobs/" + CutBlob, StringComparison.Ordinal)
                            && Interlocked.Decrement(ref _cuts) >= 0)
                        {
                            Interlocked.Exchange(ref armedLimit, CutAfterBytes);
                        }
                    }
                    await us.WriteAsync(buf.AsMemory(0, n), _stop.Token);
                }
            });
            var s2c = Task.Run(async () =>
            {
                var buf = new byte[65536];
                int n;
                while ((n = await us.ReadAsync(buf, _stop.Token)) > 0)
                {
                    long limit = Interlocked.Read(ref armedLimit);
                    if (limit >= 0)
                    {
                        if (n >= limit)
                        {
                            await cs.WriteAsync(buf.AsMemory(0, (int)limit), _stop.Token);
                            await cs.FlushAsync();
                            client.Client.Shutdown(SocketShutdown.Both); // cut mid-body
                            client.Close();
                            upstream.Close();
                            return;
                        }
                        Interlocked.Add(ref armedLimit, -n);
                    }
                    await cs.WriteAsync(buf.AsMemory(0, n), _stop.Token);
                }
            });
            await Task.WhenAny(c2s, s2c);
        }
        catch (Exception)
        {
            // connection ended
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
