namespace Sealer.TestSupport;

/// <summary>
/// Shares one <see cref="TestEnvironment"/> across test classes: <c>[Collection(RegistryCollection.Name)]</c>. xunit finds
/// collection definitions only in the test assembly itself, so tests/Directory.Build.props compiles this file into every
/// test project (and Sealer.TestSupport leaves it out).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registries";
}
