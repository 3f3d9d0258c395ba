using System.Diagnostics;

namespace AkkaUsers.Api.Tests;

/// <summary>Bad configuration stops the real process at start with one line naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Password__MinLength=0", "Password:MinLength")]
    [InlineData("Password__MinLength=six", "Password:MinLength")]
    [InlineData("Jwt__Secret=too-short", "Jwt:Secret")]
    [InlineData("Persistence__Provider=Oracle", "Persistence:Provider")]
    [InlineData("Entities__AskTimeout=-00:00:01", "Entities:AskTimeout")]
    [InlineData("Cluster__SeedNodes=akka.tcp://akka-users@127.0.0.1:4053;Cluster__Port=4053", "Jwt:Secret")]
    [InlineData("Cluster__SeedNodes=tcp://elsewhere:4053;Cluster__Port=4053", "Cluster:SeedNodes")]
    [InlineData("Cluster__SeedNodes=akka.tcp://akka-users@127.0.0.1:4053;Jwt__Secret=a-secret-of-at-least-thirty-two-bytes", "Cluster:Port")]
    [InlineData("Persistence__Provider=PostgreSql", "Persistence:ConnectionString")]
    public async Task A_bad_value_fails_the_start_with_one_line_naming_the_key(string variables, string key)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["Storage__DataDirectory"] = dataDirectory,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            },
        };
        foreach (var pair in variables.Split(';').Select(v => v.Split('=', 2))) start.Environment[pair[0]] = pair[1];
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            if (Directory.Exists(dataDirectory)) Directory.Delete(dataDirectory, recursive: true);
        }

        Assert.Equal(1, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("Invalid configuration: ", line);
        Assert.Contains(key, line);
        Assert.DoesNotContain("   at ", await stdout); // no stack trace
    }
}
