using System.Net.Http.Headers;

namespace Sealer.Distribution.Tests;

/// <summary>The harness itself: every fixture image is served with the digest env.json promises.</summary>
[Collection(RegistryCollection.Name)]
public class TestEnvironmentTests(RegistryFixture fixture)
{
    [RegistryFact]
    public async Task Anonymous_registries_serve_every_fixture_with_its_digest()
    {
        var env = fixture.Env;
        // The "tls" registry has a self-signed certificate.
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
        foreach (var img in env.File.Images.Where(i => env.Registry(i.Registry).Auth == "none"))
        {
            var reg = env.Registry(img.Registry);
            using var req = new HttpRequestMessage(HttpMethod.Head, $"{reg.Url}/v2/{img.Repository}/manifests/{img.Tag}");
            foreach (var mt in new[] { img.MediaType }) req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mt));
            using var resp = await http.SendAsync(req);
            Assert.True(resp.IsSuccessStatusCode, $"{img.LocalReference}: {(int)resp.StatusCode}");
            Assert.Equal(img.Digest, resp.Headers.GetValues("Docker-Content-Digest").Single());
        }
        Assert.Contains(env.File.Images, i => i.MediaType.Contains("docker", StringComparison.Ordinal) && i.Platforms.Count == 2);
        Assert.Contains(env.File.Images, i => i.MediaType.Contains("oci.image.index", StringComparison.Ordinal) && i.Platforms.Count == 2);
    }

    [RegistryFact]
    public async Task Private_registries_refuse_anonymous_access()
    {
        var env = fixture.Env;
        using var http = new HttpClient();
        foreach (var key in new[] { "private", "token" })
        {
            var img = env.File.Images.First(i => i.Registry == key && !i.Repository.StartsWith("public/", StringComparison.Ordinal));
            using var resp = await http.GetAsync($"{env.Registry(key).Url}/v2/{img.Repository}/manifests/{img.Tag}");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, resp.StatusCode);
            Assert.NotEmpty(resp.Headers.WwwAuthenticate);
        }
    }
}
