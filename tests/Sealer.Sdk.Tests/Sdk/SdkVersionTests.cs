using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>The SDK knows its own version from the package it was restored from (written at pack time), not a constant.</summary>
[Collection(SdkCollection.Name)]
public sealed class SdkVersionTests(SdkFeed feed)
{
    [Fact]
    public void SealerSdkVersion_and_the_default_user_agent_are_the_restored_package_version()
    {
        string nupkg = Directory.EnumerateFiles(feed.FeedDir, "Sealer.Sdk.*.nupkg").Single();
        string version = Path.GetFileNameWithoutExtension(nupkg)["Sealer.Sdk.".Length..];
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entry = zip.GetEntry("Sdk/Sealer.Sdk.Version.props");
            Assert.NotNull(entry);
            using var reader = new StreamReader(entry.Open());
            Assert.Contains($"<SealerSdkVersion>{version}</SealerSdkVersion>", reader.ReadToEnd(), StringComparison.Ordinal);
        }

        string dir = feed.NewProjectDir("version");
        new KubeProject().Item("ContainerImage", "nginx:1.27").Write(dir);
        string cache = feed.NewProjectDir("cache");
        var restore = feed.Dotnet(dir, "restore", cache);
        Assert.True(restore.ExitCode == 0, restore.Output);
        var r = feed.Dotnet(dir, "msbuild -nologo -getProperty:SealerSdkVersion -getProperty:SealerUserAgent", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains($"\"SealerSdkVersion\": \"{version}\"", r.Output, StringComparison.Ordinal);
        Assert.Contains($"\"SealerUserAgent\": \"sealer-sdk/{version}\"", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void On_a_linux_x64_SDK_the_tasks_come_ReadyToRun_and_elsewhere_the_IL_ones()
    {
        string nupkg = Directory.EnumerateFiles(feed.FeedDir, "Sealer.Sdk.*.nupkg").Single();
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            // ReadyToRun: the CLI header points at a native (ReadyToRun) header; the IL build has none.
            static bool ReadyToRun(ZipArchiveEntry e)
            {
                using var ms = new MemoryStream();
                using (var s = e.Open()) s.CopyTo(ms);
                ms.Position = 0;
                using var pe = new PEReader(ms);
                return pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
            }
            foreach (string name in new[] { "Sealer.Tasks.dll", "Sealer.Core.dll", "YamlDotNet.dll" })
            {
                Assert.True(ReadyToRun(zip.GetEntry($"tools/net10.0/linux-x64/{name}")!), name);
                Assert.False(ReadyToRun(zip.GetEntry($"tools/net10.0/{name}")!), name);
            }
        }

        string dir = feed.NewProjectDir("r2r");
        new KubeProject().Item("ContainerImage", "nginx:1.27").Write(dir);
        string cache = feed.NewProjectDir("cache");
        Assert.Equal(0, feed.Dotnet(dir, "restore", cache).ExitCode);
        var here = feed.Dotnet(dir, "msbuild -nologo -getProperty:SealerTasksAssembly", cache);
        Assert.True(here.ExitCode == 0, here.Output);
        string expected = RuntimeInformation.RuntimeIdentifier == "linux-x64" ? "tools/net10.0/linux-x64/Sealer.Tasks.dll" : "tools/net10.0/Sealer.Tasks.dll";
        Assert.Contains(expected, here.Output.Replace('\\', '/'), StringComparison.Ordinal);
        var other = feed.Dotnet(dir, "msbuild -nologo -getProperty:SealerTasksAssembly -p:NETCoreSdkRuntimeIdentifier=win-arm64", cache);
        Assert.True(other.ExitCode == 0, other.Output);
        Assert.Contains("tools/net10.0/Sealer.Tasks.dll", other.Output.Replace('\\', '/'), StringComparison.Ordinal);

        // A ReadyToRun header is not enough: the runtime must use the code. It once used none of Sealer.Tasks' (99 methods
        // JIT-compiled in every build: crossgen2 was given no MSBuild assemblies, or their reference ones). A build lists
        // what the JIT compiled: of ours, only generic instantiations (ReadyToRun cannot carry the runtime's generics
        // over our types), never a plain method.
        if (RuntimeInformation.RuntimeIdentifier != "linux-x64") return;
        string app = feed.NewProjectDir("r2r-used");
        new KubeProject().Item("ContainerImage", "nginx:1.27").Mirrors(feed.Env).Write(app);
        Assert.Equal(0, feed.Dotnet(app, "restore", cache).ExitCode);
        string jitList = Path.Combine(app, "jit.txt");
        var build = feed.Dotnet(app, "build -c Release --no-restore", cache, new Dictionary<string, string> { ["DOTNET_JitDisasmSummary"] = "1", ["DOTNET_JitStdOutFile"] = jitList });
        Assert.True(build.ExitCode == 0, build.Output);
        var compiled = File.ReadAllLines(jitList).Where(l => l.Contains("JIT compiled ", StringComparison.Ordinal)).ToList();
        Assert.True(compiled.Count > 100, $"the JIT list has {compiled.Count} lines: is DOTNET_JitStdOutFile honoured?");
        var ours = compiled.Select(l => l[(l.IndexOf("JIT compiled ", StringComparison.Ordinal) + "JIT compiled ".Length)..])
            .Where(m => m.StartsWith("Sealer.", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count > 0, "the JIT list names none of ours (a generic instantiation, such as the assembly's progress, is always there)");
        var plain = ours.Where(m => !m[..m.IndexOf('(')].Contains('[')).ToList();
        Assert.True(plain.Count == 0, "JIT-compiled although ReadyToRun:\n" + string.Join("\n", plain));
    }
}
