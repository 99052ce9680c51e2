namespace Sealer.TestSupport;

/// <summary>Assertions on command output and logs.</summary>
public static class TextAssert
{
    /// <summary>Each of <paramref name="needles"/> occurs in <paramref name="text"/>, in this order.</summary>
    public static void InOrder(string text, params string[] needles)
    {
        int pos = 0;
        foreach (var n in needles)
        {
            int i = text.IndexOf(n, pos, StringComparison.Ordinal);
            Assert.True(i >= 0, $"'{n}' not found after position {pos} in:\n{text}");
            pos = i + n.Length;
        }
    }
}
