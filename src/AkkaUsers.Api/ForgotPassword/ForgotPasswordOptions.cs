using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.ForgotPassword;

/// <summary>
/// Where one-time codes of forgotten passwords go: Appmixer's flat keys for the webhook and the link, and the
/// "ForgotPassword" section for the queue and the webhook's retries.
/// </summary>
public sealed class ForgotPasswordOptions
{
    public const string WebhookKey = "WEBHOOK_USER_FORGOT_PASSWORD";
    public const string LinkKey = "FORGOT_PASSWORD_LINK";
    public const string Section = "ForgotPassword";

    /// <summary>Where the link template puts the code.</summary>
    public const string CodePlaceholder = "{{code}}";

    /// <summary>The URL each issued code is POSTed to; null: nothing is delivered (see docs/api.md, Forgot password).</summary>
    public string? Webhook { get; private set; }

    /// <summary>The frontend's reset page with <see cref="CodePlaceholder"/> in it, e.g. https://app.example.com/reset?code={{code}}; null: no link.</summary>
    public string? LinkTemplate { get; private set; }

    /// <summary>Requests waiting to be looked up and delivered; past this, a request is dropped with a warning.</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>Webhook deliveries (and lookups) at once.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 4;

    /// <summary>Further attempts after a failed delivery (a 5xx, 408, 429, a network error or a time-out).</summary>
    public int WebhookRetries { get; set; } = 5;

    /// <summary>The wait before the first retry; each further one waits twice as long (with jitter).</summary>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one attempt may take.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The section's settings, and the two flat keys (empty means unset).</summary>
    public void Load(IConfiguration configuration)
    {
        configuration.GetSection(Section).Bind(this);
        Webhook = NullIfBlank(configuration[WebhookKey]);
        LinkTemplate = NullIfBlank(configuration[LinkKey]);
    }

    /// <summary>The link of the template with <paramref name="code"/> in it; null without a template.</summary>
    public string? LinkFor(string code) => LinkTemplate?.Replace(CodePlaceholder, Uri.EscapeDataString(code), StringComparison.Ordinal);

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

public sealed class ForgotPasswordOptionsValidation : IValidateOptions<ForgotPasswordOptions>
{
    public ValidateOptionsResult Validate(string? name, ForgotPasswordOptions o) => AkkaUsersOptionsValidation.Check(
        (o.Webhook is { } webhook && !IsHttpUrl(webhook),
            $"{ForgotPasswordOptions.WebhookKey} must be an absolute http or https URL"),
        (o.LinkTemplate is { } link && !link.Contains(ForgotPasswordOptions.CodePlaceholder, StringComparison.Ordinal),
            $"{ForgotPasswordOptions.LinkKey} must contain {ForgotPasswordOptions.CodePlaceholder}"),
        (o.LinkTemplate is not null && !IsHttpUrl(o.LinkFor("code")!),
            $"{ForgotPasswordOptions.LinkKey} must be an absolute http or https URL"),
        (o.QueueCapacity < 1, $"{ForgotPasswordOptions.Section}:QueueCapacity must be at least 1 (is {o.QueueCapacity})"),
        (o.MaxConcurrentDeliveries < 1,
            $"{ForgotPasswordOptions.Section}:MaxConcurrentDeliveries must be at least 1 (is {o.MaxConcurrentDeliveries})"),
        (o.WebhookRetries is < 0 or > 20, $"{ForgotPasswordOptions.Section}:WebhookRetries must be 0 to 20 (is {o.WebhookRetries})"),
        (o.WebhookRetryDelay <= TimeSpan.Zero, $"{ForgotPasswordOptions.Section}:WebhookRetryDelay must be positive"),
        (o.WebhookTimeout <= TimeSpan.Zero, $"{ForgotPasswordOptions.Section}:WebhookTimeout must be positive"));

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
