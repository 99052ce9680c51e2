using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// <c>dotnet msbuild app.kubeproj -t:ConvertKubefile -p:SealerKubefile=Kubefile</c> (what <c>dotnet new kubeproj
/// --from-kubefile Kubefile</c> runs): the Kubefile converted into this project file, as <c>sealer convert kubefile</c>
/// writes it. The project must sit in the Kubefile's directory (the build context).
/// </summary>
public sealed partial class ConvertKubefile
{
    /// <summary>The Kubefile (SealerKubefile).</summary>
    public string Kubefile { get; set; } = "";

    /// <summary>The project file to write: this project (its directory must be the Kubefile's).</summary>
    [Required] public string ProjectFile { get; set; } = "";

    /// <summary>ARG values, <c>K=V</c> each (SealerKubefileBuildArgs).</summary>
    public string[] BuildArgs { get; set; } = [];

    /// <summary>The SDK version the converted project names (this SDK's).</summary>
    [Required] public string SdkVersion { get; set; } = "";
}
