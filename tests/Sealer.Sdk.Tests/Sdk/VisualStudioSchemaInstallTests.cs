using System.IO.Compression;
using Sealer.Core.Diagnostics;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// <c>dotnet msbuild app.kubeproj -t:InstallSealerVisualStudioSchema</c> with the packed SDK, against a Visual Studio schema
/// cache laid out as VS installs it (Xml/Schemas/1033/Microsoft.Build.xsd and MSBuild/*.xsd, MSBuild's own files): the
/// XSD lands beside MSBuild's, Microsoft.Build.xsd includes it once however often the target runs, and the schema set VS
/// loads from there compiles and validates a real project. (Visual Studio itself is not here: see README, Editor help.)
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class VisualStudioSchemaInstallTests(SdkFeed feed)
{
    [Fact]
    public void InstallSealerVisualStudioSchema_includes_the_sdk_schema_in_Visual_Studios_MSBuild_schema_once()
    {
        string version = TemplateTests.PackedVersion(feed);
        using (var zip = ZipFile.OpenRead(Path.Combine(feed.FeedDir, $"Sealer.Sdk.{version}.nupkg")))
        {
            foreach (var (entry, file) in new[] { ("Sdk/Sealer.Sdk.xsd", "Sealer.Sdk.xsd"), ("Sdk/Sdk.targets.buildschema.json", "Sealer.Sdk.buildschema.json") })
            {
                using var reader = new StreamReader(zip.GetEntry(entry)!.Open());
                Assert.Equal(File.ReadAllText(Repo.Path("docs", "schemas", file)), reader.ReadToEnd());
            }
        }

        string vs = feed.NewProjectDir("Microsoft Visual Studio");
        string lcid = Path.Combine(vs, "Xml", "Schemas", "1033");
        Directory.CreateDirectory(Path.Combine(lcid, "MSBuild"));
        string vendored = Repo.Path("tests", "Sealer.Sdk.Tests", "Sdk", "EditorSchemas");
        File.Copy(Path.Combine(vendored, "Microsoft.Build.xsd"), Path.Combine(lcid, "Microsoft.Build.xsd"));
        foreach (string f in new[] { "Microsoft.Build.Core.xsd", "Microsoft.Build.CommonTypes.xsd" }) File.Copy(Path.Combine(vendored, f), Path.Combine(lcid, "MSBuild", f));

        string dir = feed.NewProjectDir("app");
        new KubeProject { Sdk = $"Sealer.Sdk/{version}" }.Item("ContainerImage", "nginx:1.27").Write(dir);
        string cache = feed.NewProjectDir("cache");
        for (int run = 0; run < 2; run++)
        {
            var r = feed.Dotnet(dir, $"msbuild app.kubeproj -nologo -nodeReuse:false -t:InstallSealerVisualStudioSchema \"-p:SealerVisualStudioDir={vs}\"", cache);
            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Contains("includes Sealer.Sdk.xsd", r.Output, StringComparison.Ordinal);
        }
        string msbuildXsd = File.ReadAllText(Path.Combine(lcid, "Microsoft.Build.xsd"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(msbuildXsd, "Sealer\\.Sdk\\.xsd"));
        Assert.Equal([0xEF, 0xBB, 0xBF], File.ReadAllBytes(Path.Combine(lcid, "Microsoft.Build.xsd"))[..3]); // the BOM kept
        Assert.Equal(File.ReadAllText(Repo.Path("docs", "schemas", "Sealer.Sdk.xsd")), File.ReadAllText(Path.Combine(lcid, "MSBuild", "Sealer.Sdk.xsd")));

        var set = EditorSchemaTests.CompiledSchemaSet(Path.Combine(lcid, "Microsoft.Build.xsd"));
        var errors = EditorSchemaTests.Validate(set, File.ReadAllText(Repo.Path("samples", "shop", "shop.kubeproj")));
        Assert.True(errors.Count == 0, string.Join('\n', errors));

        // nowhere to install: a coded error naming what to pass
        var none = feed.Dotnet(dir, $"msbuild app.kubeproj -nologo -nodeReuse:false -t:InstallSealerVisualStudioSchema \"-p:SealerVisualStudioDir={feed.NewProjectDir("empty")}\"", cache);
        Assert.NotEqual(0, none.ExitCode);
        Assert.Contains(ErrorCodes.VisualStudioSchemaDirMissing, none.Output, StringComparison.Ordinal);
        Assert.Contains("SealerVisualStudioDir", none.Output, StringComparison.Ordinal);
    }
}
