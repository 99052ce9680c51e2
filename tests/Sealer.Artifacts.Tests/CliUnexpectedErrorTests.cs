using CliApp = Sealer.Cli.SealerCli;
using Sealer.Core.Diagnostics;

namespace Sealer.Artifacts.Tests;

/// <summary>What no command turned into a coded error still ends with a code and exit 1, never a crash: a full disk is
/// SEA1506 with what to do; anything else SEA0001 with the exception, to be reported.</summary>
public class CliUnexpectedErrorTests
{
    [Fact]
    public void A_full_disk_that_surfaced_unmapped_is_SEA1506()
    {
        var error = new StringWriter();
        int code = CliApp.Unexpected(new IOException("No space left on device : '/media/x.tmp'", 28), error);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.StartsWith($"error {ErrorCodes.DiskWriteFailed}: the disk is full (No space left on device : '/media/x.tmp'). Free some space and run again.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Anything_else_is_SEA0001_with_the_exception_to_report()
    {
        var error = new StringWriter();
        Exception thrown;
        try
        {
            throw new InvalidOperationException("a bug");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }
        int code = CliApp.Unexpected(thrown, error);
        Assert.Equal(CliApp.ErrorExitCode, code);
        string text = error.ToString();
        Assert.StartsWith($"error {ErrorCodes.Internal}: sealer failed unexpectedly: InvalidOperationException: a bug. Please report it with this output.", text, StringComparison.Ordinal);
        Assert.Contains(nameof(Anything_else_is_SEA0001_with_the_exception_to_report), text, StringComparison.Ordinal); // the stack, for the report
    }
}
