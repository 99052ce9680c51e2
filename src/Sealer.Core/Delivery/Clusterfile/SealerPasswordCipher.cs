using System.Security.Cryptography;
using System.Text;

namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// Sealer's password "encryption" (<c>spec.ssh.encrypted: true</c>, sealerio/sealer utils/hash/aes.go): AES-256-CBC with a
/// key compiled into Sealer (public, so this is obfuscation, not secrecy), the IV being the key's first 16 bytes, PKCS#7
/// padding, base64 text. We read such files as Sealer does; we never write them.
/// </summary>
public static class SealerPasswordCipher
{
    // utils/hash/aes.go: const aesKey = "ZU9WbzRMVXRQZ2pzTGowR2hNWUpIZjRkWld4aWVRWko=" (base64 of the 32-byte key)
    private static readonly byte[] Key = Convert.FromBase64String("ZU9WbzRMVXRQZ2pzTGowR2hNWUpIZjRkWld4aWVRWko=");

    /// <summary>The clear password, or null when <paramref name="cipherText"/> is not base64 of a Sealer-encrypted value.</summary>
    public static string? TryDecrypt(string cipherText)
    {
        byte[] data;
        try
        {
            data = Convert.FromBase64String(cipherText.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
        if (data.Length == 0 || data.Length % 16 != 0) return null;
        using var aes = Aes.Create();
        aes.Key = Key;
        try
        {
            byte[] plain = aes.DecryptCbc(data, Key.AsSpan(0, 16), PaddingMode.PKCS7);
            return Encoding.UTF8.GetString(plain);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Sealer's encryption (for tests and for users moving a password between files); same output as Sealer's AesEncrypt.</summary>
    public static string Encrypt(string password)
    {
        using var aes = Aes.Create();
        aes.Key = Key;
        return Convert.ToBase64String(aes.EncryptCbc(Encoding.UTF8.GetBytes(password), Key.AsSpan(0, 16), PaddingMode.PKCS7));
    }
}
