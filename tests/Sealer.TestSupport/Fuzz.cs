using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Sealer.Core.Diagnostics;

namespace Sealer.TestSupport;

/// <summary>
/// Hostile-input testing (docs/hostile-input.md): deterministic mutations of real inputs (bit flips, interesting bytes,
/// deleted/duplicated/spliced ranges, format tokens, truncation, line edits) fed to a parser with a time limit per input.
/// An input may succeed or fail with a coded <see cref="SealerException"/>; anything else is a crash, and running past
/// the limit is a hang — both fail the test and keep the input under artifacts/test-results/fuzz/ to reproduce.
/// The counts go to artifacts/test-results/fuzz/TARGET.json. SEALER_FUZZ_SCALE multiplies the iterations (e.g. 20 for a
/// long local run), SEALER_FUZZ_SEED changes the seed (the default is fixed, so CI runs are repeatable).
/// </summary>
public static class Fuzz
{
    /// <summary>What one target's run found.</summary>
    public sealed record Report(string Target, int Inputs, int Successes, SortedDictionary<string, int> ErrorsByCode,
        IReadOnlyList<string> Crashes, IReadOnlyList<string> Hangs, double Seconds)
    {
        public override string ToString() =>
            $"{Target}: {Inputs} inputs, {Successes} accepted, {ErrorsByCode.Values.Sum()} coded errors ({string.Join(", ", ErrorsByCode.Select(kv => $"{kv.Key}×{kv.Value}"))}), " +
            $"{Crashes.Count} crashes, {Hangs.Count} hangs, {Seconds:0.0} s" +
            // one line per distinct crash (type, message, first frame) with how often and one input that shows it
            string.Concat(Crashes.GroupBy(c => c[(c.IndexOf(": ", StringComparison.Ordinal) + 2)..c.LastIndexOf(" (", StringComparison.Ordinal)])
                .Select(g => $"\n  crash ×{g.Count()}: {g.Key} {g.First()[g.First().LastIndexOf(" (", StringComparison.Ordinal)..]}")) +
            string.Concat(Hangs.Take(5).Select(h => "\n  hang: " + h));

        /// <summary>Fails unless nothing crashed or hung and the run reached both outcomes (so it neither only bounced off
        /// the parser's front door nor only fed it inputs it could not refuse).</summary>
        public void AssertClean(int minInputs)
        {
            Assert.True(Crashes.Count == 0 && Hangs.Count == 0, ToString());
            Assert.True(Inputs >= minInputs, $"{Target}: only {Inputs} inputs tried");
            Assert.True(Successes > 0, $"{Target}: no mutated input was accepted — the mutations never got past the first check\n{this}");
            Assert.True(ErrorsByCode.Count > 0, $"{Target}: no input was refused — the target does not look at its input\n{this}");
        }
    }

    /// <summary>A clean refusal of a target whose errors are not exceptions (an HTTP status, say), counted under <paramref name="label"/>.</summary>
    public sealed class Refusal(string label) : Exception(label)
    {
        public string Label { get; } = label;
    }

    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("SEALER_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("SEALER_FUZZ_SEED"), out var s) ? s : 20261202;

    /// <summary>Tokens that matter to YAML-ish, template and shell-ish inputs.</summary>
    public static readonly string[] YamlTokens =
    [
        "\n", "\r\n", ": ", "- ", "---\n", "...\n", "{", "}", "[", "]", "\"", "'", "#", "&a ", "*a", "<<: *a\n", "!!binary ", "!!str ",
        "!custom ", "|\n", ">-\n", "? ", "\t", "\0", "\uFEFF", "99999999999999999999999", "-1", "0x7fffffff", "1e400", ".nan", "~", "null",
        "true", "{{", "}}", "{{ .Values.x }}", "{{ include \"x\" . }}", "{{ range . }}", "{{ end }}", "${HOME}", "$(id)", "`", "\\",
        "../../../../etc/passwd", "/etc/shadow", "a:b@c", "@sha256:", "\u00e9", "\ud83d\ude00", new string('[', 64), new string(' ', 200),
        "kind: Cluster\n", "apiVersion: sealer.io/v2\n", "image: ", "repository: ", "tag: ", "spec:\n  ",
    ];

    /// <summary>
    /// <paramref name="count"/> mutated inputs from <paramref name="seeds"/> (the seeds themselves come first). Same seed,
    /// same inputs.
    /// </summary>
    public static IEnumerable<byte[]> Mutations(IReadOnlyList<byte[]> seeds, int count, IReadOnlyList<string>? tokens = null, int? seed = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("no seed inputs", nameof(seeds));
        var random = new Random(seed ?? Seed);
        var dict = (tokens ?? YamlTokens).Select(t => Encoding.UTF8.GetBytes(t)).ToArray();
        foreach (var s in seeds) yield return s;
        for (int i = 0; i < count; i++)
        {
            var data = new List<byte>(seeds[random.Next(seeds.Count)]);
            int rounds = 1 + random.Next(4);
            for (int r = 0; r < rounds; r++) Mutate(data, random, dict, seeds);
            yield return data.ToArray();
        }
    }

    /// <summary>One to four mutations of <paramref name="input"/> (for targets that build their inputs, e.g. a chart archive around one mutated file).</summary>
    public static byte[] MutateOnce(byte[] input, Random random, IReadOnlyList<string>? tokens = null)
    {
        var dict = (tokens ?? YamlTokens).Select(t => Encoding.UTF8.GetBytes(t)).ToArray();
        var data = new List<byte>(input);
        int rounds = 1 + random.Next(4);
        for (int r = 0; r < rounds; r++) Mutate(data, random, dict, [input]);
        return data.ToArray();
    }

    private static void Mutate(List<byte> d, Random random, byte[][] dict, IReadOnlyList<byte[]> seeds)
    {
        int Pos() => d.Count == 0 ? 0 : random.Next(d.Count);
        switch (random.Next(11))
        {
            case 0 when d.Count > 0: // flip a bit
                { int p = Pos(); d[p] ^= (byte)(1 << random.Next(8)); break; }
            case 1 when d.Count > 0: // an interesting byte
                { byte[] b = [0, 0xff, 0x7f, 0x80, (byte)'\n', (byte)':', (byte)'-', (byte)'"', (byte)'{', (byte)' ', (byte)'\t', (byte)'/']; d[Pos()] = b[random.Next(b.Length)]; break; }
            case 2 when d.Count > 1: // delete a range
                { int p = Pos(); int n = Math.Min(d.Count - p, 1 + random.Next(Math.Max(1, d.Count / 8))); d.RemoveRange(p, n); break; }
            case 3 when d.Count > 1: // duplicate a range elsewhere
                { int p = Pos(); int n = Math.Min(d.Count - p, 1 + random.Next(Math.Max(1, d.Count / 8))); var part = d.GetRange(p, n); d.InsertRange(Pos(), part); break; }
            case 4: // a format token
                d.InsertRange(Pos(), dict[random.Next(dict.Length)]); break;
            case 5: // replace a range by a token
                { if (d.Count == 0) goto case 4; int p = Pos(); int n = Math.Min(d.Count - p, 1 + random.Next(16)); d.RemoveRange(p, n); d.InsertRange(p, dict[random.Next(dict.Length)]); break; }
            case 6 when d.Count > 0: // truncate
                { int p = Pos(); d.RemoveRange(p, d.Count - p); break; }
            case 7: // splice with another seed
                { var other = seeds[random.Next(seeds.Count)]; if (other.Length == 0) break; int p = Pos(); int q = random.Next(other.Length);
                  d.RemoveRange(p, d.Count - p); d.AddRange(other.AsSpan(q).ToArray()); break; }
            case 8: // swap two lines / duplicate a line / re-indent a line
                {
                    var lines = Encoding.UTF8.GetString(d.ToArray()).Split('\n').ToList();
                    if (lines.Count < 2) goto case 4;
                    int a = random.Next(lines.Count), b = random.Next(lines.Count);
                    switch (random.Next(3))
                    {
                        case 0: (lines[a], lines[b]) = (lines[b], lines[a]); break;
                        case 1: lines.Insert(b, lines[a]); break;
                        default: lines[a] = new string(' ', random.Next(12)) + lines[a].TrimStart(); break;
                    }
                    d.Clear(); d.AddRange(Encoding.UTF8.GetBytes(string.Join('\n', lines))); break;
                }
            case 9 when d.Count > 0: // an ASCII digit run made huge or negative
                { int p = Pos(); d.InsertRange(p, Encoding.ASCII.GetBytes(random.Next(2) == 0 ? "-" : "9999999999999999999")); break; }
            default: // a random byte
                if (d.Count > 0) d[Pos()] = (byte)random.Next(256); else d.Add((byte)random.Next(256)); break;
        }
    }

    /// <summary>
    /// Feeds every input to <paramref name="target"/> with <paramref name="perInput"/> each (its token is cancelled then;
    /// a target that ignores it is still reported as a hang once twice the limit passed).
    /// </summary>
    public static Report Run(string name, IEnumerable<byte[]> inputs, Func<byte[], CancellationToken, Task> target, TimeSpan? perInput = null) =>
        Run(name, inputs, target, b => b, perInput);

    /// <summary>Inputs of any shape (e.g. a Kubefile and the context it plans against); <paramref name="bytesOf"/> gives what to keep of a failing one.</summary>
    public static Report Run<T>(string name, IEnumerable<T> inputs, Func<T, CancellationToken, Task> target, Func<T, byte[]> bytesOf, TimeSpan? perInput = null)
    {
        var limit = perInput ?? TimeSpan.FromSeconds(2);
        var errors = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var crashes = new List<string>();
        var hangs = new List<string>();
        int n = 0, ok = 0;
        var clock = Stopwatch.StartNew();
        string dir = Path.Combine(Repo.Root, "artifacts", "test-results", "fuzz");
        Directory.CreateDirectory(dir);
        foreach (var input in inputs)
        {
            n++;
            using var cts = new CancellationTokenSource(limit);
            var task = Task.Run(() => target(input, cts.Token));
            bool finished;
            try { finished = task.Wait(limit * 2); }
            catch (AggregateException) { finished = true; }
            if (!finished)
            {
                hangs.Add($"input {n} ran past {limit.TotalSeconds * 2:0.#} s ({Keep(dir, name, "hang", n, bytesOf(input))})");
                continue;
            }
            var e = task.Exception?.GetBaseException();
            switch (e)
            {
                case null: ok++; break;
                case SealerException se: errors[se.Code] = errors.GetValueOrDefault(se.Code) + 1; break;
                case Refusal r: errors[r.Label] = errors.GetValueOrDefault(r.Label) + 1; break;
                case OperationCanceledException when cts.IsCancellationRequested:
                    hangs.Add($"input {n} needed more than {limit.TotalSeconds:0.#} s ({Keep(dir, name, "hang", n, bytesOf(input))})"); break;
                default:
                    crashes.Add($"input {n}: {e.GetType().Name}: {FirstLine(e.Message)} at {FirstFrame(e)} ({Keep(dir, name, "crash", n, bytesOf(input))})"); break;
            }
        }
        var report = new Report(name, n, ok, errors, crashes, hangs, clock.Elapsed.TotalSeconds);
        File.WriteAllText(Path.Combine(dir, name + ".json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["target"] = name, ["seed"] = Seed, ["inputs"] = n, ["accepted"] = ok, ["errorsByCode"] = errors,
            ["crashes"] = crashes.Count, ["hangs"] = hangs.Count, ["seconds"] = Math.Round(report.Seconds, 2),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return report;
    }

    /// <summary>The synchronous form of <see cref="Run(string, IEnumerable{byte[]}, Func{byte[], CancellationToken, Task}, TimeSpan?)"/>.</summary>
    public static Report Run(string name, IEnumerable<byte[]> inputs, Action<byte[], CancellationToken> target, TimeSpan? perInput = null) =>
        Run(name, inputs, (b, ct) => { target(b, ct); return Task.CompletedTask; }, perInput);

    private static string Keep(string dir, string name, string kind, int n, byte[] input)
    {
        string path = Path.Combine(dir, $"{name}-{kind}-{n}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }

    private static string FirstLine(string s) => s.Split('\n')[0];

    private static string FirstFrame(Exception e) =>
        e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at ", StringComparison.Ordinal))?[3..] ?? "?";
}
