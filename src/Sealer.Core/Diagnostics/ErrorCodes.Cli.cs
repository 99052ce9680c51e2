namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>The CLI was given an unknown command.</summary>
    public const string UnknownCommand = "SEA5000";

    /// <summary>The CLI was given a bad or missing option.</summary>
    public const string BadCommandLine = "SEA5001";
}
