using System.Text;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// The built-in registry on each registry host: <c>sealer registry serve --layout &lt;rootfs&gt;/registry</c> (TLS,
/// htpasswd) as a systemd unit when systemd runs, else a <c>setsid</c> process with a pid file; the image's
/// <c>scripts/init-registry.sh</c> when no sealer binary is available. Waits until it answers.
/// </summary>
internal sealed class RegistryStep : HostStep
{
    public const string StepName = "registry";

    public override string Name => StepName;

    public override string Does => "sealer registry serve --layout <rootfs>/registry on each registry host (systemd unit, else setsid; scripts/init-registry.sh without a sealer binary)";

    public override string Reads => "registry.localRegistry (port, domain, username/password, insecure), --sealer-binary, the certificates";

    public override string When => "a local registry (no externalRegistry): every master when ha (the default), else master0";

    public override IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) => ctx.RegistryHosts;

    /// <summary>The <c>sealer</c> binary installed on registry hosts (--sealer-binary, else this process when it is
    /// <c>sealer</c>), or null: then the host's own <c>sealer</c>, else the image's <c>scripts/init-registry.sh</c>, serves.</summary>
    public static string? SealerBinary(InstallContext ctx) => ctx.Options.SealerBinary ?? (Environment.ProcessPath is { } p && Path.GetFileName(p) == "sealer" ? p : null);

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var local = ctx.Cluster.Registry.Local;
        string? binary = SealerBinary(ctx);
        string remoteBin = "/usr/local/bin/sealer";
        if (binary is not null)
        {
            var bytes = await File.ReadAllBytesAsync(binary, cancellationToken).ConfigureAwait(false);
            string hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            await n.Ssh.RunWithInputAsync(
                $"b={remoteBin}; if [ -f \"$b\" ] && [ \"$(sha256sum \"$b\" | cut -c1-64)\" = {hex} ]; then cat > /dev/null; else mkdir -p /usr/local/bin; cat > \"$b.tmp\" && chmod 755 \"$b.tmp\" && mv -f \"$b.tmp\" \"$b\"; fi",
                (s, c) => s.WriteAsync(bytes, c).AsTask(), new CommandOptions { Description = $"{StepName}: install sealer" }, cancellationToken).ConfigureAwait(false);
        }
        string htpasswdArg = "";
        if (local.Username is not null && local.Password is not null)
        {
            string line = $"{local.Username}:{BCrypt.Net.BCrypt.HashPassword(local.Password, 10)}\n";
            await n.Ssh.RunWithInputAsync($"umask 077; mkdir -p {Q(ctx.ClusterDir)}; cat > {Q(ctx.ClusterDir + "/registry.htpasswd")}",
                (s, c) => s.WriteAsync(Encoding.UTF8.GetBytes(line), c).AsTask(), new CommandOptions { Description = $"{StepName}: write htpasswd" }, cancellationToken).ConfigureAwait(false);
            htpasswdArg = $" --htpasswd {Q(ctx.ClusterDir + "/registry.htpasswd")}";
        }
        string tlsArg = ctx.Tls ? $" --tls-cert {Q(ctx.RemoteCertDir + "/server.crt")} --tls-key {Q(ctx.RemoteCertDir + "/server.key")}" : "";
        string logArg = $" --access-log {Q(ctx.RegistryAccessLog)}";
        string serve = $"sealer registry serve --layout {Q(ctx.Rootfs + "/registry")} --port {local.Port}{htpasswdArg}{tlsArg}{logArg}";
        string script = $$"""
            export PATH={{Q(ctx.Rootfs + "/bin")}}:/usr/local/bin:$PATH
            cd {{Q(ctx.Rootfs)}}
            if ! command -v sealer >/dev/null; then
              if [ -f scripts/init-registry.sh ]; then bash scripts/init-registry.sh {{local.Port}} {{Q(ctx.Rootfs + "/registry")}} {{Q(local.Domain)}}; exit 0; fi
              echo "no 'sealer' binary on this host and no scripts/init-registry.sh in the image: pass --sealer-binary or ship bin/sealer in the image" >&2; exit 2
            fi
            [ -d registry ] || mkdir -p registry
            [ -f registry/oci-layout ] || { echo '{"imageLayoutVersion":"1.0.0"}' > registry/oci-layout; echo '{"schemaVersion":2,"manifests":[]}' > registry/index.json; }
            if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
              cat > /etc/systemd/system/sealer-registry.service.new <<EOF
            [Unit]
            Description=sealer cluster image registry ({{ctx.Cluster.Name}})
            After=network-online.target
            [Service]
            ExecStart=$(command -v sealer) registry serve --layout {{ctx.Rootfs}}/registry --port {{local.Port}}{{(htpasswdArg + tlsArg + logArg).Replace("'", "", StringComparison.Ordinal)}}
            Restart=always
            [Install]
            WantedBy=multi-user.target
            EOF
              if ! cmp -s /etc/systemd/system/sealer-registry.service.new /etc/systemd/system/sealer-registry.service; then
                mv -f /etc/systemd/system/sealer-registry.service.new /etc/systemd/system/sealer-registry.service
                systemctl daemon-reload; systemctl enable sealer-registry >/dev/null 2>&1; systemctl restart sealer-registry
              else rm -f /etc/systemd/system/sealer-registry.service.new; systemctl start sealer-registry; fi
            else
              pidf={{Q(ctx.ClusterDir + "/registry.pid")}}
              if ! { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }; then
                nohup setsid {{serve}} >> {{Q(ctx.ClusterDir + "/registry.log")}} 2>&1 < /dev/null &
                echo $! > "$pidf"
              fi
            fi
            for i in $(seq 1 150); do
              if [ {{(ctx.Tls ? 1 : 0)}} = 1 ]; then
                if command -v curl >/dev/null; then
                  status=$(curl -s -o /dev/null -w '%{http_code}' --cacert {{Q(ctx.RemoteCertDir + "/ca.crt")}} https://127.0.0.1:{{local.Port}}/v2/ || true)
                  case "$status" in 200|401) echo "registry answers over TLS: $status"; exit 0;; esac
                elif (exec 3<>/dev/tcp/127.0.0.1/{{local.Port}}) 2>/dev/null; then echo "registry listens (TLS)"; exit 0; fi
              elif exec 3<>/dev/tcp/127.0.0.1/{{local.Port}} 2>/dev/null; then
                printf 'GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
                status=$(head -n1 <&3); exec 3>&-
                case "$status" in *" 200"*|*" 401"*) echo "registry answers: $status"; exit 0;; esac
              fi
              sleep 0.2
            done
            echo "the registry did not answer on port {{local.Port}} within 30 s; its log:" >&2
            tail -n 20 {{Q(ctx.ClusterDir + "/registry.log")}} >&2 2>/dev/null || journalctl -u sealer-registry -n 20 >&2
            exit 1
            """;
        await n.Ssh.RunAsync(script, ctx.Cmd(n, StepName, "start the registry"), cancellationToken).ConfigureAwait(false);
    }
}
