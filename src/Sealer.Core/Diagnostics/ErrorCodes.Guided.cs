namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>A guided run (a bundle or <c>sealer run</c> without a Clusterfile) needs an answer it cannot ask for: no terminal, or --yes.</summary>
    public const string GuidedAnswerMissing = "SEA4100";

    /// <summary>An answer of a guided run is not valid (an address, a range, a port, a placeholder value).</summary>
    public const string GuidedBadAnswer = "SEA4101";

    /// <summary>A host's key was not trusted at the guided run's prompt; nothing was changed on any host.</summary>
    public const string GuidedHostKeyDeclined = "SEA4102";

    /// <summary>
    /// The private key is encrypted and no passphrase was given: not at the guided run's prompt, not in the environment
    /// variable SEALER_SSH_KEY_PASSPHRASE, not as ssh.pkPasswd.
    /// </summary>
    public const string SshKeyPassphraseMissing = "SEA4110";
}
