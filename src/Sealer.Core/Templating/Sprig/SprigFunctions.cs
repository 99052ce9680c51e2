using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Sprig;

/// <summary>Inputs that make sprig's non-deterministic functions reproducible.</summary>
public sealed class SprigEnvironment
{
    /// <summary>What <c>now</c> returns; null = the wall clock.</summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>Seed for randAlphaNum/randAlpha/randNumeric/randAscii/uuidv4/shuffle; null = cryptographically random.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>
    /// Make each kind of private key (RSA, ECDSA P-256) once per process and give that same key to every
    /// genPrivateKey/genCA/genSelfSignedCert/genSignedCert call (certificates are still made, signed and dated per call; the
    /// RSA key is 2048 bits also where genPrivateKey would make 4096).
    /// RSA key generation is most of the cost of rendering charts that make TLS material (~0.1–2 s a key). Only for
    /// renders whose output is read and thrown away, as image discovery does: never for output that is deployed, where
    /// every chart would share one key.
    /// </summary>
    public bool ReuseKeys { get; init; }

    internal Random? CreateRandom() => RandomSeed is { } s ? new Random(s) : null;
}

/// <summary>Masterminds/sprig v3 <c>TxtFuncMap()</c> minus <c>env</c>/<c>expandenv</c>, as Helm ships it.</summary>
public static partial class SprigFunctions
{
    /// <summary>The sprig function table (built once per environment; share it across renders).</summary>
    public static Dictionary<string, GoFunc> Create(SprigEnvironment? env = null)
    {
        env ??= new SprigEnvironment();
        var m = new Dictionary<string, GoFunc>(StringComparer.Ordinal);
        var rng = env.CreateRandom();
        var rngLock = new object();
        void Add(GoFunc f) => m[f.Name] = f;
        void S(string n, Func<string, object?> f) => Add(GoFunc.Create(n, [GoType.String], a => f((string)a[0]!)));
        void SS(string n, Func<string, string, object?> f) => Add(GoFunc.Create(n, [GoType.String, GoType.String], a => f((string)a[0]!, (string)a[1]!)));
        void A(string n, Func<object?, object?> f) => Add(GoFunc.Create(n, [GoType.Any], a => f(a[0])));
        void V(string n, Func<object?[], object?> f) => Add(GoFunc.CreateVariadic(n, [], GoType.Any, f));

        // ---- strings ----
        S("upper", s => s.ToUpperInvariant());
        S("lower", s => s.ToLowerInvariant());
        S("title", Title);
        S("untitle", Untitle);
        Add(GoFunc.Create("substr", [GoType.Int, GoType.Int, GoType.String], a => Substr((long)a[0]!, (long)a[1]!, (string)a[2]!)));
        Add(GoFunc.Create("repeat", [GoType.Int, GoType.String], a => (long)a[0]! < 0 ? throw new GoFuncException("strings: negative Repeat count") : string.Concat(Enumerable.Repeat((string)a[1]!, (int)(long)a[0]!))));
        S("trim", s => s.Trim(GoWhitespace));
        Add(GoFunc.Create("trunc", [GoType.Int, GoType.String], a =>
        {
            long c = (long)a[0]!;
            var s = (string)a[1]!;
            var b = Encoding.UTF8.GetBytes(s);
            if (c < 0 && b.Length + c > 0) return Encoding.UTF8.GetString(b, (int)(b.Length + c), (int)-c);
            if (c >= 0 && b.Length > c) return Encoding.UTF8.GetString(b, 0, (int)c);
            return s;
        }));
        SS("trimall", (a, b) => b.Trim(a.ToCharArray()));
        SS("trimAll", (a, b) => b.Trim(a.ToCharArray()));
        SS("trimSuffix", (a, b) => b.EndsWith(a, StringComparison.Ordinal) && a.Length > 0 ? b[..^a.Length] : b);
        SS("trimPrefix", (a, b) => b.StartsWith(a, StringComparison.Ordinal) ? b[a.Length..] : b);
        S("nospace", s => string.Concat(s.Where(c => !char.IsWhiteSpace(c))));
        S("initials", s => string.Concat(s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w[0])));
        Add(GoFunc.Create("randAlphaNum", [GoType.Int], a => RandString(rng, rngLock, (int)(long)a[0]!, Alnum)));
        Add(GoFunc.Create("randAlpha", [GoType.Int], a => RandString(rng, rngLock, (int)(long)a[0]!, Alpha)));
        Add(GoFunc.Create("randAscii", [GoType.Int], a => RandString(rng, rngLock, (int)(long)a[0]!, Ascii)));
        Add(GoFunc.Create("randNumeric", [GoType.Int], a => RandString(rng, rngLock, (int)(long)a[0]!, "0123456789")));
        Add(GoFunc.Create("randBytes", [GoType.Int], a => Convert.ToBase64String(RandBytes(rng, rngLock, (int)(long)a[0]!))));
        Add(GoFunc.Create("randInt", [GoType.Int, GoType.Int], a => (long)a[0]! + (long)(RandDouble(rng, rngLock) * ((long)a[1]! - (long)a[0]!))));
        S("swapcase", s => string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.IsLower(c) ? char.ToUpperInvariant(c) : c)));
        S("shuffle", s =>
        {
            var arr = s.ToCharArray();
            for (int i = arr.Length - 1; i > 0; i--)
            {
                int j = (int)(RandDouble(rng, rngLock) * (i + 1));
                (arr[i], arr[j]) = (arr[j], arr[i]);
            }
            return new string(arr);
        });
        S("snakecase", s => Delimited(s, '_'));
        S("camelcase", Camel);
        S("kebabcase", s => Delimited(s, '-'));
        Add(GoFunc.Create("wrap", [GoType.Int, GoType.String], a => Wrap((string)a[1]!, (int)(long)a[0]!, "\n", false)));
        Add(GoFunc.Create("wrapWith", [GoType.Int, GoType.String, GoType.String], a => Wrap((string)a[2]!, (int)(long)a[0]!, (string)a[1]!, true)));
        SS("contains", (sub, s) => s.Contains(sub, StringComparison.Ordinal));
        SS("hasPrefix", (p, s) => s.StartsWith(p, StringComparison.Ordinal));
        SS("hasSuffix", (p, s) => s.EndsWith(p, StringComparison.Ordinal));
        V("quote", a => string.Join(" ", a.Where(x => x is not null).Select(x => GoQuote.Quote(Cast.StrVal(x)))));
        V("squote", a => string.Join(" ", a.Where(x => x is not null).Select(x => "'" + Cast.StrVal(x) + "'")));
        V("cat", a => string.Join(" ", a.Where(x => x is not null).Select(GoValues.FormatValue)));
        Add(GoFunc.Create("indent", [GoType.Int, GoType.String], a => Indent((int)(long)a[0]!, (string)a[1]!)));
        Add(GoFunc.Create("nindent", [GoType.Int, GoType.String], a => "\n" + Indent((int)(long)a[0]!, (string)a[1]!)));
        Add(GoFunc.Create("replace", [GoType.String, GoType.String, GoType.String], a => Replace((string)a[2]!, (string)a[0]!, (string)a[1]!)));
        Add(GoFunc.Create("plural", [GoType.String, GoType.String, GoType.Int], a => (long)a[2]! == 1 ? a[0] : a[1]));
        S("sha1sum", s => Hex(SHA1.HashData(Encoding.UTF8.GetBytes(s))));
        S("sha256sum", s => Hex(SHA256.HashData(Encoding.UTF8.GetBytes(s))));
        S("sha512sum", s => Hex(SHA512.HashData(Encoding.UTF8.GetBytes(s))));
        S("adler32sum", s => Adler32(Encoding.UTF8.GetBytes(s)).ToString(CultureInfo.InvariantCulture));
        A("toString", Cast.StrVal);
        S("atoi", s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : 0L);
        A("int64", v => Cast.ToInt64(v));
        A("int", v => Cast.ToInt64(v));
        A("float64", v => Cast.ToFloat64(v));
        A("toDecimal", v => Convert.ToInt64(Cast.StrVal(v), 8));
        Add(GoFunc.CreateVariadic("seq", [], GoType.Int, a => Seq(a.Select(x => (long)x!).ToArray())));
        A("toStrings", v => Cast.StrSlice(v));
        Add(GoFunc.Create("until", [GoType.Int], a => UntilStep(0, (long)a[0]!, (long)a[0]! < 0 ? -1 : 1)));
        Add(GoFunc.Create("untilStep", [GoType.Int, GoType.Int, GoType.Int], a => UntilStep((long)a[0]!, (long)a[1]!, (long)a[2]!)));
        SS("split", (sep, s) =>
        {
            var parts = GoSplit(s, sep, -1);
            var d = new Dictionary<string, object?>(parts.Count, StringComparer.Ordinal);
            for (int i = 0; i < parts.Count; i++) d["_" + i.ToString(CultureInfo.InvariantCulture)] = parts[i];
            return d;
        });
        SS("splitList", (sep, s) => GoSplit(s, sep, -1).ConvertAll(x => (object?)x));
        Add(GoFunc.Create("splitn", [GoType.String, GoType.Int, GoType.String], a =>
        {
            var parts = GoSplit((string)a[2]!, (string)a[0]!, (int)(long)a[1]!);
            var d = new Dictionary<string, object?>(parts.Count, StringComparer.Ordinal);
            for (int i = 0; i < parts.Count; i++) d["_" + i.ToString(CultureInfo.InvariantCulture)] = parts[i];
            return d;
        }));
        Add(GoFunc.Create("join", [GoType.String, GoType.Any], a => string.Join((string)a[0]!, Cast.StrSlice(a[1]).Select(x => (string)x!))));
        A("sortAlpha", v =>
        {
            if (v is List<object?>)
            {
                var l = Cast.StrSlice(v);
                l.Sort((x, y) => string.CompareOrdinal((string)x!, (string)y!));
                return l;
            }
            return new List<object?> { Cast.StrVal(v) };
        });
        Add(GoFunc.Create("abbrev", [GoType.Int, GoType.String], a => (long)a[0]! < 4 ? a[1] : Abbrev((string)a[1]!, 0, (int)(long)a[0]!)));
        Add(GoFunc.Create("abbrevboth", [GoType.Int, GoType.Int, GoType.String], a => Abbrev((string)a[2]!, (int)(long)a[0]!, (int)(long)a[1]!)));
        Add(GoFunc.Create("hello", [], _ => "Hello!"));

        // ---- regex ----
        SS("regexMatch", (r, s) => TryRegex(r) is { } re && re.IsMatch(s));
        SS("mustRegexMatch", (r, s) => MustRegex(r).IsMatch(s));
        Add(GoFunc.Create("regexFindAll", [GoType.String, GoType.String, GoType.Int], a => FindAll(TryRegex((string)a[0]!), (string)a[1]!, (long)a[2]!)));
        Add(GoFunc.Create("mustRegexFindAll", [GoType.String, GoType.String, GoType.Int], a => FindAll(MustRegex((string)a[0]!), (string)a[1]!, (long)a[2]!)));
        SS("regexFind", (r, s) => TryRegex(r) is { } re ? (re.Match(s) is { Success: true } mt ? mt.Value : "") : "");
        SS("mustRegexFind", (r, s) => MustRegex(r).Match(s) is { Success: true } mt ? mt.Value : "");
        Add(GoFunc.Create("regexReplaceAll", [GoType.String, GoType.String, GoType.String], a => TryRegex((string)a[0]!) is { } re ? re.Replace((string)a[1]!, GoReplacement(re, (string)a[2]!)) : ""));
        Add(GoFunc.Create("mustRegexReplaceAll", [GoType.String, GoType.String, GoType.String], a => MustRegex((string)a[0]!) is var mre ? mre.Replace((string)a[1]!, GoReplacement(mre, (string)a[2]!)) : ""));
        Add(GoFunc.Create("regexReplaceAllLiteral", [GoType.String, GoType.String, GoType.String], a => TryRegex((string)a[0]!) is { } re ? re.Replace((string)a[1]!, ((string)a[2]!).Replace("$", "$$", StringComparison.Ordinal)) : ""));
        Add(GoFunc.Create("mustRegexReplaceAllLiteral", [GoType.String, GoType.String, GoType.String], a => MustRegex((string)a[0]!).Replace((string)a[1]!, ((string)a[2]!).Replace("$", "$$", StringComparison.Ordinal))));
        Add(GoFunc.Create("regexSplit", [GoType.String, GoType.String, GoType.Int], a => RegexSplit(TryRegex((string)a[0]!), (string)a[1]!, (long)a[2]!)));
        Add(GoFunc.Create("mustRegexSplit", [GoType.String, GoType.String, GoType.Int], a => RegexSplit(MustRegex((string)a[0]!), (string)a[1]!, (long)a[2]!)));
        S("regexQuoteMeta", QuoteMeta);

        // ---- math ----
        A("add1", v => Cast.ToInt64(v) + 1);
        V("add", a => a.Aggregate(0L, (s, x) => s + Cast.ToInt64(x)));
        Add(GoFunc.Create("sub", [GoType.Any, GoType.Any], a => Cast.ToInt64(a[0]) - Cast.ToInt64(a[1])));
        Add(GoFunc.Create("div", [GoType.Any, GoType.Any], a => Cast.ToInt64(a[1]) == 0 ? throw new GoFuncException("runtime error: integer divide by zero") : Cast.ToInt64(a[0]) / Cast.ToInt64(a[1])));
        Add(GoFunc.Create("mod", [GoType.Any, GoType.Any], a => Cast.ToInt64(a[1]) == 0 ? throw new GoFuncException("runtime error: integer divide by zero") : Cast.ToInt64(a[0]) % Cast.ToInt64(a[1])));
        Add(GoFunc.CreateVariadic("mul", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToInt64(a[0]), (s, x) => s * Cast.ToInt64(x))));
        Add(GoFunc.CreateVariadic("max", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToInt64(a[0]), (s, x) => Math.Max(s, Cast.ToInt64(x)))));
        Add(GoFunc.CreateVariadic("biggest", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToInt64(a[0]), (s, x) => Math.Max(s, Cast.ToInt64(x)))));
        Add(GoFunc.CreateVariadic("min", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToInt64(a[0]), (s, x) => Math.Min(s, Cast.ToInt64(x)))));
        A("add1f", v => (double)(ToDecimal(Cast.ToFloat64(v)) + 1m));
        V("addf", a => DecimalFold(a, 0, (x, y) => x + y, seedFromFirst: false));
        Add(GoFunc.CreateVariadic("subf", [GoType.Any], GoType.Any, a => DecimalFold(a, 0, (x, y) => x - y, seedFromFirst: true)));
        Add(GoFunc.CreateVariadic("mulf", [GoType.Any], GoType.Any, a => DecimalFold(a, 1, (x, y) => x * y, seedFromFirst: true)));
        Add(GoFunc.CreateVariadic("divf", [GoType.Any], GoType.Any, a => DecimalFold(a, 1, (x, y) => y == 0 ? throw new GoFuncException("decimal division by 0") : decimal.Round(x / y, 16, MidpointRounding.AwayFromZero), seedFromFirst: true)));
        Add(GoFunc.CreateVariadic("maxf", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToFloat64(a[0]), (s, x) => Math.Max(s, Cast.ToFloat64(x)))));
        Add(GoFunc.CreateVariadic("minf", [GoType.Any], GoType.Any, a => a.Skip(1).Aggregate(Cast.ToFloat64(a[0]), (s, x) => Math.Min(s, Cast.ToFloat64(x)))));
        A("floor", v => Math.Floor(Cast.ToFloat64(v)));
        A("ceil", v => Math.Ceiling(Cast.ToFloat64(v)));
        Add(GoFunc.CreateVariadic("round", [GoType.Any, GoType.Int], GoType.Float64, a =>
        {
            double roundOn = a.Length > 2 ? (double)a[2]! : .5;
            double val = Cast.ToFloat64(a[0]);
            double pow = Math.Pow(10, (long)a[1]!);
            double digit = pow * val;
            double frac = digit - Math.Truncate(digit);
            double r = frac >= roundOn ? Math.Ceiling(digit) : Math.Floor(digit);
            return r / pow;
        }));

        // ---- defaults, flow ----
        Add(GoFunc.CreateVariadic("default", [GoType.Any], GoType.Any, a => a.Length < 2 || Empty(a[1]) ? a[0] : a[1]));
        A("empty", v => Empty(v));
        V("coalesce", a => a.FirstOrDefault(x => !Empty(x)));
        V("all", a => a.All(x => !Empty(x)));
        V("any", a => a.Any(x => !Empty(x)));
        m["compact"] = GoFunc.Create("compact", [GoType.Any], a => Cast.MustList(a[0], "compact").Where(x => !Empty(x)).ToList());
        m["mustCompact"] = GoFunc.Create("mustCompact", [GoType.Any], a => Cast.MustList(a[0], "compact").Where(x => !Empty(x)).ToList());
        Add(GoFunc.Create("ternary", [GoType.Any, GoType.Any, GoType.Bool], a => (bool)a[2]! ? a[0] : a[1]));
        A("fromJson", v => GoJson.TryParse(v as string ?? "", out var r) ? r : null);
        A("toJson", v => GoJson.Serialize(v, escapeHtml: true));
        A("toPrettyJson", v => GoJson.Serialize(v, escapeHtml: true, indent: true));
        A("toRawJson", v => GoJson.Serialize(v, escapeHtml: false));
        A("mustToJson", v => GoJson.Serialize(v, escapeHtml: true));
        A("mustToPrettyJson", v => GoJson.Serialize(v, escapeHtml: true, indent: true));
        A("mustToRawJson", v => GoJson.Serialize(v, escapeHtml: false));
        S("mustFromJson", s => GoJson.TryParse(s, out var r) ? r : throw new GoFuncException("invalid character in JSON"));
        m["fail"] = GoFunc.Create("fail", [GoType.String], a => throw new HelmUserError(Diagnostics.ErrorCodes.TemplateFail, (string)a[0]!));

        // ---- encoding ----
        S("b64enc", s => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)));
        S("b64dec", s =>
        {
            try { return Encoding.UTF8.GetString(Convert.FromBase64String(s)); }
            catch (FormatException)
            {
                int bad = s.AsSpan().IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
                return "illegal base64 data at input byte " + (bad < 0 ? Math.Max(s.Length - s.Length % 4, 0) : bad).ToString(CultureInfo.InvariantCulture);
            }
        });
        S("b32enc", s => Base32Encode(Encoding.UTF8.GetBytes(s)));
        S("b32dec", s => Encoding.UTF8.GetString(Base32Decode(s)));

        // ---- lists ----
        V("list", a => new List<object?>(a));
        V("tuple", a => new List<object?>(a));
        foreach (var must in new[] { "", "must" })
        {
            string P(string n) => must.Length == 0 ? n : must + char.ToUpperInvariant(n[0]) + n[1..];
            A(P("first"), v => ListOrNil(v, "find first") is { } l ? (l.Count == 0 ? null : l[0]) : null);
            A(P("last"), v => ListOrNil(v, "find last") is { } l ? (l.Count == 0 ? null : l[^1]) : null);
            A(P("rest"), v => ListOrNil(v, "find rest") is { } l ? (l.Count == 0 ? null : l.GetRange(1, l.Count - 1)) : null);
            A(P("initial"), v => ListOrNil(v, "find initial") is { } l ? (l.Count == 0 ? null : l.GetRange(0, l.Count - 1)) : null);
            Add(GoFunc.Create(P("append"), [GoType.Any, GoType.Any], a => new List<object?>(ListOrEmpty(a[0], "push")) { a[1] }));
            Add(GoFunc.Create(P("push"), [GoType.Any, GoType.Any], a => new List<object?>(ListOrEmpty(a[0], "push")) { a[1] }));
            Add(GoFunc.Create(P("prepend"), [GoType.Any, GoType.Any], a => { var l = new List<object?> { a[1] }; l.AddRange(ListOrEmpty(a[0], "prepend")); return l; }));
            A(P("reverse"), v => { var l = new List<object?>(ListOrEmpty(v, "find reverse")); l.Reverse(); return l; });
            A(P("uniq"), v =>
            {
                var r = new List<object?>();
                foreach (var x in ListOrEmpty(v, "find uniq")) if (!r.Exists(y => GoValues.DeepEqual(x, y))) r.Add(x);
                return r;
            });
            Add(GoFunc.CreateVariadic(P("without"), [GoType.Any], GoType.Any, a =>
            {
                var omit = a.AsSpan(1).ToArray();
                return ListOrEmpty(a[0], "find without").Where(x => !omit.Any(o => GoValues.DeepEqual(x, o))).ToList();
            }));
            Add(GoFunc.Create(P("has"), [GoType.Any, GoType.Any], a => a[1] is null ? false : ListOrEmpty(a[1], "find has").Exists(x => GoValues.DeepEqual(x, a[0]))));
            Add(GoFunc.CreateVariadic(P("slice"), [GoType.Any], GoType.Any, a =>
            {
                var l = a[0] as List<object?> ?? throw new GoFuncException($"list should be type of slice or array but {GoValues.KindName(a[0])}");
                int start = a.Length > 1 ? (int)Cast.ToInt64(a[1]) : 0;
                int end = a.Length > 2 ? (int)Cast.ToInt64(a[2]) : l.Count;
                return l.GetRange(start, end - start);
            }));
            Add(GoFunc.Create(P("chunk"), [GoType.Int, GoType.Any], a =>
            {
                var l = Cast.MustList(a[1], "chunk");
                int size = (int)(long)a[0]!;
                var r = new List<object?>();
                for (int i = 0; i < l.Count; i += size) r.Add(l.GetRange(i, Math.Min(size, l.Count - i)));
                return r;
            }));
            Add(GoFunc.Create(P("deepCopy"), [GoType.Any], a => GoValues.DeepCopy(a[0])));
        }
        V("concat", a =>
        {
            var r = new List<object?>();
            foreach (var x in a) r.AddRange(Cast.MustList(x, "concat"));
            return r;
        });
        V("dig", a =>
        {
            if (a.Length < 3) throw new GoFuncException("dig needs at least three arguments");
            var dict = a[^1] as IDictionary<string, object?> ?? throw new GoFuncException("last argument to dig must be a map");
            object? cur = dict;
            for (int i = 0; i < a.Length - 2; i++)
            {
                var key = a[i] as string ?? throw new GoFuncException("dig keys must be strings");
                if (cur is IDictionary<string, object?> d && d.TryGetValue(key, out var next)) cur = next;
                else return a[^2];
            }
            return cur;
        });

        // ---- dicts ----
        V("dict", a =>
        {
            var d = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (int i = 0; i < a.Length; i += 2) d[Cast.StrVal(a[i])] = i + 1 < a.Length ? a[i + 1] : "";
            return d;
        });
        Add(GoFunc.Create("get", [GoType.Map, GoType.String], a => a[0] is IDictionary<string, object?> d && d.TryGetValue((string)a[1]!, out var v) ? v : ""));
        Add(GoFunc.Create("set", [GoType.Map, GoType.String, GoType.Any], a =>
        {
            var d = (IDictionary<string, object?>?)a[0] ?? throw new GoFuncException("assignment to entry in nil map");
            d[(string)a[1]!] = a[2];
            return d;
        }));
        Add(GoFunc.Create("unset", [GoType.Map, GoType.String], a =>
        {
            var d = (IDictionary<string, object?>?)a[0];
            d?.Remove((string)a[1]!);
            return d;
        }));
        Add(GoFunc.Create("hasKey", [GoType.Map, GoType.String], a => a[0] is IDictionary<string, object?> d && d.ContainsKey((string)a[1]!)));
        Add(GoFunc.CreateVariadic("pluck", [GoType.String], GoType.Map, a =>
        {
            var r = new List<object?>();
            foreach (var x in a.Skip(1)) if (x is IDictionary<string, object?> d && d.TryGetValue((string)a[0]!, out var v)) r.Add(v);
            return r;
        }));
        Add(GoFunc.CreateVariadic("keys", [], GoType.Map, a =>
        {
            var r = new List<object?>();
            foreach (var x in a) if (x is IDictionary<string, object?> d) foreach (var k in GoValues.SortedKeys(d)) r.Add(k);
            return r;
        }));
        Add(GoFunc.Create("values", [GoType.Map], a =>
        {
            var r = new List<object?>();
            if (a[0] is IDictionary<string, object?> d) foreach (var k in GoValues.SortedKeys(d)) r.Add(d[k]);
            return r;
        }));
        Add(GoFunc.CreateVariadic("pick", [GoType.Map], GoType.String, a =>
        {
            var d = a[0] as IDictionary<string, object?>;
            var r = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (d is not null) foreach (var k in a.Skip(1)) if (d.TryGetValue((string)k!, out var v)) r[(string)k!] = v;
            return r;
        }));
        Add(GoFunc.CreateVariadic("omit", [GoType.Map], GoType.String, a =>
        {
            var d = a[0] as IDictionary<string, object?>;
            var r = new Dictionary<string, object?>(StringComparer.Ordinal);
            var omit = new HashSet<string>(a.Skip(1).Select(x => (string)x!), StringComparer.Ordinal);
            if (d is not null) foreach (var (k, v) in d) if (!omit.Contains(k)) r[k] = v;
            return r;
        }));
        foreach (var n in new[] { "merge", "mustMerge" })
            Add(GoFunc.CreateVariadic(n, [GoType.Map], GoType.Map, a => Merge(a, overwrite: false)));
        foreach (var n in new[] { "mergeOverwrite", "mustMergeOverwrite" })
            Add(GoFunc.CreateVariadic(n, [GoType.Map], GoType.Map, a => Merge(a, overwrite: true)));

        // ---- reflection ----
        A("kindOf", GoValues.KindName);
        Add(GoFunc.Create("kindIs", [GoType.String, GoType.Any], a => (string)a[0]! == GoValues.KindName(a[1])));
        A("typeOf", GoValues.TypeName);
        Add(GoFunc.Create("typeIs", [GoType.String, GoType.Any], a => (string)a[0]! == GoValues.TypeName(a[1])));
        Add(GoFunc.Create("typeIsLike", [GoType.String, GoType.Any], a => (string)a[0]! == GoValues.TypeName(a[1]) || (string)a[0]! == "*" + GoValues.TypeName(a[1])));
        Add(GoFunc.Create("deepEqual", [GoType.Any, GoType.Any], a => GoValues.DeepEqual(a[0], a[1])));

        // ---- paths, urls ----
        S("base", PathBase);
        S("dir", PathDir);
        S("ext", s => { var b = s.LastIndexOf('/'); var d = s.LastIndexOf('.'); return d > b ? s[d..] : ""; });
        S("clean", PathClean);
        S("isAbs", s => s.StartsWith('/'));
        S("osBase", PathBase);
        S("osDir", PathDir);
        S("osExt", s => { var b = s.LastIndexOf('/'); var d = s.LastIndexOf('.'); return d > b ? s[d..] : ""; });
        S("osClean", PathClean);
        S("osIsAbs", s => s.StartsWith('/'));
        S("urlParse", UrlParse);
        Add(GoFunc.Create("urlJoin", [GoType.Map], a => UrlJoin((IDictionary<string, object?>?)a[0])));
        S("getHostByName", _ => throw new GoFuncException("getHostByName is not available: lite builds never use the network"));

        // ---- crypto, uuid, semver, dates ----
        Add(GoFunc.Create("uuidv4", [], _ => Uuid(rng, rngLock)));
        SprigCrypto.Register(m, rng, rngLock, env.ReuseKeys);
        SprigSemver.Register(m);
        SprigDates.Register(m, env);
        return m;
    }

    private static readonly char[] GoWhitespace = [' ', '\t', '\n', '\v', '\f', '\r', '\u0085', '\u00a0'];

    internal static bool Empty(object? v) => v switch
    {
        null => true,
        string s => s.Length == 0,
        bool b => !b,
        long l => l == 0,
        int i => i == 0,
        double d => d == 0,
        byte b => b == 0,
        IDictionary<string, object?> m => m.Count == 0,
        List<object?> l => l.Count == 0,
        byte[] b => b.Length == 0,
        _ => ReferenceEquals(v, GoValues.NoValue),
    };

    private static List<object?>? ListOrNil(object? v, string what) => v switch
    {
        List<object?> l => l,
        null => throw new GoFuncException($"Cannot {what} on type <nil>"),
        _ => throw new GoFuncException($"Cannot {what} on type {GoValues.TypeName(v)}"),
    };

    private static List<object?> ListOrEmpty(object? v, string what) => v switch
    {
        List<object?> l => l,
        _ => throw new GoFuncException($"Cannot {what} on type {GoValues.TypeName(v)}"),
    };

    private static object? Merge(object?[] a, bool overwrite)
    {
        var dst = a[0] as IDictionary<string, object?> ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var src in a.Skip(1))
        {
            if (src is IDictionary<string, object?> s) MergeInto(dst, s, overwrite);
        }
        return dst;
    }

    // mergo.Merge semantics: fill empty destination values; with overwrite, non-empty source values replace.
    private static void MergeInto(IDictionary<string, object?> dst, IDictionary<string, object?> src, bool overwrite)
    {
        foreach (var (k, sv) in src)
        {
            if (dst.TryGetValue(k, out var dv))
            {
                if (dv is IDictionary<string, object?> dm && sv is IDictionary<string, object?> sm)
                {
                    MergeInto(dm, sm, overwrite);
                    continue;
                }
                if (overwrite ? sv is not null : Empty(dv) && dv is null) dst[k] = sv;
                else if (!overwrite && Empty(dv) && dv is not IDictionary<string, object?> && dv is not List<object?>) dst[k] = sv;
            }
            else
            {
                dst[k] = sv;
            }
        }
    }

    private static double DecimalFold(object?[] a, decimal seed, Func<decimal, decimal, decimal> op, bool seedFromFirst)
    {
        decimal acc = seed;
        int start = 0;
        if (seedFromFirst && a.Length > 0)
        {
            acc = ToDecimal(Cast.ToFloat64(a[0]));
            start = 1;
        }
        for (int i = start; i < a.Length; i++) acc = op(acc, ToDecimal(Cast.ToFloat64(a[i])));
        return (double)acc;
    }

    /// <summary>
    /// Like shopspring/decimal's NewFromFloat: the exact shortest decimal of the double. A plain (decimal) cast keeps only
    /// 15 significant digits (2^51 would print 2.25179981368524e+15 instead of Go's 2.251799813685248e+15).
    /// </summary>
    private static decimal ToDecimal(double d)
        => decimal.Parse(d.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevSep = true;
        foreach (char c in s)
        {
            sb.Append(prevSep ? char.ToUpperInvariant(c) : c);
            prevSep = IsSeparator(c);
        }
        return sb.ToString();
    }

    private static bool IsSeparator(char c)
    {
        if (c <= 0x7f)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_') return false;
            return true;
        }
        if (char.IsLetterOrDigit(c)) return false;
        return char.IsWhiteSpace(c);
    }

    private static string Untitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevSpace = true;
        foreach (char c in s)
        {
            sb.Append(prevSpace ? char.ToLowerInvariant(c) : c);
            prevSpace = char.IsWhiteSpace(c);
        }
        return sb.ToString();
    }

    private static string Substr(long start, long end, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (start < 0) return Encoding.UTF8.GetString(b, 0, (int)Math.Min(end, b.Length));
        if (end < 0 || end > b.Length) return Encoding.UTF8.GetString(b, (int)start, b.Length - (int)start);
        return Encoding.UTF8.GetString(b, (int)start, (int)(end - start));
    }

    private static string Indent(int spaces, string v)
    {
        var pad = new string(' ', Math.Max(spaces, 0));
        return pad + v.Replace("\n", "\n" + pad, StringComparison.Ordinal);
    }

    private static string Replace(string src, string old, string @new)
    {
        if (old.Length == 0)
        {
            // Go's strings.Replace with empty old inserts at every rune boundary.
            var sb = new StringBuilder();
            sb.Append(@new);
            foreach (char c in src) { sb.Append(c); if (!char.IsHighSurrogate(c)) sb.Append(@new); }
            return sb.ToString();
        }
        return src.Replace(old, @new, StringComparison.Ordinal);
    }

    internal static List<string> GoSplit(string s, string sep, int n)
    {
        if (n == 0) return [];
        if (sep.Length == 0)
        {
            var r = new List<string>();
            for (int i = 0; i < s.Length; i++)
            {
                if (n > 0 && r.Count == n - 1) { r.Add(s[i..]); return r; }
                r.Add(s[i].ToString());
            }
            return r;
        }
        var parts = new List<string>();
        int start = 0;
        while (n < 0 || parts.Count < n - 1)
        {
            int idx = s.IndexOf(sep, start, StringComparison.Ordinal);
            if (idx < 0) break;
            parts.Add(s[start..idx]);
            start = idx + sep.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    private static string Seq(long[] p)
    {
        long start = 1, end, step = 1;
        switch (p.Length)
        {
            case 0: return "";
            case 1: end = p[0]; break;
            case 2: start = p[0]; end = p[1]; step = start <= end ? 1 : -1; break;
            case 3: start = p[0]; step = p[1]; end = p[2]; if (end < start && step > 0 || end > start && step < 0 || step == 0) return ""; break;
            default: return "";
        }
        if (p.Length == 1)
        {
            if (end < 1) { start = 1; step = -1; if (end > 1) return ""; }
        }
        var sb = new StringBuilder();
        if (step > 0) for (long i = start; i <= end; i += step) sb.Append(sb.Length > 0 ? " " : "").Append(i);
        else for (long i = start; i >= end; i += step) sb.Append(sb.Length > 0 ? " " : "").Append(i);
        return sb.ToString();
    }

    private static List<object?> UntilStep(long start, long stop, long step)
    {
        var v = new List<object?>();
        if (step == 0) return v;
        if (stop < start)
        {
            if (step >= 0) return v;
            for (long i = start; i > stop; i += step) v.Add(i);
            return v;
        }
        if (step <= 0) return v;
        for (long i = start; i < stop; i += step) v.Add(i);
        return v;
    }

    private static string Abbrev(string s, int offset, int maxWidth)
    {
        if (s.Length == 0) return s;
        if (maxWidth < 4) return "";
        if (s.Length <= maxWidth) return s;
        if (offset > s.Length) offset = s.Length;
        if (s.Length - offset < maxWidth - 3) offset = s.Length - (maxWidth - 3);
        if (offset <= 4) return s[..(maxWidth - 3)] + "...";
        if (maxWidth < 7) return "";
        if (offset + maxWidth - 3 < s.Length) return "..." + Abbrev(s[offset..], 0, maxWidth - 3);
        return "..." + s[(s.Length - (maxWidth - 3))..];
    }

    private static string Wrap(string str, int wrapLength, string newLine, bool wrapLong)
    {
        if (wrapLength < 1) wrapLength = 1;
        int inputLineLength = str.Length;
        int offset = 0;
        var sb = new StringBuilder(inputLineLength + 32);
        while (inputLineLength - offset > wrapLength)
        {
            if (str[offset] == ' ') { offset++; continue; }
            int end = wrapLength + offset + 1;
            int spaceToWrapAt = str.LastIndexOf(' ', Math.Min(end, str.Length) - 1, Math.Min(end, str.Length) - offset);
            if (spaceToWrapAt >= offset)
            {
                sb.Append(str, offset, spaceToWrapAt - offset).Append(newLine);
                offset = spaceToWrapAt + 1;
            }
            else if (wrapLong)
            {
                sb.Append(str, offset, wrapLength).Append(newLine);
                offset += wrapLength;
            }
            else
            {
                int idx = str.IndexOf(' ', wrapLength + offset);
                if (idx >= 0)
                {
                    sb.Append(str, offset, idx - offset).Append(newLine);
                    offset = idx + 1;
                }
                else
                {
                    sb.Append(str, offset, str.Length - offset);
                    offset = inputLineLength;
                }
            }
        }
        sb.Append(str, offset, str.Length - offset);
        return sb.ToString();
    }

    private static List<string> Words(string s)
    {
        // xstrings-style word split: separators are non letters/digits; case changes start words.
        var words = new List<string>();
        var cur = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (!char.IsLetterOrDigit(c))
            {
                if (cur.Length > 0) { words.Add(cur.ToString()); cur.Clear(); }
                continue;
            }
            if (cur.Length > 0 && char.IsUpper(c))
            {
                char prev = s[i - 1];
                bool nextLower = i + 1 < s.Length && char.IsLower(s[i + 1]);
                if (char.IsLower(prev) || char.IsDigit(prev) || (char.IsUpper(prev) && nextLower))
                {
                    words.Add(cur.ToString());
                    cur.Clear();
                }
            }
            cur.Append(c);
        }
        if (cur.Length > 0) words.Add(cur.ToString());
        return words;
    }

    private static string Delimited(string s, char sep) => string.Join(sep, Words(s).Select(w => w.ToLowerInvariant()));

    private static string Camel(string s)
    {
        // xstrings.ToCamelCase: split on '_' (and spaces), capitalise each part.
        var sb = new StringBuilder();
        foreach (var part in s.Split('_'))
        {
            if (part.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(part[0])).Append(part, 1, part.Length - 1);
        }
        return sb.ToString();
    }

    private static string GoPattern(string r) => r.Contains("(?P<", StringComparison.Ordinal) ? r.Replace("(?P<", "(?<", StringComparison.Ordinal) : r;

    private static Regex? TryRegex(string r)
    {
        try { return new Regex(GoPattern(r), RegexOptions.CultureInvariant); }
        catch (ArgumentException) { return null; }
    }

    private static Regex MustRegex(string r)
    {
        try { return new Regex(GoPattern(r), RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new GoFuncException($"error parsing regexp: {e.Message}"); }
    }

    private static List<object?> FindAll(Regex? re, string s, long n)
    {
        var r = new List<object?>();
        if (re is null) return r;
        foreach (Match mt in re.Matches(s))
        {
            if (n >= 0 && r.Count >= n) break;
            r.Add(mt.Value);
        }
        return r;
    }

    private static List<object?> RegexSplit(Regex? re, string s, long n)
    {
        if (re is null || n == 0) return [];
        var parts = new List<object?>();
        int beg = 0;
        foreach (Match mt in re.Matches(s))
        {
            if (n > 0 && parts.Count == n - 1) break;
            if (mt.Length == 0 && mt.Index == 0) continue;
            parts.Add(s[beg..mt.Index]);
            beg = mt.Index + mt.Length;
        }
        parts.Add(s[beg..]);
        return parts;
    }

    private static string GoReplacement(Regex re, string repl)
    {
        var names = new HashSet<string>(re.GetGroupNames(), StringComparer.Ordinal);
        // Go: $name / ${name} where name is [A-Za-z0-9_]+ ; .NET: same, but a bare $1x means group "1x" in Go.
        var sb = new StringBuilder();
        for (int i = 0; i < repl.Length; i++)
        {
            char c = repl[i];
            if (c != '$') { sb.Append(c); continue; }
            if (i + 1 < repl.Length && repl[i + 1] == '$') { sb.Append("$$"); i++; continue; }
            if (i + 1 < repl.Length && repl[i + 1] == '{')
            {
                int close = repl.IndexOf('}', i);
                if (close > 0)
                {
                    var n = repl[(i + 2)..close];
                    if (names.Contains(n)) sb.Append("${").Append(n).Append('}');
                    i = close;
                    continue;
                }
                sb.Append("$$");
                continue;
            }
            int j = i + 1;
            while (j < repl.Length && (char.IsAsciiLetterOrDigit(repl[j]) || repl[j] == '_')) j++;
            if (j == i + 1) { sb.Append("$$"); continue; }
            var name = repl[(i + 1)..j];
            if (names.Contains(name)) sb.Append("${").Append(name).Append('}');
            i = j - 1;
        }
        return sb.ToString();
    }

    private static string QuoteMeta(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            if (@"\.+*?()|[]{}^$".Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string PathBase(string p)
    {
        if (p.Length == 0) return ".";
        p = p.TrimEnd('/');
        if (p.Length == 0) return "/";
        int i = p.LastIndexOf('/');
        return i >= 0 ? p[(i + 1)..] : p;
    }

    private static string PathDir(string p)
    {
        int i = p.LastIndexOf('/');
        return PathClean(p[..(i + 1)]);
    }

    internal static string PathClean(string p)
    {
        if (p.Length == 0) return ".";
        bool rooted = p[0] == '/';
        var parts = new List<string>();
        foreach (var seg in p.Split('/'))
        {
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!rooted) parts.Add("..");
                continue;
            }
            parts.Add(seg);
        }
        var r = (rooted ? "/" : "") + string.Join('/', parts);
        return r.Length == 0 ? "." : r;
    }

    private static Dictionary<string, object?> UrlParse(string s)
    {
        if (!Uri.TryCreate(s, UriKind.Absolute, out var u)) throw new GoFuncException($"unable to parse url: {s}");
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["scheme"] = u.Scheme,
            ["host"] = u.IsDefaultPort && !s.Contains(":" + u.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) ? u.Host : u.Authority,
            ["hostname"] = u.Host,
            ["path"] = u.AbsolutePath == "/" && !s.EndsWith('/') && !s[(s.IndexOf("//", StringComparison.Ordinal) + 2)..].Contains('/') ? "" : Uri.UnescapeDataString(u.AbsolutePath),
            ["query"] = u.Query.TrimStart('?'),
            ["opaque"] = "",
            ["fragment"] = Uri.UnescapeDataString(u.Fragment.TrimStart('#')),
            ["userinfo"] = u.UserInfo,
        };
    }

    private static string UrlJoin(IDictionary<string, object?>? d)
    {
        string G(string k) => d is not null && d.TryGetValue(k, out var v) && v is string s ? s : "";
        var sb = new StringBuilder();
        if (G("scheme").Length > 0) sb.Append(G("scheme")).Append(':');
        if (G("host").Length > 0 || G("userinfo").Length > 0)
        {
            sb.Append("//");
            if (G("userinfo").Length > 0) sb.Append(G("userinfo")).Append('@');
            sb.Append(G("host"));
        }
        sb.Append(G("path"));
        if (G("query").Length > 0) sb.Append('?').Append(G("query"));
        if (G("fragment").Length > 0) sb.Append('#').Append(G("fragment"));
        return sb.ToString();
    }

    internal static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    private static uint Adler32(byte[] data)
    {
        uint a = 1, b = 0;
        foreach (var x in data)
        {
            a = (a + x) % 65521;
            b = (b + a) % 65521;
        }
        return (b << 16) | a;
    }

    private const string Alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Alnum = Alpha + "0123456789";
    private static readonly string Ascii = new(Enumerable.Range(32, 95).Select(i => (char)i).ToArray());

    /// <summary>The random source of the render running on this thread (HelmEngine seeds one per render, so output does not depend on render order).</summary>
    [ThreadStatic]
    internal static Random? RenderRandom;

    internal static double RandDouble(Random? rng, object gate)
    {
        if (RenderRandom is { } rr) return rr.NextDouble();
        if (rng is null) return RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue;
        lock (gate) return rng.NextDouble();
    }

    internal static byte[] RandBytes(Random? rng, object gate, int n)
    {
        var b = new byte[Math.Max(n, 0)];
        if (RenderRandom is { } rr) rr.NextBytes(b);
        else if (rng is null) RandomNumberGenerator.Fill(b);
        else lock (gate) rng.NextBytes(b);
        return b;
    }

    private static string RandString(Random? rng, object gate, int count, string chars)
    {
        if (count < 0) throw new GoFuncException("randomstring: count must be non-negative");
        var sb = new StringBuilder(count);
        for (int i = 0; i < count; i++)
        {
            int idx = rng is null && RenderRandom is null ? RandomNumberGenerator.GetInt32(chars.Length) : (int)(RandDouble(rng, gate) * chars.Length) % chars.Length;
            sb.Append(chars[idx]);
        }
        return sb.ToString();
    }

    private static string Uuid(Random? rng, object gate)
    {
        var b = RandBytes(rng, gate, 16);
        b[6] = (byte)((b[6] & 0x0f) | 0x40);
        b[8] = (byte)((b[8] & 0x3f) | 0x80);
        var h = Convert.ToHexStringLower(b);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
    }

    private static string Base32Encode(byte[] data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var sb = new StringBuilder();
        for (int i = 0; i < data.Length; i += 5)
        {
            int n = Math.Min(5, data.Length - i);
            ulong buf = 0;
            for (int k = 0; k < 5; k++) buf = (buf << 8) | (k < n ? data[i + k] : 0u);
            int chars = (n * 8 + 4) / 5;
            for (int k = 0; k < 8; k++) sb.Append(k < chars ? alphabet[(int)((buf >> (35 - 5 * k)) & 31)] : '=');
        }
        return sb.ToString();
    }

    private static byte[] Base32Decode(string s)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        s = s.TrimEnd('=');
        var r = new List<byte>();
        int buf = 0, bits = 0;
        foreach (char c in s)
        {
            int v = alphabet.IndexOf(c);
            if (v < 0) throw new GoFuncException("illegal base32 data");
            buf = (buf << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                r.Add((byte)(buf >> (bits - 8)));
                bits -= 8;
            }
        }
        return r.ToArray();
    }
}
