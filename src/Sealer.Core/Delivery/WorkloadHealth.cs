using System.Text.Json;

namespace Sealer.Core.Delivery;

/// <summary>
/// <c>sealer check</c>'s view of the apps: from <c>kubectl get deployments,statefulsets,daemonsets -A -o json</c> and
/// <c>kubectl get pods -A -o json</c>, per app (Helm release, else <c>app.kubernetes.io/instance</c>, else namespace)
/// each workload's desired vs ready replicas, containers that cannot pull their image, and crash loops.
/// </summary>
public static class WorkloadHealth
{
    private static readonly HashSet<string> PullReasons = new(StringComparer.Ordinal) { "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable" };

    public static (List<string> Ok, List<PreflightProblem> Problems) Evaluate(string host, string workloadsJson, string podsJson)
    {
        var ok = new List<string>();
        var problems = new List<PreflightProblem>();
        using (var workloads = JsonDocument.Parse(workloadsJson))
        {
            foreach (var w in Items(workloads.RootElement))
            {
                string kind = Str(w, "kind") ?? "Workload";
                var meta = Obj(w, "metadata");
                string ns = Str(meta, "namespace") ?? "default";
                string name = Str(meta, "name") ?? "?";
                string app = AppOf(meta, ns);
                var spec = Obj(w, "spec");
                var status = Obj(w, "status");
                long desired, ready;
                if (kind == "DaemonSet")
                {
                    desired = Num(status, "desiredNumberScheduled") ?? 0;
                    ready = Num(status, "numberReady") ?? 0;
                }
                else
                {
                    desired = Num(spec, "replicas") ?? 1;
                    ready = Num(status, "readyReplicas") ?? 0;
                }
                string what = $"app {app}: {kind.ToLowerInvariant()} {ns}/{name} {ready}/{desired} ready";
                if (ready >= desired) ok.Add($"{host}: {what}");
                else problems.Add(new PreflightProblem(host, "app " + app, $"{kind.ToLowerInvariant()} {ns}/{name} has {ready}/{desired} ready; see 'kubectl -n {ns} describe {kind.ToLowerInvariant()} {name}'."));
            }
        }
        using (var pods = JsonDocument.Parse(podsJson))
        {
            foreach (var p in Items(pods.RootElement))
            {
                var meta = Obj(p, "metadata");
                string ns = Str(meta, "namespace") ?? "default";
                string name = Str(meta, "name") ?? "?";
                string app = AppOf(meta, ns);
                var status = Obj(p, "status");
                foreach (string list in new[] { "initContainerStatuses", "containerStatuses" })
                {
                    if (status is not { } s || !s.TryGetProperty(list, out var cs) || cs.ValueKind != JsonValueKind.Array) continue;
                    foreach (var c in cs.EnumerateArray())
                    {
                        string container = Str(c, "name") ?? "?";
                        var waiting = Obj(Obj(c, "state"), "waiting");
                        string? reason = Str(waiting, "reason");
                        if (reason is null) continue;
                        string? message = Str(waiting, "message");
                        if (PullReasons.Contains(reason))
                        {
                            problems.Add(new PreflightProblem(host, "app " + app,
                                $"pod {ns}/{name} container {container} cannot pull {Str(c, "image") ?? "its image"} ({reason}{(message is null ? "" : ": " + message)}); is the image in the cluster image (an image list, chart or manifest of the .kubeproj) and the registry running?"));
                        }
                        else if (reason == "CrashLoopBackOff")
                        {
                            var last = Obj(Obj(c, "lastState"), "terminated");
                            string detail = last is null ? "" : $", last exit {Num(last, "exitCode")?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{(Str(last, "reason") is { } r ? " " + r : "")}";
                            problems.Add(new PreflightProblem(host, "app " + app,
                                $"pod {ns}/{name} container {container} is crash looping ({Num(c, "restartCount") ?? 0} restarts{detail}); see 'kubectl -n {ns} logs {name} -c {container} --previous'."));
                        }
                    }
                }
            }
        }
        return (ok, problems);
    }

    private static string AppOf(JsonElement? meta, string ns)
    {
        var annotations = Obj(meta, "annotations");
        var labels = Obj(meta, "labels");
        return Str(annotations, "meta.helm.sh/release-name") ?? Str(labels, "app.kubernetes.io/instance") ?? ns;
    }

    private static IEnumerable<JsonElement> Items(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    private static JsonElement? Obj(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Str(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Num(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : null;
}
