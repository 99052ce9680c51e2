#if FLOOR_LIBS
using System.CommandLine;
using Renci.SshNet;
using Spectre.Console;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using ZstdSharp;

namespace AotFloor;

// The third-party libraries sealer uses, each called as sealer calls it.
internal static class Libs
{
    public static async Task Run(string[] args)
    {
        var file = new Option<FileInfo>("--file") { Description = "a file", Required = true };
        var verbose = new Option<bool>("--verbose", "-v");
        var root = new RootCommand("floor") { file, verbose };
        var sub = new Command("run", "runs") { new Argument<string[]>("hosts") { Arity = ArgumentArity.OneOrMore } };
        sub.SetAction(async (parse, ct) => { Console.WriteLine(parse.GetValue(file)); await Task.Yield(); return 0; });
        root.Subcommands.Add(sub);
        await root.Parse(args).InvokeAsync();

        var key = new PrivateKeyFile(args[2]);
        var connection = new ConnectionInfo(args[8], 22, "root",
            new PrivateKeyAuthenticationMethod("root", key),
            new PasswordAuthenticationMethod("root", args[10]),
            new KeyboardInteractiveAuthenticationMethod("root"));
        using (var ssh = new SshClient(connection))
        {
            ssh.HostKeyReceived += (_, e) => e.CanTrust = e.FingerPrintSHA256 == args[9];
            ssh.Connect();
            using var command = ssh.CreateCommand("cat > /tmp/x");
            var run = command.BeginExecute();
            await using (var input = command.CreateInputStream()) await input.WriteAsync(new byte[] { 1 });
            command.EndExecute(run);
            Console.WriteLine(command.ExitStatus + command.Error);
            using var forward = new ForwardedPortLocal("127.0.0.1", 0, "127.0.0.1", 5000);
            ssh.AddForwardedPort(forward);
            forward.Start();
        }

        using (var reader = new StringReader(File.ReadAllText(args[3])))
        {
            var parser = new Parser(reader);
            while (parser.MoveNext())
            {
                if (parser.Current is Scalar scalar) Console.WriteLine(scalar.Value + scalar.Start.Line);
            }
        }
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(args[3])));
        var emitter = new Emitter(Console.Out);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        emitter.Emit(new Scalar(stream.Documents[0].RootNode.ToString()));
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());

        await using (var zin = new DecompressionStream(File.OpenRead(args[4])))
        await using (var zout = new CompressionStream(File.Create(args[5]), 3))
        {
            await zin.CopyToAsync(zout);
        }

        Console.WriteLine(BCrypt.Net.BCrypt.Verify(args[10], args[11]));

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Detect, Interactive = InteractionSupport.Detect });
        string host = console.Prompt(new TextPrompt<string>("host?").DefaultValue(args[8]));
        string choice = console.Prompt(new SelectionPrompt<string>().Title("which?").AddChoices(args[1], args[2]));
        bool yes = console.Prompt(new ConfirmationPrompt("go?"));
        var table = new Table().AddColumn("host").AddColumn("state");
        table.AddRow(host, choice + yes);
        console.Write(table);
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("pull", maxValue: 100);
                while (!ctx.IsFinished) { task.Increment(10); await Task.Delay(10); }
            });
        await console.Live(new Markup("[bold]x[/]")).StartAsync(async live => { live.UpdateTarget(new Text("y")); await Task.Delay(1); });
    }
}
#endif
