namespace Sealer.Core.Diagnostics;

// SEA3600–3649: charts from Helm repositories and OCI registries, unvendored dependencies, charts.lock.json.
public static partial class ErrorCodes
{
    /// <summary>The repository or registry has no chart of that name. The message lists the nearest names it has.</summary>
    public const string ChartNameNotFound = "SEA3600";

    /// <summary>No version of the chart satisfies the version (constraint) asked for. The message lists the nearest versions.</summary>
    public const string ChartVersionNotFound = "SEA3601";

    /// <summary>A chart repository could not be reached (connection refused, DNS, TLS, timeout). The message names the repository, never a secret.</summary>
    public const string ChartRepositoryUnreachable = "SEA3602";

    /// <summary>A chart repository answered with an error (401/403: credentials; 404; 5xx).</summary>
    public const string ChartRepositoryError = "SEA3603";

    /// <summary>A repository's index.yaml is not a valid Helm repository index.</summary>
    public const string ChartRepositoryIndexInvalid = "SEA3604";

    /// <summary>A downloaded chart does not have the digest the repository index (or the OCI manifest) announces.</summary>
    public const string ChartDigestMismatch = "SEA3605";

    /// <summary>A charts.lock.json entry no longer matches its source (the chart version was re-published with other content). Check the change, then build with <c>-p:SealerRefresh=true</c> to pin the new content.</summary>
    public const string ChartLockMismatch = "SEA3606";

    /// <summary>Chart.lock is out of sync with the dependencies of Chart.yaml (helm's digest check). Run <c>helm dependency update</c>.</summary>
    public const string ChartDependencyLockOutOfSync = "SEA3607";

    /// <summary>A chart reference, repository URL or dependency repository is not understood (bad <c>oci://</c> reference, unknown <c>@alias</c>, unsupported scheme).</summary>
    public const string ChartReferenceInvalid = "SEA3608";

    /// <summary>charts.lock.json is not valid.</summary>
    public const string ChartsLockInvalid = "SEA3609";

    /// <summary>An OCI artifact asked for as a chart is not a Helm chart (config or layer media type).</summary>
    public const string NotAHelmChart = "SEA3610";
}
