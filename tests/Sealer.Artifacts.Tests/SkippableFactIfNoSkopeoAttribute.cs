namespace Sealer.Artifacts.Tests;

/// <summary>A fact that is skipped, with the reason, when skopeo is not installed (build/install-test-deps.sh installs it).</summary>
public sealed class SkippableFactIfNoSkopeoAttribute : FactAttribute
{
    public SkippableFactIfNoSkopeoAttribute()
    {
        if (!Processes.OnPath("skopeo")) Skip = "skopeo is not installed; run build/install-test-deps.sh";
    }
}
