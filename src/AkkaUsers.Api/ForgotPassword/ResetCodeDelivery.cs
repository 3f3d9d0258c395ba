using AkkaUsers.Accounts.Telemetry;
using System.Net.Http.Json;
using AkkaUsers.Accounts;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace AkkaUsers.Api.ForgotPassword;

/// <summary>What the webhook receives for each issued code (Appmixer's shape).</summary>
/// <param name="Created">When the code was issued; it works for an hour from then.</param>
/// <param name="Link">The frontend's reset page for this code, or null when no link template is configured.</param>
public sealed record ResetCodePayload(string Code, string Email, string UserId, DateTimeOffset Created, string? Link);

/// <summary>
/// Hands an issued code to the user: POSTs <see cref="ResetCodePayload"/> to the configured webhook, retried with
/// exponential backoff by the named client's resilience pipeline. The code reaches a log line only in Development
/// (when no webhook is configured, or when delivery finally failed), so that a developer can go on without one.
/// </summary>
public sealed class ResetCodeDelivery(
    IHttpClientFactory clients, IOptions<ForgotPasswordOptions> options, IHostEnvironment environment, AkkaUsersMetrics metrics,
    ILogger<ResetCodeDelivery> log)
{
    public const string ClientName = "forgot-password-webhook";

    public async Task DeliverAsync(IssuedResetCode issued, CancellationToken ct)
    {
        var o = options.Value;
        var userId = issued.User.Id;
        if (o.Webhook is null)
        {
            metrics.ResetCodeDelivered("not_configured");
            if (environment.IsDevelopment())
                log.LogWarning("No {Key} is configured; the password reset code of user {UserId} is {Code} (logged in Development only)",
                    ForgotPasswordOptions.WebhookKey, userId, issued.Code);
            else
                log.LogWarning("No {Key} is configured: the password reset code of user {UserId} was not delivered",
                    ForgotPasswordOptions.WebhookKey, userId);
            return;
        }

        var payload = new ResetCodePayload(issued.Code, issued.User.Email, userId, issued.Created, o.LinkFor(issued.Code));
        string reason;
        try
        {
            using var response = await clients.CreateClient(ClientName).PostAsJsonAsync(o.Webhook, payload, ct);
            if (response.IsSuccessStatusCode)
            {
                metrics.ResetCodeDelivered("delivered");
                log.LogInformation("Delivered the password reset code of user {UserId} to the webhook", userId);
                return;
            }
            reason = $"the webhook answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException)
        {
            reason = e.GetType().Name;
        }

        metrics.ResetCodeDelivered("failed");
        if (environment.IsDevelopment())
            log.LogWarning("Delivering the password reset code of user {UserId} failed ({Reason}); the code is {Code} (logged in Development only)",
                userId, reason, issued.Code);
        else
            log.LogWarning("Delivering the password reset code of user {UserId} failed ({Reason}); the user must ask again", userId, reason);
    }

    /// <summary>The named client with its retries (exponential backoff with jitter) and a time-out per attempt.</summary>
    public static void AddClient(IServiceCollection services)
    {
        services.AddHttpClient(ClientName).AddResilienceHandler("webhook", (pipeline, context) =>
        {
            var o = context.ServiceProvider.GetRequiredService<IOptions<ForgotPasswordOptions>>().Value;
            if (o.WebhookRetries > 0)
            {
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = o.WebhookRetries,
                    Delay = o.WebhookRetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    MaxDelay = TimeSpan.FromMinutes(5),
                });
            }
            pipeline.AddTimeout(o.WebhookTimeout);
        });
    }
}

public static class ForgotPasswordSetup
{
    /// <summary>The options (checked at start), the queue, its worker and the webhook's client.</summary>
    public static IServiceCollection AddForgotPassword(this IServiceCollection services)
    {
        services.AddOptions<ForgotPasswordOptions>().Configure<IConfiguration>((o, configuration) => o.Load(configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForgotPasswordOptions>, ForgotPasswordOptionsValidation>();
        services.AddSingleton<ForgotPasswordQueue>();
        services.AddSingleton<ResetCodeDelivery>();
        services.AddHostedService<ForgotPasswordWorker>();
        ResetCodeDelivery.AddClient(services);
        return services;
    }
}
