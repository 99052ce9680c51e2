using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Guided;

/// <summary>
/// The host lists a guided run asks for: addresses and ranges (<c>192.168.0.5-192.168.0.7</c>) separated by commas or
/// spaces, as <c>sealer run -m</c> takes them. <see cref="Validate"/> is the prompt's check (a message, or null when the
/// answer is good); <see cref="Parse"/> the same as a coded error.
/// </summary>
public static class HostList
{
    private static readonly char[] Separators = [',', ' ', '\t', ';'];

    /// <summary>The addresses <paramref name="answer"/> names, ranges expanded, in order; an empty answer is an empty list.</summary>
    public static IReadOnlyList<string> Parse(string answer, IReadOnlyCollection<string>? taken = null)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in answer.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IReadOnlyList<string> ips;
            try
            {
                ips = ClusterfileReader.ExpandIpRange(token);
            }
            catch (FormatException ex)
            {
                throw new SealerException(ErrorCodes.GuidedBadAnswer, $"{ex.Message}: write addresses (192.168.0.5) or ranges (192.168.0.5-192.168.0.7), separated by commas.");
            }
            foreach (var ip in ips)
            {
                if (!seen.Add(ip)) throw new SealerException(ErrorCodes.GuidedBadAnswer, $"{ip} is listed twice: list each host once.");
                if (taken?.Contains(ip) == true) throw new SealerException(ErrorCodes.GuidedBadAnswer, $"{ip} is already a master: a host is either a master or a node.");
                result.Add(ip);
            }
        }
        return result;
    }

    /// <summary>What is wrong with <paramref name="answer"/> (null: nothing); an empty answer is wrong unless <paramref name="allowEmpty"/>.</summary>
    public static string? Validate(string answer, bool allowEmpty, IReadOnlyCollection<string>? taken = null)
    {
        try
        {
            var ips = Parse(answer, taken);
            return ips.Count == 0 && !allowEmpty ? "give at least one address (192.168.0.5, or a range 192.168.0.5-192.168.0.7)" : null;
        }
        catch (SealerException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// <see cref="Validate"/> for a prompt that checks as the user types: the problem, or how many hosts the answer names
    /// and which (<c>3 hosts: 10.0.0.1-10.0.0.3</c>; <c>none</c> for an allowed empty answer).
    /// </summary>
    public static AnswerCheck Check(string answer, bool allowEmpty, IReadOnlyCollection<string>? taken = null)
    {
        if (Validate(answer, allowEmpty, taken) is { } problem) return AnswerCheck.Bad(problem);
        var ips = Parse(answer, taken);
        return AnswerCheck.Good(ips.Count == 0 ? "none" : $"{ips.Count} host{(ips.Count == 1 ? "" : "s")}: {Format(ips)}");
    }

    /// <summary>The shortest text for <paramref name="ips"/>: runs of consecutive IPv4 addresses as ranges (the prompt's default on a re-run).</summary>
    public static string Format(IReadOnlyList<string> ips)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < ips.Count)
        {
            int j = i;
            while (j + 1 < ips.Count && Next(ips[j]) == ips[j + 1]) j++;
            parts.Add(j > i + 1 ? $"{ips[i]}-{ips[j]}" : ips[i]);
            if (j == i + 1) parts.Add(ips[j]);
            i = j + 1;
        }
        return string.Join(",", parts);

        static string? Next(string ip)
        {
            if (!System.Net.IPAddress.TryParse(ip, out var a) || a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return null;
            var b = a.GetAddressBytes();
            uint v = ((uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3]) + 1;
            return new System.Net.IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]).ToString();
        }
    }

    /// <summary>What is wrong with an SSH port answer (null: nothing).</summary>
    public static string? ValidatePort(string answer) =>
        int.TryParse(answer.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) && p is >= 1 and <= 65535
            ? null : $"'{answer.Trim()}' is not a port: give a number from 1 to 65535 (sshd's is usually 22)";
}
