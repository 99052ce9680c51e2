using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Signing;

/// <summary>
/// Loads the keys cosign uses: PEM private keys — cosign's encrypted format (<c>ENCRYPTED SIGSTORE PRIVATE KEY</c> or the
/// older <c>ENCRYPTED COSIGN PRIVATE KEY</c>: JSON with a scrypt KDF and a nacl/secretbox around PKCS#8 DER), plain
/// PKCS#8 (<c>PRIVATE KEY</c>) and SEC 1 (<c>EC PRIVATE KEY</c>) — and <c>PUBLIC KEY</c> (SubjectPublicKeyInfo).
/// Only ECDSA P-256, cosign's default. The password of an encrypted key comes from the environment
/// (<see cref="PasswordVariable"/>), never from a command-line value, and never appears in a message.
/// </summary>
public static class SigningKeys
{
    /// <summary>The environment variable cosign reads the key password from.</summary>
    public const string PasswordVariable = "COSIGN_PASSWORD";

    public const string SigstoreEncryptedLabel = "ENCRYPTED SIGSTORE PRIVATE KEY", CosignEncryptedLabel = "ENCRYPTED COSIGN PRIVATE KEY";

    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>The password from <see cref="PasswordVariable"/> (null when unset).</summary>
    public static string? PasswordFromEnvironment() => Environment.GetEnvironmentVariable(PasswordVariable);

    /// <summary>Reads a private key file; <paramref name="password"/> is asked only for an encrypted key (default: the environment).</summary>
    public static ECDsa LoadPrivateKey(string path, Func<string?>? password = null)
        => ParsePrivateKey(ReadKeyFile(path), path, password ?? PasswordFromEnvironment);

    public static ECDsa LoadPublicKey(string path) => ParsePublicKey(ReadKeyFile(path), path);

    private static string ReadKeyFile(string path)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The key file '{path}' does not exist.", path);
        return File.ReadAllText(path);
    }

    public static ECDsa ParsePrivateKey(string pem, string where, Func<string?> password)
    {
        var (label, der) = FindPem(pem, where);
        try
        {
            switch (label)
            {
                case SigstoreEncryptedLabel or CosignEncryptedLabel:
                {
                    string? pass = password();
                    if (pass is null)
                    {
                        throw new SealerException(ErrorCodes.SigningKeyPasswordMissing,
                            $"The private key '{where}' is encrypted; set its password in the {PasswordVariable} environment variable (empty for a key generated without one).", where);
                    }
                    byte[] pkcs8 = Decrypt(der, pass, where);
                    try
                    {
                        return Checked(k => k.ImportPkcs8PrivateKey(pkcs8, out _), where);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(pkcs8);
                    }
                }
                case "PRIVATE KEY":
                    return Checked(k => k.ImportPkcs8PrivateKey(der, out _), where);
                case "EC PRIVATE KEY":
                    return Checked(k => k.ImportECPrivateKey(der, out _), where);
                default:
                    throw new SealerException(ErrorCodes.SigningKeyUnreadable,
                        $"'{where}' holds a '{label}' PEM block, not a private key. Give cosign's key (cosign.key: {SigstoreEncryptedLabel}) or a PKCS#8/EC PRIVATE KEY.", where);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    public static ECDsa ParsePublicKey(string pem, string where)
    {
        var (label, der) = FindPem(pem, where);
        if (label != "PUBLIC KEY")
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"'{where}' holds a '{label}' PEM block, not a PUBLIC KEY. Give the public key (cosign.pub).", where);
        }
        return Checked(k => k.ImportSubjectPublicKeyInfo(der, out _), where);
    }

    /// <summary>The public half as PEM (<c>PUBLIC KEY</c>), as cosign writes <c>cosign.pub</c>.</summary>
    public static string ExportPublicKeyPem(ECDsa key) => PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()) + "\n";

    /// <summary>Writes <paramref name="key"/> in cosign's encrypted format (scrypt N=32768 r=8 p=1, nacl/secretbox), as <c>cosign generate-key-pair</c> does.</summary>
    public static string ExportEncryptedPrivateKeyPem(ECDsa key, string password, int scryptN = 32768)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(32), nonce = RandomNumberGenerator.GetBytes(SecretBox.NonceSize);
        byte[] secret = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(password), salt, scryptN, 8, 1, SecretBox.KeySize);
        byte[] pkcs8 = key.ExportPkcs8PrivateKey();
        var box = SecretBox.Seal(pkcs8, nonce, secret);
        CryptographicOperations.ZeroMemory(pkcs8);
        CryptographicOperations.ZeroMemory(secret);
        var doc = new EncryptedKey
        {
            Kdf = new EncryptedKeyKdf { Name = "scrypt", Params = new ScryptParams { N = scryptN, R = 8, P = 1 }, Salt = Convert.ToBase64String(salt) },
            Cipher = new EncryptedKeyCipher { Name = "nacl/secretbox", Nonce = Convert.ToBase64String(nonce) },
            Ciphertext = Convert.ToBase64String(box),
        };
        return PemEncoding.WriteString(SigstoreEncryptedLabel, JsonSerializer.SerializeToUtf8Bytes(doc, SigningJsonContext.Default.EncryptedKey)) + "\n";
    }

    private static (string Label, byte[] Der) FindPem(string pem, string where)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"'{where}' is not a PEM key file (no -----BEGIN ...----- block).", where);
        }
        string label = pem[fields.Label].ToString();
        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out int written) || written != der.Length)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The PEM block of '{where}' is not valid base64.", where);
        }
        return (label, der);
    }

    private static byte[] Decrypt(byte[] json, string password, string where)
    {
        EncryptedKey? doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, SigningJsonContext.Default.EncryptedKey);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The encrypted key '{where}' is not cosign's JSON key document: {ex.Message}", where, inner: ex);
        }
        if (doc?.Kdf is not { Name: "scrypt", Params: { } p, Salt: { } salt } || doc.Cipher is not { Name: "nacl/secretbox", Nonce: { } nonce } || doc.Ciphertext is null)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable,
                $"The encrypted key '{where}' uses kdf '{doc?.Kdf?.Name}' and cipher '{doc?.Cipher?.Name}'; only scrypt with nacl/secretbox (cosign's format) is supported.", where);
        }
        if (p.N is < 2 or > 1 << 20 || (p.N & (p.N - 1)) != 0 || p.R is < 1 or > 32 || p.P is < 1 or > 16)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The encrypted key '{where}' has scrypt parameters N={p.N} r={p.R} p={p.P} outside what cosign writes.", where);
        }
        byte[] saltBytes, nonceBytes, box;
        try
        {
            saltBytes = Convert.FromBase64String(salt);
            nonceBytes = Convert.FromBase64String(nonce);
            box = Convert.FromBase64String(doc.Ciphertext);
        }
        catch (FormatException ex)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The encrypted key '{where}' has a salt, nonce or ciphertext that is not base64.", where, inner: ex);
        }
        if (nonceBytes.Length != SecretBox.NonceSize)
        {
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"The encrypted key '{where}' has a {nonceBytes.Length}-byte nonce; nacl/secretbox needs {SecretBox.NonceSize}.", where);
        }
        byte[] secret = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(password), saltBytes, p.N, p.R, p.P, SecretBox.KeySize);
        try
        {
            return SecretBox.Open(box, nonceBytes, secret)
                ?? throw new SealerException(ErrorCodes.SigningKeyWrongPassword,
                    $"The private key '{where}' does not open with the password in {PasswordVariable}: the password is wrong or the key file was altered.", where);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static ECDsa Checked(Action<ECDsa> import, string where)
    {
        var key = ECDsa.Create();
        try
        {
            import(key);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new SealerException(ErrorCodes.SigningKeyUnreadable,
                $"'{where}' is not an ECDSA key ({ex.Message.TrimEnd('.')}). Sealer signs and verifies with ECDSA P-256 keys, cosign's default (cosign generate-key-pair).", where, inner: ex);
        }
        if (key.ExportParameters(false).Curve.Oid.Value != P256Oid)
        {
            string curve = key.ExportParameters(false).Curve.Oid.FriendlyName ?? key.KeySize + "-bit";
            key.Dispose();
            throw new SealerException(ErrorCodes.SigningKeyUnreadable, $"'{where}' is an ECDSA {curve} key; Sealer signs with P-256 (cosign's default).", where);
        }
        return key;
    }
}

/// <summary>cosign's encrypted private key document (the JSON inside <c>ENCRYPTED SIGSTORE PRIVATE KEY</c>).</summary>
public sealed record EncryptedKey
{
    [JsonPropertyName("kdf")] public EncryptedKeyKdf? Kdf { get; init; }
    [JsonPropertyName("cipher")] public EncryptedKeyCipher? Cipher { get; init; }
    [JsonPropertyName("ciphertext")] public string? Ciphertext { get; init; }
}

public sealed record EncryptedKeyKdf
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("params")] public ScryptParams? Params { get; init; }
    [JsonPropertyName("salt")] public string? Salt { get; init; }
}

public sealed record ScryptParams
{
    [JsonPropertyName("N")] public int N { get; init; }
    [JsonPropertyName("r")] public int R { get; init; }
    [JsonPropertyName("p")] public int P { get; init; }
}

public sealed record EncryptedKeyCipher
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("nonce")] public string? Nonce { get; init; }
}
