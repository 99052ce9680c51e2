using System.Text;
using System.Text.Json.Nodes;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// A registry's credentials in Docker config files (<c>config.json</c>'s <c>auths</c>, as <c>docker login</c> writes
/// them), for Docker hosts: Docker Engine takes no credentials of its own, the client of each pull sends them — kubelet
/// (through cri-dockerd) from its keyring, <see cref="KubeletConfigPath"/> first, and the docker CLI from root's
/// <see cref="RootDockerConfigPath"/> (where Sealer writes them too). Other entries and settings are kept. Pure.
/// </summary>
internal static class DockerAuths
{
    /// <summary>The first place kubelet's credential keyring reads a Docker config from.</summary>
    public const string KubeletConfigPath = "/var/lib/kubelet/config.json";

    /// <summary>The docker CLI's config of root (sealer runs its commands as root).</summary>
    public const string RootDockerConfigPath = "/root/.docker/config.json";

    /// <summary>The files a login goes into, and comes out of on delete.</summary>
    public static readonly string[] ConfigFiles = [KubeletConfigPath, RootDockerConfigPath];

    /// <summary><c>base64(user:password)</c>, the <c>auth</c> of an <c>auths</c> entry.</summary>
    public static string Token(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    /// <summary>
    /// <paramref name="existing"/> (empty: no file yet) with an <c>auths</c> entry of <paramref name="token"/> for each of
    /// <paramref name="registries"/> (<c>host:port</c>), replacing an entry of the same name; a file that is not a JSON
    /// object is an error naming <paramref name="host"/> and <paramref name="path"/>.
    /// </summary>
    public static string Merge(string existing, IEnumerable<string> registries, string token, string host, string path)
    {
        var json = HostJsonFile.Parse(existing, host, path) ?? [];
        if (json["auths"] is not JsonObject auths)
        {
            if (json["auths"] is not null) throw new SealerException(ErrorCodes.RunStepFailed, $"{host}: {path}: \"auths\" is not a JSON object; fix it, then run again.");
            json["auths"] = auths = [];
        }
        foreach (var registry in registries) auths[registry] = new JsonObject { ["auth"] = token };
        return HostJsonFile.Write(json);
    }

    /// <summary>
    /// What <see cref="Merge"/> added taken out again (<c>sealer delete</c>): the entries of <paramref name="registries"/>
    /// holding <paramref name="token"/> (another's login of the same name stays), <c>auths</c> removed when left empty.
    /// Null when there is nothing of ours (or the file is not a JSON object: not ours to repair); empty when nothing else
    /// is left, so the file goes.
    /// </summary>
    public static string? Unmerge(string existing, IEnumerable<string> registries, string token)
    {
        JsonObject? json;
        try
        {
            json = string.IsNullOrWhiteSpace(existing) ? null : JsonNode.Parse(existing) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        if (json?["auths"] is not JsonObject auths) return null;
        bool changed = false;
        foreach (var registry in registries)
        {
            if (auths[registry] is JsonObject entry && entry["auth"] is JsonValue v && v.TryGetValue<string>(out var auth) && auth == token)
            {
                auths.Remove(registry);
                changed = true;
            }
        }
        if (!changed) return null;
        if (auths.Count == 0) json.Remove("auths");
        return json.Count == 0 ? "" : HostJsonFile.Write(json);
    }
}
