using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Signing;

namespace Sealer.Artifacts.Tests.Signing;

/// <summary>Keys and signatures in cosign's formats, against cosign's and sigstore-rs's own test vectors (testdata/README.md).</summary>
public class SigningKeyTests
{
    private static string Data(string name) => Repo.Path("tests", "Sealer.Artifacts.Tests", "Signing", "testdata", name);

    [Fact]
    public void Scrypt_matches_the_RFC_7914_test_vectors()
    {
        Assert.Equal("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
            Convert.ToHexStringLower(Scrypt.DeriveKey([], [], 16, 1, 1, 64)));
        Assert.Equal("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
            Convert.ToHexStringLower(Scrypt.DeriveKey("password"u8, "NaCl"u8, 1024, 8, 16, 64)));
    }

    [Fact]
    public void Poly1305_matches_the_RFC_8439_test_vector()
    {
        // RFC 8439 §2.5.2
        var key = Convert.FromHexString("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        var tag = SecretBox.Poly1305("Cryptographic Forum Research Group"u8, key);
        Assert.Equal("a8061dc1305136c6c22b8baf0c0127a9", Convert.ToHexStringLower(tag));
    }

    [Fact]
    public void A_secretbox_opens_with_its_key_and_refuses_a_changed_byte()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32), nonce = RandomNumberGenerator.GetBytes(24);
        byte[] message = RandomNumberGenerator.GetBytes(200); // more than three Salsa20 blocks
        var box = SecretBox.Seal(message, nonce, key);
        Assert.Equal(message, SecretBox.Open(box, nonce, key));
        box[20] ^= 1;
        Assert.Null(SecretBox.Open(box, nonce, key));
    }

    [Theory]
    [InlineData("sigstore-rs-ecdsa_encrypted_private.key", "123")]
    [InlineData("sigstore-rs-cosign_generated_encrypted_empty_private.key", "")]
    [InlineData("cosign-keys_test-pemsigstorekey.key", "hello")]
    [InlineData("cosign-keys_test-pemcosignkey.key", "hello")]
    public void Cosigns_encrypted_private_keys_decrypt_to_P256_keys_that_sign(string file, string password)
    {
        using var key = SigningKeys.LoadPrivateKey(Data(file), () => password);
        Assert.Equal(256, key.KeySize);
        byte[] payload = SimpleSigning.CreatePayload("example.com/x", "sha256:" + new string('a', 64));
        var signature = key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        using var pub = SigningKeys.ParsePublicKey(SigningKeys.ExportPublicKeyPem(key), "pub");
        Assert.True(pub.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void A_wrong_password_is_SEA5602_and_a_missing_one_SEA5601()
    {
        var ex = Assert.Throws<SealerException>(() => SigningKeys.LoadPrivateKey(Data("cosign-keys_test-pemsigstorekey.key"), () => "not-hello"));
        Assert.Equal(ErrorCodes.SigningKeyWrongPassword, ex.Code);
        Assert.DoesNotContain("not-hello", ex.Message);
        ex = Assert.Throws<SealerException>(() => SigningKeys.LoadPrivateKey(Data("cosign-keys_test-pemsigstorekey.key"), () => null));
        Assert.Equal(ErrorCodes.SigningKeyPasswordMissing, ex.Code);
        Assert.Contains("COSIGN_PASSWORD", ex.Message);
    }

    [Fact]
    public void An_encrypted_SEC1_key_cosign_refuses_and_an_RSA_key_are_SEA5600()
    {
        var ex = Assert.Throws<SealerException>(() => SigningKeys.LoadPrivateKey(Data("cosign-keys_test-pemcosigneckey-sec1.key"), () => "hello"));
        Assert.Equal(ErrorCodes.SigningKeyUnreadable, ex.Code);
        using var rsa = RSA.Create(2048);
        ex = Assert.Throws<SealerException>(() => SigningKeys.ParsePrivateKey(PemEncoding.WriteString("PRIVATE KEY", rsa.ExportPkcs8PrivateKey()), "rsa.key", () => null));
        Assert.Equal(ErrorCodes.SigningKeyUnreadable, ex.Code);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        ex = Assert.Throws<SealerException>(() => SigningKeys.ParsePrivateKey(PemEncoding.WriteString("PRIVATE KEY", p384.ExportPkcs8PrivateKey()), "p384.key", () => null));
        Assert.Equal(ErrorCodes.SigningKeyUnreadable, ex.Code);
    }

    [Fact]
    public void Plain_PKCS8_and_SEC1_private_keys_load_and_a_public_key_is_not_a_private_key()
    {
        using var pkcs8 = SigningKeys.LoadPrivateKey(Data("sigstore-rs-ecdsa_private.key"), () => throw new InvalidOperationException("no password for a plain key"));
        string sec1 = PemEncoding.WriteString("EC PRIVATE KEY", pkcs8.ExportECPrivateKey());
        using var fromSec1 = SigningKeys.ParsePrivateKey(sec1, "sec1.key", () => null);
        Assert.Equal(pkcs8.ExportSubjectPublicKeyInfo(), fromSec1.ExportSubjectPublicKeyInfo());
        var ex = Assert.Throws<SealerException>(() => SigningKeys.ParsePrivateKey(SigningKeys.ExportPublicKeyPem(pkcs8), "cosign.pub", () => null));
        Assert.Equal(ErrorCodes.SigningKeyUnreadable, ex.Code);
    }

    [Fact]
    public void A_key_we_encrypt_opens_again_with_its_password()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string pem = SigningKeys.ExportEncryptedPrivateKeyPem(key, "s3cret", scryptN: 1024);
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", pem);
        using var back = SigningKeys.ParsePrivateKey(pem, "k", () => "s3cret");
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), back.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void The_payload_is_byte_for_byte_what_cosign_writes()
    {
        // sigstore/cosign pkg/cosign/obsolete_test.go TestObsoletePayload
        byte[] payload = SimpleSigning.CreatePayload("index.docker.io/namespace/image", "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec");
        Assert.Equal("""{"critical":{"identity":{"docker-reference":"index.docker.io/namespace/image"},"image":{"docker-manifest-digest":"sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"},"type":"cosign container image signature"},"optional":null}""",
            Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public void A_cosign_produced_signature_verifies_and_a_changed_payload_or_another_key_does_not()
    {
        byte[] payload = File.ReadAllBytes(Data("sigstore-rs-busybox.payload.json"));
        string signature = File.ReadAllText(Data("sigstore-rs-busybox.sig")).Trim();
        using var pub = SigningKeys.LoadPublicKey(Data("sigstore-rs-busybox.pub"));
        const string digest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
        var layer = new SignatureLayer("sha256:" + new string('0', 64), Payload(payload), payload, signature);

        var ok = CosignSignatures.Verify([layer], digest, pub, "busybox");
        Assert.Equal("registry-testing.svc.lan/busybox", ok.DockerReference);

        // the payload changed after signing, stored under its new digest: the signature no longer verifies
        byte[] changed = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(payload).Replace("f3cf", "f3ce"));
        var ex = Assert.Throws<SealerException>(() => CosignSignatures.Verify([layer with { Payload = changed, Layer = Payload(changed) }], digest.Replace("f3cf", "f3ce"), pub, "busybox"));
        Assert.Equal(ErrorCodes.SignatureWrongKey, ex.Code);
        // the payload bytes changed under the old descriptor: tampered
        ex = Assert.Throws<SealerException>(() => CosignSignatures.Verify([layer with { Payload = changed }], digest, pub, "busybox"));
        Assert.Equal(ErrorCodes.SignaturePayloadTampered, ex.Code);
        // another key
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        ex = Assert.Throws<SealerException>(() => CosignSignatures.Verify([layer], digest, other, "busybox"));
        Assert.Equal(ErrorCodes.SignatureWrongKey, ex.Code);
        // a valid signature for another image
        ex = Assert.Throws<SealerException>(() => CosignSignatures.Verify([layer], "sha256:" + new string('b', 64), pub, "busybox"));
        Assert.Equal(ErrorCodes.SignatureDigestMismatch, ex.Code);
        // none at all
        ex = Assert.Throws<SealerException>(() => CosignSignatures.Verify([], digest, pub, "busybox"));
        Assert.Equal(ErrorCodes.ImageUnsigned, ex.Code);
    }

    private static Sealer.Core.Oci.Descriptor Payload(byte[] bytes) => new()
    {
        MediaType = CosignSignatures.PayloadMediaType,
        Digest = Sealer.Core.Oci.Digest.Sha256(bytes).ToString(),
        Size = bytes.Length,
    };
}
