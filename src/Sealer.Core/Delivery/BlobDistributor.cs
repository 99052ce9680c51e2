using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;

namespace Sealer.Core.Delivery;

/// <summary>
/// Progress of a distribution: bytes over all hosts, hosts finished; and the bytes <paramref name="Host"/> (the host this
/// report is about, if any) received of what it lacked.
/// </summary>
public sealed record TransferProgress(long BytesDone, long BytesTotal, int HostsDone, int HostsTotal, string? Host, string? Source, long HostBytesDone = 0, long HostBytesTotal = 0);

/// <summary>
/// What one host got: bytes from this machine, bytes relayed from another host, blobs it already had; <paramref name="Transport"/>
/// says how this machine streamed to it (<c>openssh</c>: the system ssh client, <c>ssh.net</c>: the managed client, <c>none</c>).
/// </summary>
public sealed record HostTransfer(string Host, long BytesFromController, long BytesRelayed, int BlobsSkipped, int BlobsSent, string? RelayedFrom, string Transport = "none");

/// <summary>A host and the blobs it needs (a registry host needs the app image content, the others only the rootfs).</summary>
public sealed record HostBlobs(SshHost Host, IReadOnlyList<Descriptor> Blobs);

public sealed record DistributionOptions
{
    /// <summary>How many hosts this machine streams to at once (each relaying host serves one more).</summary>
    public int Parallelism { get; init; } = 3;

    /// <summary>Let hosts that already have the blobs copy them to the others over the site network (saves this machine's uplink).</summary>
    public bool Relay { get; init; } = true;

    /// <summary>
    /// Stream big blobs from this machine through the system OpenSSH client (pinned to the host key SSH.NET verified) when
    /// the host allows it (<see cref="SshHost.SystemSshUnusableReason"/>); false: always SSH.NET.
    /// </summary>
    public bool SystemSsh { get; init; } = true;

    /// <summary>Blobs smaller than this go over the existing SSH.NET connection (a new ssh process costs a handshake).</summary>
    public long SystemSshMinBytes { get; init; } = 4L << 20;

    /// <summary>
    /// Blobs smaller than this (sent whole, not resumed, over SSH.NET: see <see cref="SystemSshMinBytes"/>) go to a host many at a time over one SSH channel, hashed in one
    /// process per batch (<see cref="BlobDistributor.BatchReceiveScript"/>): a project with thousands of small layers would
    /// otherwise pay a channel, a shell and a hash process per blob. 0: every blob on its own channel.
    /// </summary>
    public long BatchBlobMaxBytes { get; init; } = 4L << 20;

    /// <summary>At most this many blobs, and <see cref="BatchMaxBytes"/> bytes, in one batch.</summary>
    public int BatchMaxBlobs { get; init; } = 256;

    public long BatchMaxBytes { get; init; } = 32L << 20;

    /// <summary>
    /// How many blobs (or batches) one host receives at once, from this machine or from a relay. A host checks a blob's
    /// sha256 after all of it arrived (<see cref="BlobDistributor.ReceiveScript"/>), and with one stream the host received
    /// nothing meanwhile: the second streams while the host hashes the first. 1: one at a time.
    /// </summary>
    public int StreamsPerHost { get; init; } = 2;

    public IProgress<TransferProgress>? Progress { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Test hook: called after each blob a host received from this machine (e.g. to inject a failure).</summary>
    internal Action<string, Descriptor>? AfterBlob { get; init; }
}

/// <summary>
/// Puts the cluster image's layer blobs into each host's content store (<c>&lt;store&gt;/blobs/sha256/&lt;hex&gt;</c>):
/// <list type="bullet">
/// <item>each host gets its own list (<see cref="HostBlobs"/>): registry hosts the app image content, the others only the rootfs;</item>
/// <item>only what a host lacks, by digest (one inventory command per host);</item>
/// <item>each blob streams over one SSH exec channel into <c>cat &gt;&gt; ingest/&lt;hex&gt;</c> (no SFTP, no per-file round trips),
/// resuming a partial file from its length; the host checks size and sha256 before moving it into place, so the store
/// never holds a wrong blob. Big blobs go through the system OpenSSH client when possible (about 2x the managed client's
/// throughput), pinned to the host key this machine verified;</item>
/// <item>bounded parallelism, progress in bytes and hosts; the hosts needing most go first;</item>
/// <item>relay: a host that has everything another host lacks serves it directly (ssh between hosts with a one-time key that is
/// authorized only from the serving host and removed afterwards; the target's host key is pinned to the one this machine
/// verified), so N hosts do not cost N times this machine's uplink. A relay that fails falls back to this machine.</item>
/// </list>
/// </summary>
public sealed class BlobDistributor(ClusterImageSource image, string store, DistributionOptions? options = null)
{
    private readonly DistributionOptions _options = options ?? new DistributionOptions();
    private long _bytesDone;
    private long _bytesTotal;
    private int _hostsDone;
    private int _hostsTotal;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _hostDone = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _hostTotal = new(StringComparer.Ordinal);

    public string Store { get; } = store.TrimEnd('/');

    /// <summary>Every host gets the same <paramref name="blobs"/>.</summary>
    public Task<IReadOnlyList<HostTransfer>> DistributeAsync(IReadOnlyList<SshHost> hosts, IReadOnlyList<Descriptor> blobs, CancellationToken cancellationToken = default) =>
        DistributeAsync(hosts.Select(h => new HostBlobs(h, blobs)).ToList(), cancellationToken);

    public async Task<IReadOnlyList<HostTransfer>> DistributeAsync(IReadOnlyList<HostBlobs> targets, CancellationToken cancellationToken = default)
    {
        // 1. inventory, in parallel
        var inventories = await Task.WhenAll(targets.Select(t => InventoryAsync(t.Host, t.Blobs, cancellationToken))).ConfigureAwait(false);
        var pending = new List<Pending>();
        var results = new List<HostTransfer>();
        var complete = new List<HostBlobs>();
        for (int i = 0; i < targets.Count; i++)
        {
            var missing = inventories[i];
            if (missing.Count == 0)
            {
                results.Add(new HostTransfer(targets[i].Host.Address, 0, 0, targets[i].Blobs.Count, 0, null));
                complete.Add(targets[i]);
            }
            else
            {
                long bytes = targets[i].Blobs.Where(b => missing.ContainsKey(b.ParsedDigest.Encoded)).Sum(b => b.Size - missing[b.ParsedDigest.Encoded]);
                pending.Add(new Pending(targets[i], missing, bytes));
                _hostTotal[targets[i].Host.Address] = bytes;
            }
        }
        _hostsTotal = targets.Count;
        _hostsDone = results.Count;
        _bytesTotal = pending.Sum(p => p.Bytes);
        Report(null, null);
        if (pending.Count == 0) return results;

        // 2. schedule: the hosts needing most first; this machine serves up to Parallelism hosts at once; every host that
        // finished serves one more host whose missing blobs it holds.
        var queue = pending.OrderByDescending(p => p.Bytes).ToList();
        var running = new List<Task<(HostTransfer Result, SshHost? Source)>>();
        var freeRelays = new List<HostBlobs>(_options.Relay ? complete.Where(c => CanRelay(c.Host)) : []);
        int controllerSlots = Math.Max(1, _options.Parallelism);
        string? relayId = _options.Relay && pending.Count > 1 ? "sealer-relay-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) : null;
        RelayKey? key = relayId is null ? null : RelayKey.Create(relayId);
        var touched = new HashSet<SshHost>();
        try
        {
            while (queue.Count > 0 || running.Count > 0)
            {
                for (int q = 0; q < queue.Count && (freeRelays.Count > 0 || controllerSlots > 0);)
                {
                    var next = queue[q];
                    // the relay that holds what the target lacks and holds least else (keep the full ones for the hosts that need them)
                    var source = key is null || !CanRelay(next.Target.Host) ? null
                        : freeRelays.Where(r => Covers(r, next.Missing)).OrderBy(r => r.Blobs.Count).FirstOrDefault();
                    if (source is not null)
                    {
                        freeRelays.Remove(source);
                        touched.Add(source.Host);
                        touched.Add(next.Target.Host);
                        running.Add(RelayOrFallbackAsync(source.Host, next.Target.Host, next.Target.Blobs, next.Missing, key!, cancellationToken));
                    }
                    else if (controllerSlots > 0)
                    {
                        controllerSlots--;
                        running.Add(FromControllerAsync(next.Target.Host, next.Target.Blobs, next.Missing, cancellationToken));
                    }
                    else
                    {
                        q++; // no relay holds what this one lacks: wait for a controller slot, try the next host
                        continue;
                    }
                    queue.RemoveAt(q);
                }
                if (running.Count == 0) break;
                var done = await Task.WhenAny(running).ConfigureAwait(false);
                running.Remove(done);
                var (result, src) = await done.ConfigureAwait(false); // throws the host's coded error
                results.Add(result);
                Interlocked.Increment(ref _hostsDone);
                Report(result.Host, null);
                if (src is null) controllerSlots++;
                else freeRelays.Add(targets.First(t => t.Host == src));
                var finished = targets.First(t => t.Host.Address == result.Host);
                if (key is not null && CanRelay(finished.Host)) freeRelays.Add(finished);
            }
        }
        finally
        {
            if (key is not null && touched.Count > 0)
            {
                await Task.WhenAll(touched.Select(h => CleanupRelayAsync(h, key))).ConfigureAwait(false);
            }
            foreach (var t in targets) t.Host.StopSystemSsh(); // the master connections of the system ssh client
        }
        return results;
    }

    private sealed record Pending(HostBlobs Target, Dictionary<string, long> Missing, long Bytes);

    private static bool Covers(HostBlobs source, Dictionary<string, long> missing) =>
        missing.Keys.All(hex => source.Blobs.Any(b => b.ParsedDigest.Encoded == hex));

    private static bool CanRelay(SshHost h) => h.IsRoot || h.Spec.Password is null;

    private void Report(string? host, string? source) =>
        _options.Progress?.Report(new TransferProgress(Interlocked.Read(ref _bytesDone), _bytesTotal, _hostsDone, _hostsTotal, host, source,
            host is null ? 0 : _hostDone.GetValueOrDefault(host), host is null ? 0 : _hostTotal.GetValueOrDefault(host)));

    /// <summary><paramref name="n"/> more bytes arrived at <paramref name="host"/>.</summary>
    private void Add(string host, long n)
    {
        Interlocked.Add(ref _bytesDone, n);
        _hostDone.AddOrUpdate(host, n, (_, v) => v + n);
    }

    private string BlobPath(string hex) => $"{Store}/blobs/sha256/{hex}";

    /// <summary>
    /// The bytes <paramref name="host"/> lacks of <paramref name="blobs"/> (a partial blob counts what is missing) and how many
    /// blobs: the same inventory as <see cref="DistributeAsync(IReadOnlyList{HostBlobs}, CancellationToken)"/>, changing nothing on the host.
    /// </summary>
    public async Task<(long Bytes, int Blobs)> MissingAsync(SshHost host, IReadOnlyList<Descriptor> blobs, CancellationToken cancellationToken = default)
    {
        var missing = await InventoryAsync(host, blobs, cancellationToken, readOnly: true).ConfigureAwait(false);
        return (blobs.Where(b => missing.ContainsKey(b.ParsedDigest.Encoded)).DistinctBy(b => b.Digest).Sum(b => b.Size - missing[b.ParsedDigest.Encoded]), missing.Count);
    }

    /// <summary>hex → bytes already in ingest/ (0 for none), for the blobs the host lacks.</summary>
    private async Task<Dictionary<string, long>> InventoryAsync(SshHost host, IReadOnlyList<Descriptor> blobs, CancellationToken cancellationToken, bool readOnly = false)
    {
        var sb = new StringBuilder();
        sb.Append("s=").Append(SshHost.ShellQuote(Store)).Append('\n');
        if (!readOnly) sb.Append("mkdir -p \"$s/blobs/sha256\" \"$s/ingest\"\n");
        // present blobs and partial ones gathered by the shell (no process), then sized ChunkSize to a stat: a stat per blob
        // took ~5 ms here, 17 s per host holding 2,129 blobs before a resume, an upgrade or a join (RESULTS, 2026-12-05)
        sb.Append("d=(); p=()\nfor h in");
        foreach (var b in blobs) sb.Append(' ').Append(b.ParsedDigest.Encoded);
        sb.Append("; do\n  if [ -f \"$s/blobs/sha256/$h\" ]; then d+=(\"$h\"); elif [ -f \"$s/ingest/$h\" ]; then p+=(\"$h\"); fi\ndone\n");
        sb.Append(SshHost.ForEachChunk("d", "(cd \"$s/blobs/sha256\" && stat -c '%n done %s' -- {}) || true")).Append('\n');
        sb.Append(SshHost.ForEachChunk("p", "(cd \"$s/ingest\" && stat -c '%n partial %s' -- {}) || true")).Append('\n');
        var r = await host.RunAsync(sb.ToString(), new CommandOptions { Description = "inventory of the content store", Timeout = TimeSpan.FromMinutes(2) }, cancellationToken).ConfigureAwait(false);
        // every blob is missing unless the host said it holds all of it (a line lost, a file gone between test and stat: sent)
        var missing = new Dictionary<string, long>(StringComparer.Ordinal);
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var b in blobs)
        {
            sizes[b.ParsedDigest.Encoded] = b.Size;
            missing[b.ParsedDigest.Encoded] = 0;
        }
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || !sizes.TryGetValue(parts[0], out long size) || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long have)) continue;
            if (parts[1] == "done" && have == size) missing.Remove(parts[0]);
            else if (parts[1] == "partial" && have < size && missing.ContainsKey(parts[0])) missing[parts[0]] = have;
        }
        return missing;
    }

    /// <summary>The script a receiving host runs: append stdin to ingest/hex, check size and digest, move into place.</summary>
    internal string ReceiveScript(string hex, long size, long offset) =>
        $"s={SshHost.ShellQuote(Store)}; h={hex}; f=\"$s/ingest/$h\"; mkdir -p \"$s/ingest\" \"$s/blobs/sha256\"; " +
        // OpenSSL's sha256 uses the CPU's SHA extensions (~3x coreutils' sha256sum, which capped a host at ~260 MB/s here)
        "if command -v openssl >/dev/null 2>&1; then H() { openssl dgst -sha256 -r \"$@\"; }; else H() { sha256sum \"$@\"; }; fi; " +
        (offset == 0 ? ": > \"$f\"; " : $"[ \"$(stat -c %s \"$f\" 2>/dev/null || echo 0)\" = {offset} ] || {{ echo \"partial blob changed size; restarting it\" >&2; rm -f \"$f\"; exit 75; }}; ") +
        // hashed once it is all there, from the page cache: `tee | H` while it arrived cost twice the CPU on the host (a
        // pipe more, small reads: 4.2-4.8 vs 2.1-2.2 CPU s per GiB measured, build/bench/RESULTS.md), which the transfer
        // itself needs on a small host
        "cat >> \"$f\"; n=$(stat -c %s \"$f\"); " +
        $"if [ \"$n\" != {size} ]; then echo \"blob $h: got $n of {size} bytes\" >&2; exit 74; fi; " +
        "d=$(H \"$f\" | cut -c1-64); if [ \"$d\" != \"$h\" ]; then rm -f \"$f\"; echo \"blob $h arrived with digest sha256:$d\" >&2; exit 73; fi; " +
        "mv -f \"$f\" \"$s/blobs/sha256/$h\"";

    private async Task<(HostTransfer, SshHost?)> FromControllerAsync(SshHost host, IReadOnlyList<Descriptor> blobs, Dictionary<string, long> missing, CancellationToken cancellationToken)
    {
        long sent = 0;
        int count = 0;
        var transports = new SortedSet<string>(StringComparer.Ordinal);
        using var window = new SendWindow(_options.StreamsPerHost, cancellationToken);
        void Done(string transport, long bytes, IReadOnlyList<Descriptor> arrived)
        {
            Interlocked.Add(ref sent, bytes);
            Interlocked.Add(ref count, arrived.Count);
            lock (transports) transports.Add(transport);
            foreach (var b in arrived) _options.AfterBlob?.Invoke(host.Address, b);
        }
        var batch = new List<Descriptor>();
        long batchBytes = 0;
        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            var these = batch.ToList();
            batch.Clear();
            batchBytes = 0;
            await window.StartAsync(async () => Done("ssh.net", await SendBatchAsync(host, these, cancellationToken).ConfigureAwait(false), these)).ConfigureAwait(false);
        }
        try
        {
            foreach (var blob in blobs.DistinctBy(b => b.Digest))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (window.Failed) break;
                string hex = blob.ParsedDigest.Encoded;
                if (!missing.TryGetValue(hex, out long offset)) continue;
                // whole small blobs that would go over SSH.NET anyway travel together; the system ssh client's stay one per session
                if (offset == 0 && blob.Size < _options.BatchBlobMaxBytes && !UseSystemSsh(host, blob.Size))
                {
                    if (batch.Count >= _options.BatchMaxBlobs || (batch.Count > 0 && batchBytes + blob.Size > _options.BatchMaxBytes)) await FlushAsync().ConfigureAwait(false);
                    batch.Add(blob);
                    batchBytes += blob.Size;
                    continue;
                }
                await window.StartAsync(async () =>
                {
                    var (bytes, transport) = await SendBlobAsync(host, blob, offset, cancellationToken).ConfigureAwait(false);
                    Done(transport, bytes, [blob]);
                }).ConfigureAwait(false);
            }
            if (!window.Failed) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await window.DrainAsync().ConfigureAwait(false);
        }
        window.ThrowIfFailed();
        string via = transports.Count == 0 ? "none" : string.Join('+', transports);
        _options.Logger.LogInformation("{Host}: received {Count} blobs ({Bytes} bytes) from this machine via {Transport}", host.Address, count, sent, via);
        return (new HostTransfer(host.Address, sent, 0, blobs.Count - missing.Count, count, null, via), null);
    }

    /// <summary>
    /// The script a receiving host runs for a batch of whole blobs on stdin, as a tar (<see cref="WriteBatchAsync"/>): each
    /// blob an entry named by its hex, then an entry <c>.end</c>. One <c>tar -x</c> writes them all into a directory of this
    /// run's own under ingest/ (its own, so a batch sent again after a broken stream never writes a file an earlier one, still
    /// running, is about to move), one hash process checks them all, those whose digest matches move into place. No process
    /// per blob: a <c>head -c</c> for each took ~5 ms on a small VM, 8 s of a 600-image run (RESULTS, 2026-12-05). A stream
    /// that ended early (tar failed, or no <c>.end</c>) is exit 74 (what arrived whole and right is kept, a cut blob fails
    /// its digest and goes; the next run sends the rest), a blob that arrived with another digest is removed and is exit 73.
    /// </summary>
    internal string BatchReceiveScript() =>
        "s=" + SshHost.ShellQuote(Store) + """
        ; t="$s/ingest/.batch.$$"; rm -rf "$t"; mkdir -p "$t" "$s/blobs/sha256" && cd "$t" || exit 1
        trap 'cd /; rm -rf "$t"' EXIT
        if command -v openssl >/dev/null 2>&1; then H() { openssl dgst -sha256 -r "$@"; }; else H() { sha256sum "$@"; }; fi
        x=0; tar -xf - --no-same-owner || x=$?
        set -- *; [ -e "$1" ] || set --
        ok=; bad=
        if [ $# -gt 0 ]; then
          H "$@" > .sums || exit 1
          while read -r d f; do f=${f#\*}; if [ "$d" = "$f" ]; then ok="$ok $f"; else rm -f "$f"; bad="$bad $f:$d"; fi; done < .sums
        fi
        [ -z "$ok" ] || mv -f $ok "$s/blobs/sha256/" || exit 1
        [ "$x" = 0 ] && [ -f .end ] || { echo "the stream ended early (tar exit $x): $(echo $ok | wc -w) blob(s) of the batch arrived whole" >&2; exit 74; }
        [ -z "$bad" ] || { for b in $bad; do echo "blob sha256:${b%%:*} arrived with digest sha256:${b#*:}" >&2; done; exit 73; }
        """;

    /// <summary>
    /// <paramref name="batch"/> as the tar <see cref="BatchReceiveScript"/> reads: per blob a header (name = hex, 0644, this
    /// second's time) and its bytes padded to 512, then the <c>.end</c> entry and the two zero blocks that end a tar.
    /// <paramref name="arrived"/> is told each blob's bytes as they go (for progress).
    /// </summary>
    internal async Task WriteBatchAsync(Stream input, IReadOnlyList<Descriptor> batch, Action<long> arrived, CancellationToken ct)
    {
        var buffer = new byte[1 << 18];
        long epoch = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var blob in batch)
        {
            await input.WriteAsync(PlannedTar.Header(blob.ParsedDigest.Encoded, '0', blob.Size, PlannedTar.FileMode644, epoch), ct).ConfigureAwait(false);
            await using (var fs = image.Locate(blob).Open())
            {
                long left = blob.Size;
                int n;
                while (left > 0 && (n = await fs.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false)) > 0)
                {
                    await input.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    left -= n;
                    arrived(n);
                }
                if (left > 0) throw new SealerException(ErrorCodes.TransferDigestMismatch, $"blob {blob.Digest} is shorter in the local image than its descriptor says ({blob.Size} bytes); the image is damaged.");
            }
            int pad = PlannedTar.Padding(blob.Size);
            if (pad > 0) await input.WriteAsync(PlannedTar.ZeroBlocks[..pad], ct).ConfigureAwait(false);
        }
        await input.WriteAsync(PlannedTar.Header(".end", '0', 0, PlannedTar.FileMode644, epoch), ct).ConfigureAwait(false);
        await input.WriteAsync(PlannedTar.ZeroBlocks, ct).ConfigureAwait(false);
    }

    private async Task<long> SendBatchAsync(SshHost host, IReadOnlyList<Descriptor> batch, CancellationToken cancellationToken)
    {
        long sent = 0;
        Task WriteAsync(Stream input, CancellationToken ct) => WriteBatchAsync(input, batch, n =>
        {
            sent += n;
            Add(host.Address, n);
            Report(host.Address, "controller");
        }, ct);
        var r = await host.RunWithInputAsync(BatchReceiveScript(), WriteAsync,
            new CommandOptions { Description = $"receive {batch.Count} blobs", Check = false, Timeout = TimeSpan.FromHours(6) }, cancellationToken).ConfigureAwait(false);
        if (r.ExitCode == 73)
        {
            throw new SealerException(ErrorCodes.TransferDigestMismatch, $"{host.Address}: {string.Join(" ", r.LastLines)}: it arrived corrupt and was discarded. Check the local image (it is re-hashed on open) and the network, then run again.");
        }
        if (r.ExitCode != 0)
        {
            throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{host.Address}: receiving {batch.Count} blobs failed (exit {r.ExitCode}): {string.Join(" | ", r.LastLines)}. Run again to resume.");
        }
        return sent;
    }

    /// <summary>Hosts the system ssh client failed for (login refused, not startable): SSH.NET from then on.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SshHost, string> _noSystemSsh = new();

    private bool UseSystemSsh(SshHost host, long bytes)
    {
        if (!_options.SystemSsh || bytes < _options.SystemSshMinBytes || _noSystemSsh.ContainsKey(host)) return false;
        if (host.SystemSshUnusableReason is { } reason)
        {
            if (_noSystemSsh.TryAdd(host, reason)) _options.Logger.LogInformation("{Host}: streaming over SSH.NET ({Reason})", host.Address, reason);
            return false;
        }
        return true;
    }

    private async Task<(long Bytes, string Transport)> SendBlobAsync(SshHost host, Descriptor blob, long offset, CancellationToken cancellationToken)
    {
        string hex = blob.ParsedDigest.Encoded;
        var location = image.Locate(blob);
        long sent = 0;
        async Task WriteAsync(Stream input, CancellationToken ct)
        {
            await using var fs = location.Open(); // a blob file, or the blob's range of an archive or bundle read in place
            fs.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[1 << 18];
            int n;
            while ((n = await fs.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                await input.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                sent += n;
                Add(host.Address, n);
                Report(host.Address, "controller");
            }
        }
        var commandOptions = new CommandOptions { Description = $"receive blob sha256:{hex[..12]}", Check = false, Timeout = TimeSpan.FromHours(6) };
        string receive = ReceiveScript(hex, blob.Size, offset);
        // SSH.NET sends a channel's EOF only after some data (ChannelInputStream), so a command given no bytes would wait for
        // its end of input forever: an empty blob (or nothing left of one) reads its nothing from /dev/null instead.
        if (blob.Size == offset) receive = "{ " + receive + "; } < /dev/null";
        CommandResult r;
        string transport;
        if (UseSystemSsh(host, blob.Size - offset))
        {
            try
            {
                r = await host.RunWithSystemSshAsync(receive, WriteAsync, commandOptions, cancellationToken).ConfigureAwait(false);
                transport = "openssh";
            }
            catch (SystemSshUnavailableException ex)
            {
                // a host-key mismatch is SEA4002 and never lands here; this is ssh itself failing: SSH.NET from here on,
                // resuming from what arrived (the receive script left it in ingest/)
                _noSystemSsh.TryAdd(host, ex.Message);
                _options.Logger.LogWarning("{Host}: the system ssh client failed ({Message}); streaming over SSH.NET instead", host.Address, ex.Message);
                var left = await InventoryAsync(host, [blob], cancellationToken).ConfigureAwait(false);
                long arrived = (left.TryGetValue(hex, out long at) ? at : blob.Size) - offset;
                Add(host.Address, arrived - sent);
                if (!left.ContainsKey(hex)) return (arrived, "openssh");
                var (more, via) = await SendBlobAsync(host, blob, at, cancellationToken).ConfigureAwait(false);
                return (arrived + more, via);
            }
        }
        else
        {
            r = await host.RunWithInputAsync(receive, WriteAsync, commandOptions, cancellationToken).ConfigureAwait(false);
            transport = "ssh.net";
        }
        if (r.ExitCode == 75)
        {
            // the partial file changed under us: start this blob over from zero
            var (again, via) = await SendBlobAsync(host, blob, 0, cancellationToken).ConfigureAwait(false);
            return (sent + again, via);
        }
        if (r.ExitCode == 73)
        {
            throw new SealerException(ErrorCodes.TransferDigestMismatch, $"{host.Address}: blob sha256:{hex} arrived corrupt ({string.Join(" ", r.LastLines)}); it was discarded. Check the local image (it is re-hashed on open) and the network, then run again.");
        }
        if (r.ExitCode != 0)
        {
            throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{host.Address}: receiving blob sha256:{hex[..12]} failed (exit {r.ExitCode}): {string.Join(" | ", r.LastLines)}. Run again to resume.");
        }
        return (sent, transport);
    }

    private async Task<(HostTransfer, SshHost?)> RelayOrFallbackAsync(SshHost source, SshHost target, IReadOnlyList<Descriptor> blobs, Dictionary<string, long> missing, RelayKey key, CancellationToken cancellationToken)
    {
        try
        {
            await AuthorizeAsync(target, source, key, cancellationToken).ConfigureAwait(false);
            await InstallKeyAsync(source, target, key, cancellationToken).ConfigureAwait(false);
            long relayed = 0;
            int count = 0;
            // as from this machine: the next blob relays while the target hashes the last
            using (var window = new SendWindow(_options.StreamsPerHost, cancellationToken))
            {
                try
                {
                    foreach (var blob in blobs)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (window.Failed) break;
                        string hex = blob.ParsedDigest.Encoded;
                        if (!missing.TryGetValue(hex, out long offset)) continue;
                        string remote = (target.IsRoot ? "" : "sudo -n ") + "sh -c " + SshHost.ShellQuote(ReceiveScript(hex, blob.Size, offset));
                        string script =
                            $"tail -c +{offset + 1} {SshHost.ShellQuote(BlobPath(hex))} | ssh -i {SshHost.ShellQuote(key.RemoteKeyPath(Store))} -o BatchMode=yes -o StrictHostKeyChecking=yes " +
                            $"-o UserKnownHostsFile={SshHost.ShellQuote(key.RemoteKnownHostsPath(Store))} -o ConnectTimeout=10 -p {target.Spec.Port} " +
                            $"{SshHost.ShellQuote(target.Spec.User + "@" + target.Address)} {SshHost.ShellQuote(remote)}";
                        await window.StartAsync(async () =>
                        {
                            await source.RunAsync(script, new CommandOptions { Description = $"relay blob sha256:{hex[..12]} to {target.Address}", Timeout = TimeSpan.FromHours(6) }, cancellationToken).ConfigureAwait(false);
                            long bytes = blob.Size - offset;
                            Interlocked.Add(ref relayed, bytes);
                            Interlocked.Increment(ref count);
                            Add(target.Address, bytes);
                            Report(target.Address, source.Address);
                        }).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await window.DrainAsync().ConfigureAwait(false);
                }
                window.ThrowIfFailed();
            }
            _options.Logger.LogInformation("{Host}: received {Count} blobs ({Bytes} bytes) relayed from {Source}", target.Address, count, relayed, source.Address);
            return (new HostTransfer(target.Address, 0, relayed, blobs.Count - missing.Count, count, source.Address), source);
        }
        catch (SealerException ex) when (!cancellationToken.IsCancellationRequested && ex.Code is ErrorCodes.RemoteCommandFailed or ErrorCodes.RemoteCommandTimeout)
        {
            _options.Logger.LogWarning("Relay {Source} -> {Target} failed ({Message}); sending from this machine instead", source.Address, target.Address, ex.Message);
            var left = await InventoryAsync(target, blobs, cancellationToken).ConfigureAwait(false);
            var (result, _) = await FromControllerAsync(target, blobs, left, cancellationToken).ConfigureAwait(false);
            return (result, source);
        }
    }

    private static Task AuthorizeAsync(SshHost target, SshHost source, RelayKey key, CancellationToken cancellationToken) =>
        target.RunAsync(
            "d=\"$(getent passwd " + SshHost.ShellQuote(target.Spec.User) + " | cut -d: -f6)/.ssh\"; mkdir -p \"$d\"; chmod 700 \"$d\"; touch \"$d/authorized_keys\"; chmod 600 \"$d/authorized_keys\"; " +
            "grep -q " + SshHost.ShellQuote(key.Id) + " \"$d/authorized_keys\" || echo " + SshHost.ShellQuote($"restrict,from=\"{source.Address}\" {key.PublicLine}") + " >> \"$d/authorized_keys\"; " +
            "[ \"$(id -u " + SshHost.ShellQuote(target.Spec.User) + ")\" = 0 ] || chown -R " + SshHost.ShellQuote(target.Spec.User) + " \"$d\"",
            new CommandOptions { Description = "authorize the one-time relay key" }, cancellationToken);

    private Task InstallKeyAsync(SshHost source, SshHost target, RelayKey key, CancellationToken cancellationToken) =>
        source.RunAsync(
            $"umask 077; mkdir -p {SshHost.ShellQuote(Store + "/relay")}; cat > {SshHost.ShellQuote(key.RemoteKeyPath(Store))} <<'SEALER_KEY'\n{key.PrivatePem}\nSEALER_KEY\n" +
            $"echo {SshHost.ShellQuote(target.KnownHostsLine)} >> {SshHost.ShellQuote(key.RemoteKnownHostsPath(Store))}",
            new CommandOptions { Description = "install the one-time relay key" }, cancellationToken);

    private async Task CleanupRelayAsync(SshHost host, RelayKey key)
    {
        try
        {
            await host.RunAsync(
                "d=\"$(getent passwd " + SshHost.ShellQuote(host.Spec.User) + " | cut -d: -f6)/.ssh\"; [ -f \"$d/authorized_keys\" ] && sed -i " + SshHost.ShellQuote($"/{key.Id}/d") + " \"$d/authorized_keys\"; " +
                $"rm -f {SshHost.ShellQuote(key.RemoteKeyPath(Store))} {SshHost.ShellQuote(key.RemoteKnownHostsPath(Store))}; true",
                new CommandOptions { Description = "remove the one-time relay key", Timeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            _options.Logger.LogWarning("{Host}: could not remove the relay key {Id}: {Message}", host.Address, key.Id, ex.Message);
        }
    }

    /// <summary>
    /// Sends to one host, started in order, at most <see cref="DistributionOptions.StreamsPerHost"/> at once. After a failure
    /// none starts (<see cref="Failed"/>); <see cref="DrainAsync"/> lets those under way end (what arrived whole is kept, a
    /// cut one resumes from its length next run), so nothing keeps writing to the host behind the caller, and
    /// <see cref="ThrowIfFailed"/> throws the first failure.
    /// </summary>
    private sealed class SendWindow(int width, CancellationToken cancellationToken) : IDisposable
    {
        private readonly SemaphoreSlim _slots = new(Math.Max(1, width));
        private readonly List<Task> _inFlight = [];
        private Exception? _failure;

        public bool Failed => Volatile.Read(ref _failure) is not null;

        /// <summary>Waits for a free slot, then starts <paramref name="send"/> (unless a send has failed meanwhile).</summary>
        public async Task StartAsync(Func<Task> send)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (Failed)
            {
                _slots.Release();
                return;
            }
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(RunAsync(send));
        }

        private async Task RunAsync(Func<Task> send)
        {
            try
            {
                await send().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ex, null);
                throw;
            }
            finally
            {
                _slots.Release();
            }
        }

        /// <summary>Waits for the sends under way; their failures are <see cref="ThrowIfFailed"/>'s.</summary>
        public async Task DrainAsync()
        {
            try
            {
                await Task.WhenAll(_inFlight).ConfigureAwait(false);
            }
            catch (Exception) when (Failed)
            {
                // the first one is thrown by ThrowIfFailed
            }
        }

        public void ThrowIfFailed()
        {
            if (Volatile.Read(ref _failure) is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        public void Dispose() => _slots.Dispose();
    }

    /// <summary>A one-time RSA key for host-to-host relays (OpenSSH reads the PKCS#1 PEM).</summary>
    internal sealed record RelayKey(string Id, string PrivatePem, string PublicLine)
    {
        public string RemoteKeyPath(string store) => $"{store}/relay/{Id}.key";

        public string RemoteKnownHostsPath(string store) => $"{store}/relay/{Id}.known_hosts";

        public static RelayKey Create(string id)
        {
            using var rsa = RSA.Create(3072);
            var p = rsa.ExportParameters(false);
            using var ms = new MemoryStream();
            WriteString(ms, "ssh-rsa"u8);
            WriteMpint(ms, p.Exponent!);
            WriteMpint(ms, p.Modulus!);
            return new RelayKey(id, rsa.ExportRSAPrivateKeyPem(), $"ssh-rsa {Convert.ToBase64String(ms.ToArray())} {id}");
        }

        private static void WriteString(Stream s, ReadOnlySpan<byte> data)
        {
            Span<byte> len = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
            s.Write(len);
            s.Write(data);
        }

        private static void WriteMpint(Stream s, byte[] value)
        {
            int i = 0;
            while (i < value.Length - 1 && value[i] == 0) i++;
            var v = value.AsSpan(i);
            if (v[0] >= 0x80)
            {
                var padded = new byte[v.Length + 1];
                v.CopyTo(padded.AsSpan(1));
                WriteString(s, padded);
            }
            else
            {
                WriteString(s, v);
            }
        }
    }
}
