using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Oci;

/// <summary>
/// A content digest, <c>algorithm:encoded</c> (image-spec descriptor.md). sha256 and sha512 are accepted; the encoded
/// part must be lowercase hex of the right length, so a digest can always be used safely as a file name.
/// </summary>
public readonly record struct Digest
{
    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }

    public string Encoded { get; }

    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Encoded}";

    public static Digest Parse(string value)
        => TryParse(value, out var d) ? d : throw new SealerException(ErrorCodes.InvalidDigest,
            $"'{value}' is not a valid digest: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.");

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null) return false;
        int colon = value.IndexOf(':');
        if (colon <= 0) return false;
        string alg = value[..colon], enc = value[(colon + 1)..];
        int len = alg switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (len < 0 || enc.Length != len) return false;
        foreach (char c in enc)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        }
        digest = new Digest(alg, enc);
        return true;
    }

    public static Digest Sha256(ReadOnlySpan<byte> data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    public static Digest FromHash(string algorithm, byte[] hash) => new(algorithm, Convert.ToHexStringLower(hash));

    public HashAlgorithmName HashAlgorithm => Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;

    /// <summary>Creates an incremental hash for this digest's algorithm, to verify content while it streams.</summary>
    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(HashAlgorithm);
}
