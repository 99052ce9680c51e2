namespace Sealer.Core.Diagnostics;

/// <summary>
/// The one table of error codes. It is split into partial files by range so each area owns its own:
/// <list type="bullet">
/// <item>SEA1000–1499 registry client, auth, pulling (<c>ErrorCodes.Registry.cs</c>)</item>
/// <item>SEA1500–1799 OCI layout store, cluster image assembly, archives (<c>ErrorCodes.Layout.cs</c>)</item>
/// <item>SEA1300–1499 push/upload and SEA1700–1799 local store and archives (<c>ErrorCodes.Artifacts.cs</c>); SEA1310–1319 build machines other than Linux: locked files, names, modes, line endings (<c>ErrorCodes.Platform.cs</c>)</item>
/// <item>SEA1800–1999 built-in registry server (<c>ErrorCodes.RegistryServer.cs</c>); SEA1830–1839 the SDK's project tools: Kubefile conversion, editor schema install (<c>ErrorCodes.Editor.cs</c>)</item>
/// <item>SEA2000–2499 input: .kubeproj items/properties, image references, YAML, image lists (<c>ErrorCodes.Input.cs</c>)</item>
/// <item>SEA2100–2199 Kubefile input (<c>ErrorCodes.Kubefile.cs</c>)</item>
/// <item>SEA2500–2999 Clusterfile input (<c>ErrorCodes.Clusterfile.cs</c>)</item>
/// <item>SEA3000–3999 templates, charts, discovery (<c>ErrorCodes.Templates.cs</c>); SEA3600–3649 chart repositories, OCI charts, unvendored dependencies (<c>ErrorCodes.ChartSources.cs</c>)</item>
/// <item>SEA4000–4999 SSH and delivery (<c>ErrorCodes.Delivery.cs</c>); SEA4100–4149 the guided run at a site (<c>ErrorCodes.Guided.cs</c>); SEA4150–4199 image completeness and air-gap checks (<c>ErrorCodes.Checks.cs</c>); SEA4900–4949 support bundles (<c>ErrorCodes.Support.cs</c>)</item>
/// <item>SEA5000–5499 CLI usage (<c>ErrorCodes.Cli.cs</c>)</item>
/// <item>SEA5600–5649 signing keys, image signatures, SBOMs (<c>ErrorCodes.Signing.cs</c>)</item>
/// </list>
/// Codes are constants named for what went wrong; they are never renumbered or reused. docs/errors.md lists them
/// (regenerate with build/gen-errors-doc.py; ErrorCodeTableTests checks it).
/// </summary>
public static partial class ErrorCodes
{
    /// <summary>An unexpected internal failure; the message carries the exception. Please report it.</summary>
    public const string Internal = "SEA0001";

    /// <summary>The operation was cancelled (Ctrl+C).</summary>
    public const string Cancelled = "SEA0002";
}
