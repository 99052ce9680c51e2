namespace Sealer.Core.Diagnostics;

// Signing keys, cluster image signatures (cosign's format) and SBOMs: SEA5600–5649.
public static partial class ErrorCodes
{
    /// <summary>The signing or verification key cannot be used: the file is missing, not PEM, of an unknown kind, or not an ECDSA P-256 key.</summary>
    public const string SigningKeyUnreadable = "SEA5600";

    /// <summary>The private key is encrypted (cosign's format) and no password is set in COSIGN_PASSWORD.</summary>
    public const string SigningKeyPasswordMissing = "SEA5601";

    /// <summary>The encrypted private key does not open with the password in COSIGN_PASSWORD (wrong password, or the key file was altered).</summary>
    public const string SigningKeyWrongPassword = "SEA5602";

    /// <summary>The cluster image has no signature (no cosign signature referrer or <c>sha256-&lt;hex&gt;.sig</c> tag for its digest).</summary>
    public const string ImageUnsigned = "SEA5603";

    /// <summary>A signature's payload does not match the digest its descriptor records, or is not a cosign simple-signing document: it was altered.</summary>
    public const string SignaturePayloadTampered = "SEA5604";

    /// <summary>No signature of the image verifies with the given public key: it was signed with another key (or the signed payload was replaced).</summary>
    public const string SignatureWrongKey = "SEA5605";

    /// <summary>A signature verifies with the key but its payload names another image digest (a signature copied from another image).</summary>
    public const string SignatureDigestMismatch = "SEA5606";
}
