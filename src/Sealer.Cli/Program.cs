namespace Sealer.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("sealer: no subcommands yet");
        return 2;
    }
}
