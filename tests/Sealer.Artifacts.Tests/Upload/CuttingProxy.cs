using System.Net;
using System.Net.Sockets;

namespace Sealer.Artifacts.Tests.Upload;

/// <summary>
/// A loopback TCP proxy in front of a registry that cuts (resets) the connection once, after
/// <paramref name="cutAfterBytes"/> bytes went from the client to the registry: an interrupted upload, for real.
/// </summary>
public sealed class CuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _cts = new();
    private long _upstreamBytes;
    private long _cutAfter;
    private int _cuts;
    private readonly Task _accept;
    private readonly bool _atBoundary;

    /// <param name="atRequestBoundary">Cut when the next PATCH request starts after the threshold (before any of it is
    /// forwarded: a link lost between chunks), rather than in the middle of a body.</param>
    public CuttingProxy(string target, long cutAfterBytes, bool atRequestBoundary = false)
    {
        _atBoundary = atRequestBoundary;
        var parts = target.Split(':');
        _target = new IPEndPoint(IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        _cutAfter = cutAfterBytes;
        _listener.Start();
        _accept = AcceptLoop();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>How many connections were cut.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    private async Task AcceptLoop()
    {
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                _ = Task.Run(() => Pump(client));
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
        catch (SocketException) { }
    }

    private async Task Pump(TcpClient client)
    {
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_target, _cts.Token);
            using var cs = client.GetStream();
            using var ss = server.GetStream();
            using var conn = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
            var up = Copy(cs, ss, upstream: true, conn);
            var down = Copy(ss, cs, upstream: false, conn);
            await Task.WhenAny(up, down);
            conn.Cancel();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException) { }
        finally
        {
            client.Client.LingerState = new LingerOption(true, 0); // RST, like a dropped link
            client.Dispose();
        }
    }

    private async Task Copy(NetworkStream from, NetworkStream to, bool upstream, CancellationTokenSource conn)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await from.ReadAsync(buffer, conn.Token);
            if (n == 0) return;
            if (upstream)
            {
                long total = Interlocked.Add(ref _upstreamBytes, n);
                bool startsPatch = n > 6 && buffer.AsSpan(0, 6).SequenceEqual("PATCH "u8);
                if (_atBoundary && startsPatch && total > Interlocked.Read(ref _cutAfter))
                {
                    Interlocked.Exchange(ref _cutAfter, long.MaxValue);
                    Interlocked.Increment(ref _cuts);
                    return; // nothing of this request reaches the registry
                }
                if (!_atBoundary && total > Interlocked.Read(ref _cutAfter))
                {
                    Interlocked.Exchange(ref _cutAfter, long.MaxValue);
                    Interlocked.Increment(ref _cuts);
                    // Forward part of this buffer, then drop the link.
                    await to.WriteAsync(buffer.AsMemory(0, n / 2), conn.Token);
                    await to.FlushAsync(conn.Token);
                    return;
                }
            }
            await to.WriteAsync(buffer.AsMemory(0, n), conn.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _listener.Stop();
        try { await _accept; } catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
        _cts.Dispose();
    }
}
