using Sealer.Core.Diagnostics;

namespace Sealer.Core.Templating;

/// <summary>
/// A Go text/template parse or execution error. <see cref="Exception.Message"/> is Go's own text
/// (<c>template: name:line:col: executing "name" at &lt;.Values.x&gt;: ...</c>); <see cref="TemplateName"/>,
/// <see cref="SealerException.Line"/> and <see cref="SealerException.Column"/> locate it.
/// </summary>
public sealed class TemplateException : SealerException
{
    public TemplateException(string code, string message, string templateName, int line, int column, string? file = null, Exception? inner = null)
        : base(code, message, file ?? templateName, line, column, inner)
    {
        TemplateName = templateName;
    }

    /// <summary>The name of the template where the error happened (e.g. <c>mychart/templates/x.yaml</c>).</summary>
    public string TemplateName { get; }

    /// <summary>True when the error was raised by the template itself (<c>fail</c>, <c>required</c>).</summary>
    public bool IsUserError => Code is ErrorCodes.TemplateFail or ErrorCodes.TemplateRequiredValue;
}
