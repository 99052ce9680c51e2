using Microsoft.Build.Framework;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kubefile;
using Sealer.Core.Layout;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ConvertKubefile : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string project = Path.GetFullPath(ProjectFile);
        if (string.IsNullOrWhiteSpace(Kubefile))
        {
            throw new SealerException(ErrorCodes.KubefileToConvertMissing, "ConvertKubefile needs the Kubefile: set SealerKubefile (e.g. -p:SealerKubefile=Kubefile).", project, 0);
        }
        string kubefile = Path.GetFullPath(Kubefile, Path.GetDirectoryName(project)!);
        if (!File.Exists(kubefile))
        {
            throw new SealerException(ErrorCodes.KubefileToConvertMissing, $"SealerKubefile names '{Kubefile}', which does not exist ({kubefile}). Run the conversion in the Kubefile's directory.", project, 0);
        }
        string context = Path.GetDirectoryName(kubefile)!;
        if (!string.Equals(Path.GetDirectoryName(project), context, StringComparison.Ordinal))
        {
            throw new SealerException(ErrorCodes.ConvertedProjectOutsideContext,
                $"The converted project's paths are relative to the Kubefile's build context ({context}), but this project is in {Path.GetDirectoryName(project)}. Create the project in the Kubefile's directory (dotnet new kubeproj --from-kubefile Kubefile, run there).", project, 0);
        }
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string kv in BuildArgs)
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new SealerException(ErrorCodes.KubefileToConvertMissing, $"SealerKubefileBuildArgs: '{kv}' is not NAME=value.", project, 0);
            args[kv[..eq]] = kv[(eq + 1)..];
        }
        var parsed = KubefileProject.Load(kubefile, args);
        var plan = KubefileBuild.CreatePlan(parsed, context, []);
        string text = KubefileConverter.ToKubeproj(plan, SdkVersion);
        AtomicFile.WriteAllBytes(project, System.Text.Encoding.UTF8.GetBytes(text));
        Log.LogMessage(MessageImportance.High, $"Sealer: converted {kubefile} into {project} ({plan.Files.Count} files, {parsed.Apps.Count} apps); build it with: dotnet build {Path.GetFileName(project)}");
        foreach (string note in parsed.Notes) Log.LogMessage(MessageImportance.High, $"note: {note}");
        return Task.CompletedTask;
    }
}
