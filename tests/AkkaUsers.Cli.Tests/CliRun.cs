using System.Text;

namespace AkkaUsers.Cli.Tests;

/// <summary>One run of the tool, in process: its exit code, stdout and stderr.</summary>
public sealed record CliRun(int ExitCode, string Output, string Errors)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var output = new MemoryStream();
        var errors = new StringWriter();
        var exitCode = await AkkaUsersCli.RunAsync(args, output, errors, CancellationToken.None);
        return new CliRun(exitCode, Encoding.UTF8.GetString(output.ToArray()), errors.ToString());
    }

    /// <summary>The one line a refusal is, without its line break; fails when there is more than one.</summary>
    public static string OneLine(string errors) => Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
}
