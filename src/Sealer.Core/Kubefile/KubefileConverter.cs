using System.Text;

namespace Sealer.Core.Kubefile;

/// <summary>
/// <c>sealer convert Kubefile [-o app.kubeproj]</c>: the Kubefile's build plan (<see cref="KubefileBuild.Plan"/>) as a
/// readable .kubeproj, item for item as the README's Kubefile table maps them, each item carrying the Kubefile line it
/// came from (and that line's comment). <c>dotnet build</c> of it gives the same cluster image as <c>sealer build</c>.
/// </summary>
public static class KubefileConverter
{
    public static string ToKubeproj(KubefileBuild.Plan plan, string sdkVersion, string? imageName = null, string? imageTag = null)
    {
        var p = plan.Project;
        var sb = new StringBuilder();
        string kubefileName = p.File is null ? "Kubefile" : Path.GetFileName(p.File);
        sb.Append("<!--\n  Converted from ").Append(kubefileName).Append(" by `sealer convert`. The Kubefile:\n\n");
        foreach (var ins in p.Instructions)
        {
            foreach (var c in ins.Comments) sb.Append("    # ").Append(XmlComment(c)).Append('\n');
            sb.Append("    ").Append(ins.Keyword).Append(ins.Flags.Count > 0 ? " " + string.Join(' ', ins.Flags) : "").Append(' ').Append(XmlComment(ins.Arguments))
              .Append(ins.TrailingComment is null ? "" : "  # " + XmlComment(ins.TrailingComment)).Append('\n');
        }
        sb.Append("\n  `dotnet build` builds the same cluster image as `sealer build -f ").Append(kubefileName).Append(" .` (images found the way Sealer's lite build\n")
          .Append("  finds them: SealerScanRootfs). Each item names its Kubefile line.\n");
        foreach (var note in p.Notes) sb.Append("  Note: ").Append(XmlComment(note)).Append('\n');
        sb.Append("-->\n");
        sb.Append("<Project Sdk=\"Sealer.Sdk/").Append(Attr(sdkVersion)).Append("\">\n  <PropertyGroup>\n");
        if (imageName is not null) Prop(sb, "ClusterImageName", imageName, null);
        if (imageTag is not null) Prop(sb, "ClusterImageTag", imageTag, null);
        if (!p.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase)) Prop(sb, "SealerBaseImage", p.BaseImage, $"line {p.FromLine}: FROM");
        bool defaultPlatforms = plan.Platforms.Count == 1 && plan.Platforms[0].ToString() == "linux/amd64";
        if (!defaultPlatforms) Prop(sb, "SealerPlatforms", string.Join(';', plan.Platforms.Select(x => x.ToString())), p.FromPlatforms.Count > 0 ? $"line {p.FromLine}: FROM's platform flag" : "the platforms sealer convert was given", escaped: true);
        if (plan.KubernetesVersion is not null) Prop(sb, "KubernetesVersion", plan.KubernetesVersion, $"line {p.KubeVersionLine}: KUBEVERSION");
        if (p.Launch.Count > 0) Prop(sb, "SealerLaunch", string.Join(';', p.Launch.Select(Escape)), $"line {p.LaunchLine}: LAUNCH", escaped: true);
        if (p.Cmds.Count > 0) Prop(sb, "SealerCmds", string.Join(';', p.Cmds.Select(Escape)), $"line {p.CmdsLine}: CMD/CMDS", escaped: true);
        sb.Append("    <!-- Sealer's lite build: images are also looked for in the rootfs (manifests/, manifests/imageList, charts/, apps). -->\n");
        Prop(sb, "SealerScanRootfs", "true", null);
        sb.Append("  </PropertyGroup>\n");

        if (plan.Files.Count > 0)
        {
            sb.Append("\n  <ItemGroup>\n");
            int lastLine = -1;
            foreach (var f in plan.Files)
            {
                if (f.Line != lastLine)
                {
                    var copy = p.Instructions.First(i => i.Line == f.Line);
                    sb.Append("    <!-- line ").Append(f.Line).Append(": ").Append(copy.Keyword).Append(' ').Append(XmlComment(copy.Arguments))
                      .Append(f.Comment is null ? "" : " (" + XmlComment(f.Comment) + ")").Append(" -->\n");
                    lastLine = f.Line;
                }
                sb.Append("    <SealerFile Include=\"").Append(Attr(EscapePath(f.Include))).Append('"');
                if (f.Include == "**" || f.Include.StartsWith("**", StringComparison.Ordinal)) sb.Append(" Exclude=\"bin/**;obj/**;*.kubeproj\"");
                sb.Append(" Destination=\"").Append(Attr(Escape(f.Destination))).Append('"');
                if (f.Platform.Length > 0) sb.Append(" Platform=\"").Append(Attr(f.Platform)).Append('"');
                sb.Append(" />\n");
            }
            sb.Append("  </ItemGroup>\n");
        }
        if (p.Apps.Count > 0)
        {
            sb.Append("\n  <ItemGroup>\n");
            foreach (var a in p.Apps)
            {
                sb.Append("    <!-- line ").Append(a.Line).Append(": ").Append(a.Role is null ? "APP" : a.Role.ToUpperInvariant()).Append(' ').Append(XmlComment(a.Name))
                  .Append(a.Comment is null ? "" : " (" + XmlComment(a.Comment) + ")").Append(" -->\n");
                sb.Append("    <SealerApp Include=\"").Append(Attr(Escape(a.Name))).Append("\" Source=\"").Append(Attr(string.Join(';', a.Sources.Select(EscapePath)))).Append('"');
                if (a.Cmds.Count > 0) sb.Append(" Cmds=\"").Append(Attr(string.Join(';', a.Cmds.Select(Escape)))).Append('"');
                if (a.Env.Count > 0) sb.Append(" Env=\"").Append(Attr(string.Join(';', a.Env.Select(kv => Escape(kv.Key) + "=" + Escape(kv.Value))))).Append('"');
                sb.Append(" />\n");
            }
            sb.Append("  </ItemGroup>\n");
        }
        if (plan.Labels.Count > 0 || p.Env.Count > 0)
        {
            sb.Append("\n  <ItemGroup>\n");
            var labelLines = p.Labels.ToDictionary(l => l.Key, l => l.Line, StringComparer.Ordinal);
            foreach (var (k, v) in plan.Labels)
            {
                string why = labelLines.TryGetValue(k, out int ln) ? $"line {ln}: LABEL"
                    : k == KubefileProject.SupportedKubeVersionLabel ? $"line {p.KubeVersionLine}: KUBEVERSION (Sealer's label)"
                    : $"line {p.Apps.FirstOrDefault(a => k.EndsWith("-" + a.Name, StringComparison.Ordinal))?.Line}: CNI/CSI (Sealer's label)";
                sb.Append("    <SealerLabel Include=\"").Append(Attr(Escape(k))).Append("\" Value=\"").Append(Attr(Escape(v))).Append("\" /> <!-- ").Append(why).Append(" -->\n");
            }
            foreach (var e in p.Env)
            {
                sb.Append("    <SealerEnv Include=\"").Append(Attr(Escape(e.Key))).Append("\" Value=\"").Append(Attr(Escape(e.Value))).Append("\" /> <!-- line ").Append(e.Line).Append(": ENV -->\n");
            }
            sb.Append("  </ItemGroup>\n");
        }
        sb.Append("</Project>\n");
        return sb.ToString();
    }

    private static void Prop(StringBuilder sb, string name, string value, string? why, bool escaped = false)
    {
        sb.Append("    <").Append(name).Append('>').Append(Attr(escaped ? value : Escape(value))).Append("</").Append(name).Append('>');
        if (why is not null) sb.Append(" <!-- ").Append(XmlComment(why)).Append(" -->");
        sb.Append('\n');
    }

    /// <summary>MSBuild escaping (%XX) of characters it would otherwise read: ; list separator, $ @ % properties/items, * ? wildcards, ' quotes.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '%' or ';' or '$' or '@' or '*' or '?' or '\'') sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>A path pattern: wildcards kept (they are the glob), the rest escaped.</summary>
    private static string EscapePath(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '%' or ';' or '$' or '@' or '\'') sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static string Attr(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    /// <summary>Text safe inside an XML comment: no "--" (XML forbids it), no trailing '-', one line.</summary>
    private static string XmlComment(string s)
    {
        s = s.Replace("\n", " ", StringComparison.Ordinal);
        while (s.Contains("--", StringComparison.Ordinal)) s = s.Replace("--", "- -", StringComparison.Ordinal);
        return s.EndsWith('-') ? s + " " : s;
    }
}
