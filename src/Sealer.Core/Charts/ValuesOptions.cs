using Sealer.Core.Diagnostics;

namespace Sealer.Core.Charts;

/// <summary>
/// User values as helm's cli/values.Options.MergeValues builds them: values files in order (maps merged, later wins),
/// then <c>--set</c>, then <c>--set-string</c>, then <c>--set-file</c>. The result is what <c>helm template -f ... --set ...</c>
/// hands to the chart; the chart's own defaults are coalesced under it by <see cref="ChartValues"/>.
/// </summary>
public sealed class ValuesOptions
{
    public List<string> ValuesFiles { get; init; } = [];
    public List<string> SetValues { get; init; } = [];
    public List<string> SetStringValues { get; init; } = [];
    public List<string> SetFileValues { get; init; } = [];

    /// <summary>Files read while merging (for incremental-build inputs).</summary>
    public List<string> FilesRead { get; } = [];

    public Dictionary<string, object?> Merge()
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var file in ValuesFiles)
        {
            string full = Path.GetFullPath(file);
            if (!File.Exists(full))
            {
                throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"values file '{file}' does not exist.", file);
            }
            FilesRead.Add(full);
            result = HelmYaml.MergeMaps(result, HelmYaml.ParseValues(File.ReadAllText(full), full));
        }
        foreach (var s in SetValues) StrVals.ParseInto(s, result);
        foreach (var s in SetStringValues) StrVals.ParseIntoString(s, result);
        foreach (var s in SetFileValues)
        {
            StrVals.ParseIntoFile(s, result, path =>
            {
                string full = Path.GetFullPath(path);
                if (!File.Exists(full)) throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"--set-file '{s}': file '{path}' does not exist.");
                FilesRead.Add(full);
                return File.ReadAllText(full);
            });
        }
        return result;
    }
}
