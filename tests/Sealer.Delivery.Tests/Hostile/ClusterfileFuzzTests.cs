using System.Text;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Delivery.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): every Clusterfile of the corpus, mutated, is read by the same reader as
/// <c>sealer run -f</c>; each input is accepted or refused with a coded error, within a time limit, never a crash.
/// </summary>
public class ClusterfileFuzzTests
{
    [Fact]
    public void Mutated_clusterfiles_are_read_or_refused_with_a_code_never_a_crash_or_a_hang()
    {
        var seeds = Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "corpus", "clusterfiles"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "SOURCES").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        Assert.True(seeds.Count >= 15, $"only {seeds.Count} seeds");
        var report = Fuzz.Run("clusterfile", Fuzz.Mutations(seeds, 3000 * Fuzz.Scale), (input, _) =>
        {
            var doc = ClusterfileReader.Parse(Encoding.UTF8.GetString(input), "Clusterfile");
            Assert.NotNull(doc.Cluster.Name);
        });
        report.AssertClean(3000);
    }
}
