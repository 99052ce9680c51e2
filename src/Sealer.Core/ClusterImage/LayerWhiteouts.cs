namespace Sealer.Core.ClusterImage;

/// <summary>
/// OCI whiteouts, as a layer applies them over the layers below it: <c>DIR/.wh.NAME</c> deletes <c>DIR/NAME</c> and
/// everything under it; <c>DIR/.wh..wh..opq</c> deletes what the lower layers had under <c>DIR</c>. Used where the
/// merged rootfs is read from the layers without unpacking them (the hosts' unpack script applies the same rules).
/// </summary>
public static class LayerWhiteouts
{
    /// <summary>A tar member's path as the rootfs has it (no leading <c>./</c> or <c>/</c>).</summary>
    public static string PathOf(string memberName) => memberName.TrimStart('.', '/');

    /// <summary>
    /// When <paramref name="path"/> (<see cref="PathOf"/>) is a whiteout, removes from <paramref name="paths"/> what it
    /// deletes (an opaque one spares <paramref name="addedByThisLayer"/>) and returns true; otherwise false.
    /// </summary>
    public static bool Apply<TValue>(string path, Dictionary<string, TValue> paths, IReadOnlySet<string> addedByThisLayer)
    {
        int slash = path.LastIndexOf('/');
        string dir = slash < 0 ? "" : path[..(slash + 1)], leaf = path[(slash + 1)..];
        if (!leaf.StartsWith(".wh.", StringComparison.Ordinal)) return false;
        var gone = leaf == ".wh..wh..opq"
            ? paths.Keys.Where(k => k.StartsWith(dir, StringComparison.Ordinal) && !addedByThisLayer.Contains(k))
            : paths.Keys.Where(k => k == dir + leaf[4..] || k.StartsWith(dir + leaf[4..] + "/", StringComparison.Ordinal));
        foreach (var k in gone.ToList()) paths.Remove(k);
        return true;
    }
}
