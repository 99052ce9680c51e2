namespace Sealer.Core.Templating.Parse;

/// <summary>
/// A syntax error in a template source: Go's message (<c>template: name:line: ...</c>), the template name and line.
/// The parser stands alone like Go's text/template/parse; <see cref="TemplateSet"/> turns this into a TemplateException (SEA3000).
/// </summary>
internal sealed class ParseException(string message, string templateName, int line) : Exception(message)
{
    public string TemplateName { get; } = templateName;

    /// <summary>1-based line of the error in the template source.</summary>
    public int Line { get; } = line;
}
