namespace Sealer.Core.Diagnostics;

// Build machines other than Linux (Windows, macOS): locked files, file names, modes, line endings (SEA1310–1319).
public static partial class ErrorCodes
{
    // ---- build machines: Windows, macOS (SEA1310–1319) ----

    /// <summary>A file could not be replaced because another process holds it open (an antivirus scanner, an IDE, a file
    /// viewer, a running <c>sealer</c>), even after retrying for a few seconds. Nothing half-written was left: the file
    /// still holds its previous content. Close the other program (or wait for the scan) and run again.</summary>
    public const string FileInUse = "SEA1310";

    /// <summary>Warning: a shell script going into the cluster image has CRLF (Windows) line endings, which bash on the
    /// hosts cannot run (<c>$'\r': command not found</c>). Convert it to LF, e.g. <c>*.sh text eol=lf</c> in .gitattributes.</summary>
    public const string ScriptHasCrlf = "SEA1311";

    /// <summary>Two files go to rootfs paths that differ only by case (<c>charts/Web</c> and <c>charts/web</c>). On Windows
    /// and macOS they are one file, so the image would differ by build machine. Rename one, or give it another Destination.</summary>
    public const string RootfsPathCaseConflict = "SEA1312";

    /// <summary>The git index (<c>.git/index</c>) of the repository holding a project file could not be read while
    /// looking up the file's executable bit. Run <c>git status</c> to rewrite it, or set <c>Executable</c> on the item.</summary>
    public const string GitIndexUnreadable = "SEA1313";
}
