using System.Text;
using Sealer.Core.Kubefile;

namespace Sealer.Sdk.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): the corpus' Kubefiles (Sealer's repositories), mutated, are read, planned
/// against their own directory and converted to a .kubeproj as <c>sealer build</c>/<c>sealer convert</c> do: each is
/// planned or refused with a coded error, within a time limit, never a crash.
/// </summary>
public class KubefileFuzzTests
{
    private static readonly string[] KubefileTokens =
    [
        "\n", "\\\n", " ", "\t", "\"", "'", "[", "]", "[\"a\", \"b\"]", "FROM ", "COPY ", "APP ", "LAUNCH ", "CMDS ", "APPCMDS ", "CNI ", "CSI ",
        "KUBEVERSION ", "LABEL ", "ENV ", "ARG ", "RUN ", "CMD ", "${ARG}", "$VAR", "local://", "app1 app2", "*", "**", "?", "../", "/etc/passwd",
        "scratch", "--platform=linux/arm64 ", "=", "#", "\0", "\r\n", new string('a', 300), "helm install x ./chart", "kubectl apply -f y",
    ];

    [Fact]
    public void Mutated_kubefiles_plan_or_are_refused_with_a_code_never_a_crash_or_a_hang()
    {
        var dirs = Directory.EnumerateFiles(Kubefile.KubefileCorpusTests.Root, "Kubefile", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).Order(StringComparer.Ordinal).ToList();
        Assert.True(dirs.Count >= 40, $"only {dirs.Count} Kubefiles");
        using var tmp = new TempDir();
        var report = Fuzz.Run("kubefile", Inputs(dirs!, 2000 * Fuzz.Scale), (input, ct) =>
        {
            string file = tmp.Sub("Kubefile-" + Environment.CurrentManagedThreadId);
            File.WriteAllBytes(file, input.Text);
            var plan = KubefileBuild.CreatePlan(KubefileProject.Load(file), input.Dir, null);
            KubefileConverter.ToKubeproj(plan, "0.1.0");
            return Task.CompletedTask;
        }, i => i.Text);
        report.AssertClean(2000);
    }

    private sealed record Input(string Dir, byte[] Text);

    private static IEnumerable<Input> Inputs(List<string> dirs, int count)
    {
        var random = new Random(Fuzz.Seed);
        var texts = dirs.Select(d => File.ReadAllBytes(Path.Combine(d, "Kubefile"))).ToList();
        for (int i = 0; i < dirs.Count; i++) yield return new Input(dirs[i], texts[i]);
        for (int i = 0; i < count; i++)
        {
            int k = random.Next(dirs.Count);
            yield return new Input(dirs[k], Fuzz.MutateOnce(texts[k], random, KubefileTokens));
        }
    }
}
