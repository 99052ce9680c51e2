namespace Sealer.Charts.Tests.Support;

/// <summary>Runs the real <c>sealer</c> CLI (built next to the tests) as a child process.</summary>
public static class SealerCli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "sealer.dll");

    public static HelmOracle.HelmResult Run(params string[] args) => HelmOracle.Run("dotnet", [Dll, .. args]);
}
