using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;
using Sealer.Core.Signing;

namespace Sealer.Artifacts.Tests.Signing;

/// <summary>The built-in registry (<c>sealer registry serve --allow-push</c>) as a process on a free port of this helper's range.</summary>
public sealed class BuiltInRegistryFixture : IDisposable
{
    private readonly Process _server;

    public BuiltInRegistryFixture()
    {
        OciLayout.OpenOrCreate(Tmp.Sub("served"));
        Port = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { SealerCli.Dll, "registry", "serve", "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--layout", Tmp.Sub("served"), "--writable-layout", Tmp.Sub("pushed"), "--allow-push" })
        {
            psi.ArgumentList.Add(a);
        }
        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var until = DateTime.UtcNow.AddSeconds(60); ; Thread.Sleep(200))
        {
            try
            {
                if (http.GetAsync($"http://{Address}/v2/").GetAwaiter().GetResult().IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < until && !_server.HasExited)
            {
            }
        }
    }

    public TempDir Tmp { get; } = new();

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>A free loopback port from 5347 up (5300 + the cksum of "sign" mod 700), never the shared registries' ports.</summary>
    private static int FreePort()
    {
        for (int port = 5347; port < 5400; port++)
        {
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port in 5347-5399");
    }

    public void Dispose()
    {
        try { _server.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _server.Dispose();
        Tmp.Dispose();
    }
}

/// <summary>Signing cluster images in the store and verifying them there, on Debian's docker-registry and on our built-in registry.</summary>
[Collection(RegistryCollection.Name)]
public class SignedImageTests(RegistryFixture fixture, BuiltInRegistryFixture builtIn) : IClassFixture<BuiltInRegistryFixture>
{
    private const string Name = "example.com/signed/cluster:v1";

    private static (ClusterImageStore Store, StoredImage Image) NewStore(TempDir tmp, int seed = 3)
    {
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        return (store, TestImages.AddToStore(store, Name, multiArch: true, seed: seed));
    }

    private static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    [Fact]
    public void A_signed_store_image_verifies_with_its_key_and_not_with_another()
    {
        using var tmp = new TempDir();
        var (store, image) = NewStore(tmp);
        using var key = NewKey();
        using var other = NewKey();

        var ex = Assert.Throws<SealerException>(() => ImageSignatures.Verify(store, Name, key));
        Assert.Equal(ErrorCodes.ImageUnsigned, ex.Code);

        ImageSignatures.Sign(store, Name, key);
        var ok = ImageSignatures.Verify(store, Name, key);
        Assert.Equal(image.Digest, ok.ImageDigest);
        Assert.Equal("example.com/signed/cluster", ok.DockerReference);

        ex = Assert.Throws<SealerException>(() => ImageSignatures.Verify(store, Name, other));
        Assert.Equal(ErrorCodes.SignatureWrongKey, ex.Code);
        // the signature lives beside the image: inspect lists it as a referrer
        Assert.Contains(ClusterImageInspector.Inspect(store, Name).Referrers!, r => r.ArtifactType == CosignSignatures.ArtifactType);
    }

    [Fact]
    public void A_payload_altered_on_disk_is_SEA5604()
    {
        using var tmp = new TempDir();
        var (store, _) = NewStore(tmp);
        using var key = NewKey();
        var signature = ImageSignatures.Sign(store, Name, key);
        var manifest = OciJsonContext.FromBytes(store.Layout.ReadBlobBytes(signature.ParsedDigest), OciJsonContext.Default.ImageManifest, "sig");
        string path = store.Layout.BlobPath(manifest.Layers[0].ParsedDigest);
        File.SetAttributes(path, FileAttributes.Normal);
        File.WriteAllText(path, File.ReadAllText(path).Replace("example.com", "evil.example"));

        var ex = Assert.Throws<SealerException>(() => ImageSignatures.Verify(store, Name, key));
        Assert.Equal(ErrorCodes.SignaturePayloadTampered, ex.Code);
    }

    [Fact]
    public void A_signature_moved_onto_another_image_is_SEA5606()
    {
        using var tmp = new TempDir();
        var (store, image) = NewStore(tmp);
        using var key = NewKey();
        var other = TestImages.AddToStore(store, "example.com/signed/other:v1", seed: 9);
        // a valid signature of the first image, re-attached with the other image as subject
        var (payload, sig) = CosignSignatures.Sign(key, "example.com/signed/cluster", image.Digest);
        var layer = store.Layout.WriteBlob(payload, CosignSignatures.PayloadMediaType);
        store.Layout.WriteBlob("{}"u8, MediaTypes.OciEmpty);
        var forged = CosignSignatures.CreateManifest(layer, sig, other.Descriptor);
        var d = store.Layout.WriteBlob(OciJsonContext.ToBytes(forged, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest) with { ArtifactType = CosignSignatures.ArtifactType };
        store.Layout.UpdateIndex(l => l.Append(d).ToList());

        var ex = Assert.Throws<SealerException>(() => ImageSignatures.Verify(store, "example.com/signed/other:v1", key));
        Assert.Equal(ErrorCodes.SignatureDigestMismatch, ex.Code);
    }

    [RegistryFact]
    public async Task Signed_push_to_docker_registry_verifies_remotely_by_sig_tag_and_after_pull()
    {
        using var tmp = new TempDir();
        var (store, image) = NewStore(tmp, seed: 4);
        using var key = NewKey();
        ImageSignatures.Sign(store, Name, key);
        var dest = ImageReference.Parse($"{fixture.Env.Registry("docker.io").Address}/signed/docker-{Guid.NewGuid().ToString("N")[..6]}:v1");

        var pushed = await new RegistryPusher(new PushOptions { PlainHttp = true }).PushAsync(store.Layout, image.Descriptor, dest);
        Assert.Equal(1, pushed.Referrers);

        using var client = new RegistryClient(TestRegistries.Options(fixture.Env));
        // cosign's tag: a manifest whose payload layer carries the signature annotation
        var sigManifest = await client.GetManifestAsync(dest, CosignSignatures.SignatureTag(image.Digest));
        var m = OciJsonContext.FromBytes(sigManifest.Content, OciJsonContext.Default.ImageManifest, "sig");
        Assert.Equal(CosignSignatures.PayloadMediaType, m.Layers.Single().MediaType);
        Assert.NotNull(m.Layers[0].GetAnnotation(CosignSignatures.SignatureAnnotation));
        Assert.Equal(image.Digest, m.Subject!.Digest);

        var verified = await ImageSignatures.VerifyRemoteAsync(dest.ToString(), key, client);
        Assert.Equal(image.Digest, verified.ImageDigest);
        using var other = NewKey();
        var ex = await Assert.ThrowsAsync<SealerException>(() => ImageSignatures.VerifyRemoteAsync(dest.ToString(), other, client));
        Assert.Equal(ErrorCodes.SignatureWrongKey, ex.Code);

        // pulled elsewhere, the signature comes along (referrers tag schema on this registry)
        var pulledStore = ClusterImageStore.Open(tmp.Sub("pulled"));
        await ClusterImagePuller.PullAsync(pulledStore, dest.ToString(), new ClusterImagePullOptions { Client = client });
        Assert.Equal(image.Digest, ImageSignatures.Verify(pulledStore, dest.ToString(), key).ImageDigest);
    }

    [RegistryFact]
    public async Task A_second_signature_joins_the_first_in_the_sig_tag_instead_of_replacing_it()
    {
        using var tmp = new TempDir();
        var (store, image) = NewStore(tmp, seed: 6);
        using var vendor = NewKey();
        using var integrator = NewKey();
        ImageSignatures.Sign(store, Name, vendor);
        var dest = ImageReference.Parse($"{fixture.Env.Registry("docker.io").Address}/signed/two-{Guid.NewGuid().ToString("N")[..6]}:v1");
        await new RegistryPusher(new PushOptions { PlainHttp = true }).PushAsync(store.Layout, image.Descriptor, dest);

        // later a second party signs the same image and pushes again
        ImageSignatures.Sign(store, Name, integrator);
        await new RegistryPusher(new PushOptions { PlainHttp = true }).PushAsync(store.Layout, image.Descriptor, dest);
        // and a re-push adds nothing
        await new RegistryPusher(new PushOptions { PlainHttp = true }).PushAsync(store.Layout, image.Descriptor, dest);

        using var client = new RegistryClient(TestRegistries.Options(fixture.Env));
        var tag = await client.GetManifestAsync(dest, CosignSignatures.SignatureTag(image.Digest));
        var m = OciJsonContext.FromBytes(tag.Content, OciJsonContext.Default.ImageManifest, "sig");
        Assert.Equal(2, m.Layers.Count(l => l.MediaType == CosignSignatures.PayloadMediaType));
        // cosign reads only the tag: each key finds its signature there
        var fetched = OciLayout.OpenOrCreate(tmp.Sub("fetched"));
        var layers = new List<SignatureLayer>();
        foreach (var layer in m.Layers)
        {
            await client.FetchBlobAsync(dest, layer, fetched);
            layers.Add(new SignatureLayer(tag.Digest.ToString(), layer, fetched.ReadBlobBytes(layer.ParsedDigest), layer.GetAnnotation(CosignSignatures.SignatureAnnotation)));
        }
        foreach (var key in new[] { vendor, integrator })
        {
            Assert.Equal(image.Digest, CosignSignatures.Verify(layers, image.Digest, key, "two-signed").ImageDigest);
            Assert.Equal(image.Digest, (await ImageSignatures.VerifyRemoteAsync(dest.ToString(), key, client)).ImageDigest);
        }
    }

    [RegistryFact]
    public async Task An_unsigned_image_on_a_registry_is_SEA5603()
    {
        using var tmp = new TempDir();
        var (store, image) = NewStore(tmp, seed: 5);
        var dest = ImageReference.Parse($"{fixture.Env.Registry("docker.io").Address}/signed/unsigned-{Guid.NewGuid().ToString("N")[..6]}:v1");
        await new RegistryPusher(new PushOptions { PlainHttp = true }).PushAsync(store.Layout, image.Descriptor, dest);
        using var client = new RegistryClient(TestRegistries.Options(fixture.Env));
        using var key = NewKey();
        var ex = await Assert.ThrowsAsync<SealerException>(() => ImageSignatures.VerifyRemoteAsync(dest.ToString(), key, client));
        Assert.Equal(ErrorCodes.ImageUnsigned, ex.Code);
    }

    [Fact]
    public async Task Push_with_a_signing_key_to_the_built_in_registry_is_found_through_the_referrers_API()
    {
        using var tmp = new TempDir();
        var layout = OciLayout.OpenOrCreate(tmp.Sub("bin"));
        var root = TestImages.BuildMultiArch(layout, seed: 6);
        layout.SetRef("example.com/built:v1", root);
        using var key = NewKey();
        var dest = ImageReference.Parse($"{builtIn.Address}/signed/builtin:v1");

        var pushed = await new RegistryPusher(new PushOptions { PlainHttp = true, SigningKey = key }).PushAsync(tmp.Sub("bin"), dest.ToString());
        Assert.Equal(1, pushed.Referrers);

        using var client = new RegistryClient(new RegistryOptions { FallbackToSource = false }.AddInsecureRegistry(builtIn.Address));
        var referrers = await ImageSignatures.ListReferrersAsync(client, dest, root.Digest, CancellationToken.None);
        Assert.Contains(referrers, r => r.ArtifactType == CosignSignatures.ArtifactType);
        var verified = await ImageSignatures.VerifyRemoteAsync(dest.ToString(), key, client);
        Assert.Equal(root.Digest, verified.ImageDigest);
        Assert.Equal($"{builtIn.Address}/signed/builtin", verified.DockerReference);
    }

    private static ProcessResult Sealer(string store, IReadOnlyDictionary<string, string?>? env, params string[] args)
    {
        var all = new Dictionary<string, string?> { ["SEALER_IMAGES_DIR"] = store, ["SEALER_CACHE_DIR"] = store + "-cache", ["COSIGN_PASSWORD"] = null };
        foreach (var kv in env ?? new Dictionary<string, string?>()) all[kv.Key] = kv.Value;
        return Processes.Run("dotnet", [SealerCli.Dll, .. args], workDir: null, env: all);
    }

    [Fact]
    public void Cli_signs_with_cosigns_encrypted_key_and_the_password_from_COSIGN_PASSWORD_then_verifies()
    {
        using var tmp = new TempDir();
        var (store, _) = NewStore(tmp, seed: 7);
        string keyFile = Repo.Path("tests", "Sealer.Artifacts.Tests", "Signing", "testdata", "cosign-keys_test-pemsigstorekey.key");
        using (var key = SigningKeys.LoadPrivateKey(keyFile, () => "hello")) File.WriteAllText(tmp.Sub("cosign.pub"), SigningKeys.ExportPublicKeyPem(key));

        var (code, output) = Sealer(store.Root, null, "verify", "--key", tmp.Sub("cosign.pub"), Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5603", output);

        (code, output) = Sealer(store.Root, null, "sign", "--key", keyFile, Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5601", output);

        (code, output) = Sealer(store.Root, new Dictionary<string, string?> { ["COSIGN_PASSWORD"] = "wrong" }, "sign", "--key", keyFile, Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5602", output);
        Assert.DoesNotContain("wrong", output.Replace("password is wrong", "", StringComparison.Ordinal));

        (code, output) = Sealer(store.Root, new Dictionary<string, string?> { ["COSIGN_PASSWORD"] = "hello" }, "sign", "--key", keyFile, Name);
        Assert.True(code == 0, output);
        (code, output) = Sealer(store.Root, null, "verify", "--key", tmp.Sub("cosign.pub"), Name);
        Assert.True(code == 0, output);
        Assert.Contains("Verified", output);

        using var other = NewKey();
        File.WriteAllText(tmp.Sub("other.pub"), SigningKeys.ExportPublicKeyPem(other));
        (code, output) = Sealer(store.Root, null, "verify", "--key", tmp.Sub("other.pub"), Name);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5605", output);
    }
}
