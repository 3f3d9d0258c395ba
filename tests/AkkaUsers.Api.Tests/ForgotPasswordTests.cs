using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Api.Endpoints;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AkkaUsers.Api.Tests;

/// <summary>One service with a webhook on loopback and a clock the tests move; deliveries one at a time, in order.</summary>
public sealed class ForgotPasswordService : SharedService
{
    public const string LinkTemplate = "https://app.example.com/reset-password?code={{code}}";

    public ForgotPasswordService() : this(new WebhookListener(), new ManualClock())
    {
    }

    private ForgotPasswordService(WebhookListener webhook, ManualClock clock) : base(new()
    {
        ["WEBHOOK_USER_FORGOT_PASSWORD"] = webhook.Url,
        ["FORGOT_PASSWORD_LINK"] = LinkTemplate,
        ["ForgotPassword:WebhookRetries"] = "3",
        ["ForgotPassword:WebhookRetryDelay"] = "00:00:00.010",
        ["ForgotPassword:MaxConcurrentDeliveries"] = "1",
    }, clock)
    {
        Webhook = webhook;
        Clock = clock;
    }

    public WebhookListener Webhook { get; }
    public ManualClock Clock { get; }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Webhook.Dispose();
    }
}

/// <summary>Runs alone, after the tests that run side by side: one of its tests compares response times.</summary>
[CollectionDefinition(nameof(TimedTests), DisableParallelization = true)]
public sealed class TimedTests;

/// <summary>POST /user/forgot-password and POST /forgot-password/reset: one-time codes through the webhook.</summary>
[Collection(nameof(TimedTests))]
public sealed class ForgotPasswordTests(ForgotPasswordService service, ITestOutputHelper output) : IClassFixture<ForgotPasswordService>
{
    private HttpClient Client => service.Client;
    private WebhookListener Webhook => service.Webhook;

    private async Task<(string Id, string Username, string Email, string Token)> NewUser()
    {
        var username = Api.Unique("fp");
        var email = $"{username}@example.com";
        var registered = await Client.Register(username, email);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var body = await registered.Body();
        return (body["user"]!["id"]!.GetValue<string>(), username, email, body["token"]!.GetValue<string>());
    }

    private Task<HttpResponseMessage> Forgot(string email) => Client.PostJson("/user/forgot-password", new { email });

    private Task<HttpResponseMessage> Reset(string code, string password) => Client.PostJson("/forgot-password/reset", new { code, password });

    private Task<HttpResponseMessage> SignIn(string username, string password) => Client.PostJson("/user/auth", new { username, password });

    /// <summary>Asks for a code and returns it as the webhook received it (the <paramref name="nth"/> one for that email).</summary>
    private async Task<string> RequestCode(string email, int nth = 1)
    {
        Assert.Equal(HttpStatusCode.OK, (await Forgot(email)).StatusCode);
        return await Webhook.CodeFor(email, nth);
    }

    private async Task<IReadOnlyList<string>> Trail(string userId) =>
        (await service.Factory.Services.GetRequiredService<UserHistory>().EventsAsync(userId, new EventRange(), 100, CancellationToken.None))
        .Select(e => e.Type).ToList();

    private static async Task AssertInvalidCode(HttpResponseMessage response) =>
        Assert.Equal(UserEndpoints.InvalidCodeMessage, await response.AssertBoom(400));

    [Fact]
    public async Task The_webhook_gets_the_code_and_the_code_sets_a_new_password_and_revokes_old_tokens()
    {
        var (id, username, email, token) = await NewUser();
        var signedIn = (await (await SignIn(username, "abc321")).Body())["token"]!.GetValue<string>();

        var forgot = await Forgot($" {email.ToUpperInvariant()} ");

        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        Assert.Equal("application/json", forgot.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{}", await forgot.Content.ReadAsStringAsync());
        var delivery = Assert.Single(await Webhook.WaitFor(email));
        Assert.Equal(["code", "email", "userId", "created", "link"], delivery.Select(p => p.Key));
        var code = delivery["code"]!.GetValue<string>();
        Assert.Matches($"^{id}\\.[A-Za-z0-9_-]{{43}}$", code);
        Assert.Equal(email, delivery["email"]!.GetValue<string>());
        Assert.Equal(id, delivery["userId"]!.GetValue<string>());
        Assert.InRange(delivery["created"]!.GetValue<DateTimeOffset>(), service.Clock.GetUtcNow().AddMinutes(-1), service.Clock.GetUtcNow());
        Assert.Equal($"https://app.example.com/reset-password?code={code}", delivery["link"]!.GetValue<string>());

        var reset = await Reset(code, "brand-new-secret");

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal("{}", await reset.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "brand-new-secret")).StatusCode);
        Assert.Equal("Invalid credentials", await (await SignIn(username, "abc321")).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.GetUser(token)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.GetUser(signedIn)).AssertBoom(401));

        // Works once: the second use is the same 400 as any bad code, and changes nothing.
        await AssertInvalidCode(await Reset(code, "another-secret-2"));
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "brand-new-secret")).StatusCode);

        Assert.Equal(
            ["user-registered", "user-signed-in", "password-reset-requested", "password-changed", "user-signed-in", "sign-in-failed", "user-signed-in"],
            await Trail(id));
    }

    [Fact]
    public async Task Known_and_unknown_emails_get_the_same_answer_in_the_same_time()
    {
        var (_, _, known, _) = await NewUser();
        var (_, _, marker, _) = await NewUser();
        var unknown = $"{Api.Unique("nobody")}@example.com";
        const int rounds = 100, warmUp = 10;
        var times = new Dictionary<string, List<double>> { [known] = [], [unknown] = [] };
        var answers = new HashSet<string>();

        int markers = 0, knownCodes = 0;
        for (var i = -warmUp; i < rounds; i++)
        {
            // Alternate which goes first, so that neither always follows the other.
            foreach (var email in i % 2 == 0 ? new[] { known, unknown } : [unknown, known])
            {
                service.Clock.Advance(ResetCode.MinInterval); // each request may issue a code
                var started = Stopwatch.GetTimestamp();
                var response = await Forgot(email);
                var body = await response.Content.ReadAsStringAsync();
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (i >= 0) times[email].Add(elapsed);
                answers.Add($"{(int)response.StatusCode} {response.Content.Headers.ContentType} {response.Headers.CacheControl} {body}");

                // What a request sets off (a lookup; for the known email a journal write and a delivery too) runs after
                // its answer, and is let finish before the next request, so that it is not measured as the next one's
                // time. The known email's code says when its request is done. The unknown email leaves no trace: a
                // marker's code arriving says the worker has come past it, unless the unknown email was queued after the
                // marker (each is queued when its answer is complete, and the client may see the answer first).
                if (email == known) await Webhook.WaitFor(known, ++knownCodes);
                Assert.Equal(HttpStatusCode.OK, (await Forgot(marker)).StatusCode);
                await Webhook.WaitFor(marker, ++markers);
            }
        }

        Assert.Equal("200 application/json; charset=utf-8 no-store {}", Assert.Single(answers));
        var (knownMedian, unknownMedian) = (Median(times[known]), Median(times[unknown]));
        output.WriteLine($"median {knownMedian:F3} ms for a known email, {unknownMedian:F3} ms for an unknown one");
        Assert.True(Math.Max(knownMedian, unknownMedian) <= 1.25 * Math.Min(knownMedian, unknownMedian),
            $"median {knownMedian:F3} ms for a known email, {unknownMedian:F3} ms for an unknown one");

        // Every request for the known email issued a code of its own (each replacing the one before); none went anywhere
        // for the other.
        Assert.Equal(warmUp + rounds, Webhook.For(known).Select(d => d["code"]!.GetValue<string>()).Distinct().Count());
        Assert.Empty(Webhook.For(unknown));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
    }

    [Fact]
    public async Task An_expired_code_is_refused_and_changes_nothing()
    {
        var (id, username, email, _) = await NewUser();
        var code = await RequestCode(email);

        service.Clock.Advance(TimeSpan.FromHours(1));

        await AssertInvalidCode(await Reset(code, "too-late-secret"));
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "abc321")).StatusCode);
        Assert.DoesNotContain("password-changed", await Trail(id));
    }

    [Fact]
    public async Task Unknown_and_garbled_codes_get_the_one_answer_and_change_nothing()
    {
        var (id, username, email, _) = await NewUser();
        var code = await RequestCode(email);
        var wrongLastCharacter = code[..^1] + (code[^1] == 'A' ? 'B' : 'A');

        foreach (var bad in new[]
                 {
                     Domain.ResetCode.New(id), wrongLastCharacter, Domain.ResetCode.New("0123456789abcdef01234567"),
                     code.ToUpperInvariant(), code + "A", code[..^1], $"{id}.", "garbled", "", new string('x', 2000),
                 })
        {
            await AssertInvalidCode(await Reset(bad, "guessed-secret-1"));
        }

        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "abc321")).StatusCode);
        Assert.Equal(["user-registered", "password-reset-requested", "user-signed-in"], await Trail(id));
        // The real code was left alone by all of them.
        Assert.Equal(HttpStatusCode.OK, (await Reset(code, "real-secret-1")).StatusCode);
    }

    [Fact]
    public async Task A_newer_code_replaces_the_older_one()
    {
        var (_, username, email, _) = await NewUser();
        var older = await RequestCode(email, 1);
        service.Clock.Advance(ResetCode.MinInterval);
        var newer = await RequestCode(email, 2);

        Assert.NotEqual(older, newer);
        await AssertInvalidCode(await Reset(older, "older-secret-1"));
        Assert.Equal(HttpStatusCode.OK, (await Reset(newer, "newer-secret-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "newer-secret-1")).StatusCode);
    }

    [Fact]
    public async Task A_second_request_within_a_minute_gets_the_same_answer_and_issues_no_code_and_the_first_code_works()
    {
        var (id, username, email, _) = await NewUser();
        var first = await RequestCode(email, 1);

        var again = await Forgot(email);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("{}", await again.Content.ReadAsStringAsync());
        // Requests are processed in order: once a later request's code arrived, the second request is done.
        var (_, _, marker, _) = await NewUser();
        await RequestCode(marker);

        Assert.Single(Webhook.For(email));
        Assert.Single(await Trail(id), type => type == "password-reset-requested");
        Assert.Equal(HttpStatusCode.OK, (await Reset(first, "first-code-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "first-code-secret")).StatusCode);
    }

    [Fact]
    public async Task A_password_change_voids_a_pending_code()
    {
        var (_, username, email, token) = await NewUser();
        var code = await RequestCode(email);

        var change = await Client.PostJson("/user/change-password", new { oldPassword = "abc321", newPassword = "changed-secret-1" }, token);
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);

        await AssertInvalidCode(await Reset(code, "reset-secret-1"));
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "changed-secret-1")).StatusCode);
    }

    [Fact]
    public async Task A_failing_webhook_is_retried_until_it_succeeds()
    {
        var (_, username, email, _) = await NewUser();
        Webhook.FailFirst(email, 2);

        Assert.Equal(HttpStatusCode.OK, (await Forgot(email)).StatusCode);

        var attempts = await Webhook.WaitFor(email, 3);
        Assert.Equal(3, attempts.Count);
        Assert.Single(attempts.Select(a => a.ToJsonString()).Distinct()); // the same delivery each time
        Assert.Equal(HttpStatusCode.OK, (await Reset(attempts[0]["code"]!.GetValue<string>(), "retried-secret-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "retried-secret-1")).StatusCode);
    }

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_given_up_after_the_retries_with_a_warning()
    {
        var (id, _, email, _) = await NewUser();
        Webhook.FailFirst(email, 100);

        Assert.Equal(HttpStatusCode.OK, (await Forgot(email)).StatusCode);

        var attempts = await Webhook.WaitFor(email, 4); // the first attempt and three retries
        var warning = $"Warning {typeof(AkkaUsers.Api.ForgotPassword.ResetCodeDelivery).FullName}: Delivering the password reset code of user {id} failed (the webhook answered 500)";
        await Poll(() => service.Factory.Logs.Lines.Any(line => line.StartsWith(warning, StringComparison.Ordinal)), "the warning");
        Assert.Equal(4, Webhook.For(email).Count);
        Assert.Equal(4, attempts.Count);
    }

    public static TheoryData<string, string?, int, string> BadForgotRequests => new()
    {
        { "{}", "application/json", 400, "\"email\" is required" },
        { """{"email": null}""", "application/json", 400, "\"email\" is required" },
        { """{"email": ""}""", "application/json", 400, "\"email\" is not allowed to be empty" },
        { """{"email": "not-an-email"}""", "application/json", 400, "\"email\" must be a valid email" },
        { """{"email": ["EMAIL"]}""", "application/json", 400, "\"email\" must be a string" },
        { "[]", "application/json", 400, "\"value\" must be of type object" },
        { "{", "application/json", 400, "Invalid request payload JSON format" },
        { """{"email": "EMAIL"}""", "text/plain", 415, "Unsupported Media Type" },
        { $$"""{"email": "EMAIL", "padding": "{{new string('x', 17000)}}"}""", "application/json", 413, "Payload content length greater than maximum allowed: 16384" },
    };

    [Theory]
    [MemberData(nameof(BadForgotRequests))]
    public async Task A_bad_forgot_password_request_is_a_4xx_and_issues_no_code(string body, string? contentType, int status, string message)
    {
        var (id, _, email, _) = await NewUser();
        var content = new StringContent(body.Replace("EMAIL", email), System.Text.Encoding.UTF8, contentType!);

        Assert.Equal(message, await (await Client.PostAsync("/user/forgot-password", content)).AssertBoom(status));

        // Deliveries go one at a time in order: once a later request's code arrived, an earlier one's would have too.
        var (_, _, marker, _) = await NewUser();
        await RequestCode(marker);
        Assert.Empty(Webhook.For(email));
        Assert.Equal(["user-registered"], await Trail(id));
    }

    public static TheoryData<string, string> BadResets => new()
    {
        { """{"password": "new-secret-1"}""", "\"code\" is required" },
        { """{"code": "CODE"}""", "\"password\" is required" },
        { """{"code": 5, "password": "new-secret-1"}""", "\"code\" must be a string" },
        { """{"code": "CODE", "password": 5}""", "\"password\" must be a string" },
        { """{"code": "CODE", "password": "short"}""", "\"password\" length must be at least 6 characters long" },
        { $$"""{"code": "CODE", "password": "{{new string('p', 1025)}}"}""", "\"password\" length must be less than or equal to 1024 characters long" },
        { "[]", "\"value\" must be of type object" },
    };

    [Theory]
    [MemberData(nameof(BadResets))]
    public async Task A_bad_reset_is_a_400_naming_the_field_and_leaves_the_code_working(string body, string message)
    {
        var (id, username, email, _) = await NewUser();
        var code = await RequestCode(email);

        Assert.Equal(message, await (await Client.Send(HttpMethod.Post, "/forgot-password/reset", null, body.Replace("CODE", code))).AssertBoom(400));

        Assert.Equal(["user-registered", "password-reset-requested"], await Trail(id));
        Assert.Equal(HttpStatusCode.OK, (await Reset(code, "good-secret-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "good-secret-1")).StatusCode);
    }

    private static async Task Poll(Func<bool> condition, string what)
    {
        await AkkaUsers.Accounts.Tests.Poll.UntilAsync(() => Task.FromResult(condition()), done => done, what);
    }
}
