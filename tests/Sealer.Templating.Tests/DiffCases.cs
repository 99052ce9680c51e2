namespace Sealer.Templating.Tests;

public sealed record Case(string Name, string Template, string Values = "");

public sealed record ErrorCase(string Name, string Template, string Values = "", string? ExpectInMessage = null);

/// <summary>The differential table: each case is rendered by helm 3, helm 4 and our engine.</summary>
public static class DiffCases
{
    public const string Helpers = """
{{- define "diff.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "diff.labels" -}}
app: {{ include "diff.name" . }}
release: {{ .Release.Name }}
{{- end }}
{{- define "diff.rec" -}}
{{- if gt (int .) 0 }}{{ . }},{{ include "diff.rec" (sub (int .) 1) }}{{ end }}
{{- end }}
{{- define "diff.tplval" -}}in-define {{ .Values.x }}{{- end }}
""";

    public static readonly (string Path, string Text)[] ExtraFiles =
    [
        ("files/a.txt", "alpha\nbeta\n"),
        ("files/b.conf", "key=value"),
        ("config/app.yaml", "x: 1\n"),
    ];

    public static readonly Case[] All =
    [
        // ---- text, trim, comments ----
        new("text", "hello world"),
        new("trim-left", "a   {{- \"b\" }}"),
        new("trim-right", "{{ \"a\" -}}   \n  b"),
        new("trim-both", "x \n {{- 1 -}} \n y"),
        new("comment", "a{{/* hi */}}b"),
        new("comment-trim", "a  {{- /* hi */ -}}  b"),
        new("newline-in-action", "{{ print\n  \"a\"\n  \"b\" }}"),
        new("raw-string", "{{ `a\\nb` }}"),
        new("escapes", "{{ \"a\\tb\\u00e9\\x41\" }}"),
        new("char-const", "{{ 'a' }} {{ printf \"%c\" 'b' }}"),
        // ---- values and numbers ----
        new("int-value", "{{ .Values.port }}", "port: 8080"),
        new("big-value", "{{ .Values.num }}", "num: 1000000"),
        new("float-value", "{{ .Values.f }} {{ .Values.g }} {{ .Values.h }}", "f: 3.5\ng: 0.000012\nh: 123456789"),
        new("neg-and-exp", "{{ .Values.a }} {{ .Values.b }}", "a: -2\nb: 1e3"),
        new("string-number", "{{ .Values.s }}", "s: \"08\""),
        new("bool-value", "{{ .Values.b }} {{ .Values.c }}", "b: true\nc: no"),
        new("missing", "[{{ .Values.nothere }}]"),
        new("missing-nested-with", "[{{ with .Values.a }}{{ .b }}{{ end }}]"),
        new("map-print", "{{ .Values.m }}", "m:\n  b: 2\n  a: x\n  c: [1, 2]"),
        new("list-print", "{{ .Values.l }}", "l: [a, 1, true, 2.5]"),
        new("nested-list-map", "{{ .Values.l }}", "l:\n- a: 1\n- [x, y]"),
        new("empty-map-list", "{{ .Values.m }} {{ .Values.l }}", "m: {}\nl: []"),
        new("const-numbers", "{{ 3 }} {{ 3.0 }} {{ 1e6 }} {{ 0x1F }} {{ -7 }} {{ 1.5e-7 }}"),
        new("int-float-consts", "{{ 100000 }} {{ 1000000.0 }} {{ 0.1 }} {{ 2.50 }}"),
        // ---- variables ----
        new("var-decl", "{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}"),
        new("var-scope-if", "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}"),
        new("var-root", "{{ with .Values.a }}{{ $.Values.b }}{{ end }}", "a: 1\nb: root"),
        new("var-field", "{{ $m := .Values.m }}{{ $m.k }}", "m: {k: v}"),
        new("var-range-scope", "{{ $x := 0 }}{{ range .Values.l }}{{ $x = . }}{{ end }}{{ $x }}", "l: [1, 2, 3]"),
        // ---- if / with / else ----
        new("if-else", "{{ if .Values.a }}yes{{ else }}no{{ end }}", "a: \"\""),
        new("if-elseif", "{{ if eq .Values.num 1.0 }}one{{ else if eq .Values.num 2.0 }}two{{ else }}many{{ end }}", "num: 2"),
        new("if-truthiness", "{{ if .Values.z }}a{{ end }}{{ if .Values.e }}b{{ end }}{{ if .Values.l }}c{{ end }}{{ if .Values.m }}d{{ end }}{{ if .Values.s }}e{{ end }}", "z: 0\ne: \"\"\nl: []\nm: {}\ns: x"),
        new("with-else", "{{ with .Values.x }}{{ . }}{{ else }}none{{ end }}"),
        new("with-elsewith", "{{ with .Values.x }}x{{ else with .Values.yy }}y={{ . }}{{ end }}", "yy: 5"),
        new("and-or", "{{ and 1 0 }} {{ and 1 2 }} {{ or 0 \"\" }} {{ or 0 3 }} {{ and .Values.a .Values.b }}", "a: x\nb: y"),
        new("and-shortcircuit", "{{ if and .Values.m .Values.m.k }}k{{ else }}none{{ end }}"),
        new("not", "{{ not true }} {{ not 0 }} {{ not .Values.x }}"),
        // ---- range ----
        new("range-list", "{{ range .Values.l }}[{{ . }}]{{ end }}", "l: [a, b, c]"),
        new("range-index", "{{ range $i, $e := .Values.l }}{{ $i }}={{ $e }};{{ end }}", "l: [a, b]"),
        new("range-map-sorted", "{{ range $k, $v := .Values.m }}{{ $k }}:{{ $v }} {{ end }}", "m: {zeta: 1, alpha: 2, Mid: 3, \"10\": 4, \"9\": 5}"),
        new("range-else", "{{ range .Values.l }}x{{ else }}empty{{ end }}", "l: []"),
        new("range-missing", "{{ range .Values.nope }}x{{ else }}none{{ end }}"),
        new("range-break-continue", "{{ range .Values.l }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 4.0 }}{{ break }}{{ end }}{{ . }}{{ end }}", "l: [1, 2, 3, 4, 5]"),
        new("range-one-var", "{{ range $e := .Values.l }}{{ $e }}{{ end }}", "l: [x, y]"),
        new("range-until", "{{ range until 3 }}{{ . }}{{ end }}"),
        new("range-dot-root", "{{ range .Values.l }}{{ $.Release.Name }}-{{ . }} {{ end }}", "l: [a]"),
        // ---- comparisons ----
        new("eq-multi", "{{ eq .Values.s \"a\" \"b\" \"c\" }}", "s: c"),
        new("eq-nil", "{{ eq .Values.missing \"x\" }}"),
        new("ne-lt", "{{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }}"),
        new("eq-floats", "{{ eq .Values.a .Values.b }} {{ lt .Values.a 3.0 }}", "a: 2\nb: 2.0"),
        new("eq-strings-bools", "{{ eq true true }} {{ eq \"a\" \"a\" }} {{ ne \"a\" \"b\" }}"),
        // ---- builtins ----
        new("len", "{{ len .Values.l }} {{ len .Values.m }} {{ len \"héllo\" }}", "l: [1,2]\nm: {a: 1}"),
        new("index", "{{ index .Values.l 1 }} {{ index .Values.m \"k\" }} {{ index .Values.num \"a\" \"b\" }} [{{ index .Values.m \"nope\" }}]", "l: [x, y]\nm: {k: v}\nnum: {a: {b: deep}}"),
        new("index-string", "{{ index \"abc\" 1 }}"),
        new("slice", "{{ slice .Values.l 1 }} {{ slice .Values.l 0 1 }}", "l: [a, b, c]"),
        new("print", "{{ print 1 2 \"a\" \"b\" 3 }} {{ print .Values.m }}", "m: {a: 1}"),
        new("println", "{{ println 1 \"a\" }}"),
        new("html-js-urlquery", "{{ html \"<a href='x'>&</a>\" }} {{ js \"it's \\\"q\\\" <x>\" }} {{ urlquery \"a b&c=d\" }}"),
        new("parens", "{{ (print \"a\" \"b\") }} {{ len (list 1 2 3) }}"),
        new("chain", "{{ (dict \"a\" (dict \"b\" \"c\")).a.b }}"),
        new("pipe-multi", "{{ \"abc\" | upper | printf \"%s-%s\" \"x\" }}"),
        // ---- printf ----
        new("printf-basic", "{{ printf \"%s|%d|%v|%q|%t\" \"s\" 42 .Values.f \"q\" true }}", "f: 1.5"),
        new("printf-width", "[{{ printf \"%5s|%-5s|%05d|%x|%X|%o|%b\" \"a\" \"b\" 42 255 255 8 5 }}]"),
        new("printf-floats", "{{ printf \"%f %.2f %e %g %G %.3g %8.3f\" 3.14159 3.14159 1234.5678 0.000012345 1e21 3.14159 2.5 }}"),
        new("printf-float-values", "{{ printf \"%v %v %v\" .Values.a .Values.b .Values.c }}", "a: 8080\nb: 1000000\nc: 0.1"),
        new("printf-badverb", "{{ printf \"%d %s\" \"str\" 5 }}"),
        new("printf-float-d", "{{ printf \"%d\" .Values.port }}", "port: 80"),
        new("printf-missing-extra", "{{ printf \"%s %s\" \"a\" }} {{ printf \"%s\" \"a\" \"b\" }}"),
        new("printf-nil", "{{ printf \"%v %s %d\" .Values.x .Values.x .Values.x }}"),
        new("printf-maps", "{{ printf \"%v\" .Values.m }} {{ printf \"%s\" .Values.l }} {{ printf \"%d\" .Values.l }}", "m: {b: [1], a: x}\nl: [1, 2]"),
        new("printf-T", "{{ printf \"%T %T %T %T %T %T\" 1 1.5 \"s\" true .Values.m .Values.l }}", "m: {}\nl: []"),
        new("printf-plus-sharp", "{{ printf \"%+d %+.1f %#x %#o %#v %+v\" 5 2.0 255 8 \"s\" .Values.m }}", "m: {a: 1}"),
        new("printf-percent", "{{ printf \"100%% %c %U\" 65 0x1F600 }}"),
        new("printf-q-int", "{{ printf \"%q %x\" 65 \"hi\" }}"),
        // ---- sprig strings ----
        new("upper-lower-title", "{{ upper \"abc\" }} {{ lower \"ABC\" }} {{ title \"hello wORLD-foo_bar\" }} {{ untitle \"Hello World\" }}"),
        new("trim-family", "[{{ trim \"  a b  \" }}][{{ trimAll \"$\" \"$$a$$\" }}][{{ trimPrefix \"-\" \"-a-\" }}][{{ trimSuffix \"-\" \"-a-\" }}]"),
        new("substr-trunc", "{{ substr 1 3 \"hello\" }} {{ trunc 3 \"hello\" }} {{ trunc -2 \"hello\" }} {{ trunc 10 \"hi\" }}"),
        new("repeat-nospace", "{{ repeat 3 \"ab\" }} {{ nospace \"a b\\tc\" }}"),
        new("abbrev-initials", "{{ abbrev 5 \"hello world\" }} {{ initials \"foo bar baz\" }} {{ abbrevboth 5 10 \"1234 5678 9123\" }}"),
        new("contains-prefix", "{{ contains \"ll\" \"hello\" }} {{ hasPrefix \"he\" \"hello\" }} {{ hasSuffix \"lo\" \"hello\" }}"),
        new("quote-squote", "{{ quote \"a\" 1 .Values.missing }} {{ squote \"b\" }} {{ .Values.num | quote }} {{ quote \"a\\\"b\\n\" }}", "num: 5"),
        new("cat", "{{ cat \"a\" 1 .Values.missing \"b\" }}"),
        new("indent-nindent", "x:{{ \"a\\nb\" | nindent 2 }}\nyy: {{ \"c\\nd\" | indent 4 }}"),
        new("replace", "{{ replace \"a\" \"b\" \"banana\" }} {{ \"x.y.z\" | replace \".\" \"-\" }}"),
        new("plural", "{{ plural \"one\" \"many\" 1 }} {{ plural \"one\" \"many\" 2 }}"),
        new("case-conversions", "{{ snakecase \"FirstName\" }} {{ camelcase \"http_server\" }} {{ kebabcase \"FirstName\" }} {{ swapcase \"Hello World\" }}"),
        new("wrap", "{{ wrap 10 \"the quick brown fox jumps over\" }}|{{ wrapWith 5 \"\\t\" \"Hello World\" }}"),
        new("split-join", "{{ $p := split \"$\" \"foo$bar$baz\" }}{{ $p._0 }} {{ $p._2 }} {{ splitList \",\" \"a,b,c\" }} {{ join \"-\" (list \"x\" \"y\" 1) }}"),
        new("splitn", "{{ $p := splitn \"$\" 2 \"foo$bar$baz\" }}{{ $p._0 }}|{{ $p._1 }}"),
        new("sortAlpha", "{{ sortAlpha (list \"b\" \"a\" \"C\") }} {{ keys .Values.m | sortAlpha }}", "m: {z: 1, a: 2}"),
        new("toString-toStrings", "{{ toString 5 }} {{ toString .Values.f }} {{ toStrings (list 1 \"a\" 2.5) }}", "f: 1.5"),
        new("atoi-int", "{{ atoi \"42\" }} {{ int \"12\" }} {{ int .Values.f }} {{ int64 \"7\" }} {{ float64 \"1.5\" }} {{ int .Values.s }}", "f: 3.9\ns: \"08\""),
        new("seq", "{{ seq 3 }}|{{ seq 2 5 }}|{{ seq 0 2 10 }}|{{ seq 5 1 }}"),
        new("until-step", "{{ until 3 }} {{ untilStep 0 10 3 }}"),
        new("regex", "{{ regexMatch \"^a.c$\" \"abc\" }} {{ regexFind \"[0-9]+\" \"ab123cd45\" }} {{ regexFindAll \"[0-9]\" \"a1b2c3\" -1 }} {{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\" }} {{ regexReplaceAllLiteral \"a(x*)b\" \"-ab-axxb-\" \"${1}\" }} {{ regexSplit \"z+\" \"pizza\" -1 }} {{ regexQuoteMeta \"1.2+3\" }}"),
        new("b64-hash", "{{ b64enc \"hello\" }} {{ b64dec \"aGVsbG8=\" }} {{ b32enc \"hi\" }} {{ sha256sum \"abc\" }} {{ sha1sum \"abc\" }} {{ adler32sum \"abc\" }}"),
        // ---- math ----
        new("math-int", "{{ add 1 2 3 }} {{ add1 5 }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }} {{ max 1 5 3 }} {{ min 4 2 8 }}"),
        new("math-values", "{{ add .Values.a 1 }} {{ mul .Values.a .Values.b }} {{ div .Values.a 4 }}", "a: 10\nb: 2.5"),
        new("math-float", "{{ addf 1.5 2 }} {{ subf 5 1.25 }} {{ mulf 1.5 2 }} {{ divf 10 4 }} {{ maxf 1 2.5 }} {{ minf 1 2.5 }}"),
        new("floor-ceil-round", "{{ floor 1.7 }} {{ ceil 1.2 }} {{ round 3.14159 2 }} {{ round 2.5 0 }}"),
        // ---- lists ----
        new("list-funcs", "{{ $l := list 1 2 3 }}{{ first $l }} {{ last $l }} {{ rest $l }} {{ initial $l }} {{ reverse $l }}"),
        new("append-prepend-concat", "{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ concat (list 1) (list 2 3) }}"),
        new("uniq-without-has", "{{ uniq (list 1 1 2 \"a\" \"a\") }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ has \"x\" (list 1) }}"),
        new("compact-chunk", "{{ compact (list 1 \"\" 0 \"a\" false) }} {{ chunk 2 (list 1 2 3 4 5) }}"),
        new("slice-sprig", "{{ slice (list 1 2 3 4) 1 3 }}"),
        new("first-empty", "[{{ first (list) }}]"),
        new("list-values", "{{ first .Values.l }} {{ last .Values.l }} {{ has \"b\" .Values.l }}", "l: [a, b]"),
        // ---- dicts ----
        new("dict-get-set", "{{ $d := dict \"a\" 1 \"b\" \"x\" }}{{ get $d \"b\" }} {{ $_ := set $d \"c\" 3 }}{{ $d }} {{ hasKey $d \"a\" }} {{ unset $d \"a\" }}"),
        new("dict-odd", "{{ dict \"a\" 1 \"b\" }}"),
        new("get-missing", "[{{ get (dict) \"x\" }}]"),
        new("pluck-pick-omit", "{{ pluck \"a\" (dict \"a\" 1) (dict \"a\" 2) (dict \"b\" 3) }} {{ pick (dict \"a\" 1 \"b\" 2 \"c\" 3) \"a\" \"c\" }} {{ omit (dict \"a\" 1 \"b\" 2) \"a\" }}"),
        new("keys-values", "{{ keys (dict \"b\" 1 \"a\" 2) | sortAlpha }} {{ values (dict \"a\" 1) }}"),
        new("merge", "{{ $d := merge (dict \"a\" 1 \"n\" (dict \"x\" 1)) (dict \"a\" 2 \"b\" 3 \"n\" (dict \"y\" 2)) }}{{ toJson $d }}"),
        new("mergeOverwrite", "{{ $d := mergeOverwrite (dict \"a\" 1 \"n\" (dict \"x\" 1)) (dict \"a\" 2 \"b\" 3 \"n\" (dict \"x\" 5)) }}{{ toJson $d }}"),
        new("merge-values", "{{ toJson (merge (dict) .Values.over .Values.base) }}", "base: {a: 1, b: {c: 2}}\nover: {b: {d: 3}}"),
        new("deepCopy", "{{ $a := dict \"x\" (list 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b \"y\" 2 }}{{ $a }} {{ $b }}"),
        new("dig", "{{ dig \"a\" \"b\" \"def\" .Values.m }} {{ dig \"a\" \"z\" \"def\" .Values.m }}", "m: {a: {b: found}}"),
        // ---- defaults, flow ----
        new("default", "{{ default \"d\" .Values.x }} {{ default \"d\" \"\" }} {{ default \"d\" \"v\" }} {{ default 5 0 }} {{ .Values.yy | default \"dd\" }}"),
        new("empty", "{{ empty \"\" }} {{ empty 0 }} {{ empty .Values.x }} {{ empty (list) }} {{ empty \"a\" }} {{ empty false }}"),
        new("coalesce", "{{ coalesce .Values.a \"\" \"c\" }} {{ coalesce 0 1 }}"),
        new("ternary", "{{ ternary \"y\" \"n\" true }} {{ true | ternary \"y\" \"n\" }} {{ ternary 1 2 false }}"),
        new("all-any", "{{ all 1 \"a\" true }} {{ all 1 \"\" }} {{ any 0 \"\" \"x\" }} {{ any 0 false }}"),
        // ---- types ----
        new("kind-type", "{{ kindOf .Values.s }} {{ kindOf .Values.num }} {{ kindOf .Values.m }} {{ kindOf .Values.l }} {{ kindOf true }} {{ typeOf .Values.num }} {{ typeOf .Values.m }}", "s: x\nnum: 1\nm: {}\nl: []"),
        new("kindIs-typeIs", "{{ kindIs \"map\" .Values.m }} {{ kindIs \"string\" 1 }} {{ typeIs \"float64\" .Values.num }}", "m: {}\nnum: 2"),
        new("deepEqual", "{{ deepEqual (list 1 2) (list 1 2) }} {{ deepEqual (dict \"a\" 1) (dict \"a\" 2) }}"),
        // ---- paths, urls ----
        new("paths", "{{ base \"/a/b.txt\" }} {{ dir \"/a/b.txt\" }} {{ ext \"x/y.tar.gz\" }} {{ clean \"a/../b/./c//\" }} {{ isAbs \"/x\" }}"),
        new("urlParse", "{{ $u := urlParse \"https://user@host.example:8443/p/a?q=1#frag\" }}{{ $u.scheme }} {{ $u.host }} {{ $u.hostname }} {{ $u.path }} {{ $u.query }} {{ $u.fragment }} {{ $u.userinfo }}"),
        new("urlJoin", "{{ urlJoin (dict \"scheme\" \"http\" \"host\" \"h:80\" \"path\" \"/x\" \"query\" \"a=b\") }}"),
        // ---- semver ----
        new("semverCompare", "{{ semverCompare \">=1.20.0\" \"1.25.3\" }} {{ semverCompare \"^1.2.0\" \"1.3.0\" }} {{ semverCompare \"~1.2.0\" \"1.3.0\" }} {{ semverCompare \">=1.2 <1.5 || 2.x\" \"2.1.0\" }} {{ semverCompare \">=1.20-0\" \"v1.32.0-eks-1\" }} {{ semverCompare \">=1.20\" \"1.21.0-rc.1\" }}"),
        new("semverCompare-kube", "{{ semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion }} {{ semverCompare \"<1.16\" .Capabilities.KubeVersion.Version }}"),
        new("semver-object", "{{ $v := semver \"1.2.3-beta.1+b5\" }}{{ $v.Major }} {{ $v.Minor }} {{ $v.Patch }} {{ $v.Prerelease }} {{ $v.Metadata }}"),
        new("semver-hyphen-wild", "{{ semverCompare \"1.2 - 1.4\" \"1.3.9\" }} {{ semverCompare \"1.x\" \"1.9.0\" }} {{ semverCompare \"!=1.2.3\" \"1.2.3\" }} {{ semverCompare \"^0.2.3\" \"0.2.9\" }} {{ semverCompare \"^0.2.3\" \"0.3.0\" }}"),
        // ---- json / yaml ----
        new("toJson", "{{ toJson .Values }}", "a: 1\nb: [x, {c: \"<&>\"}]\nd: 1.5\ne: 1000000\nf: 1e21\ng: 0.0000001"),
        new("toPrettyJson", "{{ toPrettyJson .Values }}", "a: 1\nb: [x]\nc: {}"),
        new("toRawJson", "{{ toRawJson (dict \"h\" \"<b>\") }}"),
        new("fromJson", "{{ $j := fromJson \"{\\\"a\\\": 1, \\\"b\\\": [1, 2]}\" }}{{ $j.a }} {{ $j.b }}"),
        new("fromJsonArray", "{{ fromJsonArray \"[1, \\\"a\\\"]\" }}"),
        new("toYaml-basic", "{{ toYaml .Values }}", "b: 2\na: x\nc: [1, two, {d: e}]\nf: {}\ng: []\nh: true"),
        new("toYaml-quoting", "{{ toYaml .Values }}", "a: \"yes\"\nb: \"on\"\nc: \"1.0\"\nd: \"\"\ne: \"123\"\nf: \"2023-01-01\"\ng: \"null\"\nh: \"~\"\ni: \"0x1F\"\nj: \"1e3\"\nk: \"true\"\nl: \"off\"\nm: \"Y\"\nnn: \".inf\""),
        new("toYaml-indicators", "{{ toYaml .Values }}", "a: \"*star\"\nb: \"&amp\"\nc: \"a: b\"\nd: \"# hash\"\ne: \"x #y\"\nf: \" lead\"\ng: \"trail \"\nh: \"- dash\"\ni: \"-x\"\nj: \"[x]\"\nk: \"{x}\"\nl: \"@at\"\nm: \"`tick\"\nnn: \"it's\"\no: \"%p\"\np: \"a:b\"\nq: \"?q\"\nr: \"!bang\"\ns: \"|pipe\"\nt: \">gt\""),
        new("toYaml-multiline", "{{ toYaml .Values }}", "a: \"line1\\nline2\"\nb: \"line1\\nline2\\n\"\nc: \"x\\n\\n\"\nd: \"  indented\\nnext\"\ne: \"tab\\there\"\nf: \"a  \\nb\""),
        new("toYaml-long", "{{ toYaml .Values }}", "a: \"this is a long string with many words that goes on and on and on beyond eighty characters for sure yes\"\nb: {c: \"another long string that should be folded by the yaml emitter at the eighty column mark ok\"}"),
        new("toYaml-numbers", "{{ toYaml .Values }}", "a: 1\nb: 1.5\nc: 1000000\nd: -3\ne: 0.000001\nf: 1e21\ng: 12345678901"),
        new("toYaml-keys-sort", "{{ toYaml .Values }}", "b10: 1\nb9: 2\na: 3\nB: 4\n\"1\": 5\n\"_x\": 6\n\"a1\": 7\n\"a01\": 8"),
        new("toYaml-nested-lists", "{{ toYaml .Values }}", "l:\n- [1, 2]\n- - a\n  - b\n- {x: [y, {z: 1}]}\n- []\n- {}"),
        new("toYaml-scalars", "{{ toYaml .Values.s }}|{{ toYaml .Values.num }}|{{ toYaml .Values.l }}|{{ toYaml .Values.missing }}", "s: hello\nnum: 5\nl: [a]"),
        new("toYaml-nindent", "spec:\n  {{- toYaml .Values.res | nindent 2 }}", "res: {limits: {cpu: 100m, memory: 128Mi}}"),
        new("fromYaml", "{{ $y := fromYaml \"a: 1\\nb: [x, yes]\\nc: {d: 1.5}\" }}{{ $y.a }} {{ $y.b }} {{ $y.c.d }} {{ toJson $y }}"),
        new("fromYaml-error", "{{ $y := fromYaml \"a: [\" }}{{ hasKey $y \"Error\" }}"),
        new("fromYamlArray", "{{ fromYamlArray \"- 1\\n- a\" }}"),
        new("toToml", "{{ toToml .Values }}", "a: x\nb: 1\nc: {d: true}"),
        // ---- helm ----
        new("include", "{{ include \"diff.labels\" . }}"),
        new("include-nindent", "metadata:\n  labels:\n    {{- include \"diff.labels\" . | nindent 4 }}"),
        new("include-recursive", "{{ include \"diff.rec\" 3 }}"),
        new("template-action", "{{ template \"diff.name\" . }}"),
        new("define-local", "{{ define \"local.x\" }}L{{ . }}{{ end }}{{ template \"local.x\" 5 }}"),
        new("block", "{{ block \"local.block\" . }}B{{ .Release.Name }}{{ end }}"),
        new("tpl", "{{ tpl \"{{ .Values.x }}-{{ .Release.Name }}\" . }}", "x: tv"),
        new("tpl-values-string", "{{ tpl .Values.t . }}", "t: \"name={{ .Values.num }}\"\nnum: nm"),
        new("tpl-include", "{{ tpl \"{{ include \\\"diff.tplval\\\" . }}\" . }}", "x: 7"),
        new("required-ok", "{{ required \"need x\" .Values.x }}", "x: ok"),
        new("lookup", "{{ lookup \"v1\" \"Secret\" \"ns\" \"name\" }} {{ len (lookup \"v1\" \"Pod\" \"\" \"\") }}"),
        new("release", "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Revision }}"),
        new("chart", "{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }} {{ .Chart.IsRoot }}"),
        new("template-obj", "{{ .Template.Name }} {{ .Template.BasePath }}"),
        new("capabilities", "{{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"nope/v1\" }}"),
        new("files", "{{ .Files.Get \"files/a.txt\" }}|{{ .Files.Get \"nope\" }}|{{ .Files.Lines \"files/a.txt\" }}"),
        new("files-glob", "{{ range $path, $_ := .Files.Glob \"files/*\" }}{{ $path }};{{ end }}"),
        new("files-asconfig", "{{ (.Files.Glob \"files/*\").AsConfig }}"),
        new("files-assecrets", "{{ (.Files.Glob \"config/*\").AsSecrets }}"),
        new("files-getbytes", "{{ .Files.GetBytes \"files/b.conf\" | len }}"),
        new("no-value-replace", "a{{ .Values.nope }}b{{ print \"<no value>\" }}c"),
        new("missing-fn-args", "{{ .Values.missing | default \"x\" | upper }}"),
        new("nested-missing-index", "[{{ index .Values \"a\" }}]"),
        // ---- deeper fidelity ----
        new("conv-edge", "{{ int \"3.9\" }} {{ int \"3.0\" }} {{ int \"abc\" }} {{ float64 \"abc\" }} {{ int64 .Values.f }} {{ int true }} {{ atoi \"abc\" }} {{ atoi \" 5\" }}", "f: -2.7"),
        new("add-strings", "{{ add \"3\" 4 }} {{ add1 \"x\" }} {{ sub 1.9 0.5 }} {{ mul \"2\" 2.5 }}"),
        new("round-edge", "{{ round 2.345 2 }} {{ round 1.005 2 }} {{ round -1.5 0 }} {{ round 123.456 -1 }}"),
        new("addf-precise", "{{ addf 0.1 0.2 }} {{ mulf 1.1 3 }} {{ divf 1 3 }} {{ subf 0.3 0.1 }}"),
        new("printf-float-sprig", "{{ printf \"%v %v\" (div 10 3) (divf 10 4) }}"),
        new("merge-empty", "{{ toJson (merge (dict \"a\" \"\" \"b\" 0 \"c\" false) (dict \"a\" \"x\" \"b\" 5 \"c\" true)) }}"),
        new("mergeOverwrite-false", "{{ toJson (mergeOverwrite (dict \"a\" true \"b\" \"x\" \"c\" 1) (dict \"a\" false \"b\" \"\" \"c\" 0)) }}"),
        new("merge-lists", "{{ toJson (merge (dict \"l\" (list 1)) (dict \"l\" (list 2 3) \"m\" (list 4))) }} {{ toJson (mergeOverwrite (dict \"l\" (list 1)) (dict \"l\" (list 2 3))) }}"),
        new("date-fixed", "{{ date \"2006-01-02T15:04:05Z07:00\" 86400 }} {{ toDate \"2006-01-02\" \"2024-03-05\" | date \"Jan 2, 2006 Mon\" }} {{ unixEpoch (toDate \"2006-01-02\" \"2024-03-05\") }}"),
        new("date-formats", "{{ $t := toDate \"2006-01-02 15:04:05\" \"2024-11-07 09:05:03\" }}{{ $t | date \"06/1/2 3:4:5 PM\" }} {{ $t | date \"January _2 002 15h\" }} {{ $t | date \"2006-01-02T15:04:05.000Z\" }} {{ dateModify \"+1h30m\" $t | date \"15:04\" }} {{ htmlDate $t }} {{ dateInZone \"2006-01-02 15:04 MST\" $t \"UTC\" }}"),
        new("duration", "{{ duration 3661 }} {{ duration \"95\" }} {{ duration 0 }} {{ durationRound \"2h10m\" }} {{ durationRound \"400h\" }}"),
        new("regex-groups", "{{ regexReplaceAll \"(?P<first>[a-z]+) (?P<last>[a-z]+)\" \"john smith\" \"${last}, $first\" }} {{ regexReplaceAll \"a(x*)b\" \"axxb\" \"$1x\" }} {{ regexFindAll \"a.\" \"abacad\" 2 }} {{ regexSplit \"\\\\s+\" \"a  b c\" 2 }}"),
        new("split-edge", "{{ splitList \"\" \"abc\" }} {{ splitList \",\" \"\" }} {{ len (split \",\" \"\") }} {{ splitList \",\" \"a,,b,\" }}"),
        new("replace-empty", "{{ replace \"\" \"-\" \"abc\" }} {{ trimAll \"ab\" \"abcba\" }} {{ substr 2 100 \"hello\" }} {{ substr -1 2 \"hello\" }}"),
        new("nindent-zero", "a:{{ \"x\\ny\" | nindent 0 }}|{{ indent 2 \"\" }}|"),
        new("sortAlpha-mixed", "{{ sortAlpha (list 10 9 \"b\" \"a\" 1.5) }} {{ sortAlpha \"single\" }}"),
        new("uniq-maps", "{{ uniq (list (dict \"a\" 1) (dict \"a\" 1) (dict \"a\" 2)) }}"),
        new("toStrings-nil", "{{ toStrings (list 1 .Values.missing \"a\" true) }} {{ toString (list \"a\" \"b\") }} {{ toString .Values.missing }}"),
        new("has-nil", "{{ has 1 .Values.missing }} {{ without (list 1 2 1) 1 }}"),
        new("keys-multi", "{{ keys (dict \"b\" 1) (dict \"a\" 2 \"b\" 3) | sortAlpha }}"),
        new("quote-list", "{{ quote (list 1 2) }} {{ squote .Values.f }} {{ quote true }} {{ quote .Values.m }}", "f: 1.5\nm: {a: b}"),
        new("print-nil-bool", "{{ print nil }} {{ print true 1 }} {{ printf \"%s %v\" true true }} {{ println }}"),
        new("empty-values", "{{ empty .Values.m }} {{ empty .Values.l }} {{ empty .Values.z }} {{ empty .Values.f }}", "m: {}\nl: []\nz: 0\nf: 0.0"),
        new("default-types", "{{ default (list 1) .Values.l }} {{ default (dict \"a\" 1) .Values.m }} {{ default \"d\" .Values.z }} {{ default \"d\" false }}", "l: []\nm: {}\nz: 0"),
        new("coalesce-nil", "{{ coalesce .Values.a .Values.b }}|{{ coalesce }}|"),
        new("with-nested-dollar", "{{ with .Values.a }}{{ with .b }}{{ . }}-{{ $.Values.c }}{{ end }}{{ end }}", "a: {b: bee}\nc: see"),
        new("range-map-values", "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v.x }};{{ end }}", "m: {b: {x: 2}, a: {x: 1}}"),
        new("range-nested", "{{ range $i, $l := .Values.ll }}{{ range $j, $e := $l }}{{ $i }}{{ $j }}{{ $e }} {{ end }}{{ end }}", "ll: [[a, b], [c]]"),
        new("range-break-nested", "{{ range .Values.ll }}[{{ range . }}{{ if eq . \"stop\" }}{{ break }}{{ end }}{{ . }}{{ end }}]{{ end }}", "ll: [[a, stop, b], [c]]"),
        new("range-assign-var", "{{ $i := 0 }}{{ $e := \"\" }}{{ range $i, $e = .Values.l }}{{ end }}{{ $i }}{{ $e }}", "l: [x, y]"),
        new("if-with-assign", "{{ if $x := .Values.a }}{{ $x }}{{ end }} {{ with $y := .Values.b }}{{ $y }}{{ end }}", "a: 1\nb: two"),
        new("template-nil-dot", "{{ define \"local.nd\" }}[{{ . }}]{{ end }}{{ template \"local.nd\" }}{{ template \"local.nd\" .Values.missing }}"),
        new("include-dollar", "{{ define \"local.d\" }}{{ $.Release.Name }}/{{ .Release.Name }}{{ end }}{{ include \"local.d\" . }}"),
        new("include-in-range", "{{ define \"local.r\" }}<{{ . }}>{{ end }}{{ range .Values.l }}{{ include \"local.r\" . }}{{ end }}", "l: [1, 2]"),
        new("tpl-define", "{{ tpl \"{{ define \\\"tpl.def\\\" }}D{{ end }}{{ include \\\"tpl.def\\\" . }}\" . }}"),
        new("tpl-nested-values", "{{ tpl (toYaml .Values.cfg) . }}", "cfg: {name: \"{{ .Release.Name }}\", port: 80}"),
        new("tpl-nested-empty", "{{ tpl .Values.outer . }}", "outer: \"[{{ tpl .Values.empty . }}]-{{ tpl .Values.inner . }}\"\nempty: \"\"\ninner: \"in={{ .Release.Name }}\""),
        new("tpl-missing", "[{{ tpl \"{{ .Values.nope }}\" . }}]"),
        new("capabilities-print", "{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.HelmVersion.Version }} {{ .Capabilities.KubeVersion.Minor }}"),
        new("toYaml-unicode", "{{ toYaml .Values }}", "a: \"héllo wörld\"\nb: \"日本語\"\nc: \"emoji 🎉\"\nd: \"key: value\"\n\"e f\": spaced\n\"g:h\": colon"),
        new("toYaml-long-nested", "{{ toYaml .Values }}", "l:\n- \"a very long list item string that keeps going and going past the eighty column limit for sure\"\nm:\n  n:\n    o: \"deeply nested long string value that keeps going and going past the eighty column limit\""),
        new("toYaml-long-quoted", "{{ toYaml .Values }}", "a: \"yes this is a long string with a tab\\there that must be double quoted and keeps going past eighty\"\nb: \"trailing space long string that goes on and on and on and on and on and on and on and on \""),
        new("toYaml-special-words", "{{ toYaml .Values }}", "a: \"---\"\nb: \"...\"\nc: \"<<\"\nd: \"=\"\ne: \"-\"\nf: \":\"\ng: \"#\"\nh: \"0.5\"\ni: \".5\"\nj: \"+1\"\nk: \"0o17\"\nl: \"0b101\"\nm: \"1_000\"\nnn: \"12:30:45\"\no: \"NaN\"\np: \"-.inf\""),
        new("toYaml-bool-like-keys", "{{ toYaml (dict \"yes\" 1 \"no\" 2 \"on\" 3 \"true\" 4 \"null\" 5 \"1.5\" 6) }}"),
        new("toYaml-list-of-strings", "{{ toYaml (list \"a\" \"b c\" \"\" \"- x\") }}"),
        new("toJson-numbers", "{{ toJson .Values }} {{ toJson 1.0 }} {{ toJson 1234567890123 }}", "a: 0.0000001\nb: 123456789012\nc: -0.5\nd: 1e100"),
        new("toJson-escapes", "{{ toJson \"a\\\"b\\\\c\\n\\t<>&'\\u2028\" }} {{ toRawJson \"<>&\" }}"),
        new("fromJson-nested", "{{ $j := fromJson \"{\\\"a\\\": {\\\"b\\\": [1, 2.5, \\\"x\\\", null, true]}}\" }}{{ $j.a.b }} {{ index $j.a.b 1 }} {{ typeOf (index $j.a.b 0) }}"),
        new("fromJson-invalid", "{{ $j := fromJson \"{bad\" }}{{ hasKey $j \"Error\" }}"),
        new("fromYaml-types", "{{ $y := fromYaml \"a: 010\\nb: 0x1F\\nc: 1e3\\nd: .5\\ne: +3\\nf: null\\ng: 2024-01-01\\nh: '1.0'\\ni: [1, 2]\" }}{{ $y.a }} {{ $y.b }} {{ $y.c }} {{ $y.d }} {{ $y.e }} [{{ $y.f }}] {{ $y.h }} {{ $y.i }}"),
        new("toYaml-fromYaml-roundtrip", "{{ .Values | toYaml | fromYaml | toYaml }}", "a: {b: [1, {c: \"yes\"}]}\nd: \"line1\\nline2\""),
        new("html-escape-edge", "{{ html \"\\\"'&<>\" }} {{ js \"\\\\ / \\u2028 \\r=\" }} {{ urlquery \"a/b?c=d&e f\" }} {{ html 1 2 }}"),
        new("len-unicode", "{{ len \"日本\" }} {{ len (dict) }} {{ len \"\" }}"),
        new("index-nested-list", "{{ index .Values.l 0 1 }} {{ index .Values.m \"a\" 0 }}", "l: [[x, y]]\nm: {a: [z]}"),
        new("and-or-values", "{{ and .Values.a .Values.b | print }} {{ or .Values.z .Values.s }}", "a: 1\nb: bee\nz: 0\ns: str"),
        new("comparison-strings", "{{ lt \"a\" \"b\" }} {{ lt \"B\" \"a\" }} {{ le \"x\" \"x\" }} {{ ge \"10\" \"9\" }}"),
        new("eq-int-from-funcs", "{{ eq (len .Values.l) 2 }} {{ eq (add 1 1) 2 }} {{ eq (int .Values.n) 3 }} {{ lt (len .Values.l) 5 }}", "l: [a, b]\nnum: 3"),
        new("trim-markers-newlines", "a\n  {{- if true }}\n  b\n  {{- end }}\nc\n{{- /* comment */}}\nd {{- \" e \" -}} f"),
        new("b64-edge", "{{ b64dec \"not-base64!\" }} {{ b64enc \"\" }} {{ b32dec \"NBUQ====\" }}"),
        new("sha-unicode", "{{ sha256sum \"héllo\" }} {{ adler32sum \"\" }}"),
        new("title-edge", "{{ title \"hello-world foo.bar x_y 9abc\" }} {{ untitle \"ABC DEF\" }} {{ upper \"straße\" }}"),
        new("abbrev-edge", "{{ abbrev 3 \"hello\" }} {{ abbrev 10 \"hello\" }} {{ abbrev 4 \"hello world\" }}"),
        new("initials-wrap", "{{ initials \"  multiple   spaces here \" }} {{ wrap 5 \"averyveryverylongword and more\" }}"),
        new("cat-numbers", "{{ cat 1 2.5 true (list 1) }}"),
        new("semver-methods", "{{ (semver \"v2.3.4\").String }} {{ (semver \"1.2.3\").Compare (semver \"1.2.4\") }} {{ semver \"1.2\" }}"),
        new("kindOf-more", "{{ kindOf (list) }} {{ kindOf (dict) }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindOf \"\" }} {{ kindOf .Values.missing }} {{ typeOf (list) }} {{ typeOf 1 }}"),
        new("dig-nested", "{{ dig \"a\" \"b\" \"c\" \"def\" .Values }} {{ dig \"x\" \"none\" .Values }}", "a: {b: {c: found}}"),
        new("pick-omit-missing", "{{ pick (dict \"a\" 1) \"z\" }} {{ omit (dict \"a\" 1) \"z\" }} {{ pluck \"a\" (dict) }}"),
        new("chunk-edge", "{{ chunk 3 (list 1 2) }} {{ chunk 1 (list) }}"),
        new("until-negative", "{{ until -3 }} {{ untilStep 10 0 -3 }} {{ seq -2 }} {{ seq 1 0 }}"),
        new("files-glob-double-star", "{{ range $p, $_ := .Files.Glob \"**.txt\" }}{{ $p }} {{ end }}|{{ range $p, $_ := .Files.Glob \"{files,config}/*\" }}{{ $p }} {{ end }}"),
        new("files-len-bytes", "{{ len (.Files.Glob \"files/*\") }} {{ range $p, $b := .Files.Glob \"files/b*\" }}{{ $b }} {{ toString $b }} {{ len $b }}{{ end }}"),
        new("files-print", "{{ .Files.Glob \"files/b*\" }} {{ .Capabilities.APIVersions.Has \"v1\" }} {{ .Template }}"),
        new("files-lines-range", "{{ range .Files.Lines \"files/a.txt\" }}[{{ . }}]{{ end }}"),
        new("files-get-tpl", "{{ tpl (.Files.Get \"files/b.conf\") . }}"),
        new("values-deep-print", "{{ .Values }}", "a: {b: [1, {c: d}]}\ne: \"\""),
        new("printf-v-nested", "{{ printf \"%v|%+v|%s\" .Values.m .Values.l .Values.l }}", "m: {a: [1, {b: 2.5}], c: null2}\nl: [x, 1, true]"),
        new("printf-widths-unicode", "[{{ printf \"%-6s|%6s|%.1s\" \"é\" \"日本\" \"日本\" }}]"),
        new("printf-g-edge", "{{ printf \"%g %g %g %g %.2e %.0e %10.4g|\" 100000.0 1000000.0 0.0001 0.00001 123456.0 5.5 3.14159265 }}"),
        new("printf-int-edge", "{{ printf \"%d %x %o %b %c %q\" -255 -255 -8 -5 0x263A 0x263A }}"),
        new("printf-string-edge", "{{ printf \"%q %+q %#q %x % x %X\" \"é\\t\" \"é\" \"back`tick\" \"héllo\" \"ab\" \"ab\" }}"),
        new("required-falsy", "{{ required \"x\" 0 }} {{ required \"x\" false }} {{ required \"x\" (list) }}"),
        new("eq-nil-literal", "{{ eq .Values.x nil }} {{ eq \"a\" nil }} {{ ne nil .Values.x }}"),
        new("duration-types", "{{ duration .Values.f }} {{ duration \"-90\" }}", "f: 30"),
        new("chart-zero-fields", "[{{ .Chart.Deprecated }}][{{ .Chart.Home }}][{{ .Chart.Keywords }}][{{ .Chart.Annotations }}][{{ .Chart.Type }}][{{ .Chart.Description }}]"),
        new("tplvalues-pattern", "{{ define \"local.tplvalues\" }}{{- if typeIs \"string\" .value }}{{- tpl .value .context }}{{- else }}{{- tpl (.value | toYaml) .context }}{{- end }}{{- end }}{{ include \"local.tplvalues\" (dict \"value\" .Values.labels \"context\" $) }}|{{ include \"local.tplvalues\" (dict \"value\" .Values.s \"context\" $) }}", "labels: {app: \"{{ .Release.Name }}\", tier: web}\ns: \"x-{{ .Chart.Name }}\""),
        new("image-printf", "{{ printf \"%s/%s:%s\" .Values.image.registry .Values.image.repository (.Values.image.tag | toString) }} {{ printf \"%s:%v\" \"repo\" .Values.image.num }}", "image: {registry: docker.io, repository: bitnami/nginx, tag: 1.25, num: 1.10}"),
        new("resources-trim", "resources:\n  {{- .Values.resources | toYaml | trim | nindent 2 }}", "resources: {limits: {cpu: 1}}"),
        new("fromYaml-include", "{{ define \"local.y\" }}a: 1\nb: [x]{{ end }}{{ $y := fromYaml (include \"local.y\" .) }}{{ $y.b }} {{ toYaml $y }}"),
        new("labels-set", "{{ $l := dict \"a\" \"1\" }}{{ $_ := set $l \"b\" \"2\" }}{{ range $k, $v := $l }}{{ $k }}={{ $v }},{{ end }}"),
        new("port-quote", "{{ .Values.port | quote }} {{ .Values.port | toString }} {{ .Values.big | quote }} {{ .Values.frac | quote }}", "port: 8080\nbig: 10000000\nfrac: 0.25"),
        new("checksum-include", "{{ include (print $.Template.BasePath \"/c000.yaml\") . | sha256sum }}"),
        new("lookup-empty-range", "{{ range $k, $v := (lookup \"v1\" \"ConfigMap\" \"ns\" \"\").items }}x{{ else }}none{{ end }}"),
        new("realistic-deployment", """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "diff.name" . }}
  labels:
    {{- include "diff.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          {{- with .Values.env }}
          env:
            {{- range $k, $v := . }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
          {{- end }}
          ports:
            - containerPort: {{ .Values.port | int }}
          {{- if .Values.resources }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          {{- end }}
""", "replicaCount: 3\nimage: {repository: nginx}\nenv: {B: 2, A: \"x\"}\nport: 8080\nresources: {limits: {cpu: 1, memory: 1Gi}}"),
    ];

    public static readonly ErrorCase[] Errors =
    [
        new("nil-pointer", "a\nb: {{ .Values.foo.bar }}", "", "nil pointer evaluating interface {}.bar"),
        new("fail", "{{ fail \"custom failure\" }}", "", "custom failure"),
        new("required", "{{ required \"value x is required\" .Values.x }}", "", "value x is required"),
        new("incompatible-eq", "{{ if eq .Values.num 1 }}x{{ end }}", "num: 1", "incompatible types for comparison"),
        new("unclosed-action", "{{ .Values.x ", ""),
        new("unexpected-end", "{{ end }}", ""),
        new("undefined-function", "{{ nosuchfn 1 }}", "", "function \"nosuchfn\" not defined"),
        new("undefined-variable", "{{ $x }}", "", "undefined variable \"$x\""),
        new("wrong-arg-type", "{{ upper .Values.num }}", "num: 5", "wrong type for value; expected string; got float64"),
        new("wrong-arg-count", "{{ upper \"a\" \"b\" }}", "", "wrong number of args for upper: want 1 got 2"),
        new("missing-value-pipe", "{{ .Values.missing | upper }}", "", "invalid value; expected string"),
        new("index-nil", "{{ index .Values.missing \"a\" }}", "", "index of untyped nil"),
        new("include-missing", "{{ include \"nope\" . }}", ""),
        new("template-missing", "{{ template \"nope\" . }}", "", "template \"nope\" not defined"),
        new("range-float", "{{ range .Values.num }}x{{ end }}", "num: 3", "range can't iterate over 3"),
        new("lt-mixed", "{{ lt 1 \"a\" }}", "", "incompatible types for comparison"),
        new("int-arg-float", "{{ indent .Values.num \"x\" }}", "num: 2", "wrong type for value; expected int; got float64"),
        new("field-on-string", "{{ .Values.s.x }}", "s: str"),
        new("break-outside", "{{ break }}", ""),
        new("bad-number", "{{ 3x }}", ""),
        new("unterminated-string", "{{ \"abc }}", ""),
        new("non-executable", "{{ 1 | 2 }}", ""),
        new("nil-command", "{{ nil }}", "", "nil is not a command"),
        new("first-string", "{{ first \"abc\" }}", ""),
        new("div-zero", "{{ div 1 0 }}", ""),
        new("tpl-bad", "{{ tpl \"{{ .x \" . }}", ""),
        new("multi-define", "{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}", ""),
        new("slice-string", "{{ slice \"hello\" 1 3 }}", "", "list should be type of slice or array but string"),
        new("range-int-go123", "{{ range 3 }}{{ . }}{{ end }}", "", "range can't iterate over 3"),
        new("gt-float-int", "{{ if gt .Values.replicas 1 }}x{{ end }}", "replicas: 3", "incompatible types for comparison"),
        new("index-float", "{{ index .Values.l .Values.i }}", "l: [a]\ni: 0", "cannot index slice/array with type float64"),
        new("len-number", "{{ len 5 }}", "", "len of type int"),
        new("ternary-non-bool", "{{ ternary 1 2 \"x\" }}", "", "expected bool; found \"x\""),
        new("lower-number", "{{ lower .Values.num }}", "num: 1", "wrong type for value; expected string; got float64"),
        new("index-out-of-range", "{{ index .Values.l 5 }}", "l: [a]", "index out of range: 5"),
        new("nil-pointer-range-elem", "{{ range .Values.l }}{{ .x }}{{ end }}", "l: [null]", "nil pointer evaluating interface {}.x"),
        new("method-args", "{{ .Files.Get }}", "", "wrong number of args for Get: want 1 got 0"),
        new("field-of-capabilities", "{{ .Capabilities.Nope }}", "", "can't evaluate field Nope"),
        new("fail-in-include", "{{ define \"f\" }}{{ fail \"deep fail\" }}{{ end }}{{ include \"f\" . }}", "", "deep fail"),
        new("required-in-tpl", "{{ tpl \"{{ required \\\"tpl needs v\\\" .Values.v }}\" . }}", "", "tpl needs v"),
        new("toYaml-no-args", "{{ toYaml }}", "", "wrong number of args for toYaml: want 1 got 0"),
        new("variable-redeclare-outside", "{{ if true }}{{ $v := 1 }}{{ end }}{{ $v }}", "", "undefined variable \"$v\""),
        new("dict-key-chain-on-list", "{{ .Values.l.x }}", "l: [1]", "can't evaluate field x in type interface {}"),
        new("mustRegex-bad", "{{ mustRegexMatch \"(\" \"x\" }}", ""),
        new("semverCompare-bad-version", "{{ semverCompare \">1\" \"notaversion\" }}", "", "Invalid Semantic Version"),
        new("parse-unclosed-paren", "{{ (print 1 }}", ""),
        new("parse-else-outside", "x{{ else }}y", "", "unexpected {{else}}"),
        new("parse-range-too-many", "{{ range $a, $b, $c := .Values }}{{ end }}", "", "too many declarations in range"),
        new("and-no-args", "{{ and }}", "", "wrong number of args for and: want at least 1 got 0"),
        new("uint-overflows-int", "{{ 12345678901234567890 }}", "", "12345678901234567890 overflows int"),
        new("integer-overflow", "{{ 123456789012345678901234 }}", ""),
        new("no-args-to-field", "{{ .Values.s 1 }}", "s: x"),
    ];
}
