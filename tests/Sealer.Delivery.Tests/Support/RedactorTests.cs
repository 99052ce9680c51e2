using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Support;

namespace Sealer.Delivery.Tests.Support;

public sealed class RedactorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sealer-redactor-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private const string KeyBody1 = "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBqJ6lxyz";
    private const string KeyBody2 = "QyNTUxOQAAACD2mXrjM7z0Yd1b8b1wq0m3V1lYc9yq4u8rP2X7m1fY3wAAAJhQm1vZ1FtbSv";

    private ClusterfileDocument Doc()
    {
        string key = Path.Combine(_dir, "id_ed25519");
        File.WriteAllText(key, $"-----BEGIN OPENSSH PRIVATE KEY-----\n{KeyBody1}\n{KeyBody2}\n-----END OPENSSH PRIVATE KEY-----\n");
        return ClusterfileReader.Parse($"""
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata:
              name: shop
            spec:
              image: shop:1.4.0
              env:
                - DB_PASSWORD=Pa55-word-XYZ
                - api_token=tok-0123456789
                - MODE=fast-and-loud
              ssh:
                passwd: ssh-Secret-42
                pk: {key}
                pkPasswd: key-phrase-77
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
                  ssh:
                    passwd: host-only-pass
                  env: [LICENSE_KEY=LIC-9999-AAAA]
              registry:
                localRegistry:
                  domain: sea.hub
                  port: 5000
                  username: admin
                  password: reg-Pass-123
            """, "Clusterfile");
    }

    [Fact]
    public void Every_secret_of_the_Clusterfile_is_masked_wherever_it_appears_and_other_values_stay()
    {
        var r = Redactor.ForClusterfile(Doc());
        string leaked = """
            + echo connecting with Pa55-word-XYZ to db
            curl -H 'X-Api: tok-0123456789' http://svc
            sshpass -p ssh-Secret-42 ssh root@10.0.0.1; also host-only-pass and key-phrase-77
            htpasswd -b file admin reg-Pass-123
            license LIC-9999-AAAA
            copied key line b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBqJ6lxyz
            mode fast-and-loud on 10.0.0.1
            """;
        string text = r.Redact(leaked);
        foreach (var secret in new[] { "Pa55-word-XYZ", "tok-0123456789", "ssh-Secret-42", "host-only-pass", "key-phrase-77", "reg-Pass-123", "LIC-9999-AAAA", KeyBody1 })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
        Assert.Contains("fast-and-loud", text, StringComparison.Ordinal); // MODE does not look secret
        Assert.Contains("10.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains($"connecting with {Redactor.Mask} to db", text, StringComparison.Ordinal);
        Assert.Equal(9, r.KnownValues); // 7 values and 2 key lines; MODE is not one
    }

    [Fact]
    public void Secret_shapes_are_masked_without_knowing_the_values()
    {
        var r = new Redactor([]);
        string text = r.Redact("""
            export GITHUB_TOKEN=ghp_abcdef
            DB_PASSWORD="two words"
            --registry-password=hunter2
            {"password": "p@ss", "user": "bob", "auths": {"sea.hub:5000": {"auth": "YWRtaW46cGFzcw=="}}}
            client-key-data: LS0tLS1CRUdJTiBSU0E=
            Authorization: Bearer eyJhbGciOi.payload.sig
              [host."https://harbor.site".header]
                Authorization = ["Basic c2l0ZTpoYXJib3ItcGFzcw=="]
            proxy: https://alice:s3cret@proxy.example:3128
              env:
              - name: SMTP_PASSWORD
                value: mail-pass
              - name: LOG_LEVEL
                value: debug
            -----BEGIN RSA PRIVATE KEY-----
            MIIEowIBAAKCAQEAx
            -----END RSA PRIVATE KEY-----
            tolerations: [{key: node-role.kubernetes.io/master, effect: NoSchedule}]
            PWD=/root/shop
            """);
        foreach (var secret in new[] { "ghp_abcdef", "two words", "hunter2", "p@ss", "YWRtaW46cGFzcw==", "LS0tLS1CRUdJTiBSU0E=", "eyJhbGciOi", "c2l0ZTpoYXJib3ItcGFzcw==", "s3cret", "mail-pass", "MIIEowIBAAKCAQEAx" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
        Assert.Contains("export GITHUB_TOKEN=[REDACTED]", text, StringComparison.Ordinal);
        Assert.Contains("DB_PASSWORD=\"[REDACTED]\"", text, StringComparison.Ordinal);
        Assert.Contains("\"user\": \"bob\"", text, StringComparison.Ordinal);
        Assert.Contains("https://alice:[REDACTED]@proxy.example:3128", text, StringComparison.Ordinal);
        Assert.Contains("value: debug", text, StringComparison.Ordinal);             // LOG_LEVEL is not secret
        Assert.Contains("key: node-role.kubernetes.io/master", text, StringComparison.Ordinal); // a selector's key is not a key
        Assert.Contains("PWD=/root/shop", text, StringComparison.Ordinal);
        Assert.Contains("Authorization = [\"Basic [REDACTED]\"]", text, StringComparison.Ordinal); // containerd's hosts.toml header
        Assert.Contains("-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("db_passwd", true)]
    [InlineData("GITHUB_TOKEN", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", true)]
    [InlineData("LICENSE_KEY", true)]
    [InlineData("pkPasswd", true)]
    [InlineData("key", false)]
    [InlineData("PWD", false)]
    [InlineData("MODE", false)]
    [InlineData("image", false)]
    [InlineData("pass_word", true)]
    [InlineData("api-key", true)]
    [InlineData("GPG_PASSPHRASE", true)]
    [InlineData("OLDPWD", false)]
    [InlineData("keys", false)]
    public void Secret_names_are_recognised_by_what_they_contain(string name, bool secret) => Assert.Equal(secret, SecretNames.IsSecret(name));

    [Fact]
    public void Short_known_values_are_left_to_the_shapes_and_binary_content_is_left_out()
    {
        var r = new Redactor(["ab", "abcd"]);
        Assert.Equal("ab cd [REDACTED] PASSWORD=[REDACTED]", r.Redact("ab cd abcd PASSWORD=ab"));
        var binary = r.Redact(new byte[] { 0x41, 0xff, 0xfe, 0x00, 0x42 });
        Assert.Equal("[5 bytes that are not text, left out]\n", Encoding.UTF8.GetString(binary));
    }
}
