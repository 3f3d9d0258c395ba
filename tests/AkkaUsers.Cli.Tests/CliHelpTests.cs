using static AkkaUsers.Cli.Tests.CliRun;

namespace AkkaUsers.Cli.Tests;

/// <summary>Help and version: on stdout, exit 0, without a journal or any configuration.</summary>
public class CliHelpTests
{
    [Theory]
    [InlineData("--help", "", "audit", "projection", "admin", "users", "--version")]
    [InlineData("-h", "audit", "export", "verify")]
    [InlineData("--help", "audit export", "--out", "--since", "--user")]
    [InlineData("-h", "audit verify", "--format")]
    [InlineData("--help", "projection rebuild", "--format")]
    [InlineData("-h", "admin grant", "EMAIL", "--service-url", "PUT /users/USER-ID")]
    [InlineData("--help", "users import", "FILE", "--url", "--token", "--rejected", "AKKAUSERS_TOKEN")]
    public async Task Each_verbs_help_goes_to_stdout_with_its_options_the_configuration_and_the_exit_codes(
        string flag, string verb, params string[] mentions)
    {
        var run = await RunAsync([.. verb.Split(' ', StringSplitOptions.RemoveEmptyEntries), flag]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Errors);
        Assert.Contains($"akka-users {verb}".TrimEnd(), run.Output);
        foreach (var mention in mentions) Assert.Contains(mention, run.Output);
        Assert.Contains("--Section:Key=value", run.Output);
        Assert.Contains("Exit codes:", run.Output);
        Assert.Contains("3    the journal cannot be opened or read", run.Output);
    }

    [Fact]
    public async Task Version_is_the_assemblys_on_stdout()
    {
        var run = await RunAsync("--version");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", run.Output);
        Assert.Equal("", run.Errors);
    }

    [Fact]
    public async Task No_verb_is_a_usage_error_on_one_line()
    {
        var run = await RunAsync();

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("Required command was not provided (see 'akka-users --help')", OneLine(run.Errors));
        Assert.Equal("", run.Output);
    }
}
