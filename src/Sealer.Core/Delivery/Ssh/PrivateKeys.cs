using Renci.SshNet;
using Renci.SshNet.Common;

namespace Sealer.Core.Delivery.Ssh;

/// <summary>
/// What a private key file needs before it can log in: whether it is encrypted, and whether a passphrase opens it. An
/// encrypted key's passphrase comes from ssh.pkPasswd (kept in the Clusterfile in clear: discouraged), the guided run's
/// prompt (never echoed, never written), or, for runs without a terminal, the environment variable
/// <see cref="PassphraseVariable"/>.
/// </summary>
public static class PrivateKeys
{
    /// <summary>The environment variable a run takes an encrypted private key's passphrase from when the Clusterfile has no ssh.pkPasswd.</summary>
    public const string PassphraseVariable = "SEALER_SSH_KEY_PASSPHRASE";

    /// <summary>Whether the key file at <paramref name="path"/> needs a passphrase (false when it cannot be read or parsed: loading it says why).</summary>
    public static bool IsEncrypted(string path)
    {
        try
        {
            using var key = new PrivateKeyFile(path);
            return false;
        }
        catch (SshPassPhraseNullOrEmptyException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SshException or InvalidOperationException or ArgumentException or FormatException
            or System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }

    /// <summary>What is wrong with <paramref name="passphrase"/> for the key at <paramref name="path"/> (null: it opens the key). The passphrase is never in the message.</summary>
    public static string? PassphraseProblem(string path, string passphrase)
    {
        if (passphrase.Length == 0) return "give the passphrase of the key (it is encrypted)";
        try
        {
            using var key = new PrivateKeyFile(path, passphrase);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SshException or InvalidOperationException or ArgumentException or FormatException
            or System.Security.Cryptography.CryptographicException)
        {
            return $"this passphrase does not open '{path}' ({ex.GetType().Name}): type it again";
        }
    }
}
