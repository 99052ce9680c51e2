using Sealer.Core.Semver;

namespace Sealer.Core.Templating.Sprig;

/// <summary>A Masterminds/semver v3 version as a template value (<c>semver "1.2.3"</c>): <see cref="SemanticVersion"/> with Go's methods.</summary>
public sealed class SemverVersion(SemanticVersion value) : IGoObject, IGoPlainValue, IComparable<SemverVersion>
{
    public SemanticVersion Value { get; } = value;

    public static SemverVersion Parse(string v) =>
        SemanticVersion.TryParse(v, out var r) ? new SemverVersion(r) : throw new GoFuncException("Invalid Semantic Version");

    public int CompareTo(SemverVersion? o) => o is null ? 1 : Value.CompareTo(o.Value);

    public override string ToString() => Value.ToString();

    public string GoTypeName => "*semver.Version";

    /// <summary>JSON/YAML form: the version string (Masterminds' MarshalJSON).</summary>
    public object? ToPlainValue() => ToString();

    public GoFunc? GetMethod(string name) => name switch
    {
        "Major" => GoFunc.Create(name, [], _ => Value.Major),
        "Minor" => GoFunc.Create(name, [], _ => Value.Minor),
        "Patch" => GoFunc.Create(name, [], _ => Value.Patch),
        "Prerelease" => GoFunc.Create(name, [], _ => Value.Prerelease),
        "Metadata" => GoFunc.Create(name, [], _ => Value.Metadata),
        "Original" => GoFunc.Create(name, [], _ => Value.Original),
        "String" => GoFunc.Create(name, [], _ => ToString()),
        "Compare" => GoFunc.Create(name, [GoType.Any], a => (long)Math.Sign(CompareTo(a[0] as SemverVersion))),
        "LessThan" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) < 0),
        "GreaterThan" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) > 0),
        "Equal" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) == 0),
        "IncMajor" => GoFunc.Create(name, [], _ => Inc(new SemanticVersion { Major = Value.Major + 1, Original = $"{Value.Major + 1}.0.0" })),
        "IncMinor" => GoFunc.Create(name, [], _ => Inc(new SemanticVersion { Major = Value.Major, Minor = Value.Minor + 1, Original = $"{Value.Major}.{Value.Minor + 1}.0" })),
        "IncPatch" => GoFunc.Create(name, [], _ => Inc(new SemanticVersion
        {
            Major = Value.Major, Minor = Value.Minor, Patch = Value.Prerelease.Length > 0 ? Value.Patch : Value.Patch + 1,
            Original = $"{Value.Major}.{Value.Minor}.{Value.Patch + 1}",
        })),
        _ => null,
    };

    private static SemverVersion Inc(SemanticVersion v) => new(v);

    public bool TryGetField(string name, out object? value)
    {
        value = null;
        return false;
    }
}

internal static class SprigSemver
{
    public static void Register(Dictionary<string, GoFunc> m)
    {
        m["semver"] = GoFunc.Create("semver", [GoType.String], a => SemverVersion.Parse((string)a[0]!));
        m["semverCompare"] = GoFunc.Create("semverCompare", [GoType.String, GoType.String], a => CheckConstraint((string)a[0]!, (string)a[1]!));
    }

    private static bool CheckConstraint(string constraint, string version)
    {
        try
        {
            return SemverConstraint.Check(constraint, version);
        }
        catch (FormatException e)
        {
            throw new GoFuncException(e.Message);
        }
    }
}
