using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Sealer.Core.Signing;

/// <summary>
/// scrypt (RFC 7914): PBKDF2-HMAC-SHA256 around ROMix with Salsa20/8 BlockMix. Cosign derives the key of its encrypted
/// private keys with it (N=32768 or 65536, r=8, p=1); .NET has no scrypt, and this is the whole algorithm.
/// </summary>
public static class Scrypt
{
    /// <summary>Derives <paramref name="length"/> bytes. <paramref name="n"/> must be a power of two above 1.</summary>
    public static byte[] DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int n, int r, int p, int length)
    {
        if (n < 2 || !BitOperations.IsPow2(n)) throw new ArgumentOutOfRangeException(nameof(n), "N must be a power of two greater than 1.");
        if (r < 1 || p < 1 || (long)r * p >= 1 << 30) throw new ArgumentOutOfRangeException(nameof(r), "r and p must be positive and r*p < 2^30.");
        if ((long)128 * r * n > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(n), "128*r*N is too large.");
        int blockBytes = 128 * r;
        byte[] b = Rfc2898DeriveBytes.Pbkdf2(password, salt, 1, HashAlgorithmName.SHA256, p * blockBytes);
        var x = new uint[32 * r];
        var v = new uint[32 * r * n];
        var scratch = new uint[32 * r];
        for (int i = 0; i < p; i++)
        {
            var block = b.AsSpan(i * blockBytes, blockBytes);
            for (int k = 0; k < x.Length; k++) x[k] = BinaryPrimitives.ReadUInt32LittleEndian(block[(k * 4)..]);
            RoMix(x, v, scratch, n, r);
            for (int k = 0; k < x.Length; k++) BinaryPrimitives.WriteUInt32LittleEndian(block[(k * 4)..], x[k]);
        }
        byte[] result = Rfc2898DeriveBytes.Pbkdf2(password, b, 1, HashAlgorithmName.SHA256, length);
        CryptographicOperations.ZeroMemory(b);
        Array.Clear(v);
        return result;
    }

    private static void RoMix(uint[] x, uint[] v, uint[] scratch, int n, int r)
    {
        int words = 32 * r;
        for (int i = 0; i < n; i++)
        {
            Array.Copy(x, 0, v, i * words, words);
            BlockMix(x, scratch, r);
        }
        for (int i = 0; i < n; i++)
        {
            int j = (int)(x[words - 16] & (uint)(n - 1)); // Integerify: the first word of the last 64-byte block
            for (int k = 0; k < words; k++) x[k] ^= v[j * words + k];
            BlockMix(x, scratch, r);
        }
    }

    /// <summary>BlockMix Salsa20/8 over 2r 64-byte blocks, in place (<paramref name="y"/> is scratch).</summary>
    private static void BlockMix(uint[] b, uint[] y, int r)
    {
        Span<uint> t = stackalloc uint[16];
        b.AsSpan((2 * r - 1) * 16, 16).CopyTo(t);
        for (int i = 0; i < 2 * r; i++)
        {
            for (int k = 0; k < 16; k++) t[k] ^= b[i * 16 + k];
            Salsa208(t);
            // even blocks go to the first half, odd blocks to the second
            int dest = (i % 2 == 0 ? i / 2 : r + i / 2) * 16;
            t.CopyTo(y.AsSpan(dest, 16));
        }
        Array.Copy(y, b, 32 * r);
    }

    private static void Salsa208(Span<uint> b)
    {
        Span<uint> x = stackalloc uint[16];
        b.CopyTo(x);
        for (int i = 0; i < 8; i += 2)
        {
            Salsa.DoubleRound(x);
        }
        for (int i = 0; i < 16; i++) b[i] += x[i];
    }
}

/// <summary>The Salsa20 core shared by scrypt's Salsa20/8 and XSalsa20.</summary>
internal static class Salsa
{
    public static void DoubleRound(Span<uint> x)
    {
        x[4] ^= BitOperations.RotateLeft(x[0] + x[12], 7); x[8] ^= BitOperations.RotateLeft(x[4] + x[0], 9);
        x[12] ^= BitOperations.RotateLeft(x[8] + x[4], 13); x[0] ^= BitOperations.RotateLeft(x[12] + x[8], 18);
        x[9] ^= BitOperations.RotateLeft(x[5] + x[1], 7); x[13] ^= BitOperations.RotateLeft(x[9] + x[5], 9);
        x[1] ^= BitOperations.RotateLeft(x[13] + x[9], 13); x[5] ^= BitOperations.RotateLeft(x[1] + x[13], 18);
        x[14] ^= BitOperations.RotateLeft(x[10] + x[6], 7); x[2] ^= BitOperations.RotateLeft(x[14] + x[10], 9);
        x[6] ^= BitOperations.RotateLeft(x[2] + x[14], 13); x[10] ^= BitOperations.RotateLeft(x[6] + x[2], 18);
        x[3] ^= BitOperations.RotateLeft(x[15] + x[11], 7); x[7] ^= BitOperations.RotateLeft(x[3] + x[15], 9);
        x[11] ^= BitOperations.RotateLeft(x[7] + x[3], 13); x[15] ^= BitOperations.RotateLeft(x[11] + x[7], 18);
        x[1] ^= BitOperations.RotateLeft(x[0] + x[3], 7); x[2] ^= BitOperations.RotateLeft(x[1] + x[0], 9);
        x[3] ^= BitOperations.RotateLeft(x[2] + x[1], 13); x[0] ^= BitOperations.RotateLeft(x[3] + x[2], 18);
        x[6] ^= BitOperations.RotateLeft(x[5] + x[4], 7); x[7] ^= BitOperations.RotateLeft(x[6] + x[5], 9);
        x[4] ^= BitOperations.RotateLeft(x[7] + x[6], 13); x[5] ^= BitOperations.RotateLeft(x[4] + x[7], 18);
        x[11] ^= BitOperations.RotateLeft(x[10] + x[9], 7); x[8] ^= BitOperations.RotateLeft(x[11] + x[10], 9);
        x[9] ^= BitOperations.RotateLeft(x[8] + x[11], 13); x[10] ^= BitOperations.RotateLeft(x[9] + x[8], 18);
        x[12] ^= BitOperations.RotateLeft(x[15] + x[14], 7); x[13] ^= BitOperations.RotateLeft(x[12] + x[15], 9);
        x[14] ^= BitOperations.RotateLeft(x[13] + x[12], 13); x[15] ^= BitOperations.RotateLeft(x[14] + x[13], 18);
    }
}
