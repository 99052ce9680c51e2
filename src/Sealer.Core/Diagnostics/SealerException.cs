namespace Sealer.Core.Diagnostics;

/// <summary>
/// A user-facing failure. Every one carries a code from <see cref="ErrorCodes"/> (SEA1234), a message that says
/// what to do, and, where one exists, the file and line (of the .kubeproj, chart template, YAML or Clusterfile)
/// that caused it. MSBuild tasks map it to <c>Log.LogError(subcategory, code, ..., file, line, column, ...)</c>;
/// the CLI prints it as <c>file(line,col): error SEA1234: message</c>.
/// </summary>
public class SealerException : Exception
{
    public SealerException(string code, string message, string? file = null, int line = 0, int column = 0, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        File = file;
        Line = line;
        Column = column;
    }

    /// <summary>The stable error code, e.g. <c>SEA1001</c>. Codes are never renumbered.</summary>
    public string Code { get; }

    /// <summary>The file that caused the error, when one exists.</summary>
    public string? File { get; }

    /// <summary>1-based line in <see cref="File"/>, or 0.</summary>
    public int Line { get; }

    /// <summary>1-based column in <see cref="File"/>, or 0.</summary>
    public int Column { get; }

    /// <summary>Formats the error as compilers do: <c>file(line,col): error CODE: message</c>.</summary>
    public string ToDiagnosticString()
    {
        var location = File is null ? "" : Line > 0 ? (Column > 0 ? $"{File}({Line},{Column}): " : $"{File}({Line}): ") : $"{File}: ";
        return $"{location}error {Code}: {Message}";
    }
}
