using Sealer.Core.Text;

namespace Sealer.Core.Templating.Parse;

internal enum ItemType
{
    Error, Bool, Char, CharConstant, Comment, Complex, Assign, Declare, EOF, Field, Identifier, LeftDelim, LeftParen,
    Number, Pipe, RawString, RightDelim, RightParen, Space, String, Text, Variable,
    Keyword, // marker: keywords follow
    Block, Break, Continue, Dot, Define, Else, End, If, Nil, Range, Template, With,
}

internal readonly record struct Item(ItemType Type, int Pos, string Val, int Line)
{
    public override string ToString() => Type switch
    {
        ItemType.EOF => "EOF",
        ItemType.Error => Val,
        > ItemType.Keyword => "<" + Val + ">",
        _ => Val.Length > 10 ? GoQuote.Quote(Val[..10]) + "..." : GoQuote.Quote(Val),
    };
}

/// <summary>Go's text/template pull lexer: <c>NextItem</c> runs state functions until one emits an item.</summary>
internal sealed class Lexer
{
    private delegate StateFn? StateFn(Lexer l);

    private const string LeftDelim = "{{", RightDelim = "}}", LeftComment = "/*", RightComment = "*/";
    private string _input;
    private int _pos, _start, _line, _startLine, _parenDepth;
    private bool _insideAction, _atEOF;
    private Item _item;
    public bool BreakOK { get; init; } = true;
    public bool ContinueOK { get; init; } = true;

    private static readonly Dictionary<string, ItemType> Keywords = new(StringComparer.Ordinal)
    {
        ["."] = ItemType.Dot, ["block"] = ItemType.Block, ["break"] = ItemType.Break, ["continue"] = ItemType.Continue,
        ["define"] = ItemType.Define, ["else"] = ItemType.Else, ["end"] = ItemType.End, ["if"] = ItemType.If,
        ["range"] = ItemType.Range, ["nil"] = ItemType.Nil, ["template"] = ItemType.Template, ["with"] = ItemType.With,
    };

    public Lexer(string input)
    {
        _input = input;
        _line = 1;
        _startLine = 1;
    }

    public Item NextItem()
    {
        _item = new Item(ItemType.EOF, _pos, "EOF", _startLine);
        StateFn? state = _insideAction ? LexInsideAction : LexText;
        while (state is not null) state = state(this);
        return _item;
    }

    private const int EofRune = -1;

    private int Next()
    {
        if (_pos >= _input.Length) { _atEOF = true; return EofRune; }
        _atEOF = false;
        char c = _input[_pos++];
        if (c == '\n') _line++;
        return c;
    }

    private int Peek() => _pos >= _input.Length ? EofRune : _input[_pos];

    private void Backup()
    {
        if (!_atEOF && _pos > 0)
        {
            _pos--;
            if (_input[_pos] == '\n') _line--;
        }
    }

    private Item ThisItem(ItemType t)
    {
        var i = new Item(t, _start, _input[_start.._pos], _startLine);
        _start = _pos;
        _startLine = _line;
        return i;
    }

    private StateFn? Emit(ItemType t) => EmitItem(ThisItem(t));

    private StateFn? EmitItem(Item i)
    {
        _item = i;
        return null;
    }

    /// <summary>Skips pending input; counts its newlines, so use only for text skipped without <see cref="Next"/>.</summary>
    private void Ignore()
    {
        _line += CountNewlines(_start, _pos);
        _start = _pos;
        _startLine = _line;
    }

    private int CountNewlines(int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (_input[i] == '\n') n++;
        return n;
    }

    private bool Accept(string valid)
    {
        if (Next() is var r && r != EofRune && valid.Contains((char)r)) return true;
        Backup();
        return false;
    }

    private void AcceptRun(string valid)
    {
        while (Next() is var r && r != EofRune && valid.Contains((char)r)) { }
        Backup();
    }

    private StateFn? Errorf(string message)
    {
        _item = new Item(ItemType.Error, _start, message, _startLine);
        _start = 0;
        _pos = 0;
        _input = "";
        return null;
    }

    private static bool IsSpace(int r) => r is ' ' or '\t' or '\r' or '\n';
    private static bool IsAlphaNumeric(int r) => r == '_' || (r >= 0 && char.IsLetterOrDigit((char)r));

    private bool HasLeftTrimMarker(int at) => at + 1 < _input.Length && _input[at] == '-' && IsSpace(_input[at + 1]);
    private bool HasRightTrimMarker(int at) => at >= 0 && at + 1 < _input.Length && IsSpace(_input[at]) && _input[at + 1] == '-';
    private bool HasPrefixAt(int at, string s) => at >= 0 && at + s.Length <= _input.Length && string.CompareOrdinal(_input, at, s, 0, s.Length) == 0;

    private bool AtRightDelim(out bool trimSpaces)
    {
        if (HasRightTrimMarker(_pos) && HasPrefixAt(_pos + 2, RightDelim))
        {
            trimSpaces = true;
            return true;
        }
        trimSpaces = false;
        return HasPrefixAt(_pos, RightDelim);
    }

    private static int RightTrimLength(string s, int start, int end)
    {
        int i = end;
        while (i > start && IsSpace(s[i - 1])) i--;
        return end - i;
    }

    private int LeftTrimLength(int at)
    {
        int i = at;
        while (i < _input.Length && IsSpace(_input[i])) i++;
        return i - at;
    }

    private static StateFn? LexText(Lexer l)
    {
        int x = l._input.IndexOf(LeftDelim, l._pos, StringComparison.Ordinal);
        if (x >= 0)
        {
            if (x > l._pos)
            {
                l._pos = x;
                int trimLength = 0;
                if (l.HasLeftTrimMarker(l._pos + LeftDelim.Length)) trimLength = RightTrimLength(l._input, l._start, l._pos);
                l._pos -= trimLength;
                l._line += l.CountNewlines(l._start, l._pos);
                var i = l.ThisItem(ItemType.Text);
                l._pos += trimLength;
                l.Ignore();
                if (i.Val.Length > 0) return l.EmitItem(i);
            }
            return LexLeftDelim;
        }
        l._pos = l._input.Length;
        if (l._pos > l._start)
        {
            l._line += l.CountNewlines(l._start, l._pos);
            return l.Emit(ItemType.Text);
        }
        return l.Emit(ItemType.EOF);
    }

    private static StateFn? LexLeftDelim(Lexer l)
    {
        l._pos += LeftDelim.Length;
        bool trimSpace = l.HasLeftTrimMarker(l._pos);
        int afterMarker = trimSpace ? 2 : 0;
        if (l.HasPrefixAt(l._pos + afterMarker, LeftComment))
        {
            l._pos += afterMarker;
            l.Ignore();
            return LexComment;
        }
        var i = l.ThisItem(ItemType.LeftDelim);
        l._insideAction = true;
        l._pos += afterMarker;
        l.Ignore();
        l._parenDepth = 0;
        return l.EmitItem(i);
    }

    private static StateFn? LexComment(Lexer l)
    {
        l._pos += LeftComment.Length;
        int x = l._input.IndexOf(RightComment, l._pos, StringComparison.Ordinal);
        if (x < 0) return l.Errorf("unclosed comment");
        l._pos = x + RightComment.Length;
        if (!l.AtRightDelim(out bool trimSpace)) return l.Errorf("comment ends before closing delimiter");
        if (trimSpace) l._pos += 2;
        l._pos += RightDelim.Length;
        if (trimSpace) l._pos += l.LeftTrimLength(l._pos);
        l.Ignore();
        return LexText;
    }

    private static StateFn? LexRightDelim(Lexer l)
    {
        l.AtRightDelim(out bool trimSpace);
        if (trimSpace)
        {
            l._pos += 2;
            l.Ignore();
        }
        l._pos += RightDelim.Length;
        var i = l.ThisItem(ItemType.RightDelim);
        if (trimSpace)
        {
            l._pos += l.LeftTrimLength(l._pos);
            l.Ignore();
        }
        l._insideAction = false;
        return l.EmitItem(i);
    }

    private static StateFn? LexInsideAction(Lexer l)
    {
        bool delim = l.AtRightDelim(out _);
        if (delim)
        {
            if (l._parenDepth == 0) return LexRightDelim;
            return l.Errorf("unclosed left paren");
        }
        int r = l.Next();
        switch (r)
        {
            case EofRune:
                return l.Errorf("unclosed action");
            case ' ' or '\t' or '\r' or '\n':
                l.Backup();
                return LexSpace;
            case '=':
                return l.Emit(ItemType.Assign);
            case ':':
                if (l.Next() != '=') return l.Errorf("expected :=");
                return l.Emit(ItemType.Declare);
            case '|':
                return l.Emit(ItemType.Pipe);
            case '"':
                return LexQuote;
            case '`':
                return LexRawQuote;
            case '$':
                return LexVariable;
            case '\'':
                return LexChar;
            case '.':
                if (l._pos < l._input.Length)
                {
                    char c = l._input[l._pos];
                    if (c is < '0' or > '9') return LexField;
                }
                l.Backup();
                return LexNumber;
            case '+' or '-' or (>= '0' and <= '9'):
                l.Backup();
                return LexNumber;
            case '(':
                l._parenDepth++;
                return l.Emit(ItemType.LeftParen);
            case ')':
                l._parenDepth--;
                if (l._parenDepth < 0) return l.Errorf("unexpected right paren");
                return l.Emit(ItemType.RightParen);
            default:
                if (IsAlphaNumeric(r))
                {
                    l.Backup();
                    return LexIdentifier;
                }
                if (r <= 0x7f && !char.IsControl((char)r))
                {
                    return l.Emit(ItemType.Char);
                }
                return l.Errorf($"unrecognized character in action: {GoQuote.RuneU(r)}");
        }
    }

    private static StateFn? LexSpace(Lexer l)
    {
        int numSpaces = 0;
        while (IsSpace(l.Peek()))
        {
            l.Next();
            numSpaces++;
        }
        if (l.HasRightTrimMarker(l._pos - 1) && l.HasPrefixAt(l._pos + 1, RightDelim))
        {
            l.Backup();
            if (numSpaces == 1) return LexInsideAction;
        }
        return l.Emit(ItemType.Space);
    }

    private static StateFn? LexIdentifier(Lexer l)
    {
        while (true)
        {
            int r = l.Next();
            if (IsAlphaNumeric(r)) continue;
            l.Backup();
            string word = l._input[l._start..l._pos];
            if (!l.AtTerminator()) return l.Errorf($"bad character {GoQuote.RuneU(r)}");
            if (Keywords.TryGetValue(word, out var kw) && kw > ItemType.Keyword)
            {
                if ((kw == ItemType.Break && !l.BreakOK) || (kw == ItemType.Continue && !l.ContinueOK)) return l.Emit(ItemType.Identifier);
                return l.Emit(kw);
            }
            if (word.Length > 0 && word[0] == '.') return l.Emit(ItemType.Field);
            if (word is "true" or "false") return l.Emit(ItemType.Bool);
            return l.Emit(ItemType.Identifier);
        }
    }

    private static StateFn? LexField(Lexer l) => LexFieldOrVariable(l, ItemType.Field);

    private static StateFn? LexVariable(Lexer l)
    {
        if (l.AtTerminator()) return l.Emit(ItemType.Variable);
        return LexFieldOrVariable(l, ItemType.Variable);
    }

    private static StateFn? LexFieldOrVariable(Lexer l, ItemType typ)
    {
        if (l.AtTerminator())
        {
            return typ == ItemType.Variable ? l.Emit(ItemType.Variable) : l.Emit(ItemType.Dot);
        }
        int r;
        while (true)
        {
            r = l.Next();
            if (!IsAlphaNumeric(r))
            {
                l.Backup();
                break;
            }
        }
        if (!l.AtTerminator()) return l.Errorf($"bad character {GoQuote.RuneU(r)}");
        return l.Emit(typ);
    }

    private bool AtTerminator()
    {
        int r = Peek();
        if (IsSpace(r)) return true;
        switch (r)
        {
            case EofRune: case '.': case ',': case '|': case ':': case ')': case '(':
                return true;
        }
        return HasPrefixAt(_pos, RightDelim);
    }

    private static StateFn? LexChar(Lexer l)
    {
        while (true)
        {
            int r = l.Next();
            if (r == '\\')
            {
                int n = l.Next();
                if (n is not EofRune and not '\n') continue;
                return l.Errorf("unterminated character constant");
            }
            if (r is EofRune or '\n') return l.Errorf("unterminated character constant");
            if (r == '\'') break;
        }
        return l.Emit(ItemType.CharConstant);
    }

    private static StateFn? LexNumber(Lexer l)
    {
        if (!l.ScanNumber()) return l.Errorf($"bad number syntax: {GoQuote.Quote(l._input[l._start..l._pos])}");
        return l.Emit(ItemType.Number);
    }

    private bool ScanNumber()
    {
        Accept("+-");
        string digits = "0123456789_";
        if (Accept("0"))
        {
            if (Accept("xX")) digits = "0123456789abcdefABCDEF_";
            else if (Accept("oO")) digits = "01234567_";
            else if (Accept("bB")) digits = "01_";
        }
        AcceptRun(digits);
        if (Accept(".")) AcceptRun(digits);
        if (digits.Length == 11 && Accept("eE"))
        {
            Accept("+-");
            AcceptRun("0123456789_");
        }
        if (digits.Length == 23 && Accept("pP"))
        {
            Accept("+-");
            AcceptRun("0123456789_");
        }
        Accept("i");
        if (IsAlphaNumeric(Peek()))
        {
            Next();
            return false;
        }
        return true;
    }

    private static StateFn? LexQuote(Lexer l)
    {
        while (true)
        {
            int r = l.Next();
            if (r == '\\')
            {
                int n = l.Next();
                if (n is not EofRune and not '\n') continue;
                return l.Errorf("unterminated quoted string");
            }
            if (r is EofRune or '\n') return l.Errorf("unterminated quoted string");
            if (r == '"') break;
        }
        return l.Emit(ItemType.String);
    }

    private static StateFn? LexRawQuote(Lexer l)
    {
        while (true)
        {
            int r = l.Next();
            if (r == EofRune) return l.Errorf("unterminated raw quoted string");
            if (r == '`') break;
        }
        return l.Emit(ItemType.RawString);
    }
}
