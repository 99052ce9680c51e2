using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// <c>dotnet msbuild app.kubeproj -t:InstallSealerVisualStudioSchema</c>: Visual Studio's XML editor completes MSBuild
/// files from the XSDs that <c>Xml/Schemas/&lt;lcid&gt;/Microsoft.Build.xsd</c> includes, and no package can add one
/// (dotnet/msbuild#11026). This copies the SDK's Sealer.Sdk.xsd beside MSBuild's own schemas
/// (<c>Xml/Schemas/&lt;lcid&gt;/MSBuild/</c>) and includes it in Microsoft.Build.xsd, the file's own extension point
/// ("ADD CUSTOM ITEMS, PROPERTIES, AND TASKS BELOW"). Idempotent: a second run only refreshes the copy.
/// </summary>
public sealed partial class InstallVisualStudioSchema
{
    /// <summary>The SDK's Sealer.Sdk.xsd.</summary>
    [Required] public string Schema { get; set; } = "";

    /// <summary>Visual Studio installation directories (SealerVisualStudioDir, VsInstallRoot or vswhere's list).</summary>
    public string[] VisualStudioDirectories { get; set; } = [];

    /// <summary>The Microsoft.Build.xsd files that now include Sealer.Sdk.xsd.</summary>
    [Output] public string[] Installed { get; set; } = [];
}
