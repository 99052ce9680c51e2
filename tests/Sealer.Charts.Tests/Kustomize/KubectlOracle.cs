using System.Diagnostics;

namespace Sealer.Charts.Tests.Kustomize;

/// <summary>The real <c>kubectl kustomize</c> (artifacts/tools/kubectl, kustomize v5.7, from build/install-test-deps.sh).</summary>
public static class KubectlOracle
{
    public static string CorpusDir => Path.Combine(Repo.Root, "tests", "Sealer.Charts.Tests", "kustomize-corpus");

    public static string KubectlPath
    {
        get
        {
            string p = Path.Combine(Repo.Root, "artifacts", "tools", "kubectl");
            if (!File.Exists(p)) throw new InvalidOperationException($"{p} is missing: run build/install-test-deps.sh (it installs kubectl, the oracle for the kustomize tests).");
            return p;
        }
    }

    public sealed record Tree(string Name, string Repo, string Path, string? ExpectedError)
    {
        public string Directory => System.IO.Path.GetFullPath(System.IO.Path.Combine(CorpusDir, Repo.Split('/')[1], Path));

        public override string ToString() => Name;
    }

    /// <summary>trees.txt: <c>name owner/repo path [expect=SEAnnnn]</c>.</summary>
    public static IReadOnlyList<Tree> Trees { get; } = File.ReadAllLines(Path.Combine(CorpusDir, "trees.txt"))
        .Select(l => l.Split('#')[0].Trim())
        .Where(l => l.Length > 0)
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(p => new Tree(p[0], p[1], p[2], p.Skip(3).FirstOrDefault(x => x.StartsWith("expect=", StringComparison.Ordinal))?["expect=".Length..]))
        .ToList();

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Kustomize(string dir)
    {
        var psi = new ProcessStartInfo(KubectlPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("kustomize");
        psi.ArgumentList.Add(dir);
        psi.ArgumentList.Add("--enable-helm");
        psi.ArgumentList.Add("--helm-command");
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "artifacts", "tools", "helm3"));
        // Never reach the network: a remote resource must fail fast, as our engine does.
        psi.Environment["HTTPS_PROXY"] = "http://127.0.0.1:9";
        psi.Environment["HTTP_PROXY"] = "http://127.0.0.1:9";
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
