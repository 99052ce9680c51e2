using Sealer.Core.IO;

namespace Sealer.Cli;

/// <summary>
/// The live line of a long CLI phase on a terminal: the latest progress with bytes, rate and time left, redrawn in place
/// (carriage return) a few times a second; nothing when stderr is not a terminal (logs and pipes get the final lines
/// only). <see cref="Dispose"/> clears the line.
/// </summary>
internal sealed class LiveProgress<T> : IProgress<T>, IDisposable
{
    private readonly PeriodicProgress<T>? _inner;
    private int _width;

    public LiveProgress(Func<T, TransferMeter, string?> format)
    {
        if (Console.IsErrorRedirected) return;
        _inner = new PeriodicProgress<T>(format, Draw, TimeSpan.FromMilliseconds(250));
    }

    private void Draw(string line)
    {
        int max = Math.Max(20, SafeWidth() - 1);
        if (line.Length > max) line = line[..(max - 1)] + "…";
        Console.Error.Write("\r" + line.PadRight(_width));
        _width = line.Length;
    }

    private static int SafeWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; }
        catch (IOException) { return 120; }
    }

    public void Report(T value) => _inner?.Report(value);

    public void Dispose()
    {
        if (_inner is null) return;
        _inner.Dispose();
        if (_width > 0) Console.Error.Write("\r" + new string(' ', _width) + "\r");
    }
}
