using System.Net;
using System.Text.RegularExpressions;

namespace AkkaUsers.Api.Tests;

/// <summary>Where a code goes without a webhook, or when its webhook keeps failing: a log line with the code in Development only.</summary>
public sealed class ForgotPasswordDeliveryTests
{
    private const string Category = "AkkaUsers.Api.ForgotPassword.ResetCodeDelivery";

    private static async Task<(string Id, string Email)> Register(HttpClient client)
    {
        var username = Api.Unique("dl");
        var registered = await client.Register(username, $"{username}@example.com");
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        return ((await registered.Body())["user"]!["id"]!.GetValue<string>(), $"{username}@example.com");
    }

    private static Task<string> WaitForLine(ApiFactory factory, Func<string, bool> match) =>
        Accounts.Tests.Poll.UntilAsync(() => Task.FromResult(factory.Logs.Lines.FirstOrDefault(match)), line => line is not null, "the log line")!;

    [Fact]
    public async Task Without_a_webhook_Development_logs_the_code_at_warning_and_the_code_works()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var (id, email) = await Register(client);

        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email })).StatusCode);

        var line = await WaitForLine(factory, l => l.StartsWith($"Warning {Category}: No WEBHOOK_USER_FORGOT_PASSWORD is configured; the password reset code of user {id} is ", StringComparison.Ordinal));
        var code = Regex.Match(line, $"{id}\\.[A-Za-z0-9_-]{{43}}").Value;
        Assert.NotEmpty(code);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/forgot-password/reset", new { code, password = "logged-secret-1" })).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task Outside_Development_no_log_line_holds_a_code_without_a_webhook_or_when_delivery_fails()
    {
        using var webhook = new WebhookListener();
        await using var withoutWebhook = new ApiFactory(new() { ["environment"] = "Production" });
        await using var failing = new ApiFactory(new()
        {
            ["environment"] = "Production",
            ["WEBHOOK_USER_FORGOT_PASSWORD"] = webhook.Url,
            ["ForgotPassword:WebhookRetries"] = "1",
            ["ForgotPassword:WebhookRetryDelay"] = "00:00:00.010",
        });
        using var client = withoutWebhook.CreateClient();
        using var failingClient = failing.CreateClient();
        using var withoutWebhookMeters = new MeterCollector(withoutWebhook.Services);
        using var failingMeters = new MeterCollector(failing.Services);
        var (id, email) = await Register(client);
        var (failingId, failingEmail) = await Register(failingClient);
        webhook.FailFirst(failingEmail, 100);

        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await failingClient.PostJson("/user/forgot-password", new { email = failingEmail })).StatusCode);

        await WaitForLine(withoutWebhook, l => l.StartsWith(
            $"Warning {Category}: No WEBHOOK_USER_FORGOT_PASSWORD is configured: the password reset code of user {id} was not delivered", StringComparison.Ordinal));
        await WaitForLine(failing, l => l.StartsWith(
            $"Warning {Category}: Delivering the password reset code of user {failingId} failed (the webhook answered 500); the user must ask again", StringComparison.Ordinal));
        var code = (await webhook.WaitFor(failingEmail, 2))[0]["code"]!.GetValue<string>();
        Assert.DoesNotContain(withoutWebhook.Logs.Lines, line => Regex.IsMatch(line, $"{id}\\.[A-Za-z0-9_-]{{43}}"));
        // Each outcome is counted once: the retries within one delivery are one failure.
        Assert.Equal(1, withoutWebhookMeters.Sum("akka_users.forgot_password.deliveries", ("outcome", "not_configured")));
        Assert.Equal(1, failingMeters.Sum("akka_users.forgot_password.deliveries", ("outcome", "failed")));
        Assert.Equal(0, failingMeters.Sum("akka_users.forgot_password.deliveries", ("outcome", "delivered")));
        Assert.DoesNotContain(failing.Logs.Lines, line => line.Contains(code, StringComparison.Ordinal) || line.Contains(code[25..], StringComparison.Ordinal));
        withoutWebhook.DeleteData();
        failing.DeleteData();
    }

    [Fact]
    public async Task A_request_that_finds_the_queue_full_is_dropped_with_a_warning()
    {
        using var webhook = new WebhookListener();
        await using var factory = new ApiFactory(new()
        {
            ["WEBHOOK_USER_FORGOT_PASSWORD"] = webhook.Url,
            ["ForgotPassword:QueueCapacity"] = "1",
            ["ForgotPassword:MaxConcurrentDeliveries"] = "1",
            ["ForgotPassword:WebhookTimeout"] = "00:01:00",
        });
        using var client = factory.CreateClient();
        var users = new[] { await Register(client), await Register(client), await Register(client) };
        webhook.HoldAnswers();

        // The first request's delivery hangs at the webhook, so the worker takes nothing more: the second waits in the
        // queue, and the third finds it full.
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email = users[0].Email })).StatusCode);
        await webhook.WaitFor(users[0].Email);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email = users[1].Email })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email = users[2].Email })).StatusCode);

        var warning = await WaitForLine(factory, l => l.StartsWith(
            "Warning AkkaUsers.Api.ForgotPassword.ForgotPasswordQueue: The forgot-password queue is full (capacity 1); a request was dropped", StringComparison.Ordinal));
        Assert.DoesNotContain("@", warning);
        webhook.ReleaseAnswers();

        // One of the two later requests was queued and is delivered; the other was dropped.
        var delivered = await Accounts.Tests.Poll.UntilAsync(
            () => Task.FromResult(webhook.For(users[1].Email).Count + webhook.For(users[2].Email).Count), n => n >= 1, "the queued delivery");
        Assert.Equal(1, delivered);
        Assert.Single(factory.Logs.Lines, l => l.Contains("The forgot-password queue is full", StringComparison.Ordinal));
        factory.DeleteData();
    }
}
