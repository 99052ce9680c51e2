namespace Sealer.Core.Diagnostics;

/// <summary>SEA2100–2199: Kubefile input (<c>sealer build -f Kubefile</c>, <c>sealer convert Kubefile</c>).</summary>
public static partial class ErrorCodes
{
    /// <summary>A Kubefile line cannot be parsed: an unknown instruction, a missing argument, a bad JSON array, an unclosed variable or quote.</summary>
    public const string KubefileSyntax = "SEA2100";

    /// <summary>A Kubefile instruction a lite build cannot honour (RUN, ADD of a URL, a FROM flag other than --platform); the message names the alternative.</summary>
    public const string KubefileUnsupported = "SEA2101";

    /// <summary>A Kubefile instruction is out of place or conflicts (LAUNCH/CMDS not last or twice, LAUNCH with CMD/CMDS, APPCMDS/APPENV/LAUNCH naming an unknown app).</summary>
    public const string KubefileConflict = "SEA2102";

    /// <summary>A COPY or APP source matches nothing in the build context (or leaves it).</summary>
    public const string KubefileSourceMissing = "SEA2103";
}
