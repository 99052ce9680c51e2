using System.Runtime.CompilerServices;

namespace Sealer.Core.Templating.Parse;

/// <summary>
/// Parses each distinct template text once per process and function table: the trees of a text do not depend on the name
/// it is parsed under (only <see cref="Tree.Name"/>/<see cref="Tree.ParseName"/> do, and nodes never point at their tree),
/// so the same library chart (Bitnami's <c>common</c> under every chart, a subchart vendored twice) and the same
/// <c>tpl</c> string are parsed once and re-labelled per use. Parse errors are not cached: the text is parsed again under
/// its real name, so the message names the right file. Bounded: past <see cref="MaxChars"/> characters of cached text
/// the cache starts over.
/// </summary>
internal static class ParseCache
{
    /// <summary>The name a text is parsed under for the cache; no {{define}} in real templates uses it.</summary>
    private const string Placeholder = "\u0000sealer-parse-cache\u0000";

    internal const long MaxChars = 64L * 1024 * 1024;

    private sealed class Entry(KeyValuePair<string, Tree>[] trees)
    {
        /// <summary>The trees in Go's order, the main one under <see cref="Placeholder"/>.</summary>
        public readonly KeyValuePair<string, Tree>[] Trees = trees;
    }

    private sealed class Cache
    {
        public readonly Dictionary<string, Entry> ByText = new(StringComparer.Ordinal);
        public long Chars;
    }

    private static readonly ConditionalWeakTable<object, Cache> Caches = new();

    /// <summary>How many texts were parsed (not found in the cache) in this process; for tests.</summary>
    internal static long Misses;

    /// <summary>The trees of <paramref name="text"/> parsed as <paramref name="name"/> (as <see cref="Parser.ParseLocal"/>), fresh
    /// <see cref="Tree"/> objects sharing cached nodes. <paramref name="functionTable"/> is the identity of the function
    /// table (one cache each, as which names are functions changes the parse); <paramref name="isFunction"/> asks it.</summary>
    /// <exception cref="ParseException">The text does not parse (the message names <paramref name="name"/>).</exception>
    public static Dictionary<string, Tree> Parse(string name, string text, object functionTable, Func<string, bool> isFunction)
    {
        var cache = Caches.GetValue(functionTable, _ => new Cache());
        Entry? entry;
        lock (cache)
        {
            cache.ByText.TryGetValue(text, out entry);
        }
        if (entry is null)
        {
            Interlocked.Increment(ref Misses);
            Dictionary<string, Tree> parsed;
            try
            {
                parsed = Parser.ParseLocal(Placeholder, text, isFunction);
            }
            catch (ParseException)
            {
                return Parser.ParseLocal(name, text, isFunction);
            }
            entry = new Entry([.. parsed]);
            lock (cache)
            {
                if (cache.Chars + text.Length > MaxChars)
                {
                    cache.ByText.Clear();
                    cache.Chars = 0;
                }
                if (cache.ByText.TryAdd(text, entry)) cache.Chars += text.Length;
            }
        }
        var result = new Dictionary<string, Tree>(entry.Trees.Length, StringComparer.Ordinal);
        foreach (var (key, tree) in entry.Trees)
        {
            if (key == name)
            {
                // A {{define}} named like the file itself: Go's duplicate rules apply under the real name; parse for real.
                return Parser.ParseLocal(name, text, isFunction);
            }
            bool main = ReferenceEquals(key, Placeholder) || key == Placeholder;
            result[main ? name : key] = new Tree(main ? name : key, name, text) { Root = tree.Root };
        }
        return result;
    }
}
