using System.Text.Json;
using Sealer.Core.Artifacts;

namespace Sealer.Artifacts.Tests;

/// <summary>One store holding a multi-arch cluster image, built once for the read-only command tests.</summary>
public sealed class CliStoreFixture : IDisposable
{
    public const string Name = "example.com/c/cluster:v1";

    public CliStoreFixture()
    {
        Store = Tmp.Sub("store");
        Image = TestImages.AddToStore(ClusterImageStore.Open(Store), Name, multiArch: true);
    }

    public TempDir Tmp { get; } = new();

    public string Store { get; }

    public StoredImage Image { get; }

    public void Dispose() => Tmp.Dispose();
}

/// <summary>The `sealer` image commands, run as the real process against a store in SEALER_IMAGES_DIR: one behaviour each.</summary>
[Collection(RegistryCollection.Name)]
public class CliTests(RegistryFixture fixture, CliStoreFixture shared) : IClassFixture<CliStoreFixture>
{
    private const string Name = CliStoreFixture.Name;

    private static string SealerDll => Path.Combine(AppContext.BaseDirectory, "sealer.dll");

    private static ProcessResult Sealer(string store, params string[] args)
        => Processes.Run("dotnet", [SealerDll, .. args], workDir: null,
            env: new Dictionary<string, string?> { ["SEALER_IMAGES_DIR"] = store, ["SEALER_CACHE_DIR"] = store + "-cache" });

    /// <summary>A store of its own, for the commands that change it.</summary>
    private static (string Store, StoredImage Image) OwnStore(TempDir tmp)
    {
        string store = tmp.Sub("a");
        return (store, TestImages.AddToStore(ClusterImageStore.Open(store), Name, multiArch: true));
    }

    [Fact]
    public void Images_lists_name_digest_and_platforms_as_json_and_as_a_table()
    {
        var (code, output) = Sealer(shared.Store, "images", "--format", "json");
        Assert.True(code == 0, output);
        using (var doc = JsonDocument.Parse(output))
        {
            var first = doc.RootElement[0];
            Assert.Equal(Name, first.GetProperty("name").GetString());
            Assert.Equal(shared.Image.Digest, first.GetProperty("digest").GetString());
            Assert.Equal(2, first.GetProperty("platforms").GetArrayLength());
        }
        (code, output) = Sealer(shared.Store, "images");
        Assert.True(code == 0, output);
        Assert.Contains("linux/amd64,linux/arm64", output);
    }

    [Fact]
    public void Inspect_as_json_is_readable()
    {
        var (code, output) = Sealer(shared.Store, "inspect", Name, "-o", "json");
        Assert.True(code == 0, output);
        Assert.Contains("\"application/vnd.oci.image.index.v1+json\"", output); // readable JSON, no \u002B
    }

    [Fact]
    public void Inspect_images_lists_the_app_images_inside()
    {
        var (code, output) = Sealer(shared.Store, "inspect", Name, "--images");
        Assert.True(code == 0, output);
        Assert.Contains("docker.io/library/nginx:1.27-s1", output);
    }

    [Fact]
    public void Inspect_shows_each_platform_and_the_apps()
    {
        var (code, output) = Sealer(shared.Store, "inspect", Name);
        Assert.True(code == 0, output);
        Assert.Contains("Platform linux/arm64", output);
        Assert.Contains("App nginx (helm 1.0)", output);
    }

    [Fact]
    public void Tag_gives_the_same_image_a_second_name()
    {
        using var tmp = new TempDir();
        var (store, img) = OwnStore(tmp);

        Assert.Equal(0, Sealer(store, "tag", Name, "example.com/c/cluster:prod").ExitCode);

        var (code, output) = Sealer(store, "images", "--format", "json");
        Assert.True(code == 0, output);
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("digest").GetString());
        Assert.Equal(img.Digest, names["example.com/c/cluster:prod"]);
        Assert.Equal(img.Digest, names[Name]);
    }

    [Fact]
    public void Save_and_load_carry_an_image_and_its_attached_artifact_to_another_store()
    {
        using var tmp = new TempDir();
        var (store, img) = OwnStore(tmp);
        File.WriteAllText(tmp.Sub("sig.json"), "{\"signature\":\"x\"}");
        var (code, output) = Sealer(store, "attach", Name, "--artifact-type", "application/vnd.example.sig+json", "--file", tmp.Sub("sig.json"));
        Assert.True(code == 0, output);

        (code, output) = Sealer(store, "save", "-o", tmp.Sub("out.tar.zst"), Name);
        Assert.True(code == 0, output);
        (code, output) = Sealer(tmp.Sub("b"), "load", "-i", tmp.Sub("out.tar.zst"));
        Assert.True(code == 0, output);
        Assert.Contains(img.Digest, output);
        (code, output) = Sealer(tmp.Sub("b"), "inspect", Name);
        Assert.True(code == 0, output);
        Assert.Contains("Referrer ", output);
    }

    [Fact]
    public void Save_to_stdout_piped_into_load_from_stdin_copies_the_image()
    {
        using var tmp = new TempDir();
        // as in: sealer save -o - x | ssh host sealer load -i -
        var (code, output) = Processes.Run("bash", "-c",
            $"SEALER_IMAGES_DIR='{shared.Store}' dotnet '{SealerDll}' save -o - --zstd {Name} | SEALER_IMAGES_DIR='{tmp.Sub("piped")}' dotnet '{SealerDll}' load -i -");
        Assert.True(code == 0, output);
        Assert.Contains(shared.Image.Digest, output);
    }

    [Fact]
    public void Rmi_then_prune_frees_the_blobs_and_the_name_is_gone()
    {
        using var tmp = new TempDir();
        var (store, _) = OwnStore(tmp);

        var (code, output) = Sealer(store, "rmi", Name);
        Assert.True(code == 0, output);
        (code, output) = Sealer(store, "prune", "--grace", "0", "--format", "json");
        Assert.True(code == 0, output);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.True(doc.RootElement[0].GetProperty("bytesFreed").GetInt64() > 0, output);
        }
        (code, output) = Sealer(store, "inspect", Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA1700", output);
    }

    [Fact]
    public void Load_of_a_missing_archive_is_SEA1702()
    {
        var (code, output) = Sealer(shared.Store, "load", "-i", shared.Tmp.Sub("missing.tar"));
        Assert.Equal(1, code);
        Assert.Contains("error SEA1702", output);
    }

    [Fact]
    public void Save_without_an_output_is_SEA5001()
    {
        var (code, output) = Sealer(shared.Store, "save", Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001", output);
    }

    private string NewDestination() => $"{fixture.Env.Registry("docker.io").Address}/artifacts/cli-{Guid.NewGuid().ToString("N")[..6]}:v1";

    [RegistryFact]
    public void Push_then_pull_into_another_store_gives_the_same_digest()
    {
        using var tmp = new TempDir();
        string dest = NewDestination();
        var (code, output) = Sealer(shared.Store, "push", Name, dest, "--format", "json");
        Assert.True(code == 0, output);
        Assert.Contains(shared.Image.Digest, output);
        (code, output) = Sealer(tmp.Sub("b"), "pull", dest);
        Assert.True(code == 0, output);
        Assert.Contains(shared.Image.Digest, output);
    }

    [RegistryFact]
    public void Push_takes_a_build_output_layout_directly_without_the_store()
    {
        using var tmp = new TempDir();
        var layout = global::Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp.Sub("bin"));
        var root = TestImages.BuildMultiArch(layout, seed: 22);
        layout.SetRef("example.com/built:v1", root);

        var (code, output) = Sealer(tmp.Sub("none"), "push", tmp.Sub("bin"), NewDestination());
        Assert.True(code == 0, output);
        Assert.Contains(root.Digest, output);
    }

    [RegistryFact]
    public void Push_to_a_registry_that_wants_credentials_we_do_not_have_is_a_coded_error()
    {
        var reg = fixture.Env.Registry("private");
        var (code, output) = Sealer(shared.Store, "push", Name, $"{reg.Address}/artifacts/cli:v1");
        Assert.Equal(1, code);
        Assert.Matches("error SEA(1001|1302)", output);
    }
}
