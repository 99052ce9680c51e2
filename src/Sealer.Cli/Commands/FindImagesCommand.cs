using System.CommandLine;
using System.Text;
using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Charts;
using Sealer.Core.Discovery;
using Sealer.Core.References;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer find-images PATH... [-f values.yaml] [--set k=v] [--kube-version v] [--json] [--why IMAGE]</c>: renders charts
/// offline (directories or .tgz) with the given values and walks manifests and image lists, printing every image
/// (normalized, one a line), or JSON with provenance, or where one image came from.
/// </summary>
internal static class FindImagesCommand
{
    public static IEnumerable<Command> Create()
    {
        var o = new FindImagesOptions();
        var command = new SealerCommand("find-images", "Find the images charts, kustomizations, manifests and image lists need (offline, with provenance)",
            "Finds every image that charts, kustomizations, manifests and image lists need, without a cluster. Charts are rendered\n" +
            "offline with the given values, kustomization directories built offline (like kubectl kustomize); image lists are\n" +
            "recognised by content, whatever their name, and a file named here that is none of these is an error. The images are\n" +
            "printed normalized, one a line (or as JSON with the file and line each came from).")
        {
            o.Paths, o.Values, o.Set, o.SetString, o.SetFile, o.KubeVersion, o.ApiVersions, o.Release, o.Namespace, o.ImageLists, o.Add,
            o.Exclude, o.Json, o.Why, o.Repo, o.Version, o.CaFile, o.Insecure,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var paths = parseResult.GetValue(o.Paths) ?? [];
            if (paths.Length == 0 && parseResult.GetValue(o.ImageLists)!.Count == 0 && parseResult.GetValue(o.Add)!.Count == 0)
            {
                SealerCli.WriteHelp(parseResult, Console.Error);
                return Task.FromResult(SealerCli.UnknownCommandExitCode);
            }
            return Task.FromResult(Run(parseResult, o, paths, cancellationToken));
        });
        yield return command;
    }

    /// <summary>The arguments and options of find-images (add one here, to the command above, and read it in Run).</summary>
    private sealed class FindImagesOptions
    {
        public readonly Argument<string[]> Paths = new("PATH")
        {
            Description = "a chart directory (with Chart.yaml), a packaged chart (.tgz), a manifest (.yaml/.yml/.json/.tmpl), " +
                "a kustomization directory, an image list (one reference a line, '#' comments; recognised by content), a directory searched for all " +
                "of these, a chart in a registry (oci://host/ns/chart) or a chart NAME of the --repo repository",
            Arity = ArgumentArity.ZeroOrMore,
        };
        public readonly Option<List<string>> Values = CliOptions.Repeatable("--values", "values file for the charts; later files win", "FILE", false, "-f");
        public readonly Option<List<string>> Set = CliOptions.Repeatable("--set", "set a chart value (helm syntax: a.b=c,list={x,y},l[0]=v)", "K=V", false);
        public readonly Option<List<string>> SetString = CliOptions.Repeatable("--set-string", "set a chart value as a string", "K=V", false);
        public readonly Option<List<string>> SetFile = CliOptions.Repeatable("--set-file", "set a chart value to the content of FILE", "K=FILE", false);
        public readonly Option<string?> KubeVersion = CliOptions.Text("--kube-version", "Kubernetes version for .Capabilities (e.g. 1.31.0)", "V");
        public readonly Option<List<string>> ApiVersions = CliOptions.Repeatable("--api-versions", "extra API version for .Capabilities.APIVersions", "V", false, "-a");
        public readonly Option<string?> Release = CliOptions.Text("--release", "release name (default release-name)", "NAME");
        public readonly Option<string?> Namespace = CliOptions.Text("--namespace", "namespace (default default)", "NS", "-n");
        public readonly Option<List<string>> ImageLists = CliOptions.Repeatable("--image-list", "an image list file", "FILE", false);
        public readonly Option<List<string>> Add = CliOptions.Repeatable("--add", "add an image", "IMAGE", false);
        public readonly Option<List<string>> Exclude = CliOptions.Repeatable("--exclude", "drop an image: full ref, repository (all tags) or pattern with *", "IMAGE", false);
        public readonly Option<bool> Json = CliOptions.Json("print JSON: [{\"reference\", \"sources\": [{\"file\", \"line\", \"detail\"}]}]");
        public readonly Option<string?> Why = CliOptions.Text("--why", "print where IMAGE came from (exit 1 when no input uses it)", "IMAGE");
        public readonly Option<string?> Repo = CliOptions.Text("--repo", "the HTTP chart repository of the NAME arguments (like helm pull --repo); credentials from the environment (README)", "URL");
        public readonly Option<string?> Version = CliOptions.Text("--version", "chart version or constraint (helm syntax: 1.2.3, 1.2.x, ^1.2, >=1.2 <2) for oci:// and --repo charts", "V");
        public readonly Option<string?> CaFile = CliOptions.Text("--ca-file", "CA bundle for the chart repository's TLS", "FILE");
        public readonly Option<bool> Insecure = CliOptions.Flag("--insecure-skip-tls-verify", "skip TLS verification of the chart repository (only when asked)");
    }

    private static int Run(ParseResult p, FindImagesOptions o, string[] paths, CancellationToken cancellationToken)
    {
        var input = new DiscoveryInput
        {
            ImageListFiles = p.GetValue(o.ImageLists)!, ExtraImages = p.GetValue(o.Add)!, ExcludeImages = p.GetValue(o.Exclude)!,
            KubeVersion = p.GetValue(o.KubeVersion), ApiVersions = p.GetValue(o.ApiVersions)!,
        };
        var charts = new ChartInputs(p.GetValue(o.Values)!, p.GetValue(o.Set)!, p.GetValue(o.SetString)!, p.GetValue(o.SetFile)!,
            p.GetValue(o.Release), p.GetValue(o.Namespace));
        string? repoUrl = p.GetValue(o.Repo);
        var remote = new List<string>();
        foreach (var path in paths)
        {
            // oci://host/ns/chart, or a chart NAME of the --repo repository (not a local path): fetched like helm pull
            if (path.StartsWith("oci://", StringComparison.Ordinal) || (repoUrl is not null && !File.Exists(path) && !Directory.Exists(path))) remote.Add(path);
            else Classify(path, input, charts);
        }
        RemoteCharts.AddAsync(input, remote, repoUrl, p.GetValue(o.Version), p.GetValue(o.CaFile), p.GetValue(o.Insecure), charts,
            cancellationToken).GetAwaiter().GetResult();

        var result = ImageDiscovery.Discover(input, cancellationToken);

        if (p.GetValue(o.Why) is { } why)
        {
            if (!ImageReference.TryParse(why, out var wanted, out var error))
            {
                throw new SealerException(ErrorCodes.InvalidImageReference, $"--why '{why}': {error}.");
            }
            var hit = result.Images.FirstOrDefault(i => i.Reference == wanted.ToString());
            if (hit is null)
            {
                Console.Error.WriteLine($"{wanted} is not used by any input.");
                return 1;
            }
            Console.Out.WriteLine(hit.Reference);
            foreach (var s in hit.Sources) Console.Out.WriteLine("  " + (s.Line > 0 ? $"{s.File}({s.Line})" : s.File) + (s.Detail is null ? "" : ": " + s.Detail));
            return 0;
        }

        if (p.GetValue(o.Json))
        {
            using var stream = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartArray();
                foreach (var img in result.Images)
                {
                    w.WriteStartObject();
                    w.WriteString("reference", img.Reference);
                    w.WriteStartArray("sources");
                    foreach (var s in img.Sources)
                    {
                        w.WriteStartObject();
                        w.WriteString("file", s.File);
                        w.WriteNumber("line", s.Line);
                        if (s.Detail is not null) w.WriteString("detail", s.Detail);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            stream.Write("\n"u8);
            return 0;
        }

        var sb = new StringBuilder();
        foreach (var img in result.Images) sb.Append(img.Reference).Append('\n');
        Console.Out.Write(sb.ToString());
        return 0;
    }

    /// <summary>Sorts a PATH into charts, kustomizations, manifests and image lists (directories are searched; chart and
    /// kustomization directories are not entered). A file named here that is none of them is an error, never skipped.</summary>
    private static void Classify(string path, DiscoveryInput input, ChartInputs charts, bool named = true)
    {
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"'{path}' does not exist. Give a chart, manifest, image list, kustomization or directory.", path);
        }
        var kind = named ? InputClassifier.ClassifyNamedFile(path) : InputClassifier.Classify(path);
        switch (kind)
        {
            case InputKind.ChartDirectory or InputKind.ChartArchive:
                input.Charts.Add(charts.For(path));
                break;
            case InputKind.Kustomization:
                input.Kustomizations.Add(path);
                break;
            case InputKind.ImageList:
                input.ImageListFiles.Add(path);
                break;
            case InputKind.Manifest:
                input.ManifestFiles.Add(path);
                break;
            case InputKind.Directory:
                foreach (var entry in Directory.EnumerateFileSystemEntries(path).OrderBy(e => e, StringComparer.Ordinal))
                {
                    if (Directory.Exists(entry) || InputClassifier.IsCandidateInDirectory(entry))
                    {
                        Classify(entry, input, charts, named: false);
                    }
                }
                break;
        }
    }
}
