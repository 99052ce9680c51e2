using System.Buffers.Binary;

namespace Sealer.Core.Bundle;

/// <summary>
/// Where the image of a 64-bit little-endian ELF executable ends in its file: the furthest of its program segments, its
/// sections' contents and its section header table. Bytes after that are not part of the program (the loader never maps
/// them) — where a site bundle's payload starts.
/// </summary>
internal static class ElfImage
{
    /// <summary>The end offset, or null when <paramref name="file"/> is not a 64-bit little-endian ELF file.</summary>
    public static long? EndOf(Stream file)
    {
        Span<byte> h = stackalloc byte[64];
        file.Seek(0, SeekOrigin.Begin);
        if (file.ReadAtLeast(h, 64, throwOnEndOfStream: false) < 64) return null;
        if (h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F' || h[4] != 2 /* 64-bit */ || h[5] != 1 /* little endian */) return null;
        long phoff = BinaryPrimitives.ReadInt64LittleEndian(h[0x20..]);
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(h[0x28..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[0x36..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(h[0x38..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(h[0x3C..]);
        long length = file.Length;
        long end = Math.Max(64, Math.Max(phoff + (long)phentsize * phnum, shoff + (long)shentsize * shnum));
        if (phoff < 0 || shoff < 0 || end > length || phentsize < 0x38 && phnum > 0 || shentsize < 0x40 && shnum > 0) return null;

        // each table in one read (the program headers follow the ELF header; the section headers sit at the image's end)
        if (phnum > 0)
        {
            var table = ReadTable(file, phoff, phentsize * phnum);
            if (table is null) return null;
            for (int i = 0; i < phnum; i++)
            {
                var entry = table.AsSpan(i * phentsize, 0x38);
                long offset = BinaryPrimitives.ReadInt64LittleEndian(entry[0x08..]);
                long filesz = BinaryPrimitives.ReadInt64LittleEndian(entry[0x20..]);
                end = Math.Max(end, offset + filesz);
            }
        }
        if (shnum > 0)
        {
            var table = ReadTable(file, shoff, shentsize * shnum);
            if (table is null) return null;
            for (int i = 0; i < shnum; i++)
            {
                var entry = table.AsSpan(i * shentsize, 0x40);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(entry[0x04..]);
                if (type == 8) continue; // SHT_NOBITS (.bss) takes no file space
                long offset = BinaryPrimitives.ReadInt64LittleEndian(entry[0x18..]);
                long size = BinaryPrimitives.ReadInt64LittleEndian(entry[0x20..]);
                end = Math.Max(end, offset + size);
            }
        }
        return end <= length ? end : null;
    }

    /// <summary>A header table (at most 65535 entries of at most 65535 bytes each, bounded by the file: checked above).</summary>
    private static byte[]? ReadTable(Stream file, long offset, int length)
    {
        var table = new byte[length];
        file.Seek(offset, SeekOrigin.Begin);
        return file.ReadAtLeast(table, length, throwOnEndOfStream: false) == length ? table : null;
    }
}
