using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealer.TestSupport;

/// <summary>
/// A loopback TCP proxy in front of a real registry that records request heads and cuts connections as a flaky network
/// would: a download in the middle of a blob's response (<see cref="CutBlob"/>), or an upload after so many bytes went
/// to the registry (<see cref="CutUploadAfterBytes"/>); or slows responses down to a given rate over all connections
/// (<see cref="ResponseBytesPerSecond"/>), as a slow link would.
/// </summary>
public sealed class CuttingProxy : IDisposable, IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private int _cutsLeft;
    private int _cutsMade;
    private long _uploaded;
    private int _uploadCut;
    private readonly object _paceGate = new();
    private long _paceUntil;

    public CuttingProxy(string targetAddress)
    {
        var parts = targetAddress.Split(':');
        _target = new IPEndPoint(IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accept = AcceptLoop();
    }

    /// <summary>host:port of the proxy on 127.0.0.1.</summary>
    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public string Url => "http://" + Address;

    /// <summary>Downloads: the digest whose GET response gets cut after <see cref="CutAfterBytes"/> response bytes.</summary>
    public string? CutBlob { get; set; }

    public long CutAfterBytes { get; set; } = 1_000_000;

    /// <summary>Downloads: how many more times to cut a response of <see cref="CutBlob"/>.</summary>
    public int CutsLeft { get => Volatile.Read(ref _cutsLeft); set => Volatile.Write(ref _cutsLeft, value); }

    /// <summary>Uploads: cut the link once, after this many bytes (over all connections) went to the registry.</summary>
    public long? CutUploadAfterBytes { get; set; }

    /// <summary>Uploads: cut when the next PATCH request starts after the threshold, before any of it is forwarded (a link
    /// lost between chunks), rather than in the middle of a body.</summary>
    public bool CutAtRequestBoundary { get; set; }

    /// <summary>Downloads: at most this many response bytes per second over all connections (0: as fast as the registry sends).</summary>
    public long ResponseBytesPerSecond { get => Volatile.Read(ref _responseRate); set => Volatile.Write(ref _responseRate, value); }

    private long _responseRate;

    /// <summary>How many connections were cut (downloads and uploads).</summary>
    public int CutsMade => Volatile.Read(ref _cutsMade);

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
                            && Interlocked.Decrement(ref _cutsLeft) >= 0)
                        {
                            Interlocked.Exchange(ref armedLimit, CutAfterBytes);
                        }
                    }
                    if (pending.Length > 64 * 1024) pending.Remove(0, pending.Length - 8 * 1024); // body bytes of an upload
                    if (UploadCut(buf, n) is int forward)
                    {
                        if (forward > 0) { await us.WriteAsync(buf.AsMemory(0, forward), _stop.Token); await us.FlushAsync(_stop.Token); }
                        client.Client.LingerState = new LingerOption(true, 0); // RST, like a dropped link
                        client.Close();
                        upstream.Close();
                        return;
                    }
                    await us.WriteAsync(buf.AsMemory(0, n), _stop.Token);
                }
            });
            var s2c = Task.Run(async () =>
            {
                var buf = new byte[65536];
                int n;
                while ((n = await us.ReadAsync(buf.AsMemory(0, ResponseBytesPerSecond > 0 ? 8192 : buf.Length), _stop.Token)) > 0)
                {
                    await PaceAsync(n);
                    long limit = Interlocked.Read(ref armedLimit);
                    if (limit >= 0)
                    {
                        if (n >= limit)
                        {
                            await cs.WriteAsync(buf.AsMemory(0, (int)limit), _stop.Token);
                            await cs.FlushAsync();
                            Interlocked.Increment(ref _cutsMade);
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

    /// <summary>Waits until <paramref name="n"/> more response bytes fit the rate (a queue over all connections).</summary>
    private async Task PaceAsync(int n)
    {
        long rate = ResponseBytesPerSecond;
        if (rate <= 0) return;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        long end;
        lock (_paceGate)
        {
            end = Math.Max(now, _paceUntil) + n * System.Diagnostics.Stopwatch.Frequency / rate;
            _paceUntil = end;
        }
        var wait = System.Diagnostics.Stopwatch.GetElapsedTime(now, end);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, _stop.Token);
    }

    /// <summary>Null to forward the <paramref name="n"/> bytes read from the client; else cut the link after forwarding that many of them.</summary>
    private int? UploadCut(byte[] buf, int n)
    {
        if (CutUploadAfterBytes is not long threshold) return null;
        long total = Interlocked.Add(ref _uploaded, n);
        if (total <= threshold || Volatile.Read(ref _uploadCut) != 0) return null;
        bool startsPatch = n > 6 && buf.AsSpan(0, 6).SequenceEqual("PATCH "u8);
        if (CutAtRequestBoundary && !startsPatch) return null;
        if (Interlocked.Exchange(ref _uploadCut, 1) != 0) return null;
        Interlocked.Increment(ref _cutsMade);
        return CutAtRequestBoundary ? 0 : n / 2; // nothing of the next request, or half of this buffer
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    public async ValueTask DisposeAsync()
    {
        Dispose();
        try { await _accept.ConfigureAwait(false); } catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }
}
