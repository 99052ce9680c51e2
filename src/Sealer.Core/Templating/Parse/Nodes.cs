using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Parse;

internal enum NodeType { Text, Action, Bool, Chain, Command, Dot, Else, End, Field, Identifier, If, List, Nil, Number, Pipe, Range, String, Template, Variable, With, Comment, Break, Continue }

/// <summary>A parse-tree node. Every node carries its byte position in the template source and prints itself back.</summary>
internal abstract class Node(int pos)
{
    public int Pos { get; } = pos;
    public abstract NodeType Type { get; }
    public abstract void WriteTo(StringBuilder sb);
    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}

internal sealed class ListNode(int pos) : Node(pos)
{
    public List<Node> Nodes { get; } = [];
    public override NodeType Type => NodeType.List;
    public override void WriteTo(StringBuilder sb) { foreach (var n in Nodes) n.WriteTo(sb); }
}

internal sealed class TextNode(int pos, string text) : Node(pos)
{
    public string Text { get; } = text;
    public override NodeType Type => NodeType.Text;
    public override void WriteTo(StringBuilder sb) => sb.Append(GoQuote.Quote(Text));
}

internal sealed class ActionNode(int pos, int line, PipeNode pipe) : Node(pos)
{
    public int Line { get; } = line;
    public PipeNode Pipe { get; } = pipe;
    public override NodeType Type => NodeType.Action;
    public override void WriteTo(StringBuilder sb) { sb.Append("{{"); Pipe.WriteTo(sb); sb.Append("}}"); }
}

internal sealed class PipeNode(int pos, int line) : Node(pos)
{
    public int Line { get; } = line;
    public bool IsAssign { get; set; }
    public List<VariableNode> Decl { get; } = [];
    public List<CommandNode> Cmds { get; } = [];
    public override NodeType Type => NodeType.Pipe;
    public override void WriteTo(StringBuilder sb)
    {
        if (Decl.Count > 0)
        {
            for (int i = 0; i < Decl.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                Decl[i].WriteTo(sb);
            }
            sb.Append(IsAssign ? " = " : " := ");
        }
        for (int i = 0; i < Cmds.Count; i++)
        {
            if (i > 0) sb.Append(" | ");
            Cmds[i].WriteTo(sb);
        }
    }
}

internal sealed class CommandNode(int pos) : Node(pos)
{
    public List<Node> Args { get; } = [];
    public override NodeType Type => NodeType.Command;
    public override void WriteTo(StringBuilder sb)
    {
        for (int i = 0; i < Args.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            if (Args[i] is PipeNode p) { sb.Append('('); p.WriteTo(sb); sb.Append(')'); }
            else Args[i].WriteTo(sb);
        }
    }
}

internal sealed class IdentifierNode(int pos, string ident) : Node(pos)
{
    public string Ident { get; } = ident;
    public override NodeType Type => NodeType.Identifier;
    public override void WriteTo(StringBuilder sb) => sb.Append(Ident);
}

internal sealed class VariableNode(int pos, string ident) : Node(pos)
{
    public string[] Ident { get; } = ident.Split('.');
    public override NodeType Type => NodeType.Variable;
    public override void WriteTo(StringBuilder sb) => sb.AppendJoin('.', Ident);
}

internal sealed class DotNode(int pos) : Node(pos)
{
    public override NodeType Type => NodeType.Dot;
    public override void WriteTo(StringBuilder sb) => sb.Append('.');
}

internal sealed class NilNode(int pos) : Node(pos)
{
    public override NodeType Type => NodeType.Nil;
    public override void WriteTo(StringBuilder sb) => sb.Append("nil");
}

internal sealed class FieldNode(int pos, string ident) : Node(pos)
{
    public string[] Ident { get; } = ident[1..].Split('.');
    public override NodeType Type => NodeType.Field;
    public override void WriteTo(StringBuilder sb) { foreach (var i in Ident) sb.Append('.').Append(i); }
}

internal sealed class ChainNode(int pos, Node node) : Node(pos)
{
    public Node Node { get; } = node;
    public List<string> Field { get; } = [];
    public override NodeType Type => NodeType.Chain;
    public void Add(string field)
    {
        if (field.Length == 0 || field[0] != '.') throw new InvalidOperationException("no dot in field");
        field = field[1..];
        if (field.Length == 0) throw new InvalidOperationException("empty field");
        Field.Add(field);
    }
    public override void WriteTo(StringBuilder sb)
    {
        if (Node is PipeNode) { sb.Append('('); Node.WriteTo(sb); sb.Append(')'); }
        else Node.WriteTo(sb);
        foreach (var f in Field) sb.Append('.').Append(f);
    }
}

internal sealed class BoolNode(int pos, bool value) : Node(pos)
{
    public bool True { get; } = value;
    public override NodeType Type => NodeType.Bool;
    public override void WriteTo(StringBuilder sb) => sb.Append(True ? "true" : "false");
}

internal sealed class NumberNode(int pos, string text) : Node(pos)
{
    public bool IsInt { get; set; }
    public bool IsUint { get; set; }
    public bool IsFloat { get; set; }
    public bool IsComplex { get; set; }
    public long Int64 { get; set; }
    public double Float64 { get; set; }
    public string Text { get; } = text;
    /// <summary>The constant as a template value (Go's idealConstant), computed once at parse time.</summary>
    public object? Ideal { get; set; }

    /// <summary>Set when the constant cannot be an int (a uint64 beyond int64): an error when evaluated.</summary>
    public string? IdealError { get; set; }
    public override NodeType Type => NodeType.Number;
    public override void WriteTo(StringBuilder sb) => sb.Append(Text);
}

internal sealed class StringNode(int pos, string quoted, string text) : Node(pos)
{
    public string Quoted { get; } = quoted;
    public string Text { get; } = text;
    public override NodeType Type => NodeType.String;
    public override void WriteTo(StringBuilder sb) => sb.Append(Quoted);
}

internal sealed class EndNode(int pos) : Node(pos)
{
    public override NodeType Type => NodeType.End;
    public override void WriteTo(StringBuilder sb) => sb.Append("{{end}}");
}

internal sealed class ElseNode(int pos, int line) : Node(pos)
{
    public int Line { get; } = line;
    public override NodeType Type => NodeType.Else;
    public override void WriteTo(StringBuilder sb) => sb.Append("{{else}}");
}

internal sealed class BreakNode(int pos, int line) : Node(pos)
{
    public int Line { get; } = line;
    public override NodeType Type => NodeType.Break;
    public override void WriteTo(StringBuilder sb) => sb.Append("{{break}}");
}

internal sealed class ContinueNode(int pos, int line) : Node(pos)
{
    public int Line { get; } = line;
    public override NodeType Type => NodeType.Continue;
    public override void WriteTo(StringBuilder sb) => sb.Append("{{continue}}");
}

/// <summary>if / range / with.</summary>
internal sealed class BranchNode(NodeType type, int pos, int line, PipeNode pipe, ListNode list, ListNode? elseList) : Node(pos)
{
    public int Line { get; } = line;
    public PipeNode Pipe { get; } = pipe;
    public ListNode List { get; } = list;
    public ListNode? ElseList { get; } = elseList;
    public override NodeType Type { get; } = type;
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("{{").Append(Type switch { NodeType.If => "if", NodeType.Range => "range", _ => "with" }).Append(' ');
        Pipe.WriteTo(sb);
        sb.Append("}}");
        List.WriteTo(sb);
        if (ElseList is not null) { sb.Append("{{else}}"); ElseList.WriteTo(sb); }
        sb.Append("{{end}}");
    }
}

internal sealed class TemplateNode(int pos, int line, string name, PipeNode? pipe) : Node(pos)
{
    public int Line { get; } = line;
    public string Name { get; } = name;
    public PipeNode? Pipe { get; } = pipe;
    public override NodeType Type => NodeType.Template;
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("{{template ").Append(GoQuote.Quote(Name));
        if (Pipe is not null) { sb.Append(' '); Pipe.WriteTo(sb); }
        sb.Append("}}");
    }
}

/// <summary>One parsed template: its name, the name of the source it was parsed from, the source text and its root.</summary>
internal sealed class Tree(string name, string parseName, string text)
{
    public string Name { get; } = name;
    public string ParseName { get; } = parseName;
    public string Text { get; } = text;
    public ListNode? Root { get; set; }

    public static bool IsEmptyTree(Node? n) => n switch
    {
        null => true,
        TextNode t => string.IsNullOrWhiteSpace(t.Text),
        ListNode l => l.Nodes.TrueForAll(IsEmptyTree),
        _ => false,
    };

    /// <summary>Go's ErrorContext: "name:line:col" (col is the 0-based offset in the line) and the node's source text.</summary>
    public (string Location, int Line, int Col, string Context) ErrorContext(Node n)
    {
        int pos = Math.Min(n.Pos, Text.Length);
        int lastNl = Text.LastIndexOf('\n', Math.Max(pos - 1, 0));
        if (pos == 0) lastNl = -1;
        // Go counts the column in bytes of UTF-8.
        int lineStart = lastNl < 0 ? 0 : lastNl + 1;
        int byteNum = System.Text.Encoding.UTF8.GetByteCount(Text.AsSpan(lineStart, pos - lineStart));
        int line = 1;
        for (int i = 0; i < pos; i++) if (Text[i] == '\n') line++;
        return ($"{ParseName}:{line}:{byteNum}", line, byteNum, n.ToString());
    }
}
