using System.Text.Json;
using Sealer.Distribution.Tests.TestEnv;
using Sealer.Core.Artifacts;

namespace Sealer.Artifacts.Tests;

/// <summary>The `sealer` image commands, run as the real process against a store in SEALER_IMAGES_DIR.</summary>
[Collection(RegistryCollection.Name)]
public class CliTests(RegistryFixture fixture)
{
    private static (int Code, string Output) Sealer(string store, params string[] args)
        => Tools.RunWithEnv("dotnet", new Dictionary<string, string> { ["SEALER_IMAGES_DIR"] = store, ["SEALER_CACHE_DIR"] = store + "-cache" },
            [Path.Combine(AppContext.BaseDirectory, "sealer.dll"), .. args]);

    [Fact]
    public void Images_inspect_tag_save_load_rmi_prune_attach_from_the_command_line()
    {
        using var tmp = new TempDir();
        string a = tmp["a"], b = tmp["b"];
        var img = TestImages.AddToStore(ClusterImageStore.Open(a), "example.com/c/cluster:v1", multiArch: true);

        var (code, output) = Sealer(a, "images", "--format", "json");
        Assert.True(code == 0, output);
        using (var doc = JsonDocument.Parse(output))
        {
            var first = doc.RootElement[0];
            Assert.Equal("example.com/c/cluster:v1", first.GetProperty("name").GetString());
            Assert.Equal(img.Digest, first.GetProperty("digest").GetString());
            Assert.Equal(2, first.GetProperty("platforms").GetArrayLength());
        }
        (code, output) = Sealer(a, "images");
        Assert.Contains("linux/amd64,linux/arm64", output);

        (code, output) = Sealer(a, "inspect", "example.com/c/cluster:v1", "-o", "json");
        Assert.True(code == 0, output);
        Assert.Contains("\"application/vnd.oci.image.index.v1+json\"", output); // readable JSON, no \u002B
        (code, output) = Sealer(a, "inspect", "example.com/c/cluster:v1", "--images");
        Assert.True(code == 0, output);
        Assert.Contains("docker.io/library/nginx:1.27-s1", output);
        (code, output) = Sealer(a, "inspect", "example.com/c/cluster:v1");
        Assert.Contains("Platform linux/arm64", output);
        Assert.Contains("App nginx (helm 1.0)", output);

        File.WriteAllText(tmp["sig.json"], "{\"signature\":\"x\"}");
        (code, output) = Sealer(a, "attach", "example.com/c/cluster:v1", "--artifact-type", "application/vnd.example.sig+json", "--file", tmp["sig.json"]);
        Assert.True(code == 0, output);

        Assert.Equal(0, Sealer(a, "tag", "example.com/c/cluster:v1", "example.com/c/cluster:prod").Code);
        (code, output) = Sealer(a, "save", "-o", tmp["out.tar.zst"], "example.com/c/cluster:prod");
        Assert.True(code == 0, output);
        (code, output) = Sealer(b, "load", "-i", tmp["out.tar.zst"]);
        Assert.True(code == 0, output);
        Assert.Contains(img.Digest, output);
        (code, output) = Sealer(b, "inspect", "example.com/c/cluster:prod");
        Assert.Contains("Referrer ", output);

        // A pipe: save to stdout, load from stdin (as in sealer save -o - x | ssh host sealer load -i -).
        (code, output) = Tools.Run("bash", "-c",
            $"SEALER_IMAGES_DIR='{a}' dotnet '{Path.Combine(AppContext.BaseDirectory, "sealer.dll")}' save -o - --zstd example.com/c/cluster:v1 | SEALER_IMAGES_DIR='{tmp["piped"]}' dotnet '{Path.Combine(AppContext.BaseDirectory, "sealer.dll")}' load -i -");
        Assert.True(code == 0, output);
        Assert.Contains(img.Digest, output);

        (code, output) = Sealer(a, "rmi", "example.com/c/cluster:v1", "example.com/c/cluster:prod");
        Assert.True(code == 0, output);
        (code, output) = Sealer(a, "prune", "--grace", "0", "--format", "json");
        Assert.True(code == 0, output);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.True(doc.RootElement[0].GetProperty("bytesFreed").GetInt64() > 0, output);
        }

        (code, output) = Sealer(a, "inspect", "example.com/c/cluster:v1");
        Assert.Equal(1, code);
        Assert.Contains("error SEA1700", output);
        (code, output) = Sealer(a, "load", "-i", tmp["missing.tar"]);
        Assert.Equal(1, code);
        Assert.Contains("error SEA1702", output);
        (code, output) = Sealer(a, "save", "example.com/c/cluster:v1");
        Assert.Equal(1, code);
        Assert.Contains("error SEA5001", output);
    }

    [RegistryFact]
    public void Push_and_pull_from_the_command_line()
    {
        using var tmp = new TempDir();
        var img = TestImages.AddToStore(ClusterImageStore.Open(tmp["a"]), "example.com/c/cluster:v1", seed: 21);
        string dest = $"{fixture.Env.Registry("docker.io").Address}/artifacts/cli-{Guid.NewGuid().ToString("N")[..6]}:v1";
        var (code, output) = Sealer(tmp["a"], "push", "example.com/c/cluster:v1", dest, "--format", "json");
        Assert.True(code == 0, output);
        Assert.Contains(img.Digest, output);
        (code, output) = Sealer(tmp["b"], "pull", dest);
        Assert.True(code == 0, output);
        Assert.Contains(img.Digest, output);

        // Straight from a build output (an OCI layout directory) or an archive, without the store.
        var layout = global::Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp["bin"]);
        var root = TestImages.BuildMultiArch(layout, seed: 22);
        layout.SetRef("example.com/built:v1", root);
        (code, output) = Sealer(tmp["none"], "push", tmp["bin"], dest.Replace(":v1", ":built"));
        Assert.True(code == 0, output);
        Assert.Contains(root.Digest, output);

        var reg = fixture.Env.Registry("private");
        (code, output) = Sealer(tmp["a"], "push", "example.com/c/cluster:v1", $"{reg.Address}/artifacts/cli:v1");
        Assert.Equal(1, code);
        Assert.Matches("error SEA(1001|1302)", output);
    }
}
