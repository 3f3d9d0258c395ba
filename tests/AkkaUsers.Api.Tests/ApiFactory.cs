using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// The real service in memory: real SQLite file in its own data directory, real Argon2id, real
/// actor system. Settings override the defaults; a second factory on the same directory is a restart.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string Secret = "a-test-secret-that-is-at-least-32-bytes-long";

    private readonly Dictionary<string, string?> _settings;

    public ApiFactory(Dictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = DataDirectory,
            ["Jwt:Secret"] = Secret,
            // Generous for a machine busy with other work: a first persist (tables created) can take seconds there.
            ["Entities:AskTimeout"] = "00:00:30",
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
    }

    public void DeleteData()
    {
        if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>One service instance shared by the tests of a class that do not need their own.</summary>
public class SharedService : IAsyncLifetime
{
    public SharedService() : this(null)
    {
    }

    protected SharedService(Dictionary<string, string?>? settings) => Factory = new ApiFactory(settings);

    public ApiFactory Factory { get; }
    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        Factory.DeleteData();
    }
}

/// <summary>Collects every formatted log line, with its exception, from every category and level.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (sink._lines) sink._lines.Add($"{logLevel} {category}: {formatter(state, exception)} {exception}");
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

    /// <summary>GET <paramref name="path"/>, with the bearer token when there is one.</summary>
    public static Task<HttpResponseMessage> Get(this HttpClient client, string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
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

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];
}
