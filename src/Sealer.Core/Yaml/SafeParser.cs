using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Yaml;

/// <summary>
/// YamlDotNet's <see cref="Parser"/>, except that what its scanner throws on some malformed text instead of a
/// <see cref="YamlException"/> (an <see cref="InvalidOperationException"/> from <c>ScanPlainScalar</c> on a plain scalar
/// running out of a flow sequence, and the like; found by the hostile-input tests, docs/hostile-input.md) becomes a
/// <see cref="YamlException"/> at the last position read. Every YAML read in Core goes through it, so such text
/// takes each reader's syntax-error path (a coded error with the line) instead of escaping as a crash.
/// </summary>
public sealed class SafeParser(IParser inner) : IParser
{
    public SafeParser(TextReader reader) : this(new Parser(reader)) { }

    public SafeParser(string text) : this(new Parser(new StringReader(text))) { }

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        try
        {
            return inner.MoveNext();
        }
        catch (Exception ex) when (ex is not YamlException && ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException
            or FormatException or OverflowException or NullReferenceException)
        {
            var at = inner.Current?.End ?? Mark.Empty;
            throw new YamlException(at, at, $"the text cannot be read as YAML after this point ({ex.Message.TrimEnd('.')})", ex);
        }
    }

    /// <summary>A <see cref="YamlStream"/> of every document in <paramref name="text"/>, read through a <see cref="SafeParser"/>.</summary>
    public static YamlStream LoadStream(string text)
    {
        var stream = new YamlStream();
        stream.Load(new SafeParser(text));
        return stream;
    }
}
