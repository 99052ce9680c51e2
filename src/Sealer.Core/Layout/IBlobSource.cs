using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>
/// Blobs to read by digest: a layout's directory (<see cref="OciLayout"/>) or an OCI archive read in place
/// (<see cref="ArchiveLayout"/>: a <c>.tar</c>, or the archive inside a site bundle, split or not). What a push and a
/// graph walk need, so that neither has to unpack an archive first.
/// </summary>
public interface IBlobSource
{
    /// <summary>Names the source in messages: a layout's directory or an archive's file.</summary>
    string Name { get; }

    /// <summary>True when the source holds the blob (with the expected size, when given).</summary>
    bool HasBlob(Digest digest, long? size = null);

    /// <summary>Reads a small blob (manifest, config) whole and checks its digest.</summary>
    byte[] ReadBlobBytes(Digest digest, long maxBytes = OciLimits.MaxManifestBytes);

    /// <summary>Where the blob's bytes lie. Throws <see cref="Diagnostics.ErrorCodes.BlobNotFound"/> if absent.</summary>
    BlobLocation Locate(Digest digest);

    /// <summary>The source's <c>index.json</c>.</summary>
    ImageIndex ReadIndex();

    /// <summary>
    /// True when every blob was verified as it was written (a layout: content-addressed, renamed in only after its digest
    /// was checked), false when a blob's bytes are unchecked until read (an archive someone copied).
    /// </summary>
    bool BlobsVerified { get; }
}
