using System.Diagnostics;

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
    [InlineData("Admin__Email", "root@example.com", "Admin:Password is required")]
    [InlineData("Admin__Password", "root-password", "Admin:Email is required")]
    public async Task A_bad_value_fails_the_start_with_one_line_naming_the_key(string variable, string value, string key)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                [variable] = value,
                ["Storage__DataDirectory"] = dataDirectory,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            },
        };
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
