using AkkaUsers.Accounts.Hosting;
using AkkaUsers.ReadSide.Hosting;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.Endpoints;
using AkkaUsers.Api.ForgotPassword;
using AkkaUsers.Api.Health;
using AkkaUsers.Api.Http;
using AkkaUsers.Api.Operations;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

if (args is [HealthProbe.Verb, .. var probeArgs])
    return await HealthProbe.RunAsync(probeArgs.FirstOrDefault() ?? HealthProbe.DefaultUrl);

var builder = WebApplication.CreateBuilder(args).AddOperations().AddManagementListener().AddShutdownDeadline();
var services = builder.Services;

services.AddAccounts(builder.Configuration, (akka, sp) => akka.WithReadSide(sp)).AddReadSide();

services.AddOptions<JwtOptions>().Bind(builder.Configuration.GetSection(JwtOptions.Section)).ValidateOnStart();
services.AddOptions<HttpOptions>().Bind(builder.Configuration.GetSection(HttpOptions.Section)).ValidateOnStart();
services.AddOptions<AccountOptions>().Configure<IConfiguration>((o, configuration) => o.Load(configuration)).ValidateOnStart();
services.AddSingleton<IValidateOptions<JwtOptions>, ApiOptionsValidation>();
services.AddSingleton<IValidateOptions<HttpOptions>, ApiOptionsValidation>();
services.AddSingleton<IValidateOptions<AccountOptions>, ApiOptionsValidation>();
services.AddSingleton<TokenService>();
services.AddSingleton<INodeWarmUp>(sp => sp.GetRequiredService<TokenService>());
// Answers wrap stored values (metadata) in envelopes: allow what the journal holds plus the envelope.
services.ConfigureHttpJsonOptions(json => json.SerializerOptions.MaxDepth = AkkaUsers.Domain.JsonLimits.MaxDepth);
services.AddAdminApi(builder.Configuration);
services.AddClientRateLimits(builder.Configuration);
services.AddForgotPassword();

services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
{
    jwt.MapInboundClaims = false;
    jwt.Events = new JwtBearerEvents
    {
        OnTokenValidated = TokenService.AuthorizeWithCurrentScopeAsync,
        OnChallenge = context =>
        {
            context.HandleResponse();
            var message = context.AuthenticateFailure switch
            {
                null => "Missing authentication",
                SecurityTokenExpiredException => "Token expired",
                _ => "Invalid token",
            };
            return BoomError.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, message);
        },
        OnForbidden = context =>
            BoomError.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Insufficient scope"),
    };
});
services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
    .Configure<TokenService>((jwt, tokens) => jwt.TokenValidationParameters = tokens.ValidationParameters);
services.AddAuthorizationBuilder().AddPolicy(UserEndpoints.CreateUserPolicy, policy => policy
    .RequireAuthenticatedUser()
    .RequireAssertion(context =>
    {
        var allowed = context.Resource is HttpContext http
            ? http.RequestServices.GetRequiredService<IOptions<AccountOptions>>().Value.CreateScopes
            : [];
        return context.User.FindAll(TokenService.ScopeClaim).Any(scope => allowed.Contains(scope.Value));
    }));

services.AddExceptionHandler<BoomExceptionHandler>();
services.AddProblemDetails();
services.AddHttpLogging(logging =>
{
    // One line per request, and nothing from headers or bodies, where passwords and tokens travel.
    logging.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath |
                            HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
    logging.CombineLogs = true;
});
services.AddHealthChecks()
    .AddCheck<ClusterMemberUpCheck>("cluster", tags: [HealthEndpoints.ReadyTag])
    .AddCheck<JournalReachableCheck>("journal", tags: [HealthEndpoints.ReadyTag]);

try
{
    var app = builder.Build();
    // Every option is bound and checked here, before anything starts, so a bad value ends the start with one line.
    app.Services.GetService<IStartupValidator>()?.Validate();

    app.UseTrustedProxies(); // first, so that logs and limits see the client behind a trusted proxy
    app.UseHttpLogging(); // outermost after that, so it logs the status the client finally gets
    app.UseManagementListener();
    app.UseSecurityHeaders();
    app.UseExceptionHandler();
    app.UseStatusCodePages(context => BoomError.WriteAsync(
        context.HttpContext, context.HttpContext.Response.StatusCode,
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(context.HttpContext.Response.StatusCode)));
    app.UseAuthentication();
    app.UseAuthorization();
    app.UseRateLimiter();

    app.MapUserEndpoints(app.Services.GetRequiredService<IOptions<AccountOptions>>().Value);
    app.MapAdminEndpoints();
    app.MapImportEndpoints();
    app.MapHealthEndpoints();
    app.MapOperations();

    app.ArmShutdownDeadline();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (ConfigurationError(e) is { } message)
{
    Console.Error.WriteLine($"Invalid configuration: {message}");
    return 1;
}

// What is wrong with the configuration, when that is why the start failed; null for any other failure.
static string? ConfigurationError(Exception e) => e switch
{
    OptionsValidationException invalid => string.Join("; ", invalid.Failures),
    AggregateException all when all.InnerExceptions.All(inner => ConfigurationError(inner) is not null) =>
        string.Join("; ", all.InnerExceptions.Select(ConfigurationError).Distinct()),
    InvalidOperationException when e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => e.Message,
    _ => null,
};

/// <summary>The entry point, visible to the HTTP tests' WebApplicationFactory.</summary>
public partial class Program;
