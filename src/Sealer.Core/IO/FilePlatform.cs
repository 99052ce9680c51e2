namespace Sealer.Core.IO;

/// <summary>
/// The file-system behaviour that differs between the build machines Sealer runs on (Linux, Windows, macOS), in one
/// place: whether files have Unix modes, whether names compare case-insensitively, which characters separate paths,
/// and the rename that replaces a file. <see cref="Current"/> is the machine's; tests give Windows' or macOS' answers
/// on Linux (<see cref="Windows"/>, a subclass whose <see cref="Move"/> fails like a locked file).
/// </summary>
public class FilePlatform
{
    protected FilePlatform(string name, bool hasUnixFileModes, bool ignoresCase, bool backslashSeparates)
    {
        Name = name;
        HasUnixFileModes = hasUnixFileModes;
        IgnoresCase = ignoresCase;
        BackslashSeparates = backslashSeparates;
    }

    /// <summary>The machine this process runs on.</summary>
    public static FilePlatform Current { get; } =
        OperatingSystem.IsWindows() ? new FilePlatform("windows", false, true, true)
        : OperatingSystem.IsMacOS() ? new FilePlatform("macos", true, true, false)
        : new FilePlatform("linux", true, false, false);

    /// <summary>Windows' rules (NTFS defaults): no Unix modes, case-insensitive names, <c>\</c> and <c>/</c> separate.</summary>
    public static FilePlatform Windows { get; } = new("windows", false, true, true);

    /// <summary>macOS' rules (APFS defaults): Unix modes, case-insensitive names, <c>/</c> separates.</summary>
    public static FilePlatform MacOS { get; } = new("macos", true, true, false);

    /// <summary>Linux' rules: Unix modes, case-sensitive names, <c>/</c> separates.</summary>
    public static FilePlatform Linux { get; } = new("linux", true, false, false);

    public string Name { get; }

    /// <summary>Files carry Unix permission bits (false on Windows: never call the Unix mode APIs there).</summary>
    public bool HasUnixFileModes { get; }

    /// <summary>Two names that differ only by case are one file (Windows, macOS by default).</summary>
    public bool IgnoresCase { get; }

    /// <summary><c>\</c> is a path separator (Windows), not a character of a name.</summary>
    public bool BackslashSeparates { get; }

    /// <summary>How names compare on this platform.</summary>
    public StringComparer NameComparer => IgnoresCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>Renames <paramref name="source"/> to <paramref name="destination"/>, replacing it when
    /// <paramref name="overwrite"/> (one rename: readers see the old file or the new one).</summary>
    public virtual void Move(string source, string destination, bool overwrite) => File.Move(source, destination, overwrite);

    /// <summary>Renames a directory (fails on Windows while a process has a file in it open without delete sharing).</summary>
    public virtual void MoveDirectory(string source, string destination) => Directory.Move(source, destination);

    /// <summary>Waits between two attempts of a rename another process blocked.</summary>
    public virtual void Delay(TimeSpan delay) => Thread.Sleep(delay);

    /// <summary>The file's Unix mode, or null where files have none (Windows) or the call is not possible.</summary>
    public virtual UnixFileMode? UnixFileMode(string path)
    {
        if (!HasUnixFileModes || OperatingSystem.IsWindows()) return null;
        return File.GetUnixFileMode(path);
    }

    /// <summary>Sets the file's Unix mode where files have one; nothing on Windows.</summary>
    public virtual void SetUnixFileMode(string path, UnixFileMode mode)
    {
        if (!HasUnixFileModes || OperatingSystem.IsWindows()) return;
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>
    /// True when <paramref name="ex"/> says another process holds the file (Windows: ERROR_SHARING_VIOLATION 32,
    /// ERROR_LOCK_VIOLATION 33, and ERROR_ACCESS_DENIED 5 from a rename over a file open without delete sharing,
    /// which .NET raises as <see cref="UnauthorizedAccessException"/>; Linux: ETXTBSY 26 on a running executable).
    /// Such a failure passes once the other process lets go: retry it, then say so.
    /// </summary>
    public virtual bool IsInUse(Exception ex) => ex switch
    {
        UnauthorizedAccessException => BackslashSeparates,
        IOException io when BackslashSeparates => (io.HResult & 0xFFFF) is 32 or 33,
        IOException io => (io.HResult & 0xFFFF) == 26,
        _ => false,
    };

    public override string ToString() => Name;
}
