using System.CommandLine;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer convert clusterfile OLD [-o NEW]</c>: a Sealer v1 Clusterfile (<c>spec.masters.ipList</c>, <c>provider</c>)
/// as a v2 one (<c>spec.hosts</c>); what has no v2 form is dropped with a note on stderr. <c>sealer run</c> refuses v1 files
/// (SEA2540) and names this command.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var old = new Argument<string>("OLD") { Description = "the v1 Clusterfile (sealer.aliyun.com/v1alpha1, sealer.cloud/v2, zlink.aliyun.com/v1alpha1)" };
        var output = CliOptions.Text("--output", "write the v2 Clusterfile here (atomically) instead of stdout", "FILE", "-o");
        var clusterfile = new SealerCommand("clusterfile", "Convert a Sealer v1 Clusterfile to v2", """
            Hosts (masters/nodes ipList and ranges), SSH settings and env become a v2 Cluster document; provider-specific
            fields are dropped with a note on stderr. The result is read back before it is written.
            """)
        {
            old, output,
        };
        clusterfile.SetAction(p =>
        {
            string path = p.GetValue(old)!;
            string? target = p.GetValue(output);
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SealerException(ErrorCodes.ClusterfileNotFound, $"Cannot read '{path}': {ex.Message}.", path, inner: ex);
            }
            var result = ClusterfileConverter.ConvertV1(text, path);
            ClusterfileReader.Parse(result.Yaml, target ?? "(converted)"); // what we write, we read
            if (target is null or "-") Console.Out.Write(result.Yaml);
            else AtomicFile.WriteAllBytes(target, System.Text.Encoding.UTF8.GetBytes(result.Yaml));
            foreach (var note in result.Notes) Console.Error.WriteLine($"note: {note}");
            return 0;
        });
        return new SealerCommand("convert", "Convert Sealer's formats to this tool's (a v1 Clusterfile to v2)")
        {
            clusterfile,
        };
    }
}
