using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Ssh;

/// <summary>A host's key as it offered it, and what known_hosts says of it.</summary>
public sealed record ScannedHostKey(string Host, int Port, byte[] Key, HostKeyStatus Status)
{
    /// <summary>As OpenSSH prints it: <c>SHA256:...</c>.</summary>
    public string Fingerprint => KnownHosts.Fingerprint(Key);

    /// <summary>e.g. <c>ssh-ed25519</c>.</summary>
    public string KeyType => KnownHosts.KeyType(Key);

    /// <summary>OpenSSH's name of the key type in its prompt (<c>ED25519</c>, <c>RSA</c>, <c>ECDSA</c>).</summary>
    public string KeyKind => KeyType switch
    {
        "ssh-ed25519" => "ED25519",
        "ssh-rsa" => "RSA",
        var t when t.StartsWith("ecdsa-", StringComparison.Ordinal) => "ECDSA",
        var t => t,
    };
}

/// <summary>
/// Reads the key a host offers without logging in and without trusting it (like <c>ssh-keyscan</c>), so a person can be
/// asked about a key known_hosts does not have before anything is sent to the host: the key exchange is stopped right
/// after the host signed it. known_hosts' key types for the host are offered first, as <see cref="SshHost"/> does.
/// </summary>
public static class HostKeyScan
{
    public static async Task<ScannedHostKey> ScanAsync(string host, int port, KnownHosts knownHosts, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var info = new ConnectionInfo(host, port, "sealer-keyscan", new NoneAuthenticationMethod("sealer-keyscan")) { Timeout = timeout, RetryAttempts = 1 };
        var known = knownHosts.KnownKeyTypes(host, port);
        if (known.Count > 0)
        {
            var algos = info.HostKeyAlgorithms;
            var preferred = algos.Where(a => known.Any(k => a.Key == k || (k == "ssh-rsa" && a.Key.StartsWith("rsa-sha2-", StringComparison.Ordinal)))).ToList();
            var rest = algos.Where(a => !preferred.Contains(a)).ToList();
            algos.Clear();
            foreach (var a in preferred.Concat(rest)) algos.Add(a.Key, a.Value);
        }
        byte[]? seen = null;
        using var client = new SshClient(info);
        client.HostKeyReceived += (_, e) =>
        {
            seen = e.HostKey;
            e.CanTrust = false; // never log in: only the key was wanted
        };
        string name = KnownHosts.HostName(host, port);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout + TimeSpan.FromSeconds(5));
            await client.ConnectAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (seen is not null && ex is SshException or InvalidOperationException)
        {
            // the key exchange stopped because the key was not trusted: what was wanted
        }
        catch (SocketException ex)
        {
            throw new SealerException(ErrorCodes.SshUnreachable, $"Cannot reach {name}: {ex.Message}. Check the address, the SSH port and that sshd runs.", inner: ex);
        }
        catch (Exception ex) when (ex is SshException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SealerException(ErrorCodes.SshUnreachable, $"Cannot reach {name}: {ex.Message}. Check the address, the SSH port and that sshd runs.", inner: ex);
        }
        if (seen is null) throw new SealerException(ErrorCodes.SshUnreachable, $"{name} offered no host key. Check that sshd runs on that port.");
        return new ScannedHostKey(host, port, seen, knownHosts.Check(host, port, seen));
    }

    /// <summary>Every host at once.</summary>
    public static async Task<IReadOnlyList<(string Host, ScannedHostKey? Key, SealerException? Error)>> ScanAllAsync(IReadOnlyList<string> hosts, int port, KnownHosts knownHosts, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var tasks = hosts.Select(async h =>
        {
            try
            {
                return (h, (ScannedHostKey?)await ScanAsync(h, port, knownHosts, timeout, cancellationToken).ConfigureAwait(false), (SealerException?)null);
            }
            catch (SealerException ex)
            {
                return (h, null, ex);
            }
        }).ToList();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
