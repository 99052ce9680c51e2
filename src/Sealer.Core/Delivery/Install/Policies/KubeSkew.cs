using System.Globalization;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// kubeadm's version skew rules for <c>kubeadm upgrade apply</c> (kubernetes.io, "Upgrading kubeadm clusters"; kubeadm's
/// upgrade/policy.go EnforceVersionPolicies): the same major version, the same or the next minor version, never a
/// downgrade. Pure: versions in, a decision or a coded error out.
/// </summary>
public static class KubeSkew
{
    /// <summary>Parses <c>v1.28.3</c> / <c>1.28.3</c> (pre-release and build suffixes ignored); null when it is not a version.</summary>
    public static (int Major, int Minor, int Patch)? Parse(string? version)
    {
        if (string.IsNullOrWhiteSpace(version)) return null;
        var v = version.Trim().TrimStart('v', 'V');
        int cut = v.IndexOfAny(['-', '+']);
        if (cut >= 0) v = v[..cut];
        var parts = v.Split('.');
        if (parts.Length is < 2 or > 3) return null;
        var n = new int[3];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out n[i])) return null;
        }
        return (n[0], n[1], n[2]);
    }

    /// <summary>
    /// The change from <paramref name="from"/> (the running cluster's) to <paramref name="to"/> (the new image's).
    /// <paramref name="rollback"/>: going back to an earlier image; an older version there is kept, not refused.
    /// Throws SEA4021 for a downgrade, a skipped minor version, another major version, or a version that does not parse.
    /// </summary>
    public static KubeChange Check(string? from, string? to, bool rollback = false)
    {
        if (string.IsNullOrWhiteSpace(to)) return new(KubeChangeKind.None, from, to, "the new image records no Kubernetes version: Kubernetes is left as it is");
        var t = Parse(to) ?? throw new SealerException(ErrorCodes.KubernetesSkew, $"The new image's Kubernetes version '{to}' is not a version (vMAJOR.MINOR.PATCH). Fix the image's cluster-runtime-version label.");
        if (string.IsNullOrWhiteSpace(from))
        {
            throw new SealerException(ErrorCodes.KubernetesSkew,
                $"The running cluster's Kubernetes version is not recorded (installed before sealer kept image history), so the upgrade to {to} cannot be checked against kubeadm's skew rules. Upgrade from an image that records it, or install from scratch.");
        }
        var f = Parse(from) ?? throw new SealerException(ErrorCodes.KubernetesSkew, $"The running cluster's Kubernetes version '{from}' is not a version.");
        if (t == f) return new(KubeChangeKind.None, from, to, $"Kubernetes stays at {from}");
        bool older = t.CompareTo(f) < 0;
        if (older)
        {
            if (rollback) return new(KubeChangeKind.Kept, from, to, $"Kubernetes stays at {from}: a rollback never downgrades Kubernetes (the earlier image has {to})");
            throw new SealerException(ErrorCodes.KubernetesSkew,
                $"The new image has Kubernetes {to}, older than the cluster's {from}: kubeadm never downgrades. Use an image with Kubernetes {from} or newer (sealer rollback restores the apps of the previous image and keeps Kubernetes).");
        }
        if (t.Major != f.Major)
        {
            throw new SealerException(ErrorCodes.KubernetesSkew, $"The new image has Kubernetes {to}, another major version than the cluster's {from}: kubeadm cannot upgrade across major versions.");
        }
        if (t.Minor > f.Minor + 1)
        {
            throw new SealerException(ErrorCodes.KubernetesSkew,
                $"The new image has Kubernetes {to}, but the cluster runs {from}: kubeadm upgrades one minor version at a time (to v{f.Major}.{f.Minor + 1}.x first). Upgrade through an image with v{f.Major}.{f.Minor + 1}.x, then to {to}.");
        }
        return t.Minor == f.Minor
            ? new(KubeChangeKind.Patch, from, to, $"Kubernetes {from} -> {to} (patch): kubeadm upgrade apply on master0, upgrade node on the other masters, then each node drained, upgraded and uncordoned")
            : new(KubeChangeKind.Minor, from, to, $"Kubernetes {from} -> {to} (next minor): kubeadm upgrade apply on master0, upgrade node on the other masters, then each node drained, upgraded and uncordoned");
    }
}
