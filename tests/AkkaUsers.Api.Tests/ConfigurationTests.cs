namespace AkkaUsers.Api.Tests;

/// <summary>Bad configuration stops the real process at start with one line naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Password__MinLength", "0", "Password:MinLength")]
    [InlineData("Password__MinLength", "six", "Password:MinLength")]
    [InlineData("Jwt__Secret", "too-short", "Jwt:Secret")]
    [InlineData("Persistence__Provider", "Oracle", "Persistence:Provider")]
    [InlineData("Entities__AskTimeout", "-00:00:01", "Entities:AskTimeout")]
    [InlineData("OpenApi__Enabled", "sometimes", "OpenApi:Enabled")]
    [InlineData("Metrics__Prometheus", "yes please", "Metrics:Prometheus")]
    public async Task A_bad_value_fails_the_start_with_one_line_naming_the_key(string variable, string value, string key)
    {
        await using var service = new ServiceProcess(new Dictionary<string, string> { [variable] = value });
        var stdout = new List<string>();
        await foreach (var output in service.StandardOutput()) stdout.Add(output);
        await service.WaitForExitAsync();

        Assert.Equal(1, service.ExitCode);
        var lines = (await service.StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("Invalid configuration: ", line);
        Assert.Contains(key, line);
        Assert.DoesNotContain(stdout, l => l.Contains("   at ")); // no stack trace
    }
}
