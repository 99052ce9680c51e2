using System.Diagnostics;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// A private containerd (Debian's package) for the collection: its own root, state, socket and config under a temp
/// directory (never the system service), CRI disabled. Stopped with SIGTERM at the end.
/// </summary>
public sealed class ContainerdFixture : IAsyncLifetime
{
    private Process? _process;

    public string Dir { get; } = Path.Combine("/tmp", "sealer-ctd-" + Guid.NewGuid().ToString("N")[..8]);
    public string Socket => Path.Combine(Dir, "c.sock");

    /// <summary>Why containerd is not usable here (then the containerd tests fail with this message), or null.</summary>
    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/bin/containerd") || !File.Exists("/usr/bin/ctr"))
        {
            Unavailable = "containerd/ctr are not installed: run build/install-test-deps.sh (apt package containerd).";
            return;
        }
        if (Environment.UserName != "root")
        {
            Unavailable = "containerd needs root to run its own instance.";
            return;
        }
        Directory.CreateDirectory(Dir);
        string config = Path.Combine(Dir, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{Dir}/root"
            state = "{Dir}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
            [grpc]
              address = "{Socket}"
            [ttrpc]
              address = "{Socket}.ttrpc"
            [debug]
              address = ""
            [metrics]
              address = ""
            """);
        var psi = new ProcessStartInfo("/usr/bin/containerd", ["--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(Socket))
            {
                var (code, _) = await CtrAsync("version");
                if (code == 0) return;
            }
            if (_process.HasExited) break;
            await Task.Delay(100);
        }
        Unavailable = $"containerd did not start (exit {(_process.HasExited ? _process.ExitCode : -1)}).";
    }

    /// <summary>Runs ctr against our instance; returns exit code and combined output.</summary>
    public async Task<(int Code, string Output)> CtrAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/ctr", ["--address", Socket, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            Process.Start("/bin/kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_process.WaitForExit(10000)) _process.Kill();
        }
        _process?.Dispose();
        // Snapshots may be mounted read-only bind mounts with the overlayfs snapshotter; they are unmounted when containerd stops.
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        await Task.CompletedTask;
    }
}
