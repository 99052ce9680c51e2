namespace Sealer.Core.Delivery;

/// <summary>What the registry garbage collection removed (or would remove) on one registry host.</summary>
public sealed record RegistryGcHost(string Host, IReadOnlyList<string> RegistryBlobs, long RegistryBytes, IReadOnlyList<string> StoreBlobs, long StoreBytes,
    int BlobsKept, IReadOnlyList<string> ImagesKept, string? Skipped)
{
    public long BytesFreed => RegistryBytes + StoreBytes;
}
