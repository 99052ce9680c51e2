using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using Json.Schema;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// MSBuild IntelliSense for .kubeproj files: docs/schemas/Sealer.Sdk.xsd (Visual Studio's XML editor, after
/// -t:InstallSealerVisualStudioSchema) and docs/schemas/Sealer.Sdk.buildschema.json (packed as the MSBuild Editor
/// extension's Sdk.targets sidecar), both written by build/gen-msbuild-schemas.py. Each public property, item type and
/// item metadata the SDK's props/targets define or read is in both, and nothing else is; the XSD compiles together with
/// MSBuild's own schemas (vendored in EditorSchemas/, see SOURCES.md) and real projects validate against it.
/// </summary>
public sealed partial class EditorSchemaTests
{
    private const string Msb = "http://schemas.microsoft.com/developer/msbuild/2003";
    private static readonly XNamespace Ns = Msb;

    /// <summary>Item types of MSBuild itself that the SDK's targets touch (not the SDK's to describe).</summary>
    private static readonly HashSet<string> MSBuildItems = ["FileWrites"];

    /// <summary>Metadata every item has (MSBuild's well-known metadata) or MSBuild adds.</summary>
    private static readonly HashSet<string> WellKnownMetadata = ["FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir", "Identity", "ModifiedTime", "CreatedTime", "AccessedTime", "DefiningProjectFullPath", "DefiningProjectDirectory", "DefiningProjectName", "DefiningProjectExtension"];

    private static string SchemasDir => Repo.Path("tests", "Sealer.Sdk.Tests", "Sdk", "EditorSchemas");

    [Fact]
    public void Every_public_property_item_and_metadata_of_the_sdk_is_in_both_editor_schemas_and_nothing_else()
    {
        var sdk = SdkVocabulary.Read(Repo.Path("src", "Sealer.Sdk", "Sdk"));
        var xsd = XsdVocabulary();
        var bs = BuildSchemaVocabulary();

        Assert.Empty(sdk.Properties.Except(xsd.Properties).Order()); // defined or read by the SDK, missing from the XSD
        Assert.Empty(xsd.Properties.Except(sdk.Properties).Order()); // in the XSD, no longer in the SDK
        Assert.Equal(xsd.Properties.Order(), bs.Properties.Order());
        Assert.Empty(sdk.Items.Keys.Except(xsd.Items.Keys).Order());
        Assert.Empty(xsd.Items.Keys.Except(sdk.Items.Keys).Order());
        Assert.Equal(xsd.Items.Keys.Order(), bs.Items.Keys.Order());
        foreach (var (item, metadata) in sdk.Items)
        {
            Assert.True(metadata.SetEquals(xsd.Items[item]), $"{item}: the SDK has [{string.Join(", ", metadata.Order())}], the XSD [{string.Join(", ", xsd.Items[item].Order())}]");
            Assert.True(metadata.SetEquals(bs.Items[item]), $"{item}: the SDK has [{string.Join(", ", metadata.Order())}], the buildschema [{string.Join(", ", bs.Items[item].Order())}]");
        }

        // the tasks read metadata too: each name they read is described on some public item
        var described = xsd.Items.Values.SelectMany(m => m).ToHashSet(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(Repo.Path("src", "Sealer.Tasks"), "*.cs"))
        {
            foreach (Match m in TaskMetadataRead().Matches(File.ReadAllText(file)))
            {
                string name = m.Groups["name"].Value;
                if (WellKnownMetadata.Contains(name) || name.StartsWith("Sealer", StringComparison.Ordinal)) continue; // SealerInclude etc.: set by the SDK on its private copies
                Assert.True(described.Contains(name), $"{Path.GetFileName(file)} reads metadata '{name}', which no item in Sealer.Sdk.xsd describes (add it to the item's ItemDefinitionGroup and to build/gen-msbuild-schemas.py)");
            }
        }
    }

    [Fact]
    public void The_schemas_are_what_the_generator_writes()
    {
        var (code, output) = Processes.Run("python3", [Repo.Path("build", "gen-msbuild-schemas.py"), "--check"], Repo.Root, env: null, timeoutMs: 60_000);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void Every_name_the_readme_tables_list_is_in_the_schema_and_every_schema_name_is_documented()
    {
        var xsd = XsdVocabulary();
        var names = xsd.Properties.Concat(xsd.Items.Keys).ToHashSet(StringComparer.Ordinal);
        string readme = File.ReadAllText(Repo.Path("README.md"));
        string sdkReadme = File.ReadAllText(Repo.Path("src", "Sealer.Sdk", "README.md"));

        // the "Properties and items" table: the backticked names of its first column
        int table = readme.IndexOf("## Properties and items", StringComparison.Ordinal);
        Assert.True(table > 0, "README.md has no '## Properties and items' section");
        var rows = readme[table..].Split('\n').Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2).ToList();
        Assert.True(rows.Count > 20, $"the table has {rows.Count} rows");
        foreach (string row in rows)
        {
            string first = row.Split('|')[1];
            int metadataAt = first.IndexOf(" metadata ", StringComparison.Ordinal); // "`HelmChart` metadata `Repository`, `Version`"
            string? item = null;
            foreach (Match m in Backticked().Matches(first))
            {
                string name = m.Groups[1].Value;
                if (metadataAt > 0 && m.Index > metadataAt)
                {
                    Assert.True(item is not null && xsd.Items[item].Contains(name), $"README.md's table names {item} metadata `{name}`, which Sealer.Sdk.xsd does not describe");
                    continue;
                }
                Assert.True(names.Contains(name), $"README.md's table names `{name}`, which Sealer.Sdk.xsd does not describe");
                item ??= xsd.Items.ContainsKey(name) ? name : null;
            }
        }
        // the Kubefile table's items: <Item Include=... Meta="..."> forms
        foreach (Match m in ItemExample().Matches(readme))
        {
            string item = m.Groups["item"].Value;
            Assert.True(xsd.Items.ContainsKey(item), $"README.md shows <{item}>, which Sealer.Sdk.xsd does not describe");
            foreach (Match a in Attribute().Matches(m.Groups["attrs"].Value))
            {
                string meta = a.Groups[1].Value;
                if (meta is "Include" or "Exclude" or "Remove" or "Update" or "Condition") continue;
                Assert.True(xsd.Items[item].Contains(meta), $"README.md shows {item} with {meta}=, which Sealer.Sdk.xsd does not describe");
            }
        }

        // and the other way: every property and item is documented somewhere a user reads
        var undocumented = names.Where(n => !Regex.IsMatch(readme + sdkReadme, $@"(`|@\(|<|\$\(){Regex.Escape(n)}\b")).Order().ToList();
        Assert.True(undocumented.Count == 0, "not in README.md or src/Sealer.Sdk/README.md: " + string.Join(", ", undocumented));
    }

    [Fact]
    public void The_xsd_compiles_with_MSBuilds_own_schemas_and_real_projects_validate_against_it()
    {
        var set = CompiledSchemaSet();
        Assert.True(set.GlobalElements.Contains(new XmlQualifiedName("HelmChart", Msb)));
        Assert.True(set.GlobalElements.Contains(new XmlQualifiedName("PackageReference", Msb))); // MSBuild's own are still there

        var projects = new[] { Repo.Path("samples", "shop", "shop.kubeproj") }
            .Concat(Directory.EnumerateFiles(Repo.Path("src", "Sealer.Sdk.Templates", "templates"), "*.kubeproj", SearchOption.AllDirectories))
            .ToList();
        Assert.True(projects.Count >= 3);
        foreach (string project in projects)
        {
            var errors = Validate(set, File.ReadAllText(project));
            Assert.True(errors.Count == 0, $"{project}:\n{string.Join('\n', errors)}");
        }

        // every item with every metadata the schema describes, every property: valid
        var xsd = XsdVocabulary();
        string all = "<Project Sdk=\"Sealer.Sdk\">\n  <PropertyGroup>\n"
            + string.Concat(xsd.Properties.Order().Select(p => $"    <{p}>{(p.StartsWith("Sealer", StringComparison.Ordinal) && BoolProperty(p) ? "true" : "x")}</{p}>\n"))
            + "  </PropertyGroup>\n  <ItemGroup>\n"
            + string.Concat(xsd.Items.Select(i => $"    <{i.Key} Include=\"x\"{string.Concat(i.Value.Select(m => $" {m}=\"x\""))} />\n"))
            + "  </ItemGroup>\n</Project>\n";
        var allErrors = Validate(set, all.Replace(">x</SealerImageType>", ">app-installer</SealerImageType>", StringComparison.Ordinal));
        Assert.True(allErrors.Count == 0, string.Join('\n', allErrors));

        // and it constrains: a misspelt metadata is an error at its line
        var wrong = Validate(set, "<Project Sdk=\"Sealer.Sdk\">\n  <ItemGroup>\n    <HelmChart Include=\"charts/web\" ValueFiles=\"prod.yaml\" />\n  </ItemGroup>\n</Project>\n");
        Assert.Contains(wrong, e => e.Contains("ValueFiles", StringComparison.Ordinal) && e.StartsWith("3:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_buildschema_sidecar_is_valid_for_the_MSBuild_Editor_extension()
    {
        // The extension's schema says draft-04 but uses draft-06 keywords (const, $id): read it as draft-07, as its own comment asks.
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(SchemasDir, "buildschema.json")))!.AsObject();
        meta["$schema"] = "http://json-schema.org/draft-07/schema#";
        var schema = JsonSchema.FromText(meta.ToJsonString());
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Repo.Path("docs", "schemas", "Sealer.Sdk.buildschema.json")));
        var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    /// <summary>MSBuild's schemas as Visual Studio lays them out (Xml/Schemas/1033/Microsoft.Build.xsd and MSBuild/*.xsd),
    /// with Microsoft.Build.xsd including Sealer.Sdk.xsd as -t:InstallSealerVisualStudioSchema leaves it.</summary>
    internal static XmlSchemaSet CompiledSchemaSet(string? microsoftBuildXsd = null)
    {
        if (microsoftBuildXsd is null)
        {
            string dir = Path.Combine(Path.GetTempPath(), "sealer-xsd-" + Guid.NewGuid().ToString("N")[..8], "1033");
            Directory.CreateDirectory(Path.Combine(dir, "MSBuild"));
            foreach (string f in new[] { "Microsoft.Build.Core.xsd", "Microsoft.Build.CommonTypes.xsd" }) File.Copy(Path.Combine(SchemasDir, f), Path.Combine(dir, "MSBuild", f));
            File.Copy(Repo.Path("docs", "schemas", "Sealer.Sdk.xsd"), Path.Combine(dir, "MSBuild", "Sealer.Sdk.xsd"));
            string text = File.ReadAllText(Path.Combine(SchemasDir, "Microsoft.Build.xsd"));
            microsoftBuildXsd = Path.Combine(dir, "Microsoft.Build.xsd");
            File.WriteAllText(microsoftBuildXsd, text.Replace("</xs:schema>", "    <xs:include schemaLocation=\"MSBuild/Sealer.Sdk.xsd\"/>\n</xs:schema>", StringComparison.Ordinal));
        }
        var set = new XmlSchemaSet { XmlResolver = new WindowsPathResolver() };
        var errors = new List<string>();
        set.ValidationEventHandler += (_, e) => errors.Add($"{e.Severity}: {e.Message} ({e.Exception?.SourceUri}:{e.Exception?.LineNumber})");
        using (var reader = XmlReader.Create(microsoftBuildXsd, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = new WindowsPathResolver() }))
        {
            set.Add(Msb, reader);
        }
        set.Compile();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        return set;
    }

    /// <summary>Validates a project as Visual Studio's editor reads it: an SDK-style project without xmlns is in MSBuild's
    /// namespace (added to the root element on its own line, so errors name the project's lines).</summary>
    internal static List<string> Validate(XmlSchemaSet set, string projectText)
    {
        string text = ProjectOpen().Replace(projectText, m => m.Value.Contains("xmlns=", StringComparison.Ordinal) ? m.Value : m.Value[..^1] + $" xmlns=\"{Msb}\">", 1);
        var errors = new List<string>();
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = set, ValidationFlags = XmlSchemaValidationFlags.ReportValidationWarnings };
        settings.ValidationEventHandler += (_, e) =>
        {
            // Core.xsd wants a Target or Import in every Project, which no SDK-style project has; Visual Studio does not
            // validate project files against the schema (it only completes from it), so that one is not an error there.
            if (e.Message.StartsWith("The element 'Project' in namespace", StringComparison.Ordinal) && e.Message.Contains("has incomplete content", StringComparison.Ordinal)) return;
            errors.Add($"{e.Exception?.LineNumber}: {e.Severity}: {e.Message}");
        };
        using var reader = XmlReader.Create(new StringReader(text), settings);
        while (reader.Read()) { }
        return errors;
    }

    private static bool BoolProperty(string name)
        => XDocument.Load(Repo.Path("docs", "schemas", "Sealer.Sdk.xsd")).Root!.Elements().Any(e => (string?)e.Attribute("name") == name && (string?)e.Attribute("type") == "msb:boolean");

    private static (HashSet<string> Properties, Dictionary<string, HashSet<string>> Items) XsdVocabulary()
    {
        XNamespace xs = "http://www.w3.org/2001/XMLSchema";
        var root = XDocument.Load(Repo.Path("docs", "schemas", "Sealer.Sdk.xsd")).Root!;
        Assert.Equal(Msb, (string?)root.Attribute("targetNamespace"));
        var props = root.Elements(xs + "element").Where(e => (string?)e.Attribute("substitutionGroup") == "msb:Property").Select(e => (string)e.Attribute("name")!).ToHashSet(StringComparer.Ordinal);
        var items = root.Elements(xs + "element").Where(e => (string?)e.Attribute("substitutionGroup") == "msb:Item").ToDictionary(
            e => (string)e.Attribute("name")!,
            e =>
            {
                var attrs = e.Descendants(xs + "attribute").Select(a => (string)a.Attribute("name")!).ToHashSet(StringComparer.Ordinal);
                Assert.True(attrs.Remove("Include"), $"{(string?)e.Attribute("name")}: no Include attribute (CommonTypes prohibits it on msb:SimpleItemType; each item declares it)");
                var elems = e.Descendants(xs + "choice").Elements(xs + "element").Select(a => (string)a.Attribute("name")!).ToHashSet(StringComparer.Ordinal);
                Assert.True(attrs.SetEquals(elems), $"{(string?)e.Attribute("name")}: metadata as attributes [{string.Join(", ", attrs)}] and as elements [{string.Join(", ", elems)}] differ");
                return attrs;
            }, StringComparer.Ordinal);
        return (props, items);
    }

    private static (HashSet<string> Properties, Dictionary<string, HashSet<string>> Items) BuildSchemaVocabulary()
    {
        var doc = JsonNode.Parse(File.ReadAllText(Repo.Path("docs", "schemas", "Sealer.Sdk.buildschema.json")))!.AsObject();
        var props = doc["properties"]!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var items = doc["items"]!.AsObject().ToDictionary(i => i.Key, i => (i.Value!["metadata"]?.AsObject().Select(m => m.Key) ?? []).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        return (props, items);
    }

    /// <summary>What the SDK's own files define or read: the public (not _-prefixed) properties it owns, its item types
    /// and each one's metadata (ItemDefinitionGroup, %(Item.Meta), @(Item->'%(Meta)')).</summary>
    internal sealed record SdkVocabulary(HashSet<string> Properties, Dictionary<string, HashSet<string>> Items)
    {
        public static SdkVocabulary Read(string sdkDir)
        {
            var props = new HashSet<string>(StringComparer.Ordinal);
            var items = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            var targets = new HashSet<string>(StringComparer.Ordinal);
            var texts = Directory.EnumerateFiles(sdkDir).Where(f => f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal)).ToList();
            Assert.True(texts.Count >= 4, string.Join(", ", texts));
            void Item(string name) { if (!items.ContainsKey(name)) items[name] = new HashSet<string>(StringComparer.Ordinal); }
            foreach (string file in texts)
            {
                string text = File.ReadAllText(file);
                var root = XDocument.Parse(text).Root!;
                foreach (var t in root.Descendants(Ns + "Target")) targets.Add((string)t.Attribute("Name")!);
                foreach (Match m in PropertyRef().Matches(text)) props.Add(m.Groups[1].Value);
                foreach (var e in root.Descendants(Ns + "PropertyGroup").Elements()) props.Add(e.Name.LocalName);
                foreach (var o in root.Descendants(Ns + "Output")) { if (o.Attribute("PropertyName") is { } p) props.Add(p.Value); if (o.Attribute("ItemName") is { } i) Item(i.Value); }
                foreach (Match m in ItemRef().Matches(text)) Item(m.Groups[1].Value);
                foreach (var e in root.Descendants(Ns + "ItemGroup").Elements()) Item(e.Name.LocalName);
                foreach (var e in root.Descendants(Ns + "ItemDefinitionGroup").Elements())
                {
                    Item(e.Name.LocalName);
                    foreach (var m in e.Elements()) items[e.Name.LocalName].Add(m.Name.LocalName);
                }
                foreach (Match m in QualifiedMetadata().Matches(text)) { Item(m.Groups[1].Value); items[m.Groups[1].Value].Add(m.Groups[2].Value); }
                foreach (Match m in Transform().Matches(text))
                {
                    Item(m.Groups[1].Value);
                    foreach (Match meta in BareMetadata().Matches(m.Groups[2].Value)) items[m.Groups[1].Value].Add(meta.Groups[1].Value);
                }
            }
            bool Owned(string p) => !p.StartsWith('_') && p != p.ToUpperInvariant()
                && (p.StartsWith("Sealer", StringComparison.Ordinal) || p.StartsWith("ClusterImage", StringComparison.Ordinal) || p.StartsWith("CustomBeforeSealer", StringComparison.Ordinal)
                    || p.StartsWith("CustomAfterSealer", StringComparison.Ordinal) || p is "UsingSealerSdk" or "KubernetesVersion"
                    || (p.EndsWith("DependsOn", StringComparison.Ordinal) && targets.Contains(p[..^"DependsOn".Length]) && p is not "BuildDependsOn" and not "CleanDependsOn"));
            props.RemoveWhere(p => !Owned(p));
            foreach (string k in items.Keys.Where(k => k.StartsWith('_') || MSBuildItems.Contains(k)).ToList()) items.Remove(k);
            foreach (var meta in items.Values) meta.RemoveWhere(WellKnownMetadata.Contains);
            return new SdkVocabulary(props, items);
        }
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex PropertyRef();

    [GeneratedRegex(@"@\(([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex ItemRef();

    [GeneratedRegex(@"%\(([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex QualifiedMetadata();

    [GeneratedRegex(@"@\(([A-Za-z_][A-Za-z0-9_]*)->'([^']*)'")]
    private static partial Regex Transform();

    [GeneratedRegex(@"%\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex BareMetadata();

    [GeneratedRegex(@"(?:GetMetadata|ItemLocation\.List|ItemLocation\.Pairs|List|Pairs)\((?:[a-z]+, )?""(?<name>[A-Za-z]+)""\)")]
    private static partial Regex TaskMetadataRead();

    [GeneratedRegex(@"`([A-Za-z][A-Za-z0-9]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"<(?<item>[A-Z][A-Za-z]+) Include=(?<attrs>[^>]*)/>")]
    private static partial Regex ItemExample();

    [GeneratedRegex(@"\b([A-Z][A-Za-z]+)=""")]
    private static partial Regex Attribute();

    [GeneratedRegex(@"<Project\b[^>]*>")]
    private static partial Regex ProjectOpen();

    /// <summary>Microsoft.Build.xsd includes <c>MSBuild\Microsoft.Build.CommonTypes.xsd</c>: a backslash, which Windows (where
    /// Visual Studio reads it) takes as a separator. So does this resolver, so the schemas compile here as they do there.</summary>
    private sealed class WindowsPathResolver : XmlUrlResolver
    {
        public override Uri ResolveUri(Uri? baseUri, string? relativeUri) => base.ResolveUri(baseUri, relativeUri?.Replace('\\', '/'));
    }
}
