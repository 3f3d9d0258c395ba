using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// The real service in memory: real SQLite file in its own data directory, real Argon2id, real
/// actor system. Settings override the defaults; a second factory on the same directory is a restart.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    /// <summary>Made afresh for each run: a secret written in the repository is refused at start.</summary>
    public static readonly string Secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider? _clock;

    /// <param name="clock">The service's clock, for rules that depend on time (the lockout schedule); the real one when null.</param>
    public ApiFactory(Dictionary<string, string?>? settings = null, string? dataDirectory = null, TimeProvider? clock = null)
    {
        _clock = clock;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = DataDirectory,
            ["Jwt:Secret"] = Secret,
            // Test assemblies run side by side on two cores: a busy machine must not turn into 503s.
            // The time-out itself is tested with its own setting.
            ["Entities:AskTimeout"] = "00:00:30",
            // Every test request comes from one address; the rate limit tests set their own limit.
            ["RateLimit:PermitLimit"] = "1000000",
        };
        foreach (var (key, value) in settings ?? []) _settings[key] = value;
    }

    public string DataDirectory { get; }

    public string DatabaseFile => Path.Combine(DataDirectory, "akka-users.db");

    /// <summary>Every log line the service writes, at every level.</summary>
    public LogSink Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings.Where(s => s.Value is not null)) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, PeerAddressFilter>());
        if (_clock is not null) builder.ConfigureServices(services => services.AddSingleton(_clock));
    }

    /// <summary>
    /// Waits until the node has warmed up and joined its cluster: from then on the warm-up's own entities are stopped,
    /// and every entity that starts is a request's.
    /// </summary>
    public Task JoinedAsync() => Services.GetServices<IHostedService>().OfType<ClusterJoin>().Single().ExecuteTask!;

    public void DeleteData()
    {
        if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>
/// The test server has no sockets: a request with a <see cref="Header"/> comes from that address, as if over TCP,
/// before any of the service's own middleware sees it.
/// </summary>
public sealed class PeerAddressFilter : IStartupFilter
{
    public const string Header = "Test-Peer-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (http.Request.Headers.Remove(Header, out var address)) http.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address!);
            return nextMiddleware(http);
        });
        next(app);
    };
}

/// <summary>A clock that moves only when told to, starting at the real time.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>One service instance shared by the tests of a class that do not need their own.</summary>
public class SharedService : IAsyncLifetime
{
    public SharedService() : this(null)
    {
    }

    protected SharedService(Dictionary<string, string?>? settings, TimeProvider? clock = null) =>
        Factory = new ApiFactory(settings, clock: clock);

    public ApiFactory Factory { get; }
    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        Factory.DeleteData();
    }
}

/// <summary>Collects every formatted log line, with its scopes (the trace id among them) and its exception, from every category and level.</summary>
public sealed class LogSink : ILoggerProvider, ISupportExternalScope
{
    private readonly List<string> _lines = [];
    private IExternalScopeProvider? _scopes;

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => sink._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new StringBuilder();
            sink._scopes?.ForEachScope((scope, text) => text.Append(" => ").Append(scope), scopes);
            lock (sink._lines) sink._lines.Add($"{logLevel} {category}: {formatter(state, exception)}{scopes} {exception}");
        }
    }
}

/// <summary>Small helpers for talking JSON to the API the way Appmixer's clients do.</summary>
public static class Api
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string path, object body) =>
        client.PostAsync(path, Json(JsonSerializer.Serialize(body)));

    public static async Task<JsonObject> Body(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public static async Task<HttpResponseMessage> Register(this HttpClient client, string username, string email, string password = "abc321") =>
        await client.PostJson("/user", new { username, email, password });

    public static async Task<string> RegisterForToken(this HttpClient client, string username, string email, string password = "abc321")
    {
        var response = await client.Register(username, email, password);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Body())["token"]!.GetValue<string>();
    }

    public static Task<HttpResponseMessage> GetUser(this HttpClient client, string? token) => client.Get("/user", token);

    /// <summary>
    /// The sign-in of the configured first admin, once the bootstrap (which runs beside the serving node) has made it:
    /// the body of the first sign-in whose user has the admin scope.
    /// </summary>
    public static async Task<JsonObject> SignInAsConfiguredAdmin(this HttpClient client, string email, string password) =>
        (await AkkaUsers.Accounts.Tests.Poll.UntilAsync(
            async () =>
            {
                var signIn = await client.PostJson("/user/auth", new { email, password });
                return signIn.IsSuccessStatusCode ? await signIn.Body() : null;
            },
            body => body?["user"]?["scope"]?.AsArray().Any(s => s!.GetValue<string>() == "admin") == true,
            "the configured admin signs in with the admin scope"))!;

    /// <summary>GET <paramref name="path"/>, with the bearer token when there is one.</summary>
    public static Task<HttpResponseMessage> Get(this HttpClient client, string path, string? token) =>
        client.Send(HttpMethod.Get, path, token);

    /// <summary>POST <paramref name="body"/> as JSON, with the bearer token when there is one.</summary>
    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string path, object body, string? token) =>
        client.Send(HttpMethod.Post, path, token, body);

    /// <summary>Any request, with the bearer token when there is one and <paramref name="body"/> (JSON text or an object to serialize) when there is one.</summary>
    public static Task<HttpResponseMessage> Send(this HttpClient client, HttpMethod method, string path, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        if (body is not null) request.Content = Json(body as string ?? JsonSerializer.Serialize(body));
        return client.SendAsync(request);
    }

    /// <summary>Asserts the Boom error shape exactly and returns its message.</summary>
    public static async Task<string> AssertBoom(this HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Body();
        Assert.Equal(["statusCode", "error", "message"], body.Select(p => p.Key));
        Assert.Equal(status, body["statusCode"]!.GetValue<int>());
        Assert.Equal(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), body["error"]!.GetValue<string>());
        return body["message"]!.GetValue<string>();
    }

    /// <summary>A W3C traceparent header that makes a request part of <paramref name="traceId"/>, as a calling service's would.</summary>
    public static string TraceParent(ActivityTraceId traceId) => $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01";

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];
}
