namespace Sealer.RegistryServer;

/// <summary>Route names, as distribution's <c>v2.RouteName*</c>.</summary>
public enum RouteName
{
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,
    BlobUpload,
    BlobUploadChunk,
    Health,
    Referrers,
}

/// <summary>
/// A parsed request path. Parsing is explicit and works on the raw request target (never a decoded or dot-normalized
/// path): a path with '%', '\', control characters, or empty/'.'/'..' segments is rejected before any lookup.
/// </summary>
public readonly record struct V2Route(RouteName Name, string Repository, string Reference)
{
    /// <summary>Parses <paramref name="path"/> (the raw path, without query). Null with <paramref name="error"/> when it is not a route.</summary>
    public static V2Route? Parse(string path, out ErrorDescriptor? error)
    {
        error = null;
        if (path is "/healthz") return new V2Route(RouteName.Health, "", "");
        if (path is "/v2" or "/v2/") return new V2Route(RouteName.Base, "", "");
        if (path is "/v2/_catalog") return new V2Route(RouteName.Catalog, "", "");
        if (!path.StartsWith("/v2/", StringComparison.Ordinal)) return null;
        string rest = path[4..];
        foreach (char c in rest)
        {
            if (c is '%' or '\\' || char.IsControl(c) || char.IsWhiteSpace(c) || c > 0x7e)
            {
                error = ErrorDescriptors.NameInvalid;
                return null;
            }
        }
        if (rest.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            return Named(RouteName.Tags, rest[..^"/tags/list".Length], "", out error);
        }
        int i = rest.LastIndexOf("/referrers/", StringComparison.Ordinal);
        if (i > 0) return Named(RouteName.Referrers, rest[..i], rest[(i + "/referrers/".Length)..], out error);
        i = rest.LastIndexOf("/manifests/", StringComparison.Ordinal);
        if (i > 0) return Named(RouteName.Manifest, rest[..i], rest[(i + "/manifests/".Length)..], out error);
        if (rest.EndsWith("/blobs/uploads/", StringComparison.Ordinal) || rest.EndsWith("/blobs/uploads", StringComparison.Ordinal))
        {
            return Named(RouteName.BlobUpload, rest[..rest.LastIndexOf("/blobs/uploads", StringComparison.Ordinal)], "", out error);
        }
        i = rest.LastIndexOf("/blobs/uploads/", StringComparison.Ordinal);
        if (i > 0) return Named(RouteName.BlobUploadChunk, rest[..i], rest[(i + "/blobs/uploads/".Length)..], out error);
        i = rest.LastIndexOf("/blobs/", StringComparison.Ordinal);
        if (i > 0) return Named(RouteName.Blob, rest[..i], rest[(i + "/blobs/".Length)..], out error);
        return null;
    }

    private static V2Route? Named(RouteName route, string name, string reference, out ErrorDescriptor? error)
    {
        error = null;
        if (!IsSafeName(name) || reference.Contains('/'))
        {
            error = ErrorDescriptors.NameInvalid;
            return null;
        }
        return new V2Route(route, name, reference);
    }

    /// <summary>Segments must be non-empty, not '.' or '..', of [A-Za-z0-9._:-] (':' for a host:port domain); at most 255 characters.</summary>
    internal static bool IsSafeName(string name)
    {
        if (name.Length is 0 or > 255) return false;
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..") return false;
            foreach (char c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':')) return false;
            }
        }
        return true;
    }
}
