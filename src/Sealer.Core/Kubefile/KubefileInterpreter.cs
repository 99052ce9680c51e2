using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kubefile;

/// <summary>Instructions → <see cref="KubefileProject"/>, with Sealer's rules (sealerio/sealer build/kubefile/parser/kubefile.go).</summary>
internal sealed class KubefileInterpreter(string? file, IReadOnlyDictionary<string, string> buildArgs)
{
    /// <summary>Directories every Sealer rootfs has: <c>COPY x manifests</c> puts x inside, as it does on a Sealer base image.</summary>
    private static readonly HashSet<string> RootfsDirectories = new(StringComparer.Ordinal)
    {
        "bin", "cri", "etc", "images", "manifests", "charts", "scripts", "statics", "plugin", "plugins", "application", "registry", "certs", "lib", "rpm", "tgz",
    };

    private readonly Dictionary<string, string> _args = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);

    public KubefileProject Run(IReadOnlyList<KubefileInstruction> instructions)
    {
        string baseImage = "scratch";
        int fromLine = 0;
        var fromPlatforms = new List<string>();
        var copies = new List<KubefileCopy>();
        var apps = new List<KubefileApp>();
        var labels = new List<KubefileValue>();
        var env = new List<KubefileValue>();
        var notes = new List<string>();
        List<string> launch = [], cmds = [];
        int launchLine = 0, cmdsLine = 0, cmdLine = 0;
        string? kubeVersion = null;
        int kubeVersionLine = 0;
        if (instructions.Count == 0) throw new SealerException(ErrorCodes.KubefileSyntax, "The Kubefile has no instruction: start it with FROM scratch (or a base cluster image).", file, 1, 1);

        for (int n = 0; n < instructions.Count; n++)
        {
            var ins = instructions[n];
            int line = ins.Line;
            bool last = n == instructions.Count - 1;
            if (fromLine == 0 && ins.Keyword is not ("FROM" or "ARG"))
            {
                throw Error(line, $"{ins.Keyword} comes before FROM. Start the Kubefile with FROM scratch (or a base cluster image); only ARG may come before it.");
            }
            if (ins.Flags.Count > 0 && ins.Keyword != "FROM")
            {
                throw Unsupported(line, $"{ins.Keyword} {ins.Flags[0]}: flags are not supported here (a lite build copies files as they are; set modes in the build context).");
            }
            switch (ins.Keyword)
            {
                case "ARG":
                    foreach (var w in Words(ins))
                    {
                        int eq = w.IndexOf('=', StringComparison.Ordinal);
                        string name = eq < 0 ? Expand(w, line) : w[..eq];
                        string? value = buildArgs.TryGetValue(name, out var given) ? given : eq < 0 ? null : Expand(w[(eq + 1)..], line);
                        if (value is not null) _args[name] = value;
                        else _args.Remove(name);
                    }
                    break;
                case "FROM":
                    if (fromLine != 0) throw Unsupported(line, "A second FROM (a multi-stage build) is not supported: a cluster image has one base. Build the other stage separately.");
                    fromLine = line;
                    foreach (var flag in ins.Flags)
                    {
                        if (!flag.StartsWith("--platform=", StringComparison.Ordinal))
                        {
                            throw Unsupported(line, $"FROM {flag}: only --platform is available in FROM (as in Sealer).");
                        }
                        fromPlatforms.AddRange(Expand(flag["--platform=".Length..], line).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    }
                    var fromWords = Words(ins);
                    if (fromWords.Count == 0) throw Error(line, "FROM needs an image: FROM scratch, or FROM docker.io/sealerio/kubernetes:v1.22.15.");
                    if (fromWords.Count > 1) throw Unsupported(line, $"FROM {string.Join(' ', fromWords)}: 'AS name' (multi-stage) is not supported; write FROM image only.");
                    baseImage = Expand(fromWords[0], line);
                    break;
                case "ENV":
                    foreach (var (k, v) in Pairs(ins, "ENV"))
                    {
                        env.Add(new KubefileValue(k, v, line));
                        _env[k] = v;
                    }
                    break;
                case "LABEL":
                    foreach (var (k, v) in Pairs(ins, "LABEL")) labels.Add(new KubefileValue(k, v, line));
                    break;
                case "MAINTAINER":
                    notes.Add($"line {line}: MAINTAINER {ins.Arguments} (no effect on a cluster image; use LABEL org.opencontainers.image.authors=...)");
                    break;
                case "RUN":
                    throw Unsupported(line, $"RUN {Short(ins.Arguments)}: a lite build runs nothing (Sealer's lite build does not run it either). Do this step before the build and COPY its result into the build context, or run it at install time: CMDS [\"...\"] / APPCMDS, or a Clusterfile Plugin (type: SHELL, action: pre-init-host).");
                case "COPY":
                case "ADD":
                    copies.Add(Copy(ins));
                    break;
                case "APP":
                case "CNI":
                case "CSI":
                    apps.Add(App(ins, apps));
                    break;
                case "APPCMDS":
                {
                    var (name, rest) = NameAndRest(ins);
                    var list = KubefileParser.JsonArray(rest)
                        ?? throw Error(line, $"APPCMDS {name} {Short(rest)}: the commands must be a JSON array, as Sealer requires: APPCMDS {name} [\"kubectl apply -f app.yaml\"].");
                    int i = FindApp(apps, name, line, "APPCMDS");
                    apps[i] = apps[i] with { Cmds = list };
                    break;
                }
                case "APPENV":
                {
                    var (name, rest) = NameAndRest(ins);
                    int i = FindApp(apps, name, line, "APPENV");
                    var appEnv = apps[i].Env.ToList();
                    foreach (var w in KubefileParser.JsonArray(rest) ?? rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList())
                    {
                        int eq = w.IndexOf('=', StringComparison.Ordinal);
                        if (eq <= 0) throw Error(line, $"APPENV {name}: '{w}' is not key=value.");
                        appEnv.RemoveAll(kv => kv.Key == w[..eq]);
                        appEnv.Add(new(w[..eq], w[(eq + 1)..]));
                    }
                    apps[i] = apps[i] with { Env = appEnv };
                    break;
                }
                case "LAUNCH":
                    if (launchLine != 0) throw Conflict(line, $"A second LAUNCH (the first is at line {launchLine}): only one LAUNCH can be given; list every app in it.");
                    if (!last) throw Conflict(line, "LAUNCH must be the last instruction (Sealer's rule): move it to the end.");
                    if (cmdLine != 0 || cmdsLine != 0) throw Conflict(line, $"LAUNCH and CMD/CMDS (line {(cmdLine != 0 ? cmdLine : cmdsLine)}) both say what to launch: keep one of them.");
                    launchLine = line;
                    launch = KubefileParser.JsonArray(ins.Arguments) ?? ins.Arguments.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries).ToList();
                    if (launch.Count == 0) throw Error(line, "LAUNCH names no app: LAUNCH [\"app1\", \"app2\"].");
                    foreach (var a in launch)
                    {
                        if (!apps.Any(x => x.Name == a) && baseImage == "scratch")
                        {
                            throw new SealerException(ErrorCodes.UnknownApp, $"LAUNCH names '{a}', which no APP defines (and FROM scratch has none). Add APP {a} local://... or fix the name.", file, line, 1);
                        }
                    }
                    break;
                case "CMDS":
                    if (cmdsLine != 0) throw Conflict(line, $"A second CMDS (the first is at line {cmdsLine}): only one CMDS can be given; put every command in it.");
                    if (!last) throw Conflict(line, "CMDS must be the last instruction (Sealer's rule): move it to the end.");
                    cmdsLine = line;
                    cmds.AddRange(KubefileParser.JsonArray(ins.Arguments) ?? [ins.Arguments]);
                    break;
                case "CMD":
                    // Deprecated in Sealer, several allowed: each adds its command(s), in order.
                    if (cmdLine == 0) cmdLine = line;
                    cmds.AddRange(KubefileParser.JsonArray(ins.Arguments) ?? [ins.Arguments]);
                    break;
                case "KUBEVERSION":
                    var kv = Words(ins);
                    if (kv.Count != 1) throw Error(line, "KUBEVERSION takes one version: KUBEVERSION v1.22.15.");
                    kubeVersion = kv[0];
                    kubeVersionLine = line;
                    break;
            }
        }
        if (fromLine == 0) throw Error(instructions[^1].Line, "The Kubefile has no FROM: start it with FROM scratch (or a base cluster image).");
        if (cmds.Count > 0 && launchLine != 0) throw Conflict(launchLine, "LAUNCH and CMD/CMDS both say what to launch: keep one of them.");
        return new KubefileProject
        {
            File = file, BaseImage = baseImage, FromLine = fromLine, FromPlatforms = fromPlatforms, Copies = copies, Apps = apps, Labels = labels, Env = env,
            Launch = launch, Cmds = cmds, LaunchLine = launchLine, CmdsLine = cmdsLine != 0 ? cmdsLine : cmdLine, KubeVersion = kubeVersion, KubeVersionLine = kubeVersionLine,
            Args = new Dictionary<string, string>(_args, StringComparer.Ordinal), Notes = notes, Instructions = instructions,
        };
    }

    private KubefileCopy Copy(KubefileInstruction ins)
    {
        int line = ins.Line;
        var words = KubefileParser.JsonArray(ins.Arguments) ?? Words(ins);
        if (words.Count < 2) throw Error(line, $"{ins.Keyword} needs a source and a destination: COPY src dest.");
        var sources = words.Take(words.Count - 1).Select(w => Expand(w, line, keepArch: true)).ToList();
        string destRaw = Expand(words[^1], line);
        foreach (var s in sources)
        {
            if (s.Contains("://", StringComparison.Ordinal))
            {
                throw Unsupported(line, $"{ins.Keyword} {s}: a URL source is not fetched by the build (the build is reproducible and offline). Download the file into the build context and COPY it.");
            }
            if (ins.Keyword == "ADD" && (s.EndsWith(".tar", StringComparison.Ordinal) || s.EndsWith(".tgz", StringComparison.Ordinal) || s.EndsWith(".tar.gz", StringComparison.Ordinal) || s.EndsWith(".tar.xz", StringComparison.Ordinal) || s.EndsWith(".tar.bz2", StringComparison.Ordinal)))
            {
                throw Unsupported(line, $"ADD {s}: ADD unpacks archives, which this build does not do. Unpack it in the build context and COPY the directory (or COPY the archive as a file).");
            }
            if (Path.IsPathRooted(s) || s.Split('/').Contains(".."))
            {
                throw new SealerException(ErrorCodes.KubefileSourceMissing, $"{ins.Keyword} {s}: sources are relative to the build context and stay inside it.", file, line, 1);
            }
        }
        bool dirDest = destRaw.EndsWith('/') || sources.Count > 1 || sources.Any(IsGlob);
        string dest = destRaw.Trim().TrimStart('/');
        while (dest.StartsWith("./", StringComparison.Ordinal)) dest = dest[2..];
        dest = dest.TrimEnd('/');
        if (dest is "." or "") { dest = ""; dirDest = true; }
        if (dest.Split('/').Contains("..")) throw Error(line, $"{ins.Keyword} destination '{destRaw}' leaves the rootfs.");
        if (RootfsDirectories.Contains(dest) || _directories.Contains(dest)) dirDest = true;
        if (dirDest && dest.Length > 0) AddDirectories(dest);
        else if (dest.Contains('/')) AddDirectories(dest[..dest.LastIndexOf('/')]);
        return new KubefileCopy(sources, dest, dirDest, line) { Comment = ins.TrailingComment ?? Comment(ins) };
    }

    private void AddDirectories(string dir)
    {
        for (int i = 0; i <= dir.Length; i++)
        {
            if (i == dir.Length || dir[i] == '/') _directories.Add(dir[..i]);
        }
    }

    public static bool IsGlob(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;

    private KubefileApp App(KubefileInstruction ins, List<KubefileApp> apps)
    {
        int line = ins.Line;
        var words = KubefileParser.JsonArray(ins.Arguments) ?? Words(ins);
        if (words.Count == 0) throw Error(line, $"{ins.Keyword} needs an app name and its files: {ins.Keyword} name local://path.");
        string name = words[0];
        if (apps.Any(a => a.Name == name)) throw Conflict(line, $"App '{name}' is defined twice: give it one {ins.Keyword} with every source (several local:// sources are allowed).");
        var sources = new List<string>();
        foreach (var w in words.Skip(1))
        {
            string s = Expand(w, line);
            if (s.StartsWith("http://", StringComparison.Ordinal) || s.StartsWith("https://", StringComparison.Ordinal))
            {
                throw Unsupported(line, $"{ins.Keyword} {name} {s}: a remote source is not downloaded by the build (it must be reproducible and offline). Download it into the build context and write local://{s[(s.LastIndexOf('/') + 1)..]}.");
            }
            if (!s.StartsWith("local://", StringComparison.Ordinal))
            {
                throw Error(line, $"{ins.Keyword} {name} {s}: a source is local://path (relative to the build context), as Sealer requires.");
            }
            string path = s["local://".Length..];
            if (Path.IsPathRooted(path) || path.Split('/').Contains(".."))
            {
                throw new SealerException(ErrorCodes.KubefileSourceMissing, $"{ins.Keyword} {name} {s}: sources are relative to the build context and stay inside it.", file, line, 1);
            }
            sources.Add(path);
        }
        if (sources.Count == 0) throw Error(line, $"{ins.Keyword} {name} has no source: {ins.Keyword} {name} local://path.");
        return new KubefileApp(name, sources, line) { Role = ins.Keyword == "APP" ? null : ins.Keyword.ToLowerInvariant(), Comment = ins.TrailingComment ?? Comment(ins) };
    }

    private static string? Comment(KubefileInstruction ins) => ins.Comments.Count == 0 ? null : string.Join(" ", ins.Comments);

    private int FindApp(List<KubefileApp> apps, string name, int line, string keyword)
    {
        int i = apps.FindIndex(a => a.Name == name);
        if (i < 0)
        {
            throw new SealerException(ErrorCodes.UnknownApp, $"{keyword} names app '{name}', which no APP above defines. Define it first (APP {name} local://...); apps of the base image cannot be changed here.", file, line, 1);
        }
        return i;
    }

    private (string Name, string Value) NameAndRest(KubefileInstruction ins)
    {
        string a = ins.Arguments.Trim();
        int sp = a.IndexOfAny([' ', '\t']);
        if (sp <= 0) throw Error(ins.Line, $"{ins.Keyword} needs an app name and a value: {ins.Keyword} app ...");
        return (a[..sp], a[(sp + 1)..].Trim());
    }

    /// <summary>LABEL / ENV: <c>k=v k2="v 2"</c>, or the old one-pair form <c>k v with spaces</c>.</summary>
    private List<(string Key, string Value)> Pairs(KubefileInstruction ins, string what)
    {
        var words = Words(ins);
        if (words.Count == 0) throw Error(ins.Line, $"{what} needs key=value.");
        var result = new List<(string, string)>();
        if (!words[0].Contains('=', StringComparison.Ordinal))
        {
            if (words.Count < 2) throw Error(ins.Line, $"{what} {words[0]} has no value: write {what} {words[0]}=value.");
            string rest = ins.Arguments.Trim()[words[0].Length..].Trim();
            result.Add((Expand(words[0], ins.Line), Expand(rest, ins.Line)));
            return result;
        }
        foreach (var w in words)
        {
            int eq = w.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw Error(ins.Line, $"{what}: '{w}' is not key=value (quote values with blanks: key=\"a b\").");
            string key = Expand(w[..eq], ins.Line);
            if (key.Length == 0) throw Error(ins.Line, $"{what}: a key is empty in '{w}'.");
            result.Add((key, Expand(w[(eq + 1)..], ins.Line)));
        }
        return result;
    }

    private List<string> Words(KubefileInstruction ins)
    {
        try
        {
            return ShellWords.Split(ins.Arguments);
        }
        catch (FormatException ex)
        {
            throw Error(ins.Line, $"{ins.Keyword}: {ex.Message}.");
        }
    }

    private string Expand(string word, int line, bool keepArch = false)
    {
        try
        {
            // Sealer renders ${ARCH} in COPY with the platform's architecture before anything else (processCopy).
            return ShellWords.Expand(word, name => keepArch && name == "ARCH" ? KubefileCopy.ArchToken : _env.TryGetValue(name, out var e) ? e : _args.GetValueOrDefault(name));
        }
        catch (FormatException ex)
        {
            throw Error(line, $"'{word}': {ex.Message}.");
        }
    }

    private static string Short(string s) => s.Length > 60 ? s[..57] + "..." : s;

    private SealerException Error(int line, string message) => new(ErrorCodes.KubefileSyntax, message, file, line, 1);

    private SealerException Unsupported(int line, string message) => new(ErrorCodes.KubefileUnsupported, message, file, line, 1);

    private SealerException Conflict(int line, string message) => new(ErrorCodes.KubefileConflict, message, file, line, 1);
}
