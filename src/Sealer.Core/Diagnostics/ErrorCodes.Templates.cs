namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>A chart template has a syntax error (Go text/template parse error). Fix the template at the given line.</summary>
    public const string TemplateParseError = "SEA3000";

    /// <summary>A chart template failed while rendering (Go text/template execution error). The message names the action.</summary>
    public const string TemplateExecError = "SEA3001";

    /// <summary>A template called <c>fail</c>; the message is the chart's own.</summary>
    public const string TemplateFail = "SEA3002";

    /// <summary>A template called <c>required</c> for a value that is not set. Set the value named in the message.</summary>
    public const string TemplateRequiredValue = "SEA3003";

    /// <summary><c>include</c>/<c>tpl</c>/<c>template</c> recursed too deep (more than 1000 nested includes).</summary>
    public const string TemplateRecursionLimit = "SEA3004";

    /// <summary>A template names another template that is not defined.</summary>
    public const string TemplateNotDefined = "SEA3005";

    /// <summary>Template execution was cancelled.</summary>
    public const string TemplateCancelled = "SEA3006";
}
