// sealer-ssh-bench --host IP --key KEY --file FILE [--cipher NAME[,NAME...]] [--command 'cat > /dev/null'] [--write-kib 256] [--channels 1]
// Streams FILE over SSH.NET (root@IP, key auth) into COMMAND on CHANNELS channels at once (each the whole file) and prints
// one line: the negotiated kex/cipher/MAC, bytes, wall s, MB/s, this process's CPU s. --cipher puts those first in the
// client's preference (default: SSH.NET's own order). --list prints SSH.NET's default preference lists and exits.
using System.Diagnostics;
using Renci.SshNet;

string? host = null, key = null, file = null, cipher = null;
string command = "cat > /dev/null";
int writeKib = 256, channels = 1;
bool list = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--host": host = args[++i]; break;
        case "--key": key = args[++i]; break;
        case "--file": file = args[++i]; break;
        case "--cipher": cipher = args[++i]; break;
        case "--command": command = args[++i]; break;
        case "--write-kib": writeKib = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--channels": channels = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--list": list = true; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (list)
{
    var ci = new ConnectionInfo("x", "root", new PasswordAuthenticationMethod("root", "x"));
    Console.WriteLine("kex: " + string.Join(",", ci.KeyExchangeAlgorithms.Keys));
    Console.WriteLine("ciphers: " + string.Join(",", ci.Encryptions.Keys));
    Console.WriteLine("macs: " + string.Join(",", ci.HmacAlgorithms.Keys));
    return 0;
}
if (host is null || key is null || file is null) { Console.Error.WriteLine("usage: see the first line of Program.cs"); return 2; }
var info = new ConnectionInfo(host, 22, "root", new PrivateKeyAuthenticationMethod("root", new PrivateKeyFile(key)));
if (cipher is not null)
{
    var first = cipher.Split(',');
    var all = info.Encryptions.ToList();
    info.Encryptions.Clear();
    foreach (var name in first) info.Encryptions.Add(name, all.First(a => a.Key == name).Value);
    foreach (var a in all.Where(a => !first.Contains(a.Key))) info.Encryptions.Add(a.Key, a.Value);
}
using var client = new SshClient(info);
client.HostKeyReceived += (_, e) => e.CanTrust = true; // a bench against the test hosts: the key is not what is measured
client.Connect();
long size = new FileInfo(file).Length;
var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
var sw = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, channels).Select(async _ =>
{
    using var cmd = client.CreateCommand(command);
    var exec = cmd.ExecuteAsync();
    var buffer = new byte[writeKib * 1024];
    await using (var input = cmd.CreateInputStream())
    await using (var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
    {
        int n;
        while ((n = await fs.ReadAsync(buffer)) > 0) await input.WriteAsync(buffer.AsMemory(0, n));
    }
    await exec;
    if (cmd.ExitStatus != 0) throw new InvalidOperationException($"remote exit {cmd.ExitStatus}: {cmd.Error}");
}));
sw.Stop();
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
var c = client.ConnectionInfo;
double bytes = (double)size * channels;
Console.WriteLine(FormattableString.Invariant(
    $"kex={c.CurrentKeyExchangeAlgorithm} cipher={c.CurrentClientEncryption} mac={c.CurrentClientHmacAlgorithm} channels={channels} write_kib={writeKib} bytes={bytes:0} wall_s={sw.Elapsed.TotalSeconds:0.00} MB_s={bytes / 1e6 / sw.Elapsed.TotalSeconds:0} client_cpu_s={cpu.TotalSeconds:0.00}"));
return 0;
