using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// The NativeAOT <c>sealer</c> faults its zero-filled data (.bss and the runtime's rehydrated data) in with one call before
/// the runtime starts (src/Sealer.Cli/native/prefault.c): in the running <c>sealer registry serve</c>, the anonymous
/// mapping right after the executable's own mappings is resident in full, and advised for huge pages where the kernel
/// has them. Without the constructor the untouched pages of .bss stay out and no huge-page advice is set.
/// </summary>
public sealed partial class NativeStartupTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task The_native_sealer_faults_its_zero_filled_data_in_before_the_runtime_starts()
    {
        string sealer = SealerCli.Aot();
        string layout = Sealer.Core.Layout.OciLayout.OpenOrCreate(_tmp.Sub("layout")).Root; // empty: the start is what is looked at
        int port = LoopbackPort.Free();
        var psi = new ProcessStartInfo(sealer, ["registry", "serve", "--layout", layout, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        try
        {
            using var http = new HttpClient();
            for (var until = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
            {
                if (process.HasExited) Assert.Fail("sealer registry serve exited: " + process.StandardError.ReadToEnd());
                Assert.True(DateTime.UtcNow < until, "sealer registry serve did not answer /v2/ within 30 s");
                try
                {
                    using var ok = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                    if (ok.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException)
                {
                }
            }

            var zeroFilled = ZeroFilledMapping(File.ReadAllText($"/proc/{process.Id}/smaps"), Path.GetFullPath(sealer));
            Assert.True(zeroFilled.SizeKb > 4096, $"the zero-filled mapping is {zeroFilled.SizeKb} kB; NativeAOT's rehydrated data alone is ~7 MB");
            Assert.Equal(zeroFilled.SizeKb, zeroFilled.RssKb); // every page in, .bss pages nothing wrote among them
            if (HugePagesAvailable())
            {
                Assert.Contains("hg", zeroFilled.Flags.Split(' '));
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>THP compiled in and not turned off: MADV_HUGEPAGE is accepted (and then shows as <c>hg</c>).</summary>
    private static bool HugePagesAvailable()
    {
        const string Setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        return File.Exists(Setting) && !File.ReadAllText(Setting).Contains("[never]", StringComparison.Ordinal);
    }

    /// <summary>The anonymous mapping that starts where the executable's last mapping ends: its .bss and .hydrated.</summary>
    private static (long SizeKb, long RssKb, string Flags) ZeroFilledMapping(string smaps, string executable)
    {
        var entries = new List<(ulong Start, ulong End, string Path, Dictionary<string, string> Fields)>();
        foreach (string line in smaps.Split('\n'))
        {
            var head = MappingHead().Match(line);
            if (head.Success)
            {
                entries.Add((Convert.ToUInt64(head.Groups[1].Value, 16), Convert.ToUInt64(head.Groups[2].Value, 16), head.Groups[3].Value.Trim(), []));
            }
            else if (entries.Count > 0 && line.IndexOf(':') is > 0 and int colon)
            {
                entries[^1].Fields[line[..colon]] = line[(colon + 1)..].Trim();
            }
        }
        int last = entries.FindLastIndex(e => e.Path == executable);
        Assert.True(last >= 0 && last + 1 < entries.Count, $"no mapping of {executable} in smaps");
        var next = entries[last + 1];
        Assert.True(next.Path == "" && next.Start == entries[last].End, $"the mapping after {executable}'s is {next.Path} at {next.Start:x}, not its zero-filled data at {entries[last].End:x}");
        static long Kb(string v) => long.Parse(v.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return (Kb(next.Fields["Size"]), Kb(next.Fields["Rss"]), next.Fields["VmFlags"]);
    }

    [GeneratedRegex(@"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$")]
    private static partial Regex MappingHead();
}
