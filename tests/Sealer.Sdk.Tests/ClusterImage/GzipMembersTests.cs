using System.IO.Compression;
using System.Security.Cryptography;
using Sealer.Core.ClusterImage;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>The rootfs layer's gzip as members back to back: what groups a path falls in, and that readers of gzip (.NET,
/// Python, GNU gzip) read the members as one stream, whatever was kept in memory, spooled or empty.</summary>
public sealed class GzipMembersTests
{
    [Theory]
    [InlineData("charts/redis/Chart.yaml", "charts/redis")]
    [InlineData("charts/redis/templates/deploy.yaml", "charts/redis")]
    [InlineData("charts/redis/charts/common/templates/_names.tpl", "charts/redis")]
    [InlineData("scripts/install.sh", "scripts")]
    [InlineData("manifests/a/b.yaml", "manifests/a")]
    [InlineData("images.lock.json", "")]
    [InlineData("Kubefile", "")]
    [InlineData("application/apps/web/web.yaml", "application/apps/web")]
    [InlineData("application/apps/web/sub/x.yaml", "application/apps/web")]
    [InlineData("application/apps/README", "application/apps")]
    public void A_path_falls_in_its_folder_cut_to_two_levels(string path, string group) => Assert.Equal(group, GzipMembers.GroupOf(path));

    [Fact]
    public void Members_written_back_to_back_read_as_one_stream_in_dotnet_python_and_gzip()
    {
        byte[] small = "apiVersion: v2\nname: a\n"u8.ToArray();
        byte[] big = RandomNumberGenerator.GetBytes(GzipMembers.MaxKeptMember + 1);
        byte[] tail = new byte[1024];
        using var tmp = new TempDir();
        using var output = new MemoryStream();
        using (var members = new GzipMembers(output, previous: null, tmp.Path))
        {
            members.Write(small);
            members.Cut();
            members.Cut(); // nothing pending: no empty member
            members.Write(big); // over the limit: spooled to a file, compressed from there
            members.Cut();
            Assert.Empty(Directory.GetFiles(tmp.Path)); // the spool is gone
            members.Write(tail);
            members.Cut();
            Assert.Equal(3, members.Compressed);
            Assert.Equal(3, members.Members.Count);
            Assert.Equal(0, members.Members[0].At);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), members.Members[1].Tar);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tail)), members.Members[2].Tar);
            Assert.Equal(members.Members[1].At + members.Members[1].Size, members.Members[2].At);
        }
        byte[] expected = [.. small, .. big, .. tail];
        byte[] gz = output.ToArray();
        using (var read = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress))
        using (var all = new MemoryStream())
        {
            read.CopyTo(all);
            Assert.Equal(SHA256.HashData(expected), SHA256.HashData(all.ToArray()));
        }
        File.WriteAllBytes(tmp.Sub("l.gz"), gz);
        var (code, output2) = Processes.Run("python3", "-c", "import gzip,hashlib,sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())", tmp.Sub("l.gz"));
        Assert.True(code == 0, output2);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected)), output2.Trim());
        (code, output2) = Processes.Run("bash", "-c", $"gzip -dc '{tmp.Sub("l.gz")}' | sha256sum");
        Assert.True(code == 0, output2);
        Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(expected)), output2.Trim());
    }
}
