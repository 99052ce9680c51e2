using System.Text;
using System.Text.Json;
using Sealer.Core.Diagnostics;
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
    private const string Usage = """
        Usage: sealer find-images PATH... [options]

        Finds every image that charts, manifests and image lists need, without a cluster.
        PATH is a chart directory (with Chart.yaml), a packaged chart (.tgz), a manifest (.yaml/.yml/.json/.tmpl),
        an image list (named imageList or *.txt: one reference a line, '#' comments), or a directory searched for all of these;
        or a chart in a registry (oci://host/ns/chart --version V), or a chart NAME in an HTTP repository (--repo URL NAME --version V).
        Charts from repositories and unvendored dependencies of local charts are fetched into the cache ($SEALER_CACHE_DIR,
        else ~/.sealer/cache) like helm pull / helm dependency build; credentials come from the environment (see README).

        Options:
          -f, --values FILE        values file for the charts (repeatable; later files win)
          --set K=V                set a chart value (repeatable; helm syntax: a.b=c,list={x,y},l[0]=v)
          --set-string K=V         set a chart value as a string
          --set-file K=FILE        set a chart value to the content of FILE
          --kube-version V         Kubernetes version for .Capabilities (e.g. 1.31.0)
          --api-versions V         extra API version for .Capabilities.APIVersions (repeatable)
          --release NAME           release name (default release-name)
          -n, --namespace NS       namespace (default default)
          --image-list FILE        an image list file (repeatable)
          --add IMAGE              add an image (repeatable)
          --exclude IMAGE          drop an image: full ref, repository (all tags) or pattern with * (repeatable)
          --json                   print JSON: [{"reference", "sources": [{"file", "line", "detail"}]}]
          --why IMAGE              print where IMAGE came from (exit 1 when no input uses it)
          --repo URL               the HTTP chart repository of the NAME arguments
          --version V              chart version or constraint (helm syntax: 1.2.3, 1.2.x, ^1.2, >=1.2 <2) for oci:// and --repo charts
          --ca-file FILE           CA bundle for the chart repository's TLS
          --insecure-skip-tls-verify  skip TLS verification of the chart repository (only when asked)
        """;

    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var paths = new List<string>();
        var values = new List<string>();
        var set = new List<string>();
        var setString = new List<string>();
        var setFile = new List<string>();
        var apiVersions = new List<string>();
        var imageLists = new List<string>();
        var add = new List<string>();
        var exclude = new List<string>();
        string? kubeVersion = null, release = null, ns = null, why = null, repoUrl = null, chartVersion = null, caFile = null;
        bool json = false, insecure = false;

        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? inline = null;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Contains('='))
            {
                inline = a[(a.IndexOf('=') + 1)..];
                a = a[..a.IndexOf('=')];
            }
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Length) throw new SealerException(ErrorCodes.BadCommandLine, $"option '{a}' needs a value. Run 'sealer find-images --help'.");
                return args[++i];
            }
            switch (a)
            {
                case "-h" or "--help": Console.Out.WriteLine(Usage); return Task.FromResult(0);
                case "-f" or "--values": values.Add(Value()); break;
                case "--set": set.Add(Value()); break;
                case "--set-string": setString.Add(Value()); break;
                case "--set-file": setFile.Add(Value()); break;
                case "--kube-version": kubeVersion = Value(); break;
                case "--api-versions" or "-a": apiVersions.Add(Value()); break;
                case "--release": release = Value(); break;
                case "-n" or "--namespace": ns = Value(); break;
                case "--image-list": imageLists.Add(Value()); break;
                case "--add": add.Add(Value()); break;
                case "--exclude": exclude.Add(Value()); break;
                case "--json": json = true; break;
                case "--why": why = Value(); break;
                case "--repo": repoUrl = Value(); break;
                case "--version": chartVersion = Value(); break;
                case "--ca-file": caFile = Value(); break;
                case "--insecure-skip-tls-verify": insecure = true; break;
                default:
                    if (a.StartsWith('-') && a.Length > 1)
                    {
                        throw new SealerException(ErrorCodes.BadCommandLine, $"unknown option '{a}'. Run 'sealer find-images --help'.");
                    }
                    paths.Add(a);
                    break;
            }
        }
        if (paths.Count == 0 && imageLists.Count == 0 && add.Count == 0)
        {
            Console.Error.WriteLine(Usage);
            return Task.FromResult(2);
        }

        var input = new DiscoveryInput
        {
            ImageListFiles = imageLists, ExtraImages = add, ExcludeImages = exclude, KubeVersion = kubeVersion, ApiVersions = apiVersions,
        };
        var remote = new List<string>();
        foreach (var p in paths)
        {
            if (p.StartsWith("oci://", StringComparison.Ordinal) || (repoUrl is not null && !File.Exists(p) && !Directory.Exists(p))) remote.Add(p);
            else Classify(p, input, values, set, setString, setFile, release, ns);
        }
        RemoteCharts.AddAsync(input, remote, repoUrl, chartVersion, caFile, insecure, values, set, setString, setFile, release, ns, cancellationToken).GetAwaiter().GetResult();

        var result = ImageDiscovery.Discover(input, cancellationToken);

        if (why is not null)
        {
            if (!ImageReference.TryParse(why, out var wanted, out var error))
            {
                throw new SealerException(ErrorCodes.InvalidImageReference, $"--why '{why}': {error}.");
            }
            var hit = result.Images.FirstOrDefault(i => i.Reference == wanted.ToString());
            if (hit is null)
            {
                Console.Error.WriteLine($"{wanted} is not used by any input.");
                return Task.FromResult(1);
            }
            Console.Out.WriteLine(hit.Reference);
            foreach (var s in hit.Sources) Console.Out.WriteLine("  " + (s.Line > 0 ? $"{s.File}({s.Line})" : s.File) + (s.Detail is null ? "" : ": " + s.Detail));
            return Task.FromResult(0);
        }

        if (json)
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
            return Task.FromResult(0);
        }

        var sb = new StringBuilder();
        foreach (var img in result.Images) sb.Append(img.Reference).Append('\n');
        Console.Out.Write(sb.ToString());
        return Task.FromResult(0);
    }

    /// <summary>Sorts a PATH into charts, manifests and image lists (directories are searched, chart directories not entered).</summary>
    private static void Classify(string path, DiscoveryInput input, List<string> values, List<string> set, List<string> setString,
        List<string> setFile, string? release, string? ns)
    {
        ChartInput Chart(string p) => new()
        {
            Path = p, ValuesFiles = values, SetValues = set, SetStringValues = setString, SetFileValues = setFile, ReleaseName = release, Namespace = ns,
        };
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, "Chart.yaml")))
            {
                input.Charts.Add(Chart(path));
                return;
            }
            foreach (var entry in Directory.EnumerateFileSystemEntries(path).OrderBy(e => e, StringComparer.Ordinal))
            {
                if (Directory.Exists(entry) || IsChartArchive(entry) || IsManifest(entry) || IsImageList(entry))
                {
                    Classify(entry, input, values, set, setString, setFile, release, ns);
                }
            }
            return;
        }
        if (!File.Exists(path))
        {
            throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"'{path}' does not exist. Give a chart, manifest, image list or directory.", path);
        }
        if (IsChartArchive(path)) input.Charts.Add(Chart(path));
        else if (IsImageList(path)) input.ImageListFiles.Add(path);
        else input.ManifestFiles.Add(path);
    }

    private static bool IsChartArchive(string p) => p.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase);

    private static bool IsImageList(string p) => Path.GetFileName(p) is "imageList" or "imagelist" || p.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);

    private static bool IsManifest(string p) => Path.GetExtension(p).ToLowerInvariant() is ".yaml" or ".yml" or ".json" or ".tmpl";
}
