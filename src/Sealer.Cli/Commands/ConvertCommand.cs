using System.CommandLine;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kubefile;
using Sealer.Core.Layout;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer convert kubefile [KUBEFILE] [-o app.kubeproj]</c>: a Kubefile as a readable .kubeproj that <c>dotnet build</c>
/// turns into the same cluster image as <c>sealer build</c> (both plan it with <see cref="KubefileBuild"/>).
/// <c>sealer convert clusterfile OLD [-o NEW]</c>: a Sealer v1 Clusterfile (<c>spec.masters.ipList</c>, <c>provider</c>)
/// as a v2 one (<c>spec.hosts</c>); what has no v2 form is dropped with a note on stderr. <c>sealer run</c> refuses v1 files
/// (SEA2540) and names this command.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var old = new Argument<string>("OLD") { Description = "the v1 Clusterfile (sealer.aliyun.com/v1alpha1, sealer.cloud/v2, zlink.aliyun.com/v1alpha1)" };
        var output = CliOptions.Text("--output", "write the v2 Clusterfile here (atomically) instead of stdout", "FILE", "-o");
        var clusterfile = new SealerCommand("clusterfile", "Convert a Sealer v1 Clusterfile to v2", """
            Hosts (masters/nodes ipList and ranges), SSH settings and env become a v2 Cluster document; provider-specific
            fields are dropped with a note on stderr. The result is read back before it is written.
            """)
        {
            old, output,
        };
        clusterfile.SetAction(p =>
        {
            string path = p.GetValue(old)!;
            string? target = p.GetValue(output);
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SealerException(ErrorCodes.ClusterfileNotFound, $"Cannot read '{path}': {ex.Message}.", path, inner: ex);
            }
            var result = ClusterfileConverter.ConvertV1(text, path);
            ClusterfileReader.Parse(result.Yaml, target ?? "(converted)"); // what we write, we read
            if (target is null or "-") Console.Out.Write(result.Yaml);
            else AtomicFile.WriteAllBytes(target, System.Text.Encoding.UTF8.GetBytes(result.Yaml));
            foreach (var note in result.Notes) Console.Error.WriteLine($"note: {note}");
            return 0;
        });
        return new SealerCommand("convert", "Convert Sealer's formats to this tool's (a Kubefile to a .kubeproj, a v1 Clusterfile to v2)")
        {
            Kubefile(), clusterfile,
        };
    }

    private static Command Kubefile()
    {
        var file = new Argument<string>("KUBEFILE") { Description = "the Kubefile (default ./Kubefile)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "Kubefile" };
        var output = CliOptions.Text("--output", "the project to write, in the build context (default CONTEXT/NAME.kubeproj, NAME from --tag, else app; '-' for stdout)", "FILE", "-o");
        var context = CliOptions.Text("--context", "the build context (default the Kubefile's directory)", "DIR");
        var tag = CliOptions.Text("--tag", "ClusterImageName and ClusterImageTag of the project", "NAME[:TAG]", "-t");
        var platform = CliOptions.Repeatable("--platform", "platforms to build (default FROM --platform, else linux/amd64)", "OS/ARCH", true);
        var buildArg = CliOptions.Repeatable("--build-arg", "an ARG value", "K=V", false);
        var command = new SealerCommand("kubefile", "Convert a Kubefile to a .kubeproj that dotnet build turns into the same cluster image", """
            Writes a readable project: COPY as SealerFile items, APP/CNI/CSI as SealerApp items (with APPCMDS and APPENV),
            LABEL/ENV as SealerLabel/SealerEnv, FROM as SealerBaseImage, LAUNCH/CMDS/CMD as SealerLaunch/SealerCmds,
            KUBEVERSION as KubernetesVersion and Sealer's label, and SealerScanRootfs so images are found in the rootfs as
            Sealer's lite build finds them. Each item names its Kubefile line (and keeps that line's comment). Globs and ARG
            values are resolved now, for the platforms given. `dotnet build` of it gives the cluster image `sealer build` gives.
            """)
        {
            file, output, context, tag, platform, buildArg,
        };
        command.SetAction(p =>
        {
            string path = p.GetValue(file) ?? "Kubefile";
            string dir = p.GetValue(context) ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
            var project = KubefileProject.Load(path, BuildCommand.BuildArgs(p.GetValue(buildArg)!));
            var plan = KubefileBuild.CreatePlan(project, dir, BuildCommand.Platforms(p.GetValue(platform)!));
            string? name = null, version = null;
            if (p.GetValue(tag) is { } t) (name, version) = KubefileBuild.ParseTag(t);
            string text = KubefileConverter.ToKubeproj(plan, BuildCommand.SdkVersion, name, version);
            string target = p.GetValue(output) ?? Path.Combine(plan.ContextDirectory, (name is null ? "app" : name[(name.LastIndexOf('/') + 1)..]) + ".kubeproj");
            if (target == "-")
            {
                Console.Out.Write(text);
            }
            else
            {
                string full = Path.GetFullPath(target);
                if (!string.Equals(Path.GetDirectoryName(full), plan.ContextDirectory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
                {
                    throw new SealerException(ErrorCodes.BadCommandLine, $"--output {target}: the project's paths are relative to the build context, so write it there ({plan.ContextDirectory}).");
                }
                AtomicFile.WriteAllBytes(full, System.Text.Encoding.UTF8.GetBytes(text));
                Console.Error.WriteLine($"sealer convert: wrote {full} ({plan.Files.Count} files, {project.Apps.Count} apps); build it with: dotnet build {Path.GetFileName(full)}");
            }
            foreach (var note in project.Notes) Console.Error.WriteLine($"note: {note}");
            return 0;
        });
        return command;
    }
}
