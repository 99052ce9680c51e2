using System.Text.Json;
using System.Text.RegularExpressions;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Checks;

/// <summary>What one host told the air-gap check: its hostname, its runtime's certs.d, its images, the registry's access log.</summary>
public sealed record AirgapHostFacts(string Ip, string Hostname)
{
    /// <summary>The cluster's container runtime on this host: <c>containerd</c> or <c>docker</c> (which reads <see cref="CertsDir"/> and lists <see cref="Images"/>).</summary>
    public string Runtime { get; init; } = "containerd";

    /// <summary>The folder of hosts.toml files the runtime reads: containerd's, or Docker Engine's (<see cref="RuntimeConfigOptions.DefaultDockerCertsDir"/>).</summary>
    public string CertsDir { get; init; } = ContainerdConfigToml.CertsDir;

    /// <summary>certs.d directory name (a domain, or <c>_default</c>) → its hosts.toml.</summary>
    public IReadOnlyDictionary<string, string> HostsToml { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The images the runtime holds: <c>ctr -n k8s.io images ls</c> (containerd), <c>docker image ls</c> in
    /// <see cref="AirgapCheck.DockerImageFormat"/> (Docker); null: the runtime did not answer (see <see cref="ImagesError"/>).</summary>
    public string? Images { get; init; }

    public string? ImagesError { get; init; }

    /// <summary>The built-in registry's access log on this host (empty: not a registry host, or no log).</summary>
    public string AccessLog { get; init; } = "";

    /// <summary>Docker hosts: <c>containerd</c> (the containerd image store, which reads <see cref="CertsDir"/>), <c>classic</c>
    /// (which reads no hosts.toml and mirrors docker.io only, through <see cref="DockerRegistryMirrors"/>), null: not known
    /// (<see cref="DockerStoreError"/>; judged as the containerd image store). From <see cref="DockerImageStore.Of"/>.</summary>
    public string? DockerStore { get; init; }

    public string? DockerStoreError { get; init; }

    /// <summary>Docker hosts: the <c>registry-mirrors</c> of /etc/docker/daemon.json as <c>host:port</c> (null: no file, or not JSON; see <see cref="AirgapCheck.DockerRegistryMirrors"/>).</summary>
    public IReadOnlyList<string>? DockerRegistryMirrors { get; init; }

    /// <summary>The folders containerd's CRI reads hosts.toml from (its registry <c>config_path</c>, from <c>containerd config dump</c>); null: not asked (no containerd, or the host runs Docker).</summary>
    public string? CriConfigPath { get; init; }
}

/// <summary>One image a pod runs (or a node holds), where, and the digest it resolved to when known.</summary>
public sealed record RunningImage(string Reference, string? Digest, string Where, string? Node);

/// <summary>
/// The air-gap leak check, pure over what the hosts reported (<see cref="AirgapHostFacts"/>, <c>kubectl get pods -A -o
/// json</c>): on each host containerd's CRI reads certs.d (its config_path), certs.d has a mirror, pointing at the cluster's registry, for every domain its pods
/// and images use and for <c>_default</c> (SEA4152); every pod image and every image containerd holds resolves to a digest
/// the built-in registry serves (SEA4153); the registry's access log says what it served and which manifests it did not
/// have (the node then tried the upstream server: a leak attempt).
/// </summary>
public static partial class AirgapCheck
{
    private const string CertsDir = ContainerdConfigToml.CertsDir;
    private const string DaemonJson = RuntimeConfigOptions.DockerDaemonJsonPath;

    /// <summary>The <c>registry-mirrors</c> of a daemon.json as <c>host:port</c> (its default port left out); null when it is not a JSON object.</summary>
    public static List<string>? DockerRegistryMirrors(string daemonJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(daemonJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var result = new List<string>();
            if (!doc.RootElement.TryGetProperty("registry-mirrors", out var list) || list.ValueKind != JsonValueKind.Array) return result;
            foreach (var e in list.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.String && Uri.TryCreate(e.GetString(), UriKind.Absolute, out var u)) result.Add(u.Authority);
            }
            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <param name="served">what the built-in registry serves</param>
    /// <param name="registryEndpoints">the cluster's registry hosts as <c>host:port</c> (the mirrors must point there), and its own name (<c>sea.hub:5000</c>: images named by it are pulled from it directly)</param>
    /// <param name="master0">master0's IP (where the pods were listed)</param>
    /// <param name="podsJson"><c>kubectl get pods -A -o json</c> (null: not listed)</param>
    /// <param name="hosts">each host's facts</param>
    /// <param name="dockerMirrorRefusal">why Docker's pulls through registry-mirrors are refused by the cluster's registry
    /// (it asks for credentials, and Docker sends a mirror none), or null when they are not known to be</param>
    /// <param name="registryName">what serves <paramref name="served"/>, as messages name it (an externalRegistry's name with it)</param>
    public static CheckResult Evaluate(ServedImages served, IReadOnlyList<string> registryEndpoints, string master0, string? podsJson, IReadOnlyList<AirgapHostFacts> hosts, string? dockerMirrorRefusal = null,
        string registryName = "the built-in registry")
    {
        ArgumentNullException.ThrowIfNull(served);
        ArgumentNullException.ThrowIfNull(hosts);
        var ok = new List<string>();
        var problems = new List<PreflightProblem>();
        var pods = podsJson is null ? [] : PodImages(podsJson);
        if (podsJson is not null) ok.Add($"{master0}: {pods.Count} container image(s) in running and pending pods");

        foreach (var h in hosts)
        {
            var mirrors = h.HostsToml.ToDictionary(kv => kv.Key, kv => MirrorHosts(kv.Value), StringComparer.Ordinal);
            bool PointsHome(string dir) => mirrors.TryGetValue(dir, out var m) && m.Any(registryEndpoints.Contains);
            string certs = h.CertsDir.TrimEnd('/');
            bool docker = h.Runtime == "docker";
            bool classic = docker && h.DockerStore == DockerImageStore.Classic;
            if (docker && h.DockerStore is null) ok.Add($"{h.Ip}: Docker's image store not known ({h.DockerStoreError ?? "not asked"}): judged by {certs} as the containerd image store reads it");
            if (classic) ok.Add($"{h.Ip}: Docker uses its classic image store: it reads no hosts.toml and mirrors docker.io only (registry-mirrors in {DaemonJson})");
            else if (PointsHome("_default")) ok.Add($"{h.Ip}: certs.d/_default mirrors to {string.Join(", ", mirrors["_default"].Where(registryEndpoints.Contains))}");
            else problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: {(mirrors.ContainsKey("_default") ? $"{certs}/_default/hosts.toml does not point at the cluster's registry ({string.Join(", ", registryEndpoints)})" : $"no {certs}/_default/hosts.toml")}: images of other registries are pulled from the internet. Run 'sealer run' again (registry-config)."));

            if (h.CriConfigPath is { } configPath)
            {
                if (ContainerdConfigToml.Folders(configPath).Contains(CertsDir, StringComparer.Ordinal))
                {
                    ok.Add($"{h.Ip}: containerd's CRI reads {CertsDir} (config_path)");
                }
                else
                {
                    problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: containerd's CRI does not read {CertsDir} (its config_path is \"{configPath}\" in /etc/containerd/config.toml): " +
                        "every mirror there is ignored and each pull goes to the image's own registry. Run 'sealer run' again (registry-config sets it)."));
                }
            }

            var mine = pods.Where(p => p.Node is null || p.Node == h.Hostname).ToList();
            var held = h.Images is null ? [] : docker ? DockerImages(h.Images, h.Ip) : CtrImages(h.Images, h.Ip);
            if (h.Images is null) ok.Add($"{h.Ip}: {h.Runtime}'s images not listed ({h.ImagesError ?? (docker ? "no docker" : "no ctr")})");
            var domains = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var i in mine.Concat(held))
            {
                if (!ImageReference.TryParse(i.Reference, out var r, out _)) continue;
                if (!domains.TryGetValue(r.Domain, out var users)) domains[r.Domain] = users = [];
                users.Add(i.Reference);
            }
            foreach (var (domain, users) in domains)
            {
                if (registryEndpoints.Contains(domain))
                {
                    ok.Add($"{h.Ip}: {domain} is the cluster's registry"); // its own name (sea.hub:5000, a Sealer base's images), pulled from directly
                    continue;
                }
                string who = $"{string.Join(", ", users.Distinct(StringComparer.Ordinal).Take(3))} use{(users.Count == 1 ? "s" : "")} {domain}: a pull goes to {domain} directly.";
                if (classic)
                {
                    if (domain != DockerImageStore.MirroredDomain)
                    {
                        problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: Docker's classic image store mirrors docker.io only (it reads no hosts.toml), but {who} " +
                            DockerImageStore.Remedy));
                    }
                    else if (h.DockerRegistryMirrors?.Any(registryEndpoints.Contains) == true)
                    {
                        if (dockerMirrorRefusal is null) ok.Add($"{h.Ip}: docker.io mirrors to the cluster's registry (registry-mirrors)");
                        else problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: the registry-mirrors of {DaemonJson} name the cluster's registry, but {dockerMirrorRefusal}, so {who} {DockerImageStore.Remedy}"));
                    }
                    else
                    {
                        problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: {(h.DockerRegistryMirrors is null ? $"{DaemonJson} is missing or not JSON" : $"the registry-mirrors of {DaemonJson} do not name the cluster's registry ({string.Join(", ", registryEndpoints)})")}, but {who} Run 'sealer run' again (registry-config)."));
                    }
                    continue;
                }
                if (PointsHome(domain)) ok.Add($"{h.Ip}: certs.d/{domain} mirrors to the cluster's registry");
                else problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapMirrorMissing}: {(mirrors.ContainsKey(domain) ? $"{certs}/{domain}/hosts.toml does not point at the cluster's registry ({string.Join(", ", registryEndpoints)})" : $"no {certs}/{domain}/hosts.toml")}, but {who} Add the image to the cluster image (its domain is then mirrored), or run 'sealer run' again."));
            }
            foreach (var i in mine.Where(p => p.Node == h.Hostname).Concat(held))
            {
                string? from = i.Digest is not null ? served.ByDigest(i.Digest) : ImageReference.TryParse(i.Reference, out var r, out _) && served.Serves(r) ? i.Reference : null;
                if (from is not null) ok.Add($"{h.Ip}: {i.Where} {i.Reference}{(i.Digest is null ? "" : " " + i.Digest[..Math.Min(19, i.Digest.Length)])} is served by {registryName}");
                else problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapImageNotServed}: {i.Where} {i.Reference}{(i.Digest is null ? "" : $" ({i.Digest})")} is not an image {registryName} serves: it did not come from the cluster image. Add it to the cluster image, or remove what runs it."));
            }
            AccessLog(h, ok, problems);
        }
        foreach (var p in pods.Where(p => p.Node is not null && hosts.All(h => h.Hostname != p.Node)))
        {
            problems.Add(new PreflightProblem(master0, "airgap", $"{ErrorCodes.AirgapImageNotServed}: {p.Where} {p.Reference} runs on node '{p.Node}', which is not a host of the Clusterfile: its mirrors cannot be checked."));
        }
        return new CheckResult(ok, problems);
    }

    /// <summary>The hosts a hosts.toml sends pulls to (<c>[host."https://10.0.0.1:5000"]</c> → <c>10.0.0.1:5000</c>).</summary>
    public static List<string> MirrorHosts(string hostsToml)
    {
        var result = new List<string>();
        foreach (Match m in HostHeader().Matches(hostsToml))
        {
            string url = m.Groups["url"].Value;
            if (Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url, UriKind.Absolute, out var u)) result.Add(u.Authority);
        }
        return result;
    }

    /// <summary>Every container image of the running and pending pods, with the digest containerd resolved it to (status imageID).</summary>
    public static List<RunningImage> PodImages(string podsJson)
    {
        var result = new List<RunningImage>();
        using var doc = JsonDocument.Parse(podsJson);
        if (!doc.RootElement.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("no 'items' list");
        }
        foreach (var pod in items.EnumerateArray())
        {
            string phase = pod.TryGetProperty("status", out var st) && st.TryGetProperty("phase", out var ph) ? ph.GetString() ?? "" : "";
            if (phase is "Succeeded" or "Failed") continue;
            var meta = pod.GetProperty("metadata");
            string name = $"{Str(meta, "namespace")}/{Str(meta, "name")}";
            string? node = pod.TryGetProperty("spec", out var spec) && spec.TryGetProperty("nodeName", out var nn) ? nn.GetString() : null;
            var statuses = new Dictionary<string, (string Image, string? Id)>(StringComparer.Ordinal);
            foreach (var list in new[] { "initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses" })
            {
                if (st.ValueKind != JsonValueKind.Object || !st.TryGetProperty(list, out var arr) || arr.ValueKind != JsonValueKind.Array) continue;
                foreach (var c in arr.EnumerateArray()) statuses[Str(c, "name")] = (Str(c, "image"), c.TryGetProperty("imageID", out var id) ? id.GetString() : null);
            }
            foreach (var list in new[] { "initContainers", "containers", "ephemeralContainers" })
            {
                if (spec.ValueKind != JsonValueKind.Object || !spec.TryGetProperty(list, out var arr) || arr.ValueKind != JsonValueKind.Array) continue;
                foreach (var c in arr.EnumerateArray())
                {
                    string cname = Str(c, "name");
                    string image = Str(c, "image");
                    string? digest = statuses.TryGetValue(cname, out var s) ? DigestOf(s.Id) : null;
                    result.Add(new RunningImage(image, digest, $"pod {name} container {cname}", node));
                }
            }
        }
        return result;
    }

    /// <summary><c>ctr -n k8s.io images ls</c>: the named images (not the <c>sha256:</c> image IDs) with their digests.</summary>
    public static List<RunningImage> CtrImages(string output, string host)
    {
        var result = new List<RunningImage>();
        foreach (var line in output.Split('\n').Skip(1))
        {
            var cols = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length < 3 || cols[0].StartsWith("sha256:", StringComparison.Ordinal) || !cols[2].StartsWith("sha256:", StringComparison.Ordinal)) continue;
            result.Add(new RunningImage(cols[0], cols[2], $"containerd on {host} holds", null));
        }
        return result;
    }

    /// <summary>What <c>docker image ls</c> prints with this format: one image per line, <c>REPOSITORY:TAG DIGEST</c>.</summary>
    public const string DockerImageFormat = "{{.Repository}}:{{.Tag}} {{.Digest}}";

    /// <summary>
    /// The images Docker holds, from <c>docker image ls --digests --format</c> <see cref="DockerImageFormat"/>
    /// (<c>nginx:1.25 sha256:…</c>; Docker Hub's names short, <c>&lt;none&gt;</c> for a missing tag or digest): an untagged
    /// image by its digest, one without a name (a dangling layer stack) left out.
    /// </summary>
    public static List<RunningImage> DockerImages(string output, string host)
    {
        var result = new List<RunningImage>();
        foreach (var line in output.Split('\n'))
        {
            var cols = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length < 2) continue;
            int colon = cols[0].LastIndexOf(':');
            string repo = colon < 0 ? cols[0] : cols[0][..colon], tag = colon < 0 ? "<none>" : cols[0][(colon + 1)..];
            string? digest = cols[1].StartsWith("sha256:", StringComparison.Ordinal) ? cols[1] : null;
            if (repo == "<none>" || (tag == "<none>" && digest is null)) continue;
            result.Add(new RunningImage(tag == "<none>" ? $"{repo}@{digest}" : $"{repo}:{tag}", digest, $"docker on {host} holds", null));
        }
        return result;
    }

    private static string? DigestOf(string? imageId)
    {
        if (string.IsNullOrEmpty(imageId)) return null;
        int at = imageId.LastIndexOf('@');
        string d = at >= 0 ? imageId[(at + 1)..] : imageId.StartsWith("docker-pullable://", StringComparison.Ordinal) ? imageId["docker-pullable://".Length..] : imageId;
        return d.StartsWith("sha256:", StringComparison.Ordinal) && at >= 0 ? d : null; // a bare sha256: is the config (image ID), not a manifest digest
    }

    private static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>What the registry on this host served (manifests by image) and the manifests it did not have.</summary>
    private static void AccessLog(AirgapHostFacts h, List<string> ok, List<PreflightProblem> problems)
    {
        var served = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var notFound = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in h.AccessLog.Split('\n'))
        {
            var m = ManifestRequest().Match(line);
            if (!m.Success) continue;
            string ns = Regex.Match(m.Groups["q"].Value, @"(?:^|&)ns=([^&]+)").Groups[1].Value;
            string name = Uri.UnescapeDataString(m.Groups["name"].Value);
            string reference = Uri.UnescapeDataString(m.Groups["ref"].Value);
            string image = (ns.Length > 0 ? Uri.UnescapeDataString(ns) + "/" : "") + name + (reference.Contains(':', StringComparison.Ordinal) ? "@" : ":") + reference;
            var bucket = m.Groups["status"].Value is "200" or "304" ? served : m.Groups["status"].Value == "404" ? notFound : null;
            if (bucket is not null) bucket[image] = bucket.GetValueOrDefault(image) + 1;
        }
        if (served.Count > 0) ok.Add($"{h.Ip}: the registry served {served.Values.Sum()} manifest request(s) for {served.Count} image(s): {string.Join(", ", served.Keys.Take(10))}{(served.Count > 10 ? ", ..." : "")}");
        foreach (var (image, count) in notFound)
        {
            problems.Add(new PreflightProblem(h.Ip, "airgap", $"{ErrorCodes.AirgapImageNotServed}: the registry was asked for {image} ({count} time(s)) and does not have it: the node then tries the upstream server. Add the image to the cluster image."));
        }
    }

    [GeneratedRegex(@"\[host\.""(?<url>[^""]+)""\]")]
    private static partial Regex HostHeader();

    [GeneratedRegex(@"""(?:GET|HEAD) /v2/(?<name>.+?)/manifests/(?<ref>[^ ?""]+)(?:\?(?<q>[^ ""]*))? [^""]*"" (?<status>\d{3}) ")]
    private static partial Regex ManifestRequest();
}
