namespace Sealer.Core.Diagnostics;

// The SDK's project tools: converting a Kubefile into the project (ConvertKubefile, dotnet new kubeproj with its
// from-kubefile option) and the editor schema install for Visual Studio (InstallSealerVisualStudioSchema): SEA1830–1839.
public static partial class ErrorCodes
{
    /// <summary>ConvertKubefile has no Kubefile: SealerKubefile is not set, or names a file that does not exist.</summary>
    public const string KubefileToConvertMissing = "SEA1830";

    /// <summary>ConvertKubefile would write a project outside the Kubefile's build context: the converted items are relative to the context, so the project must sit in the Kubefile's directory.</summary>
    public const string ConvertedProjectOutsideContext = "SEA1831";

    /// <summary>InstallSealerVisualStudioSchema found no Visual Studio to install into: no SealerVisualStudioDir, no VsInstallRoot, and vswhere listed none (or the directory has no Xml/Schemas/1033/Microsoft.Build.xsd).</summary>
    public const string VisualStudioSchemaDirMissing = "SEA1832";

    /// <summary>InstallSealerVisualStudioSchema found a Microsoft.Build.xsd without the extension point it edits (the "ADD CUSTOM ITEMS" comment or the schema's closing tag), so it changes nothing.</summary>
    public const string VisualStudioSchemaUnrecognised = "SEA1833";

    /// <summary>InstallSealerVisualStudioSchema cannot write into the Visual Studio installation (Program Files needs an elevated prompt).</summary>
    public const string VisualStudioSchemaUnwritable = "SEA1834";
}
