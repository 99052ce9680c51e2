using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Support;

/// <summary>What a support bundle came to.</summary>
public sealed record SupportBundleResult(string Path, long Bytes, IReadOnlyList<string> Unreachable, string Summary);

/// <summary>
/// <c>sealer support-bundle</c>: collects <see cref="SupportItems.All"/> from this machine and every host at once (the
/// hosts through the delivery's SSH layer: the same known_hosts checks, elevation and timeouts), passes every file
/// through the Clusterfile's <see cref="Redactor"/>, and writes one <c>.tar.gz</c> (atomically) whose first entry is
/// <c>summary.txt</c>: what failed where, in plain words. A host that cannot be reached is recorded, not fatal; every
/// command, host and file is bounded (<see cref="SupportLimits"/>). Changes nothing on the hosts.
/// </summary>
public sealed class SupportBundle
{
    private readonly ClusterfileDocument _doc;
    private readonly string? _clusterfileText;
    private readonly RunOptions _options;
    private readonly SupportLimits _limits;
    private readonly Redactor _redactor;
    private readonly InstallContext _ctx;

    public SupportBundle(ClusterfileDocument doc, string? clusterfileText, RunOptions options, SupportLimits? limits = null)
    {
        _doc = doc;
        _clusterfileText = clusterfileText;
        _options = options with { Status = null, Output = null, TransferProgress = null };
        _limits = limits ?? new SupportLimits();
        _redactor = Redactor.ForClusterfile(doc);
        _ctx = new InstallContext(doc, _options, null);
    }

    /// <summary><c>sealer-support-CLUSTER-20261202T071500Z.tar.gz</c>.</summary>
    public string DefaultFileName(DateTimeOffset at) => $"sealer-support-{_doc.Cluster.Name}-{at.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.tar.gz";

    public async Task<SupportBundleResult> WriteAsync(string outputPath, CancellationToken cancellationToken = default)
    {
        var started = DateTimeOffset.UtcNow;
        string full = Path.GetFullPath(outputPath);
        string staging = full + ".tmp-" + Environment.ProcessId + ".d";
        string tmp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            Directory.CreateDirectory(staging);
            var files = new Files(staging, _redactor);
            var sw = Stopwatch.StartNew();
            var check = CheckAsync(files, cancellationToken);
            var hosts = _doc.Cluster.Hosts.Select(h => CollectHostAsync(h, files, cancellationToken)).ToList();
            CollectLocal(files);
            var reports = await Task.WhenAll(hosts).ConfigureAwait(false);
            var checkResult = await check.ConfigureAwait(false);
            string summary = _redactor.Redact(Summary(started, sw.Elapsed, reports, checkResult, files));

            string top = Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(full));
            try
            {
                await using (var output = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
                await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
                {
                    await AddAsync(tar, $"{top}/summary.txt", Encoding.UTF8.GetBytes(summary), cancellationToken).ConfigureAwait(false);
                    foreach (var f in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    {
                        var rel = Path.GetRelativePath(staging, f).Replace('\\', '/');
                        await AddAsync(tar, $"{top}/{rel}", await File.ReadAllBytesAsync(f, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                    }
                }
                File.Move(tmp, full, overwrite: true);
            }
            catch (IOException ex)
            {
                throw new SealerException(ErrorCodes.SupportBundleWriteFailed, $"Cannot write the support bundle '{full}': {ex.Message}. Give another place with -o FILE (it needs a few MiB per host).", full, inner: ex);
            }
            return new SupportBundleResult(full, new FileInfo(full).Length, reports.Where(r => r.Unreachable is not null).Select(r => r.Ip).ToList(), summary);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static async Task AddAsync(TarWriter tar, string name, byte[] data, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, ModificationTime = DateTimeOffset.UtcNow };
        await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ this machine

    private void CollectLocal(Files files)
    {
        string state = _ctx.LocalStatePath;
        files.CopyLocal("local/state.json", state, _limits.MaxFileBytes);
        files.CopyLocal("local/last-failure.json", RunRecord.FailurePath(state), _limits.MaxFileBytes);
        files.CopyLocal("local/run.log.1", RunRecord.LogPath(state) + ".1", _limits.MaxFileBytes);
        files.CopyLocal("local/run.log", RunRecord.LogPath(state), _limits.MaxFileBytes);
        files.Write("local/Clusterfile", _clusterfileText ?? "(the Clusterfile text was not given)\n");
        var facts = new StringBuilder();
        facts.Append($"sealer {typeof(SupportBundle).Assembly.GetName().Version?.ToString(3)} on {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}), {Environment.ProcessorCount} CPUs\n");
        facts.Append($"time: {DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} (UTC)\n");
        facts.Append($"state directory: {Path.GetDirectoryName(state)}\n");
        foreach (var d in new[] { Path.GetDirectoryName(state)!, Path.GetTempPath() })
        {
            try
            {
                var drive = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(d)) ?? "/");
                facts.Append($"disk of {d}: {Bytes.Format(drive.AvailableFreeSpace)} free of {Bytes.Format(drive.TotalSize)}\n");
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                facts.Append($"disk of {d}: {ex.Message}\n");
            }
        }
        try
        {
            facts.Append('\n').Append(string.Join('\n', File.ReadLines("/proc/meminfo").Take(5))).Append('\n');
        }
        catch (IOException)
        {
        }
        files.Write("local/facts.txt", facts.ToString());
    }

    private async Task<CheckResult?> CheckAsync(Files files, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_limits.HostTimeout);
        var sb = new StringBuilder();
        CheckResult? result = null;
        try
        {
            result = await new ClusterInstaller(_doc, _options, _clusterfileText).CheckAsync(timeout.Token).ConfigureAwait(false);
            foreach (var ok in result.Ok) sb.Append($"ok    {ok}\n");
            foreach (var problem in result.Problems) sb.Append($"FAIL  {problem}\n");
            sb.Append(result.Problems.Count == 0 ? $"cluster '{_doc.Cluster.Name}' is healthy\n" : $"{result.Problems.Count} problem(s)\n");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            sb.Append($"'sealer check' was cut off after {_limits.HostTimeout.TotalSeconds:0} s.\n");
        }
        catch (SealerException ex)
        {
            sb.Append($"'sealer check' failed: {ex.Code}: {ex.Message}\n");
        }
        files.Write("local/check.txt", sb.ToString());
        return result;
    }

    // ------------------------------------------------------------------ hosts

    private sealed record HostReport(string Ip, string? Unreachable, int Items, IReadOnlyList<string> Failed, IReadOnlyList<string> CutOff, int Skipped, long Bytes, TimeSpan Elapsed);

    private async Task<HostReport> CollectHostAsync(HostSpec host, Files files, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        string dir = $"hosts/{host.Ip}/";
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_limits.HostTimeout);
        SshHost ssh;
        try
        {
            ssh = await SshHost.ConnectAsync(host.Ip, host.Ssh, _options.Ssh, KnownHosts.Load(_options.Ssh.KnownHostsPath), budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SealerException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            string why = ex is SealerException se ? $"{se.Code}: {se.Message}" : $"no connection within {_limits.HostTimeout.TotalSeconds:0} s";
            files.Write(dir + "UNREACHABLE.txt", $"{host.Ip} could not be reached: {why}\nNothing was collected from it.\n");
            return new HostReport(host.Ip, why, 0, [], [], 0, 0, sw.Elapsed);
        }
        var paths = new SupportPaths(_ctx.ClusterDir, _ctx.Rootfs, _ctx.KubePath);
        bool master0 = host.Ip == _doc.Cluster.Masters.First().Ip, registry = _ctx.RegistryIps.Contains(host.Ip);
        int items = 0, skipped = 0;
        var failed = new List<string>();
        var cutOff = new List<string>();
        long bytes = 0;
        var notes = new StringBuilder();
        await using (ssh.ConfigureAwait(false))
        {
            foreach (var item in SupportItems.All)
            {
                bool applies = item.Scope switch
                {
                    SupportScope.EveryHost => true,
                    SupportScope.RegistryHosts => registry,
                    SupportScope.Master0 => master0,
                    _ => false,
                };
                if (!applies || item.Script is null) continue;
                if (budget.IsCancellationRequested || bytes >= _limits.MaxHostBytes)
                {
                    skipped++;
                    notes.Append($"{item.File}: skipped, the host's {(bytes >= _limits.MaxHostBytes ? $"{_limits.MaxHostBytes >> 20} MiB" : $"{_limits.HostTimeout.TotalSeconds:0} s")} are spent\n");
                    continue;
                }
                items++;
                int seconds = (int)Math.Max(1, _limits.CommandTimeout.TotalSeconds);
                string script = $"{{ timeout -k 5 {seconds} bash -c {SshHost.ShellQuote(item.Script(paths))}; }} 2>&1 | tail -c {_limits.MaxFileBytes}; exit ${{PIPESTATUS[0]}}";
                string content;
                try
                {
                    var r = await ssh.RunAsync(script, new CommandOptions { Check = false, Description = $"support-bundle: {item.File}", Timeout = _limits.CommandTimeout + TimeSpan.FromSeconds(15) }, budget.Token).ConfigureAwait(false);
                    content = r.Stdout + r.Stderr;
                    if (r.ExitCode == 124 || r.ExitCode == 137)
                    {
                        cutOff.Add(item.File);
                        content += $"\n(cut off after {seconds} s)\n";
                    }
                    else if (r.ExitCode != 0)
                    {
                        failed.Add(item.File);
                        content += $"\n(exit code {r.ExitCode})\n";
                    }
                }
                catch (Exception ex) when (ex is SealerException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    cutOff.Add(item.File);
                    content = ex is SealerException se ? $"(not collected: {se.Code}: {se.Message})\n" : $"(cut off: the host's {_limits.HostTimeout.TotalSeconds:0} s are spent)\n";
                }
                bytes += files.Write(dir + item.File, content);
            }
        }
        if (notes.Length > 0) files.Write(dir + "SKIPPED.txt", notes.ToString());
        return new HostReport(host.Ip, null, items, failed, cutOff, skipped, bytes, sw.Elapsed);
    }

    // ------------------------------------------------------------------ summary

    private string Summary(DateTimeOffset started, TimeSpan elapsed, IReadOnlyList<HostReport> hosts, CheckResult? check, Files files)
    {
        var c = _doc.Cluster;
        var sb = new StringBuilder();
        sb.Append($"Support bundle of cluster '{c.Name}', made {started:yyyy-MM-dd HH:mm:ss} UTC in {elapsed.TotalSeconds:0.0} s by sealer {typeof(SupportBundle).Assembly.GetName().Version?.ToString(3)}.\n");
        sb.Append($"Image: {_options.Image ?? c.Image}. Hosts: {string.Join(", ", c.Hosts.Select(h => $"{h.Ip} ({string.Join("+", h.Roles)})"))}.\n\n");

        sb.Append("WHAT FAILED\n");
        var failure = RunRecord.LoadFailure(_ctx.LocalStatePath);
        if (failure is not null)
        {
            string where = failure.Step is null ? "before any step (connecting or preflight)" : $"at step '{failure.Step}'";
            string on = failure.Hosts.Count == 0 ? "" : $" on {(failure.Hosts.Count == 1 ? "host" : "hosts")} {string.Join(", ", failure.Hosts)}";
            sb.Append($"The last run failed {where}{on} ({failure.Code}, {failure.At}).\n");
            var lines = failure.Message.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
            sb.Append("Its last lines:\n");
            foreach (var l in lines.TakeLast(20)) sb.Append("  | ").Append(l).Append('\n');
        }
        else
        {
            sb.Append("No failed run is recorded on this machine (the last run from here finished, or none ran from here).\n");
        }
        if (check is not null)
        {
            sb.Append(check.Problems.Count == 0 ? "'sealer check' finds no problem.\n" : $"'sealer check' finds {check.Problems.Count} problem(s):\n");
            foreach (var p in check.Problems.Take(15)) sb.Append("  - ").Append(p).Append('\n');
        }
        else
        {
            sb.Append("'sealer check' did not finish: see local/check.txt.\n");
        }

        sb.Append("\nHOSTS\n");
        foreach (var h in hosts)
        {
            if (h.Unreachable is not null)
            {
                sb.Append($"{h.Ip}: UNREACHABLE, nothing collected: {h.Unreachable}\n");
                continue;
            }
            sb.Append($"{h.Ip}: {h.Items} items, {Bytes.Format(h.Bytes)} in {h.Elapsed.TotalSeconds:0.0} s");
            var notes = new List<string>();
            if (h.Failed.Count > 0) notes.Add($"failed (exit code at the end of the file): {string.Join(", ", h.Failed)}");
            if (h.CutOff.Count > 0) notes.Add($"cut off: {string.Join(", ", h.CutOff)}");
            if (h.Skipped > 0) notes.Add($"{h.Skipped} skipped (see SKIPPED.txt)");
            sb.Append(notes.Count == 0 ? "\n" : "; " + string.Join("; ", notes) + "\n");
        }

        sb.Append($"""

            LIMITS
            Each command {_limits.CommandTimeout.TotalSeconds:0} s, each host {_limits.HostTimeout.TotalSeconds:0} s in all, each file {_limits.MaxFileBytes >> 20} MiB (its last bytes), each host {_limits.MaxHostBytes >> 20} MiB.
            Secrets were redacted from every file: {_redactor.KnownValues} value(s) from the Clusterfile (passwords, key passphrases, private key lines, secret-looking env values) and anything shaped like a secret, shown as {Redactor.Mask}.

            FILES
            local/         this machine: state, last failure, run.log, Clusterfile, sealer check, facts
            hosts/IP/      each host: facts, containerd/docker configuration, images, journals, registry log; state and kubectl on master0

            """);
        foreach (var f in files.Written.Order(StringComparer.Ordinal)) sb.Append("  ").Append(f).Append('\n');
        return sb.ToString();
    }

    /// <summary>The staging directory: every file redacted on its way in, at most the file limit (the last bytes kept).</summary>
    private sealed class Files(string root, Redactor redactor)
    {
        private readonly List<string> _written = [];

        public IReadOnlyList<string> Written
        {
            get
            {
                lock (_written) return _written.ToList();
            }
        }

        /// <summary>Writes <paramref name="relative"/> redacted; returns its size.</summary>
        public long Write(string relative, string content)
        {
            var data = Encoding.UTF8.GetBytes(redactor.Redact(content));
            string path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
            lock (_written) _written.Add(relative);
            return data.Length;
        }

        public void CopyLocal(string relative, string source, long maxBytes)
        {
            if (!File.Exists(source)) return;
            try
            {
                using var fs = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                long skip = Math.Max(0, fs.Length - maxBytes);
                fs.Seek(skip, SeekOrigin.Begin);
                var data = new byte[fs.Length - skip];
                fs.ReadExactly(data);
                string path = Path.Combine(root, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, redactor.Redact(data));
                lock (_written) _written.Add(relative);
            }
            catch (IOException ex)
            {
                Write(relative, $"(cannot read {source}: {ex.Message})\n");
            }
        }
    }
}
