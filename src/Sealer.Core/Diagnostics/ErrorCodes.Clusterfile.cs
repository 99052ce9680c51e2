namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>The Clusterfile was not found or cannot be read.</summary>
    public const string ClusterfileNotFound = "SEA2500";

    /// <summary>The Clusterfile is not valid YAML (the message names the line).</summary>
    public const string ClusterfileInvalidYaml = "SEA2501";

    /// <summary>A field that Sealer's Clusterfile does not have (a typo, or a field of another version).</summary>
    public const string ClusterfileUnknownField = "SEA2502";

    /// <summary>A field has the wrong shape: a mapping where a list belongs, a list where a string belongs, ...</summary>
    public const string ClusterfileWrongShape = "SEA2503";

    /// <summary>A required field is missing (spec.image, spec.hosts, a host's ips or roles, ...).</summary>
    public const string ClusterfileMissingField = "SEA2504";

    /// <summary>The file holds no <c>kind: Cluster</c> document.</summary>
    public const string ClusterfileNoCluster = "SEA2505";

    /// <summary>A document has a kind this tool does not know.</summary>
    public const string ClusterfileUnknownKind = "SEA2506";

    /// <summary>An IP address or IP range (a.b.c.d-a.b.c.e) is malformed.</summary>
    public const string ClusterfileBadAddress = "SEA2507";

    /// <summary>An env entry is not of the form KEY=value.</summary>
    public const string ClusterfileBadEnv = "SEA2508";

    /// <summary>A port is not a number from 1 to 65535.</summary>
    public const string ClusterfileBadPort = "SEA2509";

    /// <summary>A host role is neither master nor node.</summary>
    public const string ClusterfileBadRole = "SEA2510";

    /// <summary>A value starts with '*' and was read as a YAML alias (e.g. <c>passwd: *****</c>): quote it.</summary>
    public const string ClusterfileUnquotedAlias = "SEA2511";

    /// <summary>A Plugin has an unknown action, scope or type.</summary>
    public const string ClusterfileBadPlugin = "SEA2512";

    /// <summary>The same IP address is listed for two hosts.</summary>
    public const string ClusterfileDuplicateHost = "SEA2513";

    /// <summary>The cluster has no host with the master role.</summary>
    public const string ClusterfileNoMaster = "SEA2514";

    /// <summary>A scalar value is invalid for its field (a boolean that is not true/false, a taint of the wrong form, ...).</summary>
    public const string ClusterfileBadValue = "SEA2515";

    /// <summary>A Config document is malformed (missing path, unknown strategy or process).</summary>
    public const string ClusterfileBadConfig = "SEA2516";

    /// <summary>A Clusterfile v1 (<c>spec.masters.ipList</c>, <c>provider</c>): convert it with <c>sealer convert clusterfile OLD &gt; NEW</c>.</summary>
    public const string ClusterfileV1 = "SEA2540";

    /// <summary>A Plugin of an old Sealer type (ETCD, out-of-tree .so) or an old LABEL/TAINT/HOSTNAME plugin line that cannot be applied; the message names the v2 replacement.</summary>
    public const string ClusterfileOldPluginType = "SEA2541";
}
