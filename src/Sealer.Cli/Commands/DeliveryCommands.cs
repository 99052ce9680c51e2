using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Delivery.Support;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Cli.Commands;

/// <summary><c>sealer run | rollback | join | delete | check | support-bundle</c>: deliver a cluster image over SSH as a Clusterfile describes.</summary>
internal static class DeliveryCommands
{
    public static IEnumerable<Command> Create() => [Run(), Rollback(), Join(), Delete(), Check(), SupportBundleCommand()];

    /// <summary>The options run, join, delete and check share: the Clusterfile, the image, SSH and local state.</summary>
    internal sealed class CommonOptions
    {
        public readonly Option<string?> File = CliOptions.Text("--file", "the Clusterfile (default ./Clusterfile, else the one 'sealer run IMAGE -m ...' wrote)", "FILE", "-f");
        public readonly Option<string?> Image = CliOptions.Text("--image", "cluster image: OCI layout dir, OCI archive (a delta from 'sealer save --since' too), site bundle, or a name in the image store or cache (default: spec.image)", "PATH|NAME");
        public readonly Option<string?> CacheDir = CliOptions.CacheDir();
        public readonly Option<string?> Store = CliOptions.Store();
        public readonly Option<string?> KnownHosts = CliOptions.Text("--known-hosts", "host keys to verify against (default ~/.ssh/known_hosts)", "FILE");
        public readonly Option<bool> TrustOnFirstUse = CliOptions.Flag("--trust-on-first-use", "accept and record keys of hosts not in known_hosts (a changed key is always refused)");
        public readonly Option<int> Parallel = CliOptions.Int("--parallel", "hosts this machine sends to at once; hosts that have the image relay it to others", 3, 1, 64);
        public readonly Option<bool> NoRelay = CliOptions.Flag("--no-relay", "send everything from this machine (no host-to-host copies)");
        public readonly Option<string?> SealerBinary = CliOptions.Text("--sealer-binary", "the sealer executable to install on registry hosts (default: this one)", "FILE");
        public readonly Option<string?> StateDir = CliOptions.Text("--state-dir", "local state (default ~/.sealer)", "DIR");
        public readonly Option<int> ConnectTimeout = CliOptions.Int("--connect-timeout", "SSH connect timeout in seconds", 10, 1, 600, "SEC");
        public readonly Option<bool> Verbose = CliOptions.Flag("--verbose", "print every remote output line", "-v");

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { File, Image, CacheDir, Store, KnownHosts, TrustOnFirstUse, Parallel, NoRelay, SealerBinary, StateDir, ConnectTimeout, Verbose })
            {
                command.Options.Add(o);
            }
        }

        public string DefaultClusterfile(ParseResult p, string cluster = "my-cluster") =>
            Path.Combine(p.GetValue(StateDir) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer"), cluster, "Clusterfile");

        public (ClusterfileDocument Doc, string Text, string Path) LoadClusterfile(ParseResult p)
        {
            // ./Clusterfile, else the one 'sealer run IMAGE -m ...' wrote for my-cluster (as Sealer does)
            string path = p.GetValue(File) ?? (System.IO.File.Exists("Clusterfile") || !System.IO.File.Exists(DefaultClusterfile(p)) ? "Clusterfile" : DefaultClusterfile(p));
            if (!System.IO.File.Exists(path))
            {
                throw new SealerException(ErrorCodes.ClusterfileNotFound, $"No Clusterfile at '{path}'. Pass one with -f FILE (see docs for the format: kind: Cluster, spec.image, spec.hosts).");
            }
            string text = System.IO.File.ReadAllText(path);
            return (ClusterfileReader.Parse(text, path), text, path);
        }

        public RunOptions RunOptions(ParseResult p, bool statusToStderr = false)
        {
            bool verbose = p.GetValue(Verbose);
            return new RunOptions
            {
                Image = p.GetValue(Image),
                CacheDir = p.GetValue(CacheDir),
                StoreDir = p.GetValue(Store),
                StateRoot = p.GetValue(StateDir),
                Parallelism = p.GetValue(Parallel),
                Relay = !p.GetValue(NoRelay),
                SealerBinary = p.GetValue(SealerBinary),
                Ssh = new SshOptions
                {
                    KnownHostsPath = p.GetValue(KnownHosts) ?? Sealer.Core.Delivery.Ssh.KnownHosts.DefaultPath,
                    TrustOnFirstUse = p.GetValue(TrustOnFirstUse),
                    ConnectTimeout = TimeSpan.FromSeconds(p.GetValue(ConnectTimeout)),
                    Logger = new StderrLogger(),
                },
                Logger = new StderrLogger(),
                TransferProgress = new ConsoleProgress(),
                Output = verbose ? line => Console.Out.WriteLine(line) : null,
                Status = statusToStderr ? line => Console.Error.WriteLine(line) : line => Console.Out.WriteLine(line),
            };
        }
    }

    private static Option<List<string>> Masters() => CliOptions.Repeatable("--masters", "master IPs (ranges like 192.168.0.5-192.168.0.7 too)", "IPS", true, "-m");

    private static Option<List<string>> Nodes() => CliOptions.Repeatable("--nodes", "node IPs (ranges like 192.168.0.5-192.168.0.7 too)", "IPS", true, "-n");

    private static Command Run()
    {
        var common = new CommonOptions();
        var image = new Argument<string[]>("IMAGE") { Description = "Sealer's short form: the cluster image to install on the hosts given by --masters/--nodes", Arity = ArgumentArity.ZeroOrMore };
        var masters = Masters();
        var nodes = Nodes();
        var passwd = CliOptions.Text("--passwd", "SSH password (visible to other users in ps; prefer --pk)", "P", "-p");
        var user = CliOptions.Text("--user", "SSH user (default root)", "U", "-u");
        var pk = CliOptions.Text("--pk", "SSH private key file", "FILE");
        var pkPasswd = CliOptions.Text("--pk-passwd", "passphrase of the private key (visible in ps; prefer the SEALER_SSH_KEY_PASSPHRASE environment variable)", "P");
        var port = CliOptions.Text("--port", "SSH port (default 22)", "N");
        var env = CliOptions.Repeatable("--env", "cluster environment variable", "K=V", true, "-e");
        var clusterName = CliOptions.Text("--cluster-name", "cluster name (default my-cluster)", "NAME");
        var plan = CliOptions.Flag("--plan", "with a Clusterfile (-f, ./Clusterfile, or IMAGE -m ...): what this run would do, changing nothing (on a cluster installed from another image, the upgrade plan: apps, images, bytes per host, Kubernetes); without one: the install and upgrade steps");
        var json = CliOptions.Json("the plan as JSON on stdout (implies --plan; null when the run is no upgrade)");
        var prune = PruneApps();
        var yes = CliOptions.Flag("--yes", "never ask: without a Clusterfile this is an error (SEA4100) instead of the guided run", "-y");
        var preflightOnly = CliOptions.Flag("--preflight-only", "check every host (SSH, host key, OS/arch, disk, ports, clock, tools) and print the report; change nothing (exit 1 on a problem)");
        var verifyKey = CliOptions.Text("--verify-key", "public key (cosign.pub): refuse the image unless it carries a cosign signature by it, before any host is contacted (default: spec.imageVerifyKey)", "FILE");
        var allowMissing = CliOptions.Flag("--allow-missing-images", "launch the apps even when, rendered with the Clusterfile's values, they name images the cluster image does not carry (a warning lists them; default: the run stops before the apps step)");
        var keepImages = KeepImages();
        var noMirror = CliOptions.Flag("--no-mirror", "with an externalRegistry: do not push the app images into it (they are there already: 'sealer mirror IMAGE REGISTRY' from a machine that reaches it)");
        var command = new SealerCommand("run", "Install (or resume, or extend) the cluster a Clusterfile describes, over SSH", """
            Installs the cluster the Clusterfile describes, or brings it up to date: every host is checked first
            (reachable, host key, login, platform, disk, ports, clock, hostnames) and nothing changes unless all pass.
            A failed run can simply be run again: finished steps are skipped. Hosts added to the Clusterfile are joined.

            On a cluster installed from another image, the run is an upgrade: the plan is printed first (apps
            added, upgraded, dropped; images; bytes each host lacks; Kubernetes), then the new image is distributed,
            the rootfs swapped, templates rendered again, Kubernetes upgraded with kubeadm when its version changes
            (one minor version at a time, never down), and the apps upgraded in launch order (helm upgrade
            --install, kubectl apply). Apps the new image drops keep running unless --prune-apps. An interrupted
            upgrade resumes on the next run; 'sealer rollback' goes back to the previous image's apps.

            With --image and no Clusterfile on a terminal, the run is guided: it asks for the hosts (lists and
            ranges), SSH user, key or password and port, and where the registry runs, checking each answer as it is
            typed; writes ./Clusterfile; asks to trust each new host key (its SHA256 fingerprint shown); checks every
            host; then installs with a live view. Without a terminal, or with --yes, it never asks.

            An encrypted private key's passphrase: asked by the guided run (never shown, never written); otherwise
            taken from the environment variable SEALER_SSH_KEY_PASSPHRASE (ssh.pkPasswd and --pk-passwd work too, but
            keep it in a file or the process list in clear); without one the run stops with SEA4110.

            Sealer's short form writes the Clusterfile for you (to ~/.sealer/<cluster-name>/Clusterfile, mode 0600):
              sealer run IMAGE -m|--masters IPS [-n|--nodes IPS] [-u|--user U] [-p|--passwd P | --pk FILE [--pk-passwd P]]
                         [--port N] [-e|--env K=V ...] [--cluster-name NAME (default my-cluster)]

            The steps, in order (each host or the cluster; a step re-runs only when its inputs changed):
            """ + InstallPipeline.Describe())
        {
            image, masters, nodes, passwd, user, pk, pkPasswd, port, env, clusterName, plan, json, prune, yes, preflightOnly, verifyKey, allowMissing, keepImages, noMirror,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            bool asJson = p.GetValue(json), planOnly = p.GetValue(plan) || asJson;
            var given = p.GetValue(image) ?? [];
            if (planOnly && given.Length == 0 && p.GetValue(common.File) is null && !System.IO.File.Exists("Clusterfile"))
            {
                Console.Out.Write(InstallPipeline.Describe());
                Console.Out.Write("\n" + UpgradePipeline.Describe());
                return 0;
            }
            if (given.Length == 0 && !planOnly && !p.GetValue(preflightOnly) && p.GetValue(common.File) is null && !System.IO.File.Exists("Clusterfile")
                && !System.IO.File.Exists(common.DefaultClusterfile(p)) && p.GetValue(common.Image) is { } guidedImage)
            {
                if (p.GetValue(yes) || !Guided.GuidedRun.CanAsk)
                {
                    throw new SealerException(ErrorCodes.GuidedAnswerMissing, $"No Clusterfile (-f FILE, ./Clusterfile) and {(p.GetValue(yes) ? "--yes" : "no terminal to ask on")}: give one with -f FILE (kind: Cluster, spec.hosts, spec.ssh), or run on a terminal without --yes to be asked.");
                }
                return await Guided.GuidedRun.RunAsync(new Guided.GuidedTarget(guidedImage, guidedImage, p.GetValue(common.SealerBinary), null, Directory.GetCurrentDirectory(),
                    $"sealer run --image {guidedImage}"), cancellationToken).ConfigureAwait(false);
            }
            ClusterfileDocument doc;
            string text;
            var images = given;
            if (images.Length > 0)
            {
                if (images.Length != 1) throw new SealerException(ErrorCodes.BadCommandLine, $"'run': give one image, not '{string.Join(' ', images)}'.");
                var shortForm = new ShortForm(images[0], p.GetValue(masters)!, p.GetValue(nodes)!, p.GetValue(env)!, p.GetValue(user), p.GetValue(passwd),
                    p.GetValue(pk), p.GetValue(pkPasswd), p.GetValue(port), p.GetValue(clusterName) ?? "my-cluster");
                (doc, text) = FromFlags(shortForm, common.DefaultClusterfile(p, shortForm.ClusterName));
            }
            else
            {
                (doc, text, _) = common.LoadClusterfile(p);
            }
            var sw = Stopwatch.StartNew();
            var options = common.RunOptions(p, statusToStderr: asJson) with { PruneApps = p.GetValue(prune), PlanOnly = planOnly, VerifyKey = p.GetValue(verifyKey), AllowMissingImages = p.GetValue(allowMissing), KeepImages = p.GetValue(keepImages), NoMirror = p.GetValue(noMirror) };
            if (p.GetValue(preflightOnly))
            {
                var report = await new ClusterInstaller(doc, options, text).PreflightAsync(cancellationToken).ConfigureAwait(false);
                Console.Out.Write(report.ToText());
                return report.Passed ? 0 : SealerCli.ErrorExitCode;
            }
            var result = await new ClusterInstaller(doc, options, text).RunAsync(cancellationToken).ConfigureAwait(false);
            if (planOnly) return PrintPlan(result, asJson, doc);
            Summarize(result, doc, sw.Elapsed);
            return 0;
        });
        return command;
    }

    private static Option<int> KeepImages() => CliOptions.Int("--keep-images", "after an upgrade or rollback, the images the registry hosts keep (the current one and the ones before it); blobs only older images use are removed", 2, 1, 100);

    /// <summary><c>sealer registry gc</c>: the registry hosts' garbage collection by hand (in the registry group).</summary>
    internal static Command RegistryGc()
    {
        var common = new CommonOptions();
        var keep = KeepImages();
        var dryRun = CliOptions.Flag("--dry-run", "print what would be removed and the bytes it would free; remove nothing");
        var command = new SealerCommand("gc", "Remove registry and content-store blobs that only older images of the cluster use", """
            On every host of the cluster the Clusterfile describes: the registry (rootfs/registry) keeps every blob
            its served index.json or a kept image reaches (the current image and the ones before it, up to
            --keep-images, default 2), and the content store (<dataRoot>/.store) the layers of the kept images;
            the rest is removed. Manifests are read from the host and walked; a host whose manifests cannot all
            be read is left alone. Refused while an upgrade or rollback is unfinished. 'sealer run' does this after
            every upgrade and rollback.
            """)
        {
            keep, dryRun,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var (doc, text, _) = common.LoadClusterfile(p);
            bool dry = p.GetValue(dryRun);
            var result = await new ClusterInstaller(doc, common.RunOptions(p), text).RegistryGcAsync(p.GetValue(keep), dry, cancellationToken).ConfigureAwait(false);
            foreach (var h in result)
            {
                Console.Out.WriteLine($"{h.Host}: {(dry ? "would remove" : "removed")} {h.RegistryBlobs.Count} registry blob(s) ({Bytes.Format(h.RegistryBytes)}) and {h.StoreBlobs.Count} content-store blob(s) ({Bytes.Format(h.StoreBytes)}); kept {h.BlobsKept} registry blob(s) of {string.Join(", ", h.ImagesKept)}");
                foreach (var b in h.RegistryBlobs) Console.Out.WriteLine($"  registry {b}");
                foreach (var b in h.StoreBlobs) Console.Out.WriteLine($"  store    {b}");
                if (h.Skipped is not null) Console.Out.WriteLine($"  note: {h.Skipped}");
            }
            Console.Out.WriteLine($"{(dry ? "would free" : "freed")} {Bytes.Format(result.Sum(h => h.BytesFreed))} on {result.Count} host(s){(dry ? " (--dry-run: nothing was removed)" : "")}");
            return 0;
        });
        return command;
    }

    private static Option<bool> PruneApps() => CliOptions.Flag("--prune-apps", "in an upgrade or rollback, remove the apps the new image drops (helm uninstall, kubectl delete -f of their previous manifests); default: leave them running");

    /// <summary>--plan / --json: the upgrade plan computed without changing anything (or that the run is no upgrade).</summary>
    private static int PrintPlan(RunResult result, bool asJson, ClusterfileDocument doc)
    {
        if (asJson)
        {
            Console.Out.WriteLine(result.Plan is null ? "null" : System.Text.Json.JsonSerializer.Serialize(result.Plan, UpgradePlanJsonContext.Default.UpgradePlan));
            return 0;
        }
        if (result.Plan is null)
        {
            Console.Out.WriteLine($"no upgrade: cluster '{doc.Cluster.Name}' is not installed from another image ({(string.IsNullOrEmpty(result.Image) ? "not installed yet" : $"it runs {result.Image}")}); 'sealer run' installs or brings it up to date:");
            Console.Out.Write(InstallPipeline.Describe());
            return 0;
        }
        Console.Out.Write(result.Plan.ToText());
        Console.Out.WriteLine("nothing was changed (--plan)");
        return 0;
    }

    private static Command Rollback()
    {
        var common = new CommonOptions();
        var plan = CliOptions.Flag("--plan", "print the rollback plan (apps, images, bytes per host, what is not undone) and exit, changing nothing");
        var json = CliOptions.Json("the plan as JSON on stdout (implies --plan)");
        var prune = PruneApps();
        var keepImages = KeepImages();
        var command = new SealerCommand("rollback", "Go back to the image the cluster ran before its last upgrade", """
            Brings the apps back to the previous image of the cluster's history (kept in its state, on master0
            and locally): that image (as it was given to 'sealer run', so it must still be there) is distributed
            again where hosts lack it, the rootfs swapped back, and every app that differs launched again with the
            previous chart and values (helm upgrade --install, kubectl apply). An upgrade that did not finish is
            rolled back to the image it started from. Kubernetes is never downgraded, and shell apps are only run
            again: the plan lists what is not undone. Apps the newer image added keep running unless --prune-apps.
            """)
        {
            plan, json, prune, keepImages,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            if (p.GetValue(common.Image) is not null) throw new SealerException(ErrorCodes.BadCommandLine, "'rollback' goes back to the image recorded before the current one; to run another image, use 'sealer run --image'.");
            bool asJson = p.GetValue(json), planOnly = p.GetValue(plan) || asJson;
            var (doc, text, _) = common.LoadClusterfile(p);
            var sw = Stopwatch.StartNew();
            var options = common.RunOptions(p, statusToStderr: asJson) with { PruneApps = p.GetValue(prune), PlanOnly = planOnly, KeepImages = p.GetValue(keepImages) };
            var result = await new ClusterInstaller(doc, options, text).RollbackAsync(cancellationToken).ConfigureAwait(false);
            if (planOnly) return PrintPlan(result, asJson, doc);
            Summarize(result, doc, sw.Elapsed);
            return 0;
        });
        return command;
    }

    private sealed record ShortForm(string Image, List<string> Masters, List<string> Nodes, List<string> Env, string? User, string? Passwd,
        string? Pk, string? PkPasswd, string? Port, string ClusterName);

    /// <summary>Sealer's <c>sealer run IMAGE -m ... -n ... -p ...</c>: a Clusterfile is written from the flags and used.</summary>
    private static (ClusterfileDocument, string) FromFlags(ShortForm f, string path)
    {
        if (f.Masters.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'run IMAGE' needs -m|--masters IPS (or use -f Clusterfile).");
        if (f.Passwd is not null)
        {
            Console.Error.WriteLine("warning: a password given with --passwd is visible to other users of this machine (ps); prefer --pk, or a Clusterfile only you can read.");
        }
        static string Y(string v) => "'" + v.Replace("'", "''", StringComparison.Ordinal) + "'";
        var sb = new StringBuilder();
        sb.Append("apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: ").Append(Y(f.ClusterName)).Append("\nspec:\n  image: ").Append(Y(f.Image)).Append('\n');
        if (f.Env.Count > 0)
        {
            sb.Append("  env:\n");
            foreach (var e in f.Env) sb.Append("    - ").Append(Y(e)).Append('\n');
        }
        sb.Append("  ssh:\n    user: ").Append(Y(f.User ?? "root")).Append('\n');
        if (f.Passwd is { } pw) sb.Append("    passwd: ").Append(Y(pw)).Append('\n');
        if (f.Pk is { } pk) sb.Append("    pk: ").Append(Y(Path.GetFullPath(pk))).Append('\n');
        if (f.PkPasswd is { } pkp) sb.Append("    pkPasswd: ").Append(Y(pkp)).Append('\n');
        if (f.Port is { } port) sb.Append("    port: ").Append(Y(port)).Append('\n');
        sb.Append("  hosts:\n    - ips: [").Append(string.Join(", ", f.Masters.Select(Y))).Append("]\n      roles: [master]\n");
        if (f.Nodes.Count > 0) sb.Append("    - ips: [").Append(string.Join(", ", f.Nodes.Select(Y))).Append("]\n      roles: [node]\n");
        string text = sb.ToString();
        var doc = ClusterfileReader.Parse(text, path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Console.Out.WriteLine($"wrote {path} (use it with -f for join, check and delete)");
        return (doc, text);
    }

    private static Command Join()
    {
        var common = new CommonOptions();
        var masters = Masters();
        var nodes = Nodes();
        var command = new SealerCommand("join", "Add masters or nodes to a cluster and update the Clusterfile", """
            Adds hosts (comma lists and ranges like 192.168.0.5-192.168.0.7) to the cluster: they are checked,
            get the cluster image, run the lifecycle and join; the Clusterfile is updated when the join succeeds.
            """)
        {
            masters, nodes,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var m = p.GetValue(masters)!;
            var n = p.GetValue(nodes)!;
            if (m.Count == 0 && n.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'join' needs --masters IPS or --nodes IPS.");
            var (_, text, path) = common.LoadClusterfile(p);
            string updated = ClusterfileEditor.AddHosts(text, m, n, path);
            var doc = ClusterfileReader.Parse(updated, path);
            var sw = Stopwatch.StartNew();
            var result = await new ClusterInstaller(doc, common.RunOptions(p), updated).RunAsync(cancellationToken).ConfigureAwait(false);
            AtomicFile.WriteAllText(path, updated);
            Summarize(result, doc, sw.Elapsed);
            Console.Out.WriteLine($"updated {path}");
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var common = new CommonOptions();
        var hosts = CliOptions.Repeatable("--hosts", "hosts to remove from the cluster", "IPS", true);
        var masters = Masters();
        var nodes = Nodes();
        var all = CliOptions.Flag("--all", "remove the whole cluster from all hosts", "-a");
        var yes = CliOptions.Flag("--yes", "do not ask for confirmation", "-y");
        var command = new SealerCommand("delete", "Remove a cluster, or some hosts from it", """
            Removes the cluster from all hosts (--all), or the given hosts from the cluster (they are drained
            first, then cleaned: kubeadm reset, registry, hosts.toml files and Docker's registry-mirrors of the
            cluster's registry, /etc/hosts entries, rootfs).
            Plugins with pre-clean-host / post-clean-host run around it. With --hosts the Clusterfile is updated.
            """)
        {
            hosts, masters, nodes, all, yes,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var ips = p.GetValue(hosts)!.Concat(p.GetValue(masters)!).Concat(p.GetValue(nodes)!).SelectMany(ClusterfileReader.ExpandIpRange).ToList();
            bool everything = p.GetValue(all);
            if (everything == ips.Count > 0) throw new SealerException(ErrorCodes.BadCommandLine, "'delete' needs either --all or --hosts IPS.");
            var (doc, text, path) = common.LoadClusterfile(p);
            if (!p.GetValue(yes) && !Console.IsInputRedirected)
            {
                Console.Out.Write(everything ? $"Delete cluster '{doc.Cluster.Name}' from {doc.Cluster.Hosts.Count} hosts? [y/N] " : $"Remove {string.Join(", ", ips)} from cluster '{doc.Cluster.Name}'? [y/N] ");
                if (Console.In.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes")) return 1;
            }
            var removed = await new ClusterInstaller(doc, common.RunOptions(p), text).DeleteAsync(everything ? null : ips, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"cleaned {removed.Count} host(s): {string.Join(", ", removed)}");
            if (!everything)
            {
                AtomicFile.WriteAllText(path, ClusterfileEditor.RemoveHosts(text, ips, path));
                Console.Out.WriteLine($"updated {path}");
            }
            return 0;
        });
        return command;
    }

    private static Command Check()
    {
        var common = new CommonOptions();
        var images = CliOptions.Flag("--images", "only check, on this machine (no host contacted), that the apps rendered with the Clusterfile's values (Application config files, launch.helm values and valueFiles) name only images the cluster image (--image or spec.image) carries");
        var airgap = CliOptions.Flag("--airgap", "also check for air-gap leaks: on each host the runtime's certs.d mirrors every domain the running pods use (and _default) to the cluster's registry, and every pod and node image is one the built-in registry serves");
        var command = new SealerCommand("check", "Check a cluster's hosts, rootfs, registry and runtime configuration", """
            Checks the cluster against the Clusterfile and the recorded state: hosts reachable, rootfs of the
            installed image, registry answering, containerd configured; and, through kubectl on master0, every
            app's workloads (deployments, statefulsets, daemonsets: ready vs desired), pods that cannot pull their
            image and crash-looping containers. Exit code 1 when something is wrong.

            --images checks before a run, on this machine only: every app rendered as 'sealer run' will launch it
            (charts with their final values, manifests after *.tmpl and Application config files) must name only
            images the cluster image's registry serves; each missing one is listed with its app, file:line and the
            value that produced it (SEA4150).

            --airgap adds the air-gap leak check: containerd's CRI reads /etc/containerd/certs.d (its config_path, as
            containerd config dump shows it) and certs.d on every host (/etc/docker/certs.d on Docker hosts) has a
            mirror for each domain the running pods use and for _default, pointing at the cluster's registry hosts
            (SEA4152; Docker's classic image store reads no certs.d: there only docker.io is mirrored, through
            daemon.json's registry-mirrors, and every other domain is a leak); every image of every running pod
            (kubectl on master0) and every image a node holds (ctr -n k8s.io images ls, or docker image ls) is one
            the built-in registry serves, by digest (SEA4153); and what the registry served (its access log).
            """)
        {
            images, airgap,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var (doc, text, _) = common.LoadClusterfile(p);
            if (p.GetValue(images)) return CheckImages(doc, common.RunOptions(p));
            var installer = new ClusterInstaller(doc, common.RunOptions(p), text);
            var result = p.GetValue(airgap) ? await installer.CheckAirgapAsync(cancellationToken).ConfigureAwait(false) : await installer.CheckAsync(cancellationToken).ConfigureAwait(false);
            foreach (var ok in result.Ok) Console.Out.WriteLine($"ok    {ok}");
            foreach (var problem in result.Problems) Console.Out.WriteLine($"FAIL  {problem}");
            Console.Out.WriteLine(result.Problems.Count == 0 ? $"cluster '{doc.Cluster.Name}' is healthy" : $"{result.Problems.Count} problem(s)");
            return result.Problems.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command SupportBundleCommand()
    {
        var common = new CommonOptions();
        var output = CliOptions.Text("--output", "the .tar.gz to write (default: ./sealer-support-CLUSTER-TIME.tar.gz)", "FILE", "-o");
        var list = CliOptions.Flag("--list", "print what is collected, from where, and the limits, then exit");
        var command = new SealerCommand("support-bundle", "Collect what a vendor needs to diagnose a delivery into one .tar.gz (secrets redacted)", """
            Collects, from this machine and every host at once (over SSH, as run does; nothing is changed): the run
            state and log, the last failure, 'sealer check', the registry's access log, containerd/docker configuration
            and image lists, kubelet and runtime journals, kubectl get of nodes, pods, events and workloads with the
            logs of failing pods, and disk, memory and time facts. Passwords, keys, tokens and secret-looking env
            values are redacted. Writes one .tar.gz whose summary.txt says what failed where. A host that cannot be
            reached is recorded, not fatal; each command, host and file is bounded (see --list).
            """)
        {
            output, list,
        };
        common.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var limits = new SupportLimits();
            if (p.GetValue(list))
            {
                Console.Out.Write(SupportItems.Describe(limits));
                return 0;
            }
            var (doc, text, _) = common.LoadClusterfile(p);
            var bundle = new SupportBundle(doc, text, common.RunOptions(p), limits);
            string file = p.GetValue(output) ?? bundle.DefaultFileName(DateTimeOffset.UtcNow);
            Console.Error.WriteLine($"collecting from this machine and {doc.Cluster.Hosts.Count} host(s) (at most {limits.HostTimeout.TotalSeconds:0} s per host)...");
            var result = await bundle.WriteAsync(file, cancellationToken).ConfigureAwait(false);
            foreach (var ip in result.Unreachable) Console.Out.WriteLine($"unreachable: {ip} (recorded in the bundle)");
            Console.Out.WriteLine($"wrote {result.Path} ({Bytes.Format(result.Bytes)}); its summary.txt says what failed where. Secrets are redacted; look it over before you send it.");
            return 0;
        });
        return command;
    }

    /// <summary>check --images: the offline completeness check; missing images are SEA4150 (exit code 1).</summary>
    private static int CheckImages(ClusterfileDocument doc, RunOptions options)
    {
        var image = ClusterImageSource.Open(options.Image ?? doc.Cluster.Image, options.CacheDir, options.StoreDir);
        var report = ImageCompleteness.CheckOffline(image, doc);
        foreach (var a in report.Apps)
        {
            Console.Out.WriteLine(a.NotChecked is null ? $"ok    app {a.App} ({a.Kind}): {a.Images} image(s)" : $"skip  app {a.App} ({a.Kind}): {a.NotChecked}");
        }
        if (!report.Complete) throw report.Failure();
        Console.Out.WriteLine($"every image the apps launch is in {image.Reference} ({report.Served} served by its registry)");
        return 0;
    }

    private static void Summarize(RunResult result, ClusterfileDocument doc, TimeSpan elapsed)
    {
        long fromHere = result.Transfers.Sum(t => t.BytesFromController);
        long relayed = result.Transfers.Sum(t => t.BytesRelayed);
        var via = result.Transfers.SelectMany(t => t.Transport.Split('+')).Where(t => t != "none").Distinct().Order(StringComparer.Ordinal).ToList();
        Console.Out.WriteLine($"cluster '{doc.Cluster.Name}' is up: {result.StepsRun.Count} steps run, {result.StepsSkipped.Count} already done; " +
            $"sent {Bytes.Format(fromHere)} from here{(via.Count > 0 ? $" ({string.Join(", ", via)})" : "")}, {Bytes.Format(relayed)} host-to-host; {elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>One progress line a second: bytes, percent, hosts, throughput.</summary>
    private sealed class ConsoleProgress : IProgress<TransferProgress>
    {
        private Stopwatch? _clock;
        private long _lastTick = -1000;

        public void Report(TransferProgress p)
        {
            _clock ??= Stopwatch.StartNew(); // the rate counts from the first byte's report, not from the start of the run
            long now = _clock.ElapsedMilliseconds;
            bool final = p.HostsDone == p.HostsTotal && p.HostsTotal > 0;
            if (!final && now - Interlocked.Read(ref _lastTick) < 1000) return;
            Interlocked.Exchange(ref _lastTick, now);
            double rate = p.BytesDone / Math.Max(0.001, now / 1000.0);
            var sb = new StringBuilder("distribute: ");
            sb.Append(Bytes.Format(p.BytesDone)).Append(" / ").Append(Bytes.Format(p.BytesTotal));
            if (p.BytesTotal > 0) sb.Append($" ({100.0 * p.BytesDone / p.BytesTotal:0}%)");
            sb.Append($", {p.HostsDone}/{p.HostsTotal} hosts, {Bytes.Format((long)rate)}/s");
            Console.Error.WriteLine(sb.ToString());
        }
    }
}
