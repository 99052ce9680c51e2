using System.Xml;
using Sealer.TestSupport;

namespace Sealer.Architecture.Tests;

/// <summary>
/// The SDK's MSBuild files are well-formed XML. A <c>--</c> inside an XML comment (an option such as
/// <c>--images</c> quoted in a note) makes every packed SDK fail to load, with an error far from the cause (MSB4022 in
/// the .NET SDK's own props); it happened twice. This catches it in a second instead of in the packed-SDK tests.
/// </summary>
public class MSBuildFileTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        string root = Repo.Path("src");
        foreach (var f in Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal) || f.EndsWith("proj", StringComparison.Ordinal))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Repo.Root, f));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_MSBuild_file_of_the_SDK_is_well_formed_XML(string file)
    {
        var doc = new XmlDocument();
        var ex = Record.Exception(() => doc.Load(Repo.Path(file)));
        Assert.True(ex is null, $"{file}: {ex?.Message} (an XML comment must not contain '--')");
    }
}
