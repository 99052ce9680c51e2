using System.Security.Cryptography;
using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Oci;
using Sealer.TestSupport;

namespace Sealer.Delivery.Tests.Install;

/// <summary>
/// The script that puts a registry host's app image blobs in place (<see cref="UnpackStep.AppendImageBlobs(System.Text.StringBuilder, string, string, bool, IEnumerable{Descriptor})"/>),
/// run by this machine's bash and GNU tar on a store of many image-blob layers as the assembly writes them: more than one
/// chunk of <c>cat</c> lines, a blob two layers hold, and a store path long enough that every link target needs GNU tar's
/// long-link entry. (UnpackTests runs the same script over SSH on a real host, with one blob.)
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ImageBlobsScriptTests : IDisposable
{
    private const int Blobs = 450;
    private readonly string _work = Directory.CreateTempSubdirectory("sealer-blobs-script-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>A store (under a path of 120+ characters) of <see cref="Blobs"/> image-blob layers, and one more layer
    /// holding the first blob again; the layers in the order a manifest lists them, the blobs by hex.</summary>
    private (string Store, List<Descriptor> Layers, Dictionary<string, byte[]> Blobs) Store()
    {
        string store = Path.Combine(_work, new string('s', 90), ".store");
        Directory.CreateDirectory(Path.Combine(store, "blobs", "sha256"));
        var layers = new List<Descriptor>();
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Descriptor Layer(Digest blob, byte[] bytes, long epoch)
        {
            using var tar = new MemoryStream();
            using (var writer = new DeterministicTar(tar, epoch)) writer.AddFile(ClusterImageFormat.RegistryBlobPath(blob), new MemoryStream(bytes), executable: false);
            byte[] layer = tar.ToArray();
            string hex = OciImages.Sha256Hex(layer);
            File.WriteAllBytes(Path.Combine(store, "blobs", "sha256", hex), layer);
            return new Descriptor
            {
                MediaType = MediaTypes.OciLayer, Digest = "sha256:" + hex, Size = layer.Length,
                Annotations = new Dictionary<string, string> { [ClusterImageFormat.LayerKindAnnotation] = ClusterImageFormat.LayerKindImageBlob, [ClusterImageFormat.LayerBlobAnnotation] = blob.ToString() },
            };
        }
        for (int i = 0; i < Blobs; i++)
        {
            byte[] bytes = RandomNumberGenerator.GetBytes(1 + i * 7 % 3000);
            var blob = Digest.Parse("sha256:" + OciImages.Sha256Hex(bytes));
            blobs[blob.Encoded] = bytes;
            layers.Add(Layer(blob, bytes, 0));
        }
        // the first blob again, in a layer that differs (another time stamp): its link must name this one, the last
        var first = layers[0].GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)!;
        layers.Add(Layer(Digest.Parse(first), blobs[first[7..]], 1_000_000));
        // a layer that is not an image-blob one is none of this script's business
        layers.Add(new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = "sha256:" + new string('0', 64), Size = 1 });
        return (store, layers, blobs);
    }

    private static (int Exit, string Stderr) Run(string store, string script)
    {
        var r = Processes.RunWithInput("bash", [], $"set -e\ns={SshHost.ShellQuote(store)}\n{script}", env: [new("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")]);
        return (r.ExitCode, r.StdErr);
    }

    /// <summary>A rootfs whose image has <c>scripts/init-registry.sh</c> (its own registry would serve, were no sealer there).</summary>
    private string RootWithInitRegistrySh()
    {
        string root = Path.Combine(_work, "rootfs");
        Directory.CreateDirectory(Path.Combine(root, "scripts"));
        File.WriteAllText(Path.Combine(root, "scripts", "init-registry.sh"), "#!/bin/bash\n");
        return root;
    }

    private static Dictionary<string, string?> Links(string root) =>
        Directory.GetFileSystemEntries(UnpackStep.LinkDirectory(root)).ToDictionary(f => Path.GetFileName(f), f => new FileInfo(f).LinkTarget, StringComparer.Ordinal);

    [Fact]
    public void With_sealer_installed_every_blob_is_a_link_to_the_last_layer_holding_it_made_by_one_tar()
    {
        var (store, layers, blobs) = Store();
        string root = Path.Combine(_work, "rootfs");
        var sb = new StringBuilder();
        UnpackStep.AppendImageBlobs(sb, store, root, sealerInstalled: true, layers);
        string script = sb.ToString();
        Assert.DoesNotContain("cat \"", script, StringComparison.Ordinal); // no host-side choice to make: links only
        Assert.Equal(1, script.Split('\n').Count(l => l.Contains("tar ", StringComparison.Ordinal)));

        var (exit, stderr) = Run(store, script);
        Assert.True(exit == 0, stderr);
        var links = Links(root);
        Assert.Equal(blobs.Keys.Order(StringComparer.Ordinal), links.Keys.Order(StringComparer.Ordinal));
        foreach (var layer in layers.Take(Blobs).Skip(1))
        {
            string blob = layer.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)![7..];
            Assert.Equal($"{store}/blobs/sha256/{layer.ParsedDigest.Encoded}", links[blob]);
            Assert.True(File.Exists(links[blob]));
        }
        string firstBlob = layers[0].GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)![7..];
        Assert.Equal($"{store}/blobs/sha256/{layers[Blobs].ParsedDigest.Encoded}", links[firstBlob]);
        Assert.True(links.Values.All(t => t!.Length > 100)); // every target needed the long-link entry

        // a second run (a re-run, or RegistryPlatformsStep into a rootfs that has links) replaces them in place
        (exit, stderr) = Run(store, script);
        Assert.True(exit == 0, stderr);
        Assert.Equal(links, Links(root));
    }

    [Fact]
    public void Without_sealer_an_image_with_init_registry_sh_gets_every_blob_as_a_file_and_a_missing_layer_fails_the_script()
    {
        var (store, layers, blobs) = Store();
        string root = RootWithInitRegistrySh();
        var sb = new StringBuilder();
        UnpackStep.AppendImageBlobs(sb, store, root, sealerInstalled: false, layers);
        string script = sb.ToString();
        Assert.True(script.Split('\n').Count(l => l.StartsWith("cat ", StringComparison.Ordinal)) >= 3); // 451 layers, 200 to a line

        var (exit, stderr) = Run(store, script);
        Assert.True(exit == 0, stderr);
        Assert.False(Directory.Exists(UnpackStep.LinkDirectory(root)));
        var files = Directory.GetFiles(Path.Combine(root, "registry", "blobs", "sha256"));
        Assert.Equal(blobs.Count, files.Length);
        foreach (var f in files) Assert.Equal(blobs[Path.GetFileName(f)], File.ReadAllBytes(f));

        // a layer the store lost: the script stops with cat's error, not a registry short of a blob
        File.Delete(Path.Combine(store, "blobs", "sha256", layers[Blobs / 2].ParsedDigest.Encoded));
        Directory.Delete(Path.Combine(root, "registry"), recursive: true);
        (exit, stderr) = Run(store, script);
        Assert.NotEqual(0, exit);
        Assert.Contains(layers[Blobs / 2].ParsedDigest.Encoded, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_sealer_to_install_a_sealer_on_the_host_serves_from_links()
    {
        var (store, layers, blobs) = Store();
        string root = RootWithInitRegistrySh();
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.WriteAllText(Path.Combine(root, "bin", "sealer"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(root, "bin", "sealer"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var sb = new StringBuilder();
        UnpackStep.AppendImageBlobs(sb, store, root, sealerInstalled: false, layers);

        var (exit, stderr) = Run(store, sb.ToString());
        Assert.True(exit == 0, stderr);
        Assert.Equal(blobs.Count, Links(root).Count);
        Assert.False(Directory.Exists(Path.Combine(root, "registry", "blobs")));
    }
}
