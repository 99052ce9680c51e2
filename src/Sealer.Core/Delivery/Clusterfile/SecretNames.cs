namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// The one rule for "a name that looks secret", used wherever a value is hidden by its name: the Clusterfile copy in the
/// cluster's ConfigMap (<see cref="ClusterfileEditor.MaskSecrets"/>: env entries and <c>name: value</c> lines of documents'
/// <c>data</c>) and the support bundle's redactor (env values, <c>NAME=value</c> shapes in logs and configs).
/// </summary>
/// <remarks>
/// Decision (issue 14): there were two rules, the editor's narrow one (passw, secret, token, credential, apikey,
/// privatekey) and the redactor's broad one (also any KEY, PWD, PASSPHRASE, PRIVATE). The broad one won: a name wrongly
/// taken for secret only hides a harmless value from a read-only copy (<c>PRIVATE_REGISTRY=hub.local</c>,
/// <c>publicKey: ...</c> show as masked), a secret taken for harmless leaks it. The copies that are masked are never read
/// back to run, so masking more costs nothing there. Separators are ignored (<c>pass_word</c>, <c>api-key</c>).
/// </remarks>
public static class SecretNames
{
    private static readonly string[] Parts = ["PASSWORD", "PASSWD", "PASSPHRASE", "PWD", "TOKEN", "SECRET", "CREDENTIAL", "PRIVATE", "KEY"];

    /// <summary>
    /// Whether an env or setting name looks secret: once upper-cased and stripped of <c>_</c>, <c>-</c> and <c>.</c>, it
    /// contains PASSWORD, PASSWD, PASSPHRASE, PWD, TOKEN, SECRET, CREDENTIAL, PRIVATE or KEY. Not: a bare <c>key</c>/<c>keys</c>
    /// (as Kubernetes selectors and tolerations use it) and the shell's <c>PWD</c>/<c>OLDPWD</c> (the working directory).
    /// </summary>
    public static bool IsSecret(string name)
    {
        string n = name.Trim().Trim('"', '\'').ToUpperInvariant();
        if (n is "KEY" or "KEYS" or "PWD" or "OLDPWD" or "OLD_PWD" or "") return false;
        n = n.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).Replace(".", "", StringComparison.Ordinal);
        foreach (var part in Parts)
        {
            if (n.Contains(part, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
