using System.CommandLine;
using System.Globalization;
using Sealer.Core.Artifacts;
using Sealer.Core.Build;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Images;
using Sealer.Core.Kubefile;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer build [-f Kubefile] -t NAME[:TAG] [CONTEXT]</c>: Sealer's lite build of a Kubefile, through the same Core steps
/// as <c>dotnet build</c> of a .kubeproj (<see cref="ClusterBuild"/>): same image cache, <c>images.lock.json</c> in CONTEXT,
/// same output (an OCI layout directory and an OCI archive). <c>sealer convert kubefile</c> writes the .kubeproj that
/// builds the same image.
/// </summary>
internal static class BuildCommand
{
    /// <summary>The version written into <c>sealer.image.extension</c>'s buildClient: the SDK package of the same release.</summary>
    public static string SdkVersion => typeof(BuildCommand).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";

    public static Command Create()
    {
        var o = new BuildOptions();
        var command = new SealerCommand("build", "Build a cluster image from a Kubefile (lite build, as dotnet build of a .kubeproj)", """
            Reads the Kubefile as Sealer does (Docker's line rules; FROM, COPY, ARG, ENV, LABEL, APP, APPCMDS, APPENV, LAUNCH,
            CMDS, CMD, CNI, CSI, KUBEVERSION) and builds it through the same steps as `dotnet build` of the project
            `sealer convert kubefile` writes: images found in the charts, manifests and image lists of the rootfs, pulled into
            the image cache and pinned in CONTEXT/images.lock.json, the cluster image written as OUTPUT/NAME/ (OCI layout) and
            OUTPUT/NAME.tar (OCI archive), with its SBOM as OUTPUT/NAME.spdx.json (SPDX 2.3). RUN is refused (a lite build runs nothing): the error names the line.
            """)
        {
            o.Context, o.File, o.Tag, o.Platform, o.BuildArg, o.Output, o.NoArchive, o.NoSbom, o.Mirror, o.NoFallback, o.Refresh, o.CacheDir, o.Store,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, o, cancellationToken));
        return command;
    }

    /// <summary>The arguments and options of build (add one here, to the command above, and read it in RunAsync).</summary>
    private sealed class BuildOptions
    {
        public readonly Argument<string> Context = new("CONTEXT") { Description = "the build context: COPY and APP sources are relative to it (default .)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "." };
        public readonly Option<string?> File = CliOptions.Text("--file", "the Kubefile (default CONTEXT/Kubefile)", "FILE", "-f");
        public readonly Option<string?> Tag = CliOptions.Text("--tag", "the image name; TAG defaults to latest", "NAME[:TAG]", "-t");
        public readonly Option<List<string>> Platform = CliOptions.Repeatable("--platform", "platform to build (default FROM --platform, else linux/amd64)", "OS/ARCH", true);
        public readonly Option<List<string>> BuildArg = CliOptions.Repeatable("--build-arg", "an ARG value", "K=V", false);
        public readonly Option<string?> Output = CliOptions.Text("--output", "where the layout and the archive go (default CONTEXT/bin)", "DIR", "-o");
        public readonly Option<bool> NoArchive = CliOptions.Flag("--no-archive", "write only the OCI layout, no archive");
        public readonly Option<bool> NoSbom = CliOptions.Flag("--no-sbom", "write no SBOM (NAME.spdx.json) beside the image");
        public readonly Option<List<string>> Mirror = CliOptions.Repeatable("--mirror", "pull DOMAIN's images (or every domain's, with *) through mirrors", "DOMAIN=URL[,URL]", false);
        public readonly Option<bool> NoFallback = CliOptions.Flag("--no-fallback", "never ask a source registry when its mirrors fail or lack an image");
        public readonly Option<bool> Refresh = CliOptions.Flag("--refresh", "resolve tags pinned in images.lock.json again");
        public readonly Option<string?> CacheDir = CliOptions.CacheDir();
        public readonly Option<string?> Store = CliOptions.Store();
    }

    private static async Task<int> RunAsync(ParseResult p, BuildOptions o, CancellationToken cancellationToken)
    {
        string context = p.GetValue(o.Context) ?? ".";
        string tag = p.GetValue(o.Tag) ?? throw new SealerException(ErrorCodes.BadCommandLine, "'build' needs the image name: sealer build -t NAME[:TAG] [CONTEXT].");
        var project = KubefileProject.Load(p.GetValue(o.File) ?? Path.Combine(context, "Kubefile"), BuildArgs(p.GetValue(o.BuildArg)!));
        var plan = KubefileBuild.CreatePlan(project, context, Platforms(p.GetValue(o.Platform)!));
        var (name, version) = KubefileBuild.ParseTag(tag);
        long epoch = long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) && e >= 0 ? e : 0;
        string? store = p.GetValue(o.Store);
        var inputs = KubefileBuild.Inputs(plan, $"{name}:{version}", store, epoch, SdkVersion);

        string cache = p.GetValue(o.CacheDir) ?? ImageCache.DefaultDirectory;
        var registry = ClusterBuild.Registry(p.GetValue(o.Mirror)!.Select(m => ClusterBuild.ParseMirror(m)), !p.GetValue(o.NoFallback), "sealer/" + SdkVersion).AddFromEnvironment();
        bool refresh = p.GetValue(o.Refresh);
        string lockFile = Path.Combine(plan.ContextDirectory, "images.lock.json");

        // The same steps, in the same order, as the SDK's targets (ResolveHelmCharts, ResolveClusterImages, PullClusterImages, AssembleClusterImage).
        var charts = await ClusterBuild.ResolveChartsAsync(inputs.Charts, inputs.ProjectDirectory, inputs.ProjectFile,
            new ClusterBuild.ChartSettings(cache, Path.Combine(plan.ContextDirectory, "charts.lock.json")) { Registry = registry, Refresh = refresh }, null, cancellationToken).ConfigureAwait(false);
        inputs = inputs with { Charts = charts.Charts };
        var resolved = ClusterBuild.Resolve(inputs, cancellationToken);
        var images = resolved.Images.Images;
        Console.Error.WriteLine($"Sealer: {images.Count} images found ({string.Join(", ", images.Select(i => i.Reference).Take(8))}{(images.Count > 8 ? ", ..." : "")})");
        ClusterBuild.PullOutcome pulled;
        try
        {
            using var live = new LiveProgress<PullProgress>((q, meter) => q.BlobsTotal == 0 ? null
                : $"pulling images {q.ImagesDone}/{q.ImagesTotal}, blobs {q.BlobsDone}/{q.BlobsTotal}, {meter.Describe(q.BytesDone, q.BytesTotal)}");
            pulled = await ClusterBuild.PullAsync(inputs, resolved.Images, new ClusterBuild.PullSettings(cache, lockFile) { Registry = registry, Refresh = refresh }, null, live, cancellationToken).ConfigureAwait(false);
        }
        catch (ImagePullException ex) when (ex.Errors.Count > 1)
        {
            foreach (var err in ex.Errors) Console.Error.WriteLine(err.ToDiagnosticString());
            return SealerCli.ErrorExitCode;
        }
        string fromBase = pulled.FromBase == 0 ? "" : $", {pulled.FromBase} carried by the base image";
        Console.Error.WriteLine($"Sealer: {pulled.Requested} images ({pulled.Requested - pulled.FromBase} in the cache{fromBase}; {pulled.NetworkRequests} registry requests, {pulled.BlobsDownloaded} blobs / {pulled.BytesDownloaded} bytes downloaded, {pulled.BlobsCached} blobs cached)");

        string outDir = Path.GetFullPath(p.GetValue(o.Output) ?? Path.Combine(plan.ContextDirectory, "bin"));
        string fileName = name.Replace('/', '_').Replace(':', '_');
        var output = new ClusterImageOutput(Path.Combine(outDir, fileName), p.GetValue(o.NoArchive) ? null : Path.Combine(outDir, fileName + ".tar"),
            Path.Combine(outDir, "." + fileName + ".layers.json"));
        ClusterImageResult result;
        string? stage = null;
        using (var live = new LiveProgress<AssemblyProgress>((q, meter) =>
               {
                   if (q.Stage != stage) meter.Reset();
                   stage = q.Stage;
                   return q.Stage switch
                   {
                       "images" => $"image layers {q.Item}, {meter.Describe(q.Bytes, q.BytesTotal)}",
                       "archive" => $"writing {Path.GetFileName(q.Item)}, {meter.Describe(q.Bytes, q.BytesTotal)}",
                       _ => null,
                   };
               }))
        {
            result = await ClusterBuild.AssembleAsync(inputs, pulled.Pulled, cache, lockFile, output, null, live, cancellationToken).ConfigureAwait(false);
        }
        Console.Out.WriteLine($"{name}:{version} -> {result.LayoutPath} ({result.Descriptor.Digest}, {string.Join(", ", result.Manifests.Keys)}, {images.Count} images)");
        if (result.ArchivePath is not null) Console.Out.WriteLine($"{name}:{version} -> {result.ArchivePath}");
        if (!p.GetValue(o.NoSbom))
        {
            string sbom = Path.Combine(outDir, fileName + ".spdx.json");
            ClusterImageSbom.WriteFile(OciLayout.Open(result.LayoutPath), $"{name}:{version}", sbom, ClusterImageSbom.CreatedAt(epoch));
            Console.Out.WriteLine($"{name}:{version} -> {sbom} (SBOM)");
        }
        foreach (var note in project.Notes) Console.Error.WriteLine($"note: {note}");
        return 0;
    }

    /// <summary><c>--build-arg K=V</c> values.</summary>
    public static Dictionary<string, string> BuildArgs(IEnumerable<string> values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in values)
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0) throw new SealerException(ErrorCodes.BadCommandLine, $"--build-arg {kv}: write NAME=value.");
            result[kv[..eq]] = kv[(eq + 1)..];
        }
        return result;
    }

    /// <summary><c>--platform</c> values (<c>linux/arm64</c>, or just <c>arm64</c> as Sealer accepts).</summary>
    public static List<Platform> Platforms(IEnumerable<string> values) => values.Select(v => Platform.Parse(v.Contains('/') ? v : "linux/" + v)).ToList();
}
