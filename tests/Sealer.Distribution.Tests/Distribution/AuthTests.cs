using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

[Collection(RegistryCollection.Name)]
public class AuthTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private readonly string _agent = TestRegistries.NewAgent();

    private async Task<PullResult> Pull(string reference, ICredentialProvider credentials)
    {
        using var cache = TestRegistries.NewCache();
        var puller = new ImagePuller(cache.Layout);
        var result = await puller.PullAsync(TestRegistries.Requests(reference), new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = TestRegistries.Options(Env, credentials, userAgent: _agent) });
        Assert.NotNull(cache.Layout.FindRef(ImageReference.Parse(reference).ToString()));
        return result;
    }

    private StaticCredentialProvider Creds(string key, string? password = null)
        => new(new Dictionary<string, RegistryCredential> { [Env.Registry(key).Address] = new(Env.Registry(key).Username, password ?? Env.Registry(key).Password) { Origin = "the test" } });

    [RegistryFact]
    public async Task Basic_auth_sends_credentials_after_the_challenge()
    {
        var img = Env.Image("private-app");
        long mark = Env.LogMark("private");
        var result = await Pull(img.Reference, Creds("private"));
        Assert.Equal(img.Digest, result.Lock.Images[0].Digest);
        var lines = Env.RequestsSince("private", mark, _agent);
        Assert.Contains(lines, l => l.Contains("\" 401 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("sealer", StringComparison.Ordinal) && l.Contains("\" 200 ", StringComparison.Ordinal));
    }

    [RegistryFact]
    public async Task Basic_auth_refused_or_missing_says_how_to_log_in_and_never_shows_the_password()
    {
        var img = Env.Image("private-app");
        var wrong = await Assert.ThrowsAsync<ImagePullException>(() => Pull(img.Reference, Creds("private", "not-the-password-xyz")));
        Assert.Equal(ErrorCodes.AuthenticationRefused, wrong.Code);
        Assert.Contains("were refused", wrong.Message);
        Assert.Contains("docker login " + Env.Registry("private").Address, wrong.Message);
        Assert.DoesNotContain("not-the-password-xyz", wrong.ToString());

        var none = await Assert.ThrowsAsync<ImagePullException>(() => Pull(img.Reference, AnonymousCredentialProvider.Instance));
        Assert.Equal(ErrorCodes.AuthenticationRefused, none.Code);
        Assert.Contains(EnvironmentCredentialProvider.VariablePrefix(Env.Registry("private").Address) + "_USER", none.Message);
        Assert.Equal("app.kubeproj", none.File);
    }

    [RegistryFact]
    public async Task Logs_at_debug_level_never_contain_secrets()
    {
        var logger = new ListLogger();
        using var cache = TestRegistries.NewCache();
        var options = new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = TestRegistries.Options(Env) };
        await new ImagePuller(cache.Layout, logger: logger).PullAsync(TestRegistries.Requests(Env.Image("private-app").Reference, Env.Image("token-secure").Reference), options);
        await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout, logger: logger).PullAsync(TestRegistries.Requests(Env.Image("token-secure").Reference.Replace(":1.0", ":nope")), options));
        Assert.NotEmpty(logger.Lines);
        foreach (var secret in new[] { Env.Registry("private").Password!, Env.Registry("token").Password!, "Bearer ", "Basic " })
        {
            Assert.DoesNotContain(logger.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    [RegistryFact]
    public async Task Token_auth_gets_one_token_per_repository_scope_and_reuses_it()
    {
        var img = Env.Image("token-secure");
        long before = await Tokens();
        var result = await Pull(img.Reference, Creds("token"));
        Assert.Equal(img.Digest, result.Lock.Images[0].Digest);
        Assert.Equal(1, await Tokens() - before);
    }

    [RegistryFact]
    public async Task Token_auth_works_anonymously_where_the_token_service_allows_it()
    {
        var img = Env.Image("token-public");
        var result = await Pull(img.Reference, AnonymousCredentialProvider.Instance);
        Assert.Equal(img.Digest, result.Lock.Images[0].Digest);
    }

    [RegistryFact]
    public async Task Token_auth_refused_is_a_coded_error()
    {
        var img = Env.Image("token-secure");
        var anonymous = await Assert.ThrowsAsync<ImagePullException>(() => Pull(img.Reference, AnonymousCredentialProvider.Instance));
        Assert.Equal(ErrorCodes.AuthenticationRefused, anonymous.Code);
        Assert.Contains("No credentials were found", anonymous.Message);
        var wrong = await Assert.ThrowsAsync<ImagePullException>(() => Pull(img.Reference, Creds("token", "bad-secret-123")));
        Assert.Equal(ErrorCodes.AuthenticationRefused, wrong.Code);
        Assert.Contains("token service", wrong.Message);
        Assert.DoesNotContain("bad-secret-123", wrong.ToString());
    }

    /// <summary>
    /// Wrong credentials are sent once per host, not once per image: every repository of the host would refuse them the same
    /// way, and each refused login can count towards locking the account. Six images, one at a time: the first is refused
    /// (its own error), the other five are not tried (one error listing them), against the real Basic-auth registry and the
    /// real token service.
    /// </summary>
    [RegistryFact]
    public async Task Refused_credentials_are_sent_once_per_host_and_the_other_images_are_one_error()
    {
        var priv = ImageReference.Parse(Env.Image("private-app").Reference);
        var token = ImageReference.Parse(Env.Image("token-secure").Reference);
        string[] Refs(ImageReference r) => [.. Enumerable.Range(0, 6).Select(i => $"{r.Domain}/{r.Repository}:t{i}")];
        async Task<ImagePullException> PullAll(string[] refs, ICredentialProvider creds)
        {
            using var cache = TestRegistries.NewCache();
            return await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(refs),
                new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = TestRegistries.Options(Env, creds, userAgent: _agent), MaxConcurrentImages = 1 }));
        }
        // The image that met the refusal: whichever of the six took the one-at-a-time gate first.
        string OneRefusedOneSummary(ImagePullException ex, string[] refs)
        {
            Assert.Equal(2, ex.Errors.Count);
            Assert.All(ex.Errors, e => Assert.Equal(ErrorCodes.AuthenticationRefused, e.Code));
            Assert.Contains("were refused", ex.Errors[0].Message);
            string met = Assert.Single(refs, r => ex.Errors[0].Message.StartsWith(r + ":", StringComparison.Ordinal));
            Assert.StartsWith("5 images were not tried at ", ex.Errors[1].Message, StringComparison.Ordinal);
            Assert.Contains($"refused the credentials sent for {met}", ex.Errors[1].Message);
            Assert.Contains("Fix the credentials", ex.Errors[1].Message);
            foreach (var r in refs.Where(r => r != met)) Assert.Contains(r, ex.Errors[1].Message);
            return met;
        }

        var basicRefs = Refs(priv);
        long mark = Env.LogMark("private");
        var basic = await PullAll(basicRefs, Creds("private", "not-the-password-xyz"));
        string met = OneRefusedOneSummary(basic, basicRefs);
        Assert.DoesNotContain("not-the-password-xyz", basic.ToString());
        var sent = Env.RequestsSince("private", mark, _agent);
        Assert.NotEmpty(sent);
        Assert.All(sent, l => Assert.Contains("/manifests/" + met[(met.LastIndexOf(':') + 1)..] + " ", l)); // nothing for the other five

        var tokenRefs = Refs(token);
        long refusedBefore = await TokenServiceRefusals();
        var bearer = await PullAll(tokenRefs, Creds("token", "bad-secret-123"));
        OneRefusedOneSummary(bearer, tokenRefs);
        Assert.Equal(1, await TokenServiceRefusals() - refusedBefore); // one login refused, not six
    }

    [RegistryFact]
    public async Task Credentials_come_from_docker_config_auths_and_credential_helpers()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sealer-dockercfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var priv = Env.Registry("private");
            var token = Env.Registry("token");
            string auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{priv.Username}:{priv.Password}"));
            string helper = Path.Combine(dir, "docker-credential-sealertest");
            File.WriteAllText(helper, $"#!/bin/sh\nread host\nif [ \"$host\" = \"{token.Address}\" ]; then echo '{{\"ServerURL\":\"'$host'\",\"Username\":\"{token.Username}\",\"Secret\":\"{token.Password}\"}}'; else echo 'credentials not found in native keychain'; exit 1; fi\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, $$"""
                { "auths": { "http://{{priv.Address}}": { "auth": "{{auth}}" }, "https://index.docker.io/v1/": { "auth": "{{Convert.ToBase64String("hub:secret"u8)}}" } },
                  "credHelpers": { "{{token.Address}}": "sealertest" } }
                """);
            var provider = new DockerConfigCredentialProvider(config, name => Path.Combine(dir, "docker-credential-" + name));
            Assert.Equal(priv.Username, (await provider.GetAsync(priv.Address))!.Username);
            Assert.Equal("hub", (await provider.GetAsync("docker.io"))!.Username);
            Assert.Null(await provider.GetAsync("quay.io"));
            await Pull(Env.Image("private-app").Reference, provider);
            await Pull(Env.Image("token-secure").Reference, provider);

            // credsStore answering "not found" is not an error; a broken config is a coded one.
            File.WriteAllText(config, """{ "credsStore": "sealertest" }""");
            Assert.Null(await new DockerConfigCredentialProvider(config, name => Path.Combine(dir, "docker-credential-" + name)).GetAsync("quay.io"));
            File.WriteAllText(config, "{ \"auths\": ");
            var ex = await Assert.ThrowsAsync<SealerException>(async () => await new DockerConfigCredentialProvider(config).GetAsync("quay.io"));
            Assert.Equal(ErrorCodes.DockerConfigInvalid, ex.Code);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Environment_credentials_per_registry_win_over_the_global_ones()
    {
        var vars = new Dictionary<string, string>
        {
            ["SEALER_REGISTRY_QUAY_IO_USER"] = "q", ["SEALER_REGISTRY_QUAY_IO_PASSWORD"] = "qp",
            ["SEALER_REGISTRY_USER"] = "g", ["SEALER_REGISTRY_PASSWORD"] = "gp",
        };
        var p = new EnvironmentCredentialProvider(k => vars.TryGetValue(k, out var v) ? v : null);
        Assert.Equal("q", (await p.GetAsync("quay.io"))!.Username);
        Assert.Equal("g", (await p.GetAsync("127.0.0.1:5000"))!.Username);
        Assert.Equal("SEALER_REGISTRY_127_0_0_1_5000", EnvironmentCredentialProvider.VariablePrefix("127.0.0.1:5000"));
        vars["SEALER_REGISTRY"] = "ghcr.io";
        Assert.Null(await p.GetAsync("127.0.0.1:5000"));
        Assert.Equal("g", (await p.GetAsync("ghcr.io"))!.Username);
        Assert.DoesNotContain("gp", (await p.GetAsync("ghcr.io"))!.ToString());
    }

    [Fact]
    public void Challenges_are_parsed_with_quoted_commas()
    {
        var c = AuthChallenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull,push\"")!;
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.docker.io/token", c.Realm);
        Assert.Equal("registry.docker.io", c.Service);
        Assert.Equal("repository:library/nginx:pull,push", c.Scope);
        Assert.True(AuthChallenge.Parse("Basic realm=\"x\"")!.IsBasic);
    }

    /// <summary>Logins the token service refused, from every client (no test of this collection runs beside this one).</summary>
    private async Task<long> TokenServiceRefusals()
    {
        using var http = new HttpClient();
        return System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(Env.Registry("token").TokenStats)).RootElement.GetProperty("refused").GetInt64();
    }

    private async Task<long> Tokens()
    {
        using var http = new HttpClient();
        return System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(Env.Registry("token").TokenStats + "?agent=" + Uri.EscapeDataString(_agent))).RootElement.GetProperty("tokens").GetInt64();
    }
}
