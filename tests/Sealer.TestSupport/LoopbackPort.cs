using System.Net;
using System.Net.Sockets;

namespace Sealer.TestSupport;

/// <summary>Ports for a server a test starts as a process of its own (a docker-registry, the native sealer).</summary>
public static class LoopbackPort
{
    /// <summary>A loopback port the kernel just gave out and took back (free now; another process could take it before the
    /// server binds, as with any such probe). Helpers that must stay out of the shared registries' ports use ranges instead
    /// (<see cref="ChartRepoServer"/>).</summary>
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
