namespace AkkaUsers.Api.Tests;

/// <summary>Bad configuration stops the real process at start with one line naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Password__MinLength=0", "Password:MinLength")]
    [InlineData("Password__MinLength=six", "Password:MinLength")]
    [InlineData("Jwt__Secret=too-short", "Jwt:Secret")]
    [InlineData("Jwt__Secret=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Jwt:Secret must have at least 8 different characters")]
    [InlineData("Jwt__Secret=change-me-to-a-shared-secret-of-32-bytes-or-more", "Jwt:Secret is published")]
    [InlineData("Jwt__PreviousSecrets=a-shared-secret-of-at-least-32-bytes;Jwt__PreviousSecretsUntil=2030-01-01T00:00:00Z", "Jwt:PreviousSecrets entry 1 is published")]
    [InlineData("Jwt__PreviousSecrets=too-short;Jwt__PreviousSecretsUntil=2030-01-01T00:00:00Z", "Jwt:PreviousSecrets entry 1")]
    [InlineData("Persistence__Provider=Oracle", "Persistence:Provider")]
    [InlineData("Management__Urls=http://127.0.0.1:0", "Management:Urls")]
    [InlineData("Management__Urls=127.0.0.1:9000", "Management:Urls")]
    [InlineData("Http__TrustedProxies=10.0.0.0/33", "Http:TrustedProxies")]
    [InlineData("Entities__AskTimeout=-00:00:01", "Entities:AskTimeout")]
    [InlineData("OpenApi__Enabled=sometimes", "OpenApi:Enabled")]
    [InlineData("Metrics__Prometheus=yes please", "Metrics:Prometheus")]
    [InlineData("Cluster__SeedNodes=akka.tcp://akka-users@127.0.0.1:4053;Cluster__Port=4053;Cluster__Tls__Disabled=true", "Jwt:Secret")]
    [InlineData("Cluster__SeedNodes=tcp://elsewhere:4053;Cluster__Port=4053", "Cluster:SeedNodes")]
    [InlineData("Cluster__SeedNodes=akka.tcp://akka-users@127.0.0.1:4053;Jwt__Secret=a-secret-of-at-least-thirty-two-bytes", "Cluster:Port")]
    [InlineData("Persistence__Provider=PostgreSql", "Persistence:ConnectionString")]
    [InlineData("Admin__Email=root@example.com", "Admin:Password is required")]
    [InlineData("Admin__Password=root-password", "Admin:Email is required")]
    [InlineData("Admin__Email=root@example.com;Admin__Password=password123;Password__RejectCommon=true", "Admin:Password\" is too common")]
    [InlineData("WEBHOOK_USER_FORGOT_PASSWORD=hooks.example.com/forgot", "WEBHOOK_USER_FORGOT_PASSWORD")]
    [InlineData("FORGOT_PASSWORD_LINK=https://app.example.com/reset", "FORGOT_PASSWORD_LINK must contain {{code}}")]
    [InlineData("FORGOT_PASSWORD_LINK=/reset?code={{code}}", "FORGOT_PASSWORD_LINK must be an absolute")]
    [InlineData("ForgotPassword__WebhookRetries=-1", "ForgotPassword:WebhookRetries")]
    public async Task A_bad_value_fails_the_start_with_one_line_naming_the_key(string variables, string key)
    {
        var environment = variables.Split(';').Select(v => v.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        await using var service = new ServiceProcess(environment);
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
