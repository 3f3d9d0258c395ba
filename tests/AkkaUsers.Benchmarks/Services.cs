using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Intrinsics.X86;
using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>A user the load driver made for itself: how to sign in, and a token for reads.</summary>
public sealed record SeededUser(string Login, string Password, string Token);

/// <summary>One of the two services under load, as a process, and its three requests: sign-in, read the current user, register.</summary>
public abstract class ServiceUnderTest(ServiceProcess process) : IAsyncDisposable
{
    /// <summary>Both services' password policies accept it (Identity's default wants upper, lower, digit and symbol).</summary>
    protected const string Password = "Passw0rd!";

    public ServiceProcess Process { get; } = process;
    public abstract string Name { get; }
    public abstract string SignInRoute { get; }
    public abstract string ReadRoute { get; }
    public abstract string RegisterRoute { get; }
    public abstract int RegisteredStatus { get; }

    /// <summary>
    /// The bare rates the service's sign-ins and registrations are set against, on this machine, in this process:
    /// libsodium's Argon2id for this service (its former engine, what its peers use), PBKDF2 for Identity.
    /// </summary>
    public abstract RawHashRate RawHash(TimeSpan duration);

    public abstract RawHashRate RawVerify(TimeSpan duration);

    /// <summary>The bare rates of the engine the service itself hashes with at its defaults.</summary>
    public virtual RawHashRate EngineHash(TimeSpan duration) => RawHash(duration);

    public virtual RawHashRate EngineVerify(TimeSpan duration) => RawVerify(duration);

    /// <summary>The engine the service itself hashes with at its defaults.</summary>
    public virtual string Engine => "its own";

    /// <summary>Whether that engine is the one of <see cref="RawHash"/>, so that one bare measurement serves both.</summary>
    public virtual bool EngineIsRaw => true;

    public abstract Task<SeededUser> SeedAsync(string name);

    public HttpRequestMessage SignIn(SeededUser user) => Json(HttpMethod.Post, SignInRoute, SignInBody(user));

    public HttpRequestMessage Read(SeededUser user)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, ReadRoute);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        return request;
    }

    public HttpRequestMessage Register(string name) => Json(HttpMethod.Post, RegisterRoute, RegisterBody(name));

    protected abstract object SignInBody(SeededUser user);

    protected abstract object RegisterBody(string name);

    protected async Task<JsonObject> PostAsync(string route, object body, int expectedStatus)
    {
        using var response = await Process.Client.PostAsJsonAsync(route, body);
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != expectedStatus)
            throw new InvalidOperationException($"{Name} {route} answered {(int)response.StatusCode}: {text}");
        return text.Length > 0 ? JsonNode.Parse(text)!.AsObject() : [];
    }

    private static HttpRequestMessage Json(HttpMethod method, string route, object body) =>
        new(method, route) { Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Process.DisposeAsync();
    }
}

/// <summary>This service, single node, its default SQLite journal: POST /user/auth, GET /user, POST /user.</summary>
/// <param name="engine">Its Password:Engine.</param>
public sealed class AkkaUsersService(IReadOnlyDictionary<string, string> environment, string logFile, PasswordEngine engine)
    : ServiceUnderTest(new ServiceProcess("AkkaUsers", "AkkaUsers.Api.dll",
        new Dictionary<string, string>(environment) { ["Password__Engine"] = engine.ToString() }, logFile, "/health/ready"))
{
    /// <summary>The engine the service picks for <paramref name="engine"/> on this machine, as this process has it.</summary>
    private readonly IPasswordHasher _engine = engine switch
    {
        PasswordEngine.Libsodium => RawHashRate.Libsodium,
        PasswordEngine.Managed => new ManagedArgon2Hasher(RawHashRate.Argon2Cost),
        PasswordEngine.Owned => RawHashRate.Owned,
        _ => Avx2.IsSupported ? RawHashRate.Owned : RawHashRate.Libsodium,
    };

    public override string Name => "AkkaUsers";
    public override string SignInRoute => "/user/auth";
    public override string ReadRoute => "/user";
    public override string RegisterRoute => "/user";
    public override int RegisteredStatus => 201;
    public override RawHashRate RawHash(TimeSpan duration) => RawHashRate.Argon2idHash(duration);
    public override RawHashRate RawVerify(TimeSpan duration) => RawHashRate.Argon2idVerify(duration);
    public override RawHashRate EngineHash(TimeSpan duration) => RawHashRate.Argon2idHash(_engine, duration);
    public override RawHashRate EngineVerify(TimeSpan duration) => RawHashRate.Argon2idVerify(_engine, duration);
    public override string Engine => PasswordHashing.Describe(_engine);
    public override bool EngineIsRaw => ReferenceEquals(_engine, RawHashRate.Libsodium);

    public override async Task<SeededUser> SeedAsync(string name)
    {
        var created = await PostAsync("/user", RegisterBody(name), 201);
        return new SeededUser(name, Password, created["token"]!.GetValue<string>());
    }

    protected override object SignInBody(SeededUser user) => new { username = user.Login, password = user.Password };

    protected override object RegisterBody(string name) => new { username = name, email = $"{name}@example.com", password = Password };
}

/// <summary>The ASP.NET Core Identity baseline: POST /login, GET /manage/info, POST /register.</summary>
public sealed class IdentityService(IReadOnlyDictionary<string, string> environment, string logFile)
    : ServiceUnderTest(new ServiceProcess("Identity", "IdentityBaseline.dll", environment, logFile, "/health"))
{
    public override string Name => "Identity";
    public override string SignInRoute => "/login";
    public override string ReadRoute => "/manage/info";
    public override string RegisterRoute => "/register";
    public override int RegisteredStatus => 200;
    public override RawHashRate RawHash(TimeSpan duration) => RawHashRate.Pbkdf2Hash(duration);
    public override RawHashRate RawVerify(TimeSpan duration) => RawHashRate.Pbkdf2Verify(duration);

    public override async Task<SeededUser> SeedAsync(string name)
    {
        await PostAsync("/register", RegisterBody(name), 200);
        var user = new SeededUser($"{name}@example.com", Password, "");
        var tokens = await PostAsync("/login", SignInBody(user), 200);
        return user with { Token = tokens["accessToken"]!.GetValue<string>() };
    }

    protected override object SignInBody(SeededUser user) => new { email = user.Login, password = user.Password };

    protected override object RegisterBody(string name) => new { email = $"{name}@example.com", password = Password };
}
