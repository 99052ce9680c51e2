namespace Sealer.TestSupport;

/// <summary>Shares one <see cref="ChartRepoServer"/> (nginx chart repositories + charts pushed with helm) across test classes.</summary>
[CollectionDefinition(Name)]
public sealed class ChartRepoCollection : ICollectionFixture<ChartRepoServer>
{
    public const string Name = "chart-repo";
}
