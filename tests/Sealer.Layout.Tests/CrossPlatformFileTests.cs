using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;

namespace Sealer.Layout.Tests;

/// <summary>
/// Windows and macOS build machines, checked on Linux: path rules (drive letters, UNC, the long-path prefix, mixed
/// separators, case) by <see cref="PortablePath"/>, and the atomic replace of <see cref="AtomicFile"/> against a file
/// another process holds (a sharing violation, as Windows reports it, given by a <see cref="FilePlatform"/> stand-in:
/// Linux itself never refuses a rename over an open file).
/// </summary>
public sealed class CrossPlatformFileTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>Windows' rules, with a rename that fails as if another process held the target (ERROR_SHARING_VIOLATION)
    /// for the first <see cref="LockedFor"/> attempts, and waits that are only counted.</summary>
    private sealed class LockedWindows(int lockedFor, Exception? failure = null) : FilePlatform("windows", false, true, true)
    {
        public int LockedFor { get; } = lockedFor;
        public int Attempts { get; private set; }
        public List<TimeSpan> Waits { get; } = [];

        public override void Move(string source, string destination, bool overwrite)
        {
            if (++Attempts <= LockedFor) throw failure ?? new IOException($"The process cannot access the file '{destination}' because it is being used by another process.", unchecked((int)0x80070020));
            base.Move(source, destination, overwrite);
        }

        public override void Delay(TimeSpan delay) => Waits.Add(delay);
    }

    [Theory]
    [InlineData(@"C:\src\Shop", @"c:/src/shop/Charts\web\values.yaml", "Charts/web/values.yaml")]
    [InlineData(@"C:\src\shop\", @"C:\src\shop\images.txt", "images.txt")]
    [InlineData(@"\\build01\share\shop", @"\\BUILD01\Share\shop\manifests\a.yaml", "manifests/a.yaml")]
    [InlineData(@"C:\src\shop", @"\\?\C:\src\shop\charts\web\Chart.yaml", "charts/web/Chart.yaml")]
    [InlineData(@"\\?\UNC\build01\share\shop", @"\\build01\share\shop\x.yaml", "x.yaml")]
    [InlineData(@"C:\src\shop", @"C:\src\shop\.\charts\..\values.yaml", "values.yaml")]
    [InlineData(@"C:\src\shop", @"C:\src\common\values.yaml", "../common/values.yaml")]
    [InlineData(@"C:\src\shop", @"D:\values.yaml", "D:/values.yaml")]
    [InlineData(@"C:\src\shop", @"charts\web\values.yaml", "charts/web/values.yaml")]
    public void Windows_paths_become_the_same_project_relative_path_as_on_Linux(string projectDir, string path, string expected)
        => Assert.Equal(expected, PortablePath.RelativeTo(projectDir, path, FilePlatform.Windows));

    [Fact]
    public void Linux_paths_compare_with_case_and_keep_a_backslash_as_part_of_a_name()
    {
        Assert.Equal("../shop/values.yaml", PortablePath.RelativeTo("/src/Shop", "/src/shop/values.yaml", FilePlatform.Linux));
        Assert.Equal("values.yaml", PortablePath.RelativeTo("/src/Shop", "/src/Shop/values.yaml", FilePlatform.Linux));
        Assert.Equal("values.yaml", PortablePath.RelativeTo("/Users/dev/shop", "/users/DEV/shop/values.yaml", FilePlatform.MacOS));
        Assert.False(PortablePath.IsRooted(@"C:\x", FilePlatform.Linux));
        Assert.True(PortablePath.IsRooted(@"C:\x", FilePlatform.Windows));
        Assert.True(PortablePath.IsRooted(@"\\server\share\x", FilePlatform.Windows));
        Assert.True(PortablePath.IsRooted("c:/x", FilePlatform.Windows));
        Assert.False(PortablePath.IsRooted(@"charts\web", FilePlatform.Windows));
    }

    [Fact]
    public void Item_metadata_with_backslashes_opens_the_same_file_on_Linux()
    {
        Assert.Equal("values/prod.yaml", PortablePath.FromProject(@"values\prod.yaml", FilePlatform.Linux));
        Assert.Equal(@"values\prod.yaml", PortablePath.FromProject(@"values\prod.yaml", FilePlatform.Windows));
        Assert.Equal("etc/conf/", PortablePath.ToImage(@"etc\conf\"));
    }

    [Fact]
    public void A_path_over_260_characters_is_made_relative_like_any_other()
    {
        string deep = string.Join('\\', Enumerable.Range(0, 30).Select(i => $"folder{i:00}"));
        string full = $@"\\?\C:\src\shop\{deep}\values.yaml";
        Assert.True(full.Length > 260);
        Assert.Equal(deep.Replace('\\', '/') + "/values.yaml", PortablePath.RelativeTo(@"C:\src\shop", full, FilePlatform.Windows));

        // And for real on this file system: a file more than 260 characters deep is written atomically and read back.
        string real = Path.Combine(_tmp.Path, Path.Combine(Enumerable.Range(0, 30).Select(i => $"folder{i:00}").ToArray()), "values.yaml");
        Assert.True(real.Length > 260);
        AtomicFile.WriteAllText(real, "a: 1\n");
        Assert.Equal("a: 1\n", File.ReadAllText(real));
    }

    [Fact]
    public void Paths_that_differ_only_by_case_are_found_as_one_clash_per_name()
    {
        var clashes = PortablePath.CaseClashes(["charts/Web/Chart.yaml", "charts/Web/values.yaml", "charts/web/Chart.yaml", "etc/a.conf", "etc/A.conf", "etc/b.conf"]);
        Assert.Equal(new[] { ("charts/Web", "charts/web"), ("etc/a.conf", "etc/A.conf") }, clashes);
        Assert.Empty(PortablePath.CaseClashes(["charts/web/Chart.yaml", "charts/web2/Chart.yaml", "Makefile", "makefile.d/x"]));
    }

    [Fact]
    public void A_replace_blocked_by_another_process_for_a_while_is_retried_until_it_passes()
    {
        string target = _tmp.Write("out/shop.tar", "old");
        string temp = _tmp.Write("out/.shop.tar.1.tmp", "new");
        var platform = new LockedWindows(lockedFor: 3);
        AtomicFile.Replace(temp, target, platform);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.False(File.Exists(temp));
        Assert.Equal(4, platform.Attempts);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200) }, platform.Waits);
    }

    [Fact]
    public void A_replace_blocked_for_good_is_SEA1310_naming_the_file_and_leaves_the_old_content()
    {
        string target = _tmp.Write("out/shop.tar", "old");
        string temp = _tmp.Write("out/.shop.tar.1.tmp", "new");
        var platform = new LockedWindows(lockedFor: int.MaxValue);
        var ex = Assert.Throws<SealerException>(() => AtomicFile.Replace(temp, target, platform));
        Assert.Equal(ErrorCodes.FileInUse, ex.Code);
        Assert.Equal(target, ex.File);
        Assert.Contains("in use by another process", ex.Message, StringComparison.Ordinal);
        Assert.Contains("run again", ex.Message, StringComparison.Ordinal);
        Assert.Equal(AtomicFile.ReplaceAttempts, platform.Attempts);
        Assert.True(platform.Waits.Sum(w => w.TotalSeconds) < 10, "bounded: a few seconds in all");
        Assert.Equal("old", File.ReadAllText(target));
    }

    [Fact]
    public void An_access_denied_rename_counts_as_in_use_on_Windows_only()
    {
        var denied = new UnauthorizedAccessException("Access to the path is denied.");
        Assert.True(FilePlatform.Windows.IsInUse(denied));
        Assert.False(FilePlatform.Linux.IsInUse(denied));
        Assert.True(FilePlatform.Windows.IsInUse(new IOException("locked", unchecked((int)0x80070021))));
        Assert.False(FilePlatform.Windows.IsInUse(new IOException("disk full", unchecked((int)0x80070070))));
        Assert.False(FilePlatform.Linux.IsInUse(new IOException("broken pipe", 32)));

        string target = _tmp.Write("out/index.json", "old");
        var platform = new LockedWindows(lockedFor: 2, failure: denied);
        AtomicFile.WriteAllText(target, "new", null);
        Assert.Equal("new", File.ReadAllText(target));
        string temp = _tmp.Write("out/.index.json.2.tmp", "newer");
        AtomicFile.Replace(temp, target, platform);
        Assert.Equal("newer", File.ReadAllText(target));
    }

    [Fact]
    public void Other_failures_are_not_retried()
    {
        string temp = _tmp.Write("out/.a.tmp", "new");
        var platform = new LockedWindows(lockedFor: 5, failure: new DirectoryNotFoundException("no such folder"));
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Replace(temp, _tmp.Sub("out/a"), platform));
        Assert.Equal(1, platform.Attempts);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // it sets a real mode to see that Windows' rules never read it
    public void Windows_has_no_Unix_modes_and_is_never_asked_for_them()
    {
        string script = _tmp.Write("install.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        Assert.Null(FilePlatform.Windows.UnixFileMode(script));
        FilePlatform.Windows.SetUnixFileMode(script, (UnixFileMode)0b110_000_000); // a no-op there
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(script));
        Assert.Equal((UnixFileMode)0b111_101_101, FilePlatform.Linux.UnixFileMode(script));
    }
}
