using System.CommandLine;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.Signing;

namespace Sealer.Cli.Commands;

/// <summary>
/// sign, verify: cosign-format signatures of cluster images (<see cref="ImageSignatures"/>). Keys are PEM files; the
/// password of an encrypted key comes from COSIGN_PASSWORD only.
/// </summary>
internal static class SigningCommands
{
    public static IEnumerable<Command> Create() => [Sign(), Verify()];

    private static Command Sign()
    {
        var image = new Argument<string>("IMAGE") { Description = "cluster image name in the store, or a build output (OCI layout directory)" };
        var key = CliOptions.Text("--key", "private key PEM (cosign.key; encrypted: password from COSIGN_PASSWORD), or PKCS#8 / EC PRIVATE KEY", "FILE");
        key.Required = true;
        var identity = CliOptions.Text("--identity", "the docker-reference to sign as (default: the image's repository)", "REPO");
        var store = CliOptions.Store();
        var command = new SealerCommand("sign", "Sign a cluster image (cosign's format); push carries the signature",
            "Signs a cluster image with an ECDSA P-256 key in cosign's format (simple-signing payload). The signature is kept\n" +
            "beside the image; 'sealer push' publishes it as an OCI referrer and as cosign's sha256-<hex>.sig tag, so\n" +
            "'cosign verify --key cosign.pub' and 'sealer verify' accept the pushed image. The key password is read from COSIGN_PASSWORD.")
        {
            image, key, identity, store,
        };
        command.SetAction(p =>
        {
            string what = p.GetValue(image)!;
            using var signingKey = SigningKeys.LoadPrivateKey(p.GetValue(key)!);
            Descriptor signature;
            string signed;
            if (Directory.Exists(what) && File.Exists(Path.Combine(what, "oci-layout")))
            {
                var layout = OciLayout.Open(what);
                var root = OnlyImage(layout, what);
                string repo = p.GetValue(identity) ?? (root.GetAnnotation(Annotations.RefName) is { } n ? Sealer.Core.References.ImageReference.Parse(n).Name
                    : throw new SealerException(ErrorCodes.BadCommandLine, $"The image in '{what}' has no name; say which repository it is signed as with --identity REPO."));
                signature = CosignSignatures.SignInLayout(layout, root, repo, signingKey);
                signed = $"{what} ({root.Digest}) as {repo}";
            }
            else
            {
                var s = ClusterImageStore.Open(p.GetValue(store));
                var stored = s.Resolve(what);
                string repo = p.GetValue(identity) ?? Sealer.Core.References.ImageReference.Parse(stored.Name).Name;
                signature = CosignSignatures.SignInLayout(s.Layout, stored.Descriptor, repo, signingKey);
                signed = $"{stored.Name}@{stored.Digest}";
            }
            Console.Out.WriteLine($"Signed {signed}: signature {signature.Digest}");
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var image = new Argument<string>("IMAGE") { Description = "cluster image name in the store, an OCI layout directory, an archive or site bundle, or with --remote a registry reference" };
        var key = CliOptions.Text("--key", "public key PEM (cosign.pub)", "FILE");
        key.Required = true;
        var remote = CliOptions.Flag("--remote", "verify IMAGE on its registry (cosign's .sig tag and OCI referrers)");
        var store = CliOptions.Store();
        var command = new SealerCommand("verify", "Verify a cluster image's cosign signature with a public key",
            "Verifies that a cluster image carries a cosign-format signature by the given public key, over its digest.\n" +
            "Fails with SEA5603 (unsigned), SEA5604 (payload altered), SEA5605 (another key), SEA5606 (signature of another digest).")
        {
            image, key, remote, store,
        };
        command.SetAction(async (p, cancellationToken) =>
        {
            string what = p.GetValue(image)!;
            string keyFile = p.GetValue(key)!;
            using var publicKey = SigningKeys.LoadPublicKey(keyFile);
            VerifiedSignature verified;
            if (p.GetValue(remote))
            {
                verified = await ImageSignatures.VerifyRemoteAsync(what, publicKey, null, keyFile, cancellationToken).ConfigureAwait(false);
            }
            else if (Directory.Exists(what) && File.Exists(Path.Combine(what, "oci-layout")))
            {
                var layout = OciLayout.Open(what);
                verified = ImageSignatures.Verify(layout, OnlyImage(layout, what), what, publicKey, keyFile);
            }
            else if (File.Exists(what))
            {
                var archive = SiteBundle.OpenArchiveOf(what);
                var reader = ClusterImageReader.Open(archive);
                verified = ImageSignatures.Verify(archive, reader.Descriptor, what, publicKey, keyFile);
            }
            else
            {
                verified = ImageSignatures.Verify(ClusterImageStore.Open(p.GetValue(store)), what, publicKey, keyFile);
            }
            Console.Out.WriteLine($"Verified {what} ({verified.ImageDigest}): signed as {verified.DockerReference ?? "(no identity)"}, signature {verified.SignatureManifest}");
            return 0;
        });
        return command;
    }

    private static Descriptor OnlyImage(OciLayout layout, string where)
    {
        var roots = layout.ReadIndex().Manifests.Where(d => d.ArtifactType is null && (MediaTypes.IsIndex(d.MediaType) || MediaTypes.IsManifest(d.MediaType))).ToList();
        return roots.Count == 1 ? roots[0]
            : throw new SealerException(ErrorCodes.BadCommandLine, $"'{where}' holds {roots.Count} images; sign or verify one layout per cluster image (or load it into the store).");
    }
}
