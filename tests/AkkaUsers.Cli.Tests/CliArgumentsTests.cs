namespace AkkaUsers.Cli.Tests;

public class CliArgumentsTests
{
    [Fact]
    public void Verb_arguments_options_and_configuration_are_told_apart()
    {
        var parsed = CliArguments.Parse(["audit", "export", "--out", "a.jsonl", "--Storage:DataDirectory=/d", "--since=2025-01-01",
            "--Persistence:Provider", "Sqlite"]);

        Assert.Equal("audit export", parsed.Verb);
        Assert.Empty(parsed.Arguments);
        Assert.Equal("a.jsonl", parsed.Option("out"));
        Assert.Equal("2025-01-01", parsed.Option("since"));
        Assert.Null(parsed.Option("user"));
        Assert.Equal(["--Storage:DataDirectory=/d", "--Persistence:Provider", "Sqlite"], parsed.Configuration);
    }

    [Fact]
    public void Admin_grant_takes_the_email_as_its_argument()
    {
        var parsed = CliArguments.Parse(["admin", "grant", "root@example.com"]);

        Assert.Equal("admin grant", parsed.Verb);
        Assert.Equal(["root@example.com"], parsed.Arguments);
    }

    [Theory]
    [InlineData("no verb given")]
    [InlineData("unknown verb 'audit'", "audit")]
    [InlineData("unknown verb 'audit frob'", "audit", "frob")]
    [InlineData("admin grant takes 1 argument(s), got 0", "admin", "grant")]
    [InlineData("audit verify takes 0 argument(s), got 1", "audit", "verify", "extra")]
    [InlineData("audit verify has no option --out", "audit", "verify", "--out", "x")]
    [InlineData("--out needs a value", "audit", "export", "--out")]
    [InlineData("--user is given twice", "audit", "export", "--user", "a", "--user=b")]
    public void A_bad_command_line_is_a_usage_error_saying_why(string message, params string[] args)
    {
        Assert.Equal(message, Assert.Throws<UsageException>(() => CliArguments.Parse(args)).Message);
    }
}
