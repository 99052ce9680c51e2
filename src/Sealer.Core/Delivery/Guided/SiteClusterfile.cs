using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Delivery.Guided;

/// <summary>Where the registry runs: on every master (spec.registry.localRegistry.ha, Sealer's default) or on master0 only.</summary>
public enum RegistryPlacement
{
    AllMasters,
    FirstMaster,
}

/// <summary>The answers of a guided run.</summary>
public sealed record SiteAnswers
{
    public string ClusterName { get; init; } = "my-cluster";

    /// <summary>spec.image when the template has none (the run itself gets the bundle's image with --image).</summary>
    public required string Image { get; init; }

    public required IReadOnlyList<string> Masters { get; init; }

    public IReadOnlyList<string> Nodes { get; init; } = [];

    public string User { get; init; } = "root";

    public int Port { get; init; } = 22;

    /// <summary>The private key file (the recommended way in); null when a password is used.</summary>
    public string? KeyFile { get; init; }

    public string? KeyPassphrase { get; init; }

    public string? Password { get; init; }

    /// <summary>Whether the user agreed to keep the password (and key passphrase) in the Clusterfile in clear.</summary>
    public bool StoreSecrets { get; init; }

    public RegistryPlacement Registry { get; init; } = RegistryPlacement.AllMasters;

    /// <summary>The values of the template's placeholders.</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The Clusterfile a guided run writes: the bundle's template with its placeholders filled (or a minimal Cluster
/// document), then spec.hosts, spec.ssh and spec.registry.localRegistry.ha set from the answers. Two texts come back:
/// the one to write next to the bundle (secrets left out unless the user agreed) and the one to run with.
/// </summary>
public static class SiteClusterfile
{
    public static (string ToWrite, string ToRun) Build(SiteAnswers answers, string? template, string? file = null)
    {
        if (answers.Masters.Count == 0) throw new SealerException(ErrorCodes.GuidedAnswerMissing, "A cluster needs at least one master: give its address.");
        if (answers.KeyFile is null && answers.Password is null)
        {
            throw new SealerException(ErrorCodes.GuidedAnswerMissing, "Give a way to log in to the hosts: an SSH private key file (recommended) or a password.");
        }
        string filled = template is null ? Skeleton(answers) : ClusterfileTemplate.Fill(template, answers.Values, file);
        string run = Apply(filled, answers, secrets: true, file);
        string write = answers.StoreSecrets ? run : Apply(filled, answers, secrets: false, file);
        ClusterfileReader.Parse(run, file); // the same checks as any run: a bad template value is reported now, with its line
        return (write, run);
    }

    /// <summary>
    /// A Clusterfile written earlier without its secret, made runnable again: <paramref name="password"/> as spec.ssh.passwd
    /// (kept in memory only, for this run).
    /// </summary>
    public static string WithPassword(string text, string password, string? file = null) => WithSshSecret(text, "passwd", password, file);

    /// <summary>
    /// A Clusterfile written earlier without its key's passphrase, made runnable again: <paramref name="passphrase"/> as
    /// spec.ssh.pkPasswd (kept in memory only, for this run).
    /// </summary>
    public static string WithKeyPassphrase(string text, string passphrase, string? file = null) => WithSshSecret(text, "pkPasswd", passphrase, file);

    private static string WithSshSecret(string text, string field, string value, string? file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var cluster = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()
            .LastOrDefault(m => m.Children.TryGetValue(new YamlScalarNode("kind"), out var k) && k is YamlScalarNode { Value: "Cluster" })
            ?? throw new SealerException(ErrorCodes.GuidedBadAnswer, "The Clusterfile has no 'kind: Cluster' document.", file);
        Child(Child(cluster, "spec"), "ssh").Children[new YamlScalarNode(field)] = new YamlScalarNode(value) { Style = ScalarStyle.SingleQuoted };
        return Save(stream);
    }

    private static string Skeleton(SiteAnswers a) =>
        $"apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: {Quote(a.ClusterName)}\nspec:\n  image: {Quote(a.Image)}\n";

    private static string Quote(string v) => "'" + v.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Apply(string text, SiteAnswers a, bool secrets, string? file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new SealerException(ErrorCodes.GuidedBadAnswer, $"The Clusterfile template is not valid YAML once filled in (line {ex.Start.Line}): {ex.Message} Check the values given for its placeholders.", file, (int)ex.Start.Line, inner: ex);
        }
        var cluster = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()
            .LastOrDefault(m => m.Children.TryGetValue(new YamlScalarNode("kind"), out var k) && k is YamlScalarNode { Value: "Cluster" })
            ?? throw new SealerException(ErrorCodes.GuidedBadAnswer, "The Clusterfile template has no 'kind: Cluster' document.", file);
        var spec = Child(cluster, "spec");
        if (!spec.Children.ContainsKey(new YamlScalarNode("image"))) spec.Children[new YamlScalarNode("image")] = new YamlScalarNode(a.Image);

        var ssh = new YamlMappingNode { { "user", a.User }, { "port", a.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        if (a.KeyFile is not null) ssh.Add("pk", a.KeyFile);
        if (secrets && a.KeyPassphrase is not null) ssh.Add("pkPasswd", new YamlScalarNode(a.KeyPassphrase) { Style = ScalarStyle.SingleQuoted });
        if (secrets && a.Password is not null) ssh.Add("passwd", new YamlScalarNode(a.Password) { Style = ScalarStyle.SingleQuoted });
        spec.Children[new YamlScalarNode("ssh")] = ssh;

        var hosts = new YamlSequenceNode();
        foreach (var (ips, role) in new[] { (a.Masters, "master"), (a.Nodes, "node") })
        {
            if (ips.Count == 0) continue;
            hosts.Add(new YamlMappingNode
            {
                { "ips", new YamlSequenceNode(ips.Select(i => new YamlScalarNode(i)).Cast<YamlNode>()) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
                { "roles", new YamlSequenceNode(new YamlScalarNode(role)) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
            });
        }
        spec.Children[new YamlScalarNode("hosts")] = hosts;

        var registry = Child(spec, "registry");
        if (!registry.Children.ContainsKey(new YamlScalarNode("externalRegistry"))) // an external registry: no registry runs on the hosts
        {
            Child(registry, "localRegistry").Children[new YamlScalarNode("ha")] = new YamlScalarNode(a.Registry == RegistryPlacement.AllMasters ? "true" : "false");
        }

        return Save(stream);
    }

    private static string Save(YamlStream stream)
    {
        var w = new StringWriter();
        stream.Save(w, assignAnchors: false);
        return w.ToString().Replace("\n...\n", "\n---\n", StringComparison.Ordinal).TrimEnd('\n', '.', '-') + "\n";
    }

    private static YamlMappingNode Child(YamlMappingNode parent, string key)
    {
        var k = new YamlScalarNode(key);
        if (parent.Children.TryGetValue(k, out var node) && node is YamlMappingNode m) return m;
        var created = new YamlMappingNode();
        parent.Children[k] = created;
        return created;
    }
}
