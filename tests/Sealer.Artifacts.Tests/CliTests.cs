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

    /// <summary>A store with shop 1.4.0 and 1.5.0 (two apps changed) for the delta commands.</summary>
    private static (string Store, StoredImage Base, StoredImage New) DeltaStore(TempDir tmp)
    {
        var store = ClusterImageStore.Open(tmp.Sub("build"));
        var v14 = store.Add("example.com/shop/shop:1.4.0", Artifacts.VersionedImages.Build(store.Layout, "1.4.0", []));
        var v15 = store.Add("example.com/shop/shop:1.5.0", Artifacts.VersionedImages.Build(store.Layout, "1.5.0", ["api", "db"]));
        return (tmp.Sub("build"), v14, v15);
    }

    [Fact]
    public void Save_since_writes_a_delta_saying_what_it_carries_and_what_it_leaves_to_the_base()
    {
        using var tmp = new TempDir();
        var (store, v14, v15) = DeltaStore(tmp);

        var (code, output) = Sealer(store, "save", "--since", "example.com/shop/shop:1.4.0", "example.com/shop/shop:1.5.0", "-o", tmp.Sub("d.tar.zst"));

        Assert.True(code == 0, output);
        Assert.Contains($"Saved example.com/shop/shop:1.5.0 ({v15.Digest}) as a delta over example.com/shop/shop:1.4.0 ({v14.Digest})", output);
        Assert.Contains("left to the base: 4 blobs", output);
        Assert.Equal(v14.Digest, DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("d.tar.zst")).GetAwaiter().GetResult()!.BaseDigest);
    }

    [Fact]
    public void Load_of_a_delta_where_the_base_is_names_the_new_image_and_says_what_came_from_the_base()
    {
        using var tmp = new TempDir();
        var (store, _, v15) = DeltaStore(tmp);
        Assert.Equal(0, Sealer(store, "save", "-o", tmp.Sub("base.tar"), "example.com/shop/shop:1.4.0").ExitCode);
        Assert.Equal(0, Sealer(store, "save", "--since", "example.com/shop/shop:1.4.0", "example.com/shop/shop:1.5.0", "-o", tmp.Sub("d.tar")).ExitCode);
        Assert.Equal(0, Sealer(tmp.Sub("site"), "load", "-i", tmp.Sub("base.tar")).ExitCode);

        var (code, output) = Sealer(tmp.Sub("site"), "load", tmp.Sub("d.tar"));

        Assert.True(code == 0, output);
        Assert.Contains($"Loaded example.com/shop/shop:1.5.0 ({v15.Digest}, linux/amd64", output);
        Assert.Contains("from a delta over example.com/shop/shop:1.4.0", output);
        Assert.Contains("4 blobs (", output);
        Assert.Contains("taken from the base", output);
    }

    [Fact]
    public void Load_of_a_delta_without_its_base_is_SEA1710_and_names_nothing()
    {
        using var tmp = new TempDir();
        var (store, v14, _) = DeltaStore(tmp);
        Assert.Equal(0, Sealer(store, "save", "--since", "example.com/shop/shop:1.4.0", "example.com/shop/shop:1.5.0", "-o", tmp.Sub("d.tar")).ExitCode);

        var (code, output) = Sealer(tmp.Sub("site"), "load", "-i", tmp.Sub("d.tar"));

        Assert.Equal(1, code);
        Assert.Contains("error SEA1710", output);
        Assert.Contains(v14.Digest, output);
        Assert.Equal("[]", Sealer(tmp.Sub("site"), "images", "--format", "json").Output.Trim());
    }

    [Fact]
    public void Save_since_with_two_images_is_SEA5001()
    {
        var (code, output) = Sealer(shared.Store, "save", "--since", Name, Name, "example.com/c/other:v1", "-o", shared.Tmp.Sub("x.tar"));
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001", output);
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
