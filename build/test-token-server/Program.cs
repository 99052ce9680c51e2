// A minimal Docker registry token server (https://distribution.github.io/distribution/spec/auth/token/) for tests.
// GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with optional Basic credentials returns an RS256 JWT
// whose header carries the signing certificate (x5c), which the registry trusts through its rootcertbundle.
// Authenticated users get every action they ask for; anonymous callers get "pull" on repositories under the
// anonymous prefix (default "public/"); wrong credentials get 401. GET /stats returns {"tokens":N,"refused":N}.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

var opts = new Dictionary<string, string>();
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string k, string d = "") => opts.TryGetValue(k, out var v) ? v : d;

int port = int.Parse(Opt("port", "5105"), System.Globalization.CultureInfo.InvariantCulture);
string issuer = Opt("issuer", "sealer-test-token-server");
string user = Opt("user", "sealer");
string password = Opt("password", "sealer-token-password");
string anonymousPrefix = Opt("anonymous-prefix", "public/");
var cert = X509Certificate2.CreateFromPemFile(Opt("cert"), Opt("key"));
using var rsa = cert.GetRSAPrivateKey() ?? throw new InvalidOperationException("the key is not RSA");
string x5c = Convert.ToBase64String(cert.RawData);
int issued = 0, refused = 0;
var byAgent = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);

using var listener = new HttpListener();
listener.Prefixes.Add($"http://127.0.0.1:{port}/");
listener.Start();
Console.WriteLine($"token server listening on 127.0.0.1:{port}");
while (true)
{
    var ctx = await listener.GetContextAsync();
    _ = Task.Run(() => Handle(ctx));
}

void Handle(HttpListenerContext ctx)
{
    try
    {
        var req = ctx.Request;
        string path = req.Url!.AbsolutePath;
        if (path == "/stats")
        {
            // ?agent=X: tokens issued to requests whose User-Agent is X (lets tests ignore other clients).
            string? agent = req.QueryString["agent"];
            Reply(ctx, 200, agent is null ? new JsonObject { ["tokens"] = issued, ["refused"] = refused }
                : new JsonObject { ["tokens"] = byAgent.TryGetValue(agent, out var n) ? n : 0 });
            return;
        }
        if (path != "/token")
        {
            Reply(ctx, 404, new JsonObject { ["error"] = "not found" });
            return;
        }
        string? who = null;
        string? auth = req.Headers["Authorization"];
        if (auth is not null && auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..].Trim()));
            int colon = pair.IndexOf(':');
            if (colon < 0 || pair[..colon] != user || pair[(colon + 1)..] != password)
            {
                Interlocked.Increment(ref refused);
                ctx.Response.AddHeader("WWW-Authenticate", "Basic realm=\"sealer-test-token\"");
                Reply(ctx, 401, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "UNAUTHORIZED", ["message"] = "wrong username or password" }) });
                return;
            }
            who = pair[..colon];
        }
        string service = req.QueryString["service"] ?? "";
        var access = new JsonArray();
        foreach (string scope in req.QueryString.GetValues("scope") ?? [])
        {
            foreach (string one in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = one.Split(':');
                if (parts.Length < 3 || parts[0] != "repository") continue;
                string name = string.Join(':', parts[1..^1]);
                var wanted = parts[^1].Split(',', StringSplitOptions.RemoveEmptyEntries);
                var granted = who is not null ? wanted.Where(a => a is "pull" or "push" or "delete" or "*").ToArray()
                    : name.StartsWith(anonymousPrefix, StringComparison.Ordinal) ? wanted.Where(a => a == "pull").ToArray() : [];
                access.Add(new JsonObject { ["type"] = "repository", ["name"] = name, ["actions"] = new JsonArray(granted.Select(a => (JsonNode)a!).ToArray()) });
            }
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new JsonArray(x5c) };
        var claims = new JsonObject
        {
            ["iss"] = issuer, ["sub"] = who ?? "", ["aud"] = service, ["exp"] = now + 300, ["nbf"] = now - 10, ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"), ["access"] = access,
        };
        string signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        string jwt = signingInput + "." + B64(rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Interlocked.Increment(ref issued);
        byAgent.AddOrUpdate(req.UserAgent ?? "", 1, (_, n) => n + 1);
        Reply(ctx, 200, new JsonObject { ["token"] = jwt, ["access_token"] = jwt, ["expires_in"] = 300, ["issued_at"] = DateTimeOffset.FromUnixTimeSeconds(now).ToString("yyyy-MM-ddTHH:mm:ssZ") });
    }
    catch (Exception ex)
    {
        try { Reply(ctx, 500, new JsonObject { ["error"] = ex.Message }); } catch (Exception) { }
    }
}

static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

static void Reply(HttpListenerContext ctx, int status, JsonNode body)
{
    byte[] bytes = Encoding.UTF8.GetBytes(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    ctx.Response.StatusCode = status;
    ctx.Response.ContentType = "application/json";
    ctx.Response.ContentLength64 = bytes.Length;
    ctx.Response.OutputStream.Write(bytes);
    ctx.Response.Close();
}
