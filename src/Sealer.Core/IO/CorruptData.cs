namespace Sealer.Core.IO;

/// <summary>
/// What the readers of tar, gzip and zstd streams throw on damaged input: each caller turns it into its own coded error
/// ("truncated or not an archive: copy it again"). One list, so a reader that missed one (a zstd frame error, a tar
/// header number too large for its field: found by the hostile-input tests, docs/hostile-input.md) does not surface as
/// a crash.
/// </summary>
public static class CorruptData
{
    public static bool Is(Exception ex) =>
        ex is InvalidDataException or EndOfStreamException or FormatException or OverflowException or ZstdSharp.ZstdException;
}
