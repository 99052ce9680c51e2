using Sealer.Core.Text;

namespace Sealer.Core.Templating.Parse;

/// <summary>Go's text/template/parse: turns one source text into a main tree plus the trees it defines.</summary>
internal sealed class Parser
{
    private readonly Lexer _lex;
    private readonly Func<string, bool> _hasFunction;
    private readonly Dictionary<string, Tree> _treeSet;
    private readonly string _parseName;
    private readonly string _text;
    private Tree _tree;
    private readonly Item[] _token = new Item[3];
    private int _peekCount;
    private List<string> _vars = ["$"];
    private int _actionLine;
    private int _rangeDepth;

    private Parser(string name, string text, Func<string, bool> hasFunction, Dictionary<string, Tree> treeSet)
    {
        _lex = new Lexer(text);
        _hasFunction = hasFunction;
        _treeSet = treeSet;
        _parseName = name;
        _text = text;
        _tree = new Tree(name, name, text);
    }

    /// <summary>
    /// Parses <paramref name="text"/> as template <paramref name="name"/>: the trees it holds, in the order Go's parser adds
    /// them (each {{define}}/{{block}}, then the main tree named <paramref name="name"/>). The caller associates them with its set.
    /// </summary>
    public static Dictionary<string, Tree> ParseLocal(string name, string text, Func<string, bool> hasFunction)
    {
        var local = new Dictionary<string, Tree>(StringComparer.Ordinal);
        var p = new Parser(name, text, hasFunction, local);
        p.ParseTop();
        return local;
    }

    private Item Next()
    {
        if (_peekCount > 0) _peekCount--;
        else _token[0] = _lex.NextItem();
        return _token[_peekCount];
    }

    private void Backup() => _peekCount++;

    private void Backup2(Item t1)
    {
        _token[1] = t1;
        _peekCount = 2;
    }

    private void Backup3(Item t2, Item t1)
    {
        _token[1] = t1;
        _token[2] = t2;
        _peekCount = 3;
    }

    private Item Peek()
    {
        if (_peekCount > 0) return _token[_peekCount - 1];
        _peekCount = 1;
        _token[0] = _lex.NextItem();
        return _token[0];
    }

    private Item NextNonSpace()
    {
        Item t;
        do { t = Next(); } while (t.Type == ItemType.Space);
        return t;
    }

    private Item PeekNonSpace()
    {
        var t = NextNonSpace();
        Backup();
        return t;
    }

    private ParseException Errorf(string message)
    {
        int line = _token[0].Line;
        return new ParseException($"template: {_parseName}:{line}: {message}", _parseName, line);
    }

    private Item Expect(ItemType expected, string context)
    {
        var t = NextNonSpace();
        if (t.Type != expected) throw Unexpected(t, context);
        return t;
    }

    private Item ExpectOneOf(ItemType e1, ItemType e2, string context)
    {
        var t = NextNonSpace();
        if (t.Type != e1 && t.Type != e2) throw Unexpected(t, context);
        return t;
    }

    private ParseException Unexpected(Item token, string context)
    {
        if (token.Type == ItemType.Error)
        {
            string extra = "";
            if (_actionLine != 0 && _actionLine != token.Line)
            {
                extra = $" in action started at {_parseName}:{_actionLine}";
                if (token.Val.EndsWith(" action", StringComparison.Ordinal)) extra = extra[" in action".Length..];
            }
            return Errorf(token + extra);
        }
        return Errorf($"unexpected {token} in {context}");
    }

    private void ParseTop()
    {
        _tree.Root = new ListNode(Peek().Pos);
        while (Peek().Type != ItemType.EOF)
        {
            if (Peek().Type == ItemType.LeftDelim)
            {
                var delim = Next();
                if (NextNonSpace().Type == ItemType.Define)
                {
                    var outer = _tree;
                    var outerVars = _vars;
                    _tree = new Tree("definition", _parseName, _text);
                    _vars = ["$"];
                    ParseDefinition();
                    _tree = outer;
                    _vars = outerVars;
                    continue;
                }
                Backup2(delim);
            }
            var n = TextOrAction();
            if (n.Type is NodeType.End or NodeType.Else) throw Errorf($"unexpected {n}");
            _tree.Root.Nodes.Add(n);
        }
        Add(_tree);
    }

    private void Add(Tree t)
    {
        if (!_treeSet.TryGetValue(t.Name, out var existing) || Tree.IsEmptyTree(existing.Root))
        {
            _treeSet[t.Name] = t;
            return;
        }
        if (!Tree.IsEmptyTree(t.Root)) throw Errorf($"template: multiple definition of template {GoQuote.Quote(t.Name)}");
    }

    private void ParseDefinition()
    {
        const string context = "define clause";
        var name = ExpectOneOf(ItemType.String, ItemType.RawString, context);
        var tree = new Tree(GoQuote.Unquote(name.Val) ?? throw Errorf("bad template name"), _parseName, _text);
        _tree = tree;
        Expect(ItemType.RightDelim, context);
        var (list, end) = ItemList();
        if (end.Type != NodeType.End) throw Errorf($"unexpected {end} in {context}");
        tree.Root = list;
        Add(tree);
    }

    private (ListNode, Node) ItemList()
    {
        var list = new ListNode(PeekNonSpace().Pos);
        while (PeekNonSpace().Type != ItemType.EOF)
        {
            var n = TextOrAction();
            if (n.Type is NodeType.End or NodeType.Else) return (list, n);
            list.Nodes.Add(n);
        }
        throw Errorf("unexpected EOF");
    }

    private Node TextOrAction()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Text:
                return new TextNode(token.Pos, token.Val);
            case ItemType.LeftDelim:
                _actionLine = token.Line;
                try { return Action(); }
                finally { _actionLine = 0; }
            default:
                throw Unexpected(token, "input");
        }
    }

    private Node Action()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Block: return BlockControl();
            case ItemType.Break: return BreakControl(token.Pos, token.Line);
            case ItemType.Continue: return ContinueControl(token.Pos, token.Line);
            case ItemType.Else: return ElseControl();
            case ItemType.End: return new EndNode(Expect(ItemType.RightDelim, "end").Pos);
            case ItemType.If: return ParseControl(NodeType.If, "if");
            case ItemType.Range: return ParseControl(NodeType.Range, "range");
            case ItemType.Template: return TemplateControl();
            case ItemType.With: return ParseControl(NodeType.With, "with");
        }
        Backup();
        token = Peek();
        return new ActionNode(token.Pos, token.Line, Pipeline("command", ItemType.RightDelim));
    }

    private Node BreakControl(int pos, int line)
    {
        var token = NextNonSpace();
        if (token.Type != ItemType.RightDelim) throw Unexpected(token, "{{break}}");
        if (_rangeDepth == 0) throw Errorf("{{break}} outside {{range}}");
        return new BreakNode(pos, line);
    }

    private Node ContinueControl(int pos, int line)
    {
        var token = NextNonSpace();
        if (token.Type != ItemType.RightDelim) throw Unexpected(token, "{{continue}}");
        if (_rangeDepth == 0) throw Errorf("{{continue}} outside {{range}}");
        return new ContinueNode(pos, line);
    }

    private Node ElseControl()
    {
        var peek = PeekNonSpace();
        if (peek.Type is ItemType.If or ItemType.With) return new ElseNode(peek.Pos, peek.Line);
        var token = Expect(ItemType.RightDelim, "else");
        return new ElseNode(token.Pos, token.Line);
    }

    private BranchNode ParseControl(NodeType type, string context)
    {
        int varCount = _vars.Count;
        try
        {
            var pipe = Pipeline(context, ItemType.RightDelim);
            if (type == NodeType.Range) _rangeDepth++;
            var (list, next) = ItemList();
            if (type == NodeType.Range) _rangeDepth--;
            ListNode? elseList = null;
            if (next.Type == NodeType.Else)
            {
                if (type == NodeType.If && Peek().Type == ItemType.If)
                {
                    Next();
                    elseList = new ListNode(next.Pos);
                    elseList.Nodes.Add(ParseControl(NodeType.If, "if"));
                }
                else if (type == NodeType.With && Peek().Type == ItemType.With)
                {
                    Next();
                    elseList = new ListNode(next.Pos);
                    elseList.Nodes.Add(ParseControl(NodeType.With, "with"));
                }
                else
                {
                    (elseList, next) = ItemList();
                    if (next.Type != NodeType.End) throw Errorf($"expected end; found {next}");
                }
            }
            return new BranchNode(type, pipe.Pos, pipe.Line, pipe, list, elseList);
        }
        finally
        {
            _vars.RemoveRange(varCount, _vars.Count - varCount);
        }
    }

    private Node TemplateControl()
    {
        const string context = "template clause";
        var token = NextNonSpace();
        string name = ParseTemplateName(token, context);
        PipeNode? pipe = null;
        if (NextNonSpace().Type != ItemType.RightDelim)
        {
            Backup();
            pipe = Pipeline(context, ItemType.RightDelim);
        }
        return new TemplateNode(token.Pos, token.Line, name, pipe);
    }

    private Node BlockControl()
    {
        const string context = "block clause";
        var token = NextNonSpace();
        string name = ParseTemplateName(token, context);
        var pipe = Pipeline(context, ItemType.RightDelim);
        var outer = _tree;
        var outerVars = _vars;
        var outerDepth = _rangeDepth;
        var block = new Tree(name, _parseName, _text);
        _tree = block;
        _vars = ["$"];
        _rangeDepth = 0;
        var (list, end) = ItemList();
        if (end.Type != NodeType.End) throw Errorf($"unexpected {end} in {context}");
        block.Root = list;
        Add(block);
        _tree = outer;
        _vars = outerVars;
        _rangeDepth = outerDepth;
        return new TemplateNode(token.Pos, token.Line, name, pipe);
    }

    private string ParseTemplateName(Item token, string context)
    {
        if (token.Type is ItemType.String or ItemType.RawString)
        {
            return GoQuote.Unquote(token.Val) ?? throw Errorf($"invalid syntax: {token.Val}");
        }
        throw Unexpected(token, context);
    }

    private PipeNode Pipeline(string context, ItemType end)
    {
        var token = PeekNonSpace();
        var pipe = new PipeNode(token.Pos, token.Line);
    decls:
        var v = PeekNonSpace();
        if (v.Type == ItemType.Variable)
        {
            Next();
            var tokenAfterVariable = Peek();
            var next = PeekNonSpace();
            if (next.Type is ItemType.Assign or ItemType.Declare)
            {
                pipe.IsAssign = next.Type == ItemType.Assign;
                NextNonSpace();
                pipe.Decl.Add(new VariableNode(v.Pos, v.Val));
                _vars.Add(v.Val);
            }
            else if (next.Type == ItemType.Char && next.Val == ",")
            {
                NextNonSpace();
                pipe.Decl.Add(new VariableNode(v.Pos, v.Val));
                _vars.Add(v.Val);
                if (context == "range" && pipe.Decl.Count < 2)
                {
                    var p = PeekNonSpace().Type;
                    if (p is ItemType.Variable or ItemType.RightDelim or ItemType.RightParen) goto decls;
                    throw Errorf("range can only initialize variables");
                }
                throw Errorf($"too many declarations in {context}");
            }
            else if (tokenAfterVariable.Type == ItemType.Space)
            {
                Backup3(v, tokenAfterVariable);
            }
            else
            {
                Backup2(v);
            }
        }
        while (true)
        {
            var t = NextNonSpace();
            if (t.Type == end)
            {
                CheckPipeline(pipe, context);
                return pipe;
            }
            switch (t.Type)
            {
                case ItemType.Bool: case ItemType.CharConstant: case ItemType.Complex: case ItemType.Dot: case ItemType.Field:
                case ItemType.Identifier: case ItemType.Number: case ItemType.Nil: case ItemType.RawString: case ItemType.String:
                case ItemType.Variable: case ItemType.LeftParen:
                    Backup();
                    pipe.Cmds.Add(Command());
                    break;
                default:
                    throw Unexpected(t, context);
            }
        }
    }

    private void CheckPipeline(PipeNode pipe, string context)
    {
        if (pipe.Cmds.Count == 0) throw Errorf($"missing value for {context}");
        for (int i = 1; i < pipe.Cmds.Count; i++)
        {
            switch (pipe.Cmds[i].Args[0].Type)
            {
                case NodeType.Bool: case NodeType.Dot: case NodeType.Nil: case NodeType.Number: case NodeType.String:
                    throw Errorf($"non executable command in pipeline stage {i + 1}");
            }
        }
    }

    private CommandNode Command()
    {
        var cmd = new CommandNode(PeekNonSpace().Pos);
        while (true)
        {
            PeekNonSpace();
            var operand = Operand();
            if (operand is not null) cmd.Args.Add(operand);
            var token = Next();
            switch (token.Type)
            {
                case ItemType.Space:
                    continue;
                case ItemType.RightDelim: case ItemType.RightParen:
                    Backup();
                    break;
                case ItemType.Pipe:
                    break;
                default:
                    throw Unexpected(token, "operand");
            }
            break;
        }
        if (cmd.Args.Count == 0) throw Errorf("empty command");
        return cmd;
    }

    private Node? Operand()
    {
        var node = Term();
        if (node is null) return null;
        if (Peek().Type == ItemType.Field)
        {
            var chain = new ChainNode(Peek().Pos, node);
            while (Peek().Type == ItemType.Field) chain.Add(Next().Val);
            switch (node.Type)
            {
                case NodeType.Field:
                    return new FieldNode(chain.Pos, chain.ToString());
                case NodeType.Variable:
                    return new VariableNode(chain.Pos, chain.ToString());
                case NodeType.Bool: case NodeType.String: case NodeType.Number: case NodeType.Nil: case NodeType.Dot:
                    throw Errorf($"unexpected . after term {GoQuote.Quote(node.ToString())}");
                default:
                    return chain;
            }
        }
        return node;
    }

    private Node? Term()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Identifier:
                if (!_hasFunction(token.Val)) throw Errorf($"function {GoQuote.Quote(token.Val)} not defined");
                return new IdentifierNode(token.Pos, token.Val);
            case ItemType.Dot:
                return new DotNode(token.Pos);
            case ItemType.Nil:
                return new NilNode(token.Pos);
            case ItemType.Variable:
                return UseVar(token.Pos, token.Val);
            case ItemType.Field:
                return new FieldNode(token.Pos, token.Val);
            case ItemType.Bool:
                return new BoolNode(token.Pos, token.Val == "true");
            case ItemType.CharConstant: case ItemType.Complex: case ItemType.Number:
                return NewNumber(token);
            case ItemType.LeftParen:
                return Pipeline("parenthesized pipeline", ItemType.RightParen);
            case ItemType.String: case ItemType.RawString:
                var s = GoQuote.Unquote(token.Val) ?? throw Errorf($"invalid syntax: {token.Val}");
                return new StringNode(token.Pos, token.Val, s);
        }
        Backup();
        return null;
    }

    private VariableNode UseVar(int pos, string name)
    {
        var v = new VariableNode(pos, name);
        if (_vars.Contains(v.Ident[0])) return v;
        throw Errorf($"undefined variable {GoQuote.Quote(v.Ident[0])}");
    }

    private NumberNode NewNumber(Item token)
    {
        var n = new NumberNode(token.Pos, token.Val);
        if (token.Type == ItemType.CharConstant)
        {
            var s = GoQuote.Unquote(token.Val);
            if (s is null || s.Length == 0) throw Errorf($"malformed character constant: {token.Val}");
            int r = char.ConvertToUtf32(s, 0);
            n.Int64 = r; n.IsInt = true;
            n.Float64 = r; n.IsFloat = true;
            n.Ideal = (long)r;
            return n;
        }
        if (token.Type == ItemType.Complex || token.Val.EndsWith('i')) throw Errorf($"complex numbers are not supported: {token.Val}");
        string text = token.Val.Replace("_", "", StringComparison.Ordinal);
        // Go: a hex literal is a float only with a binary exponent (0x1p60); otherwise any of ".eEpP" makes it one.
        bool isHex = text.TrimStart('+', '-').StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        bool floaty = isHex ? text.AsSpan().IndexOfAny("pP") >= 0 : text.AsSpan().IndexOfAny(".eEpP") >= 0;
        if (GoNumbers.TryParseInt(text, out long i))
        {
            n.IsInt = true;
            n.Int64 = i;
            n.IsFloat = true;
            n.Float64 = i;
            if (i >= 0) n.IsUint = true;
        }
        else if (!text.StartsWith('-') && ulong.TryParse(text.TrimStart('+'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var u))
        {
            n.IsUint = true;
            n.IsFloat = true;
            n.Float64 = u;
        }
        else if (GoNumbers.TryParseFloat(text, out double f))
        {
            if (!floaty) throw Errorf($"integer overflow: {GoQuote.Quote(token.Val)}");
            n.IsFloat = true;
            n.Float64 = f;
            if (f == Math.Floor(f) && Math.Abs(f) < 9.2e18)
            {
                n.IsInt = true;
                n.Int64 = (long)f;
            }
        }
        else
        {
            throw Errorf($"illegal number syntax: {GoQuote.Quote(token.Val)}");
        }
        // Go's idealConstant, decided once here.
        if (n.IsFloat && floaty) n.Ideal = n.Float64;
        else if (n.IsInt) n.Ideal = n.Int64;
        else n.IdealError = $"{token.Val} overflows int";
        return n;
    }
}
