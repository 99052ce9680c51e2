using System.Text;
using Microsoft.Build.Framework;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class InstallVisualStudioSchema : SealerTask
{
    /// <summary>The line added to Microsoft.Build.xsd (a relative URI: resolved against Microsoft.Build.xsd itself).</summary>
    public const string IncludeLine = "<xs:include schemaLocation=\"MSBuild/Sealer.Sdk.xsd\"/>";

    private const string ExtensionPoint = "<!-- ========= ADD CUSTOM ITEMS, PROPERTIES, AND TASKS BELOW";

    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string project = BuildEngine?.ProjectFileOfTaskNode ?? "";
        var targets = VisualStudioDirectories.Where(d => !string.IsNullOrWhiteSpace(d))
            .Select(d => Path.Combine(d.Trim(), "Xml", "Schemas"))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateDirectories(d).Select(lcid => Path.Combine(lcid, "Microsoft.Build.xsd")))
            .Where(File.Exists)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (targets.Count == 0)
        {
            string where = VisualStudioDirectories.Length == 0 ? "no Visual Studio was found (no SealerVisualStudioDir, no VsInstallRoot, and vswhere listed none)" : $"none of {string.Join(", ", VisualStudioDirectories)} has Xml/Schemas/<lcid>/Microsoft.Build.xsd";
            throw new SealerException(ErrorCodes.VisualStudioSchemaDirMissing, $"InstallSealerVisualStudioSchema: {where}. Pass the installation: -p:SealerVisualStudioDir=\"C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\".", project, 0);
        }
        byte[] schema = File.ReadAllBytes(Schema);
        var installed = new List<string>();
        foreach (string xsd in targets)
        {
            try
            {
                string msbuildDir = Path.Combine(Path.GetDirectoryName(xsd)!, "MSBuild");
                Directory.CreateDirectory(msbuildDir);
                AtomicFile.WriteAllBytes(Path.Combine(msbuildDir, "Sealer.Sdk.xsd"), schema);
                byte[] bytes = File.ReadAllBytes(xsd);
                bool bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF;
                string text = Encoding.UTF8.GetString(bytes, bom ? 3 : 0, bytes.Length - (bom ? 3 : 0));
                if (!text.Contains("Sealer.Sdk.xsd", StringComparison.Ordinal))
                {
                    string newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
                    int at = text.IndexOf(ExtensionPoint, StringComparison.Ordinal);
                    if (at >= 0) at = text.IndexOf("-->", at, StringComparison.Ordinal) is int end and >= 0 ? end + 3 : -1;
                    else at = text.LastIndexOf("</xs:schema>", StringComparison.Ordinal) is int close and >= 0 ? text.LastIndexOf('\n', close) + 1 : -1;
                    if (at <= 0)
                    {
                        throw new SealerException(ErrorCodes.VisualStudioSchemaUnrecognised, $"{xsd} has neither MSBuild's 'ADD CUSTOM ITEMS' comment nor a closing </xs:schema>: not changed. Add {IncludeLine} to it by hand.", xsd, 0);
                    }
                    string line = text[at - 1] == '\n' ? "    " + IncludeLine + newline : newline + "    " + IncludeLine;
                    text = text[..at] + line + text[at..];
                    byte[] updated = Encoding.UTF8.GetBytes(text);
                    AtomicFile.WriteAllBytes(xsd, bom ? [0xEF, 0xBB, 0xBF, .. updated] : updated);
                }
                installed.Add(xsd);
                Log.LogMessage(MessageImportance.High, $"Sealer: {xsd} includes Sealer.Sdk.xsd (restart Visual Studio if .kubeproj files are open)");
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new SealerException(ErrorCodes.VisualStudioSchemaUnwritable, $"Cannot write into {Path.GetDirectoryName(xsd)}: {ex.Message} Run the command from an elevated (administrator) prompt.", xsd, 0, inner: ex);
            }
        }
        Installed = [.. installed];
        return Task.CompletedTask;
    }
}
