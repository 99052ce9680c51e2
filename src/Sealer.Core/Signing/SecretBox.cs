using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Sealer.Core.Signing;

/// <summary>
/// NaCl's <c>crypto_secretbox</c> (XSalsa20 + Poly1305), as Go's <c>golang.org/x/crypto/nacl/secretbox</c> lays it out:
/// the 16-byte tag, then the ciphertext. Cosign seals its private keys with it; keys are a few hundred bytes, so
/// Poly1305 runs on <see cref="BigInteger"/> for clarity rather than speed.
/// </summary>
public static class SecretBox
{
    public const int KeySize = 32, NonceSize = 24, TagSize = 16;

    private static readonly uint[] Sigma = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"
    private static readonly BigInteger P1305 = (BigInteger.One << 130) - 5;
    private static readonly BigInteger Mask128 = (BigInteger.One << 128) - 1;
    private static readonly BigInteger Clamp = new(Convert.FromHexString("ffffff0ffcffff0ffcffff0ffcffff0f"), isUnsigned: true, isBigEndian: false);

    /// <summary>Encrypts and authenticates <paramref name="message"/>: tag || ciphertext.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        Check(nonce, key);
        byte[] stream = XSalsa20Stream(key, nonce, 32 + message.Length);
        var box = new byte[TagSize + message.Length];
        for (int i = 0; i < message.Length; i++) box[TagSize + i] = (byte)(message[i] ^ stream[32 + i]);
        Poly1305(box.AsSpan(TagSize), stream.AsSpan(0, 32)).CopyTo(box, 0);
        CryptographicOperations.ZeroMemory(stream);
        return box;
    }

    /// <summary>Checks the tag and decrypts; null when the box was not sealed with this key and nonce (or was altered).</summary>
    public static byte[]? Open(ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        Check(nonce, key);
        if (box.Length < TagSize) return null;
        var ciphertext = box[TagSize..];
        byte[] stream = XSalsa20Stream(key, nonce, 32 + ciphertext.Length);
        try
        {
            byte[] tag = Poly1305(ciphertext, stream.AsSpan(0, 32));
            if (!CryptographicOperations.FixedTimeEquals(tag, box[..TagSize])) return null;
            var message = new byte[ciphertext.Length];
            for (int i = 0; i < message.Length; i++) message[i] = (byte)(ciphertext[i] ^ stream[32 + i]);
            return message;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(stream);
        }
    }

    private static void Check(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (nonce.Length != NonceSize) throw new ArgumentException($"The nonce must be {NonceSize} bytes.", nameof(nonce));
        if (key.Length != KeySize) throw new ArgumentException($"The key must be {KeySize} bytes.", nameof(key));
    }

    /// <summary>The XSalsa20 key stream: HSalsa20 of the key and the nonce's first 16 bytes, then Salsa20 with the last 8.</summary>
    internal static byte[] XSalsa20Stream(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, int length)
    {
        Span<uint> state = stackalloc uint[16];
        Setup(state, key, nonce[..16]);
        Span<uint> x = stackalloc uint[16];
        state.CopyTo(x);
        for (int i = 0; i < 10; i++) Salsa.DoubleRound(x);
        Span<uint> subkey = [x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]];
        Span<byte> subkeyBytes = stackalloc byte[32];
        for (int i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32LittleEndian(subkeyBytes[(i * 4)..], subkey[i]);

        Span<byte> salsaNonce = stackalloc byte[16];
        nonce[16..].CopyTo(salsaNonce); // the last 8 bytes of the nonce, then a 64-bit block counter from 0
        var output = new byte[length];
        Span<byte> block = stackalloc byte[64];
        for (ulong counter = 0, offset = 0; offset < (ulong)length; counter++, offset += 64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(salsaNonce[8..], counter);
            Setup(state, subkeyBytes, salsaNonce);
            state.CopyTo(x);
            for (int i = 0; i < 10; i++) Salsa.DoubleRound(x);
            for (int i = 0; i < 16; i++) BinaryPrimitives.WriteUInt32LittleEndian(block[(i * 4)..], x[i] + state[i]);
            int n = (int)Math.Min(64UL, (ulong)length - offset);
            block[..n].CopyTo(output.AsSpan((int)offset, n));
        }
        CryptographicOperations.ZeroMemory(subkeyBytes);
        return output;
    }

    private static void Setup(Span<uint> s, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input16)
    {
        s[0] = Sigma[0]; s[5] = Sigma[1]; s[10] = Sigma[2]; s[15] = Sigma[3];
        for (int i = 0; i < 4; i++)
        {
            s[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(i * 4)..]);
            s[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + i * 4)..]);
            s[6 + i] = BinaryPrimitives.ReadUInt32LittleEndian(input16[(i * 4)..]);
        }
    }

    /// <summary>Poly1305 (RFC 8439 §2.5) of <paramref name="message"/> under the one-time <paramref name="key"/> (r || s).</summary>
    internal static byte[] Poly1305(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key)
    {
        var r = new BigInteger(key[..16], isUnsigned: true, isBigEndian: false) & Clamp;
        var s = new BigInteger(key[16..32], isUnsigned: true, isBigEndian: false);
        BigInteger acc = BigInteger.Zero;
        Span<byte> chunk = stackalloc byte[17];
        for (int i = 0; i < message.Length; i += 16)
        {
            int n = Math.Min(16, message.Length - i);
            chunk.Clear();
            message.Slice(i, n).CopyTo(chunk);
            chunk[n] = 1;
            acc = (acc + new BigInteger(chunk[..(n + 1)], isUnsigned: true, isBigEndian: false)) * r % P1305;
        }
        acc = (acc + s) & Mask128;
        var tag = new byte[16];
        acc.TryWriteBytes(tag, out _, isUnsigned: true, isBigEndian: false);
        return tag;
    }
}
