using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Tests;
using System.Text.RegularExpressions;

namespace AkkaUsers.Api.Tests;

/// <summary>The service's meters and ASP.NET Core's request meter count exactly what a few requests did.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task A_few_requests_are_counted_exactly()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        await factory.JoinedAsync(); // a collector started during the warm-up would see its entity stop but not start
        await SkeletonMigrationStartedAsync(factory);
        using var meters = new MeterCollector(factory.Services);

        var alice = await client.RegisterForToken("alice", "alice@example.com");
        await client.RegisterForToken("bob", "bob@example.com");
        await (await client.Register("ALICE", "alice2@example.com")).AssertBoom(409); // username taken
        await (await client.Register("carol", "bob@example.com")).AssertBoom(409); // email taken: carol's username claim is released
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "alice", password = "abc321" })).StatusCode);
        await (await client.PostJson("/user/auth", new { username = "alice", password = "wrong-password" })).AssertBoom(401);
        await (await client.PostJson("/user/auth", new { username = "nobody", password = "abc321" })).AssertBoom(401);
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(alice)).StatusCode);

        Assert.Equal(2, meters.Sum("akka_users.registrations"));
        Assert.Equal(1, meters.Sum("akka_users.conflicts", ("field", "username")));
        Assert.Equal(1, meters.Sum("akka_users.conflicts", ("field", "email")));
        Assert.Equal(1, meters.Sum("akka_users.sign_ins", ("outcome", "succeeded")));
        Assert.Equal(2, meters.Sum("akka_users.sign_ins", ("outcome", "failed")));
        Assert.Equal(0, meters.Count("akka_users.ask_timeouts"));
        // Four registrations hash; three sign-ins verify (the unknown login against the dummy hash).
        foreach (var instrument in new[] { "akka_users.password.queue_wait", "akka_users.password.duration" })
        {
            Assert.Equal(4, meters.Count(instrument, ("operation", "hash")));
            Assert.Equal(3, meters.Count(instrument, ("operation", "verify")));
        }
        // Entities started: alice and bob, new in every respect, are written whole without one. Then users alice (signing
        // in) and nobody's stand-in; usernames alice (ALICE's claim), carol, carol's skeleton and nobody; email bob
        // (carol's claim).
        Assert.Equal(2, meters.Sum("akka_users.entities.alive", ("entity", "user")));
        Assert.Equal(4, meters.Sum("akka_users.entities.alive", ("entity", "username")));
        Assert.Equal(1, meters.Sum("akka_users.entities.alive", ("entity", "email")));
        // Writes, each timed once per entity it stored: two registrations and one sign-in (a failed one is not timed);
        // claims of alice, bob, carol and their skeletons, and carol's two releases; two email claims.
        Assert.Equal(3, meters.Count("akka_users.journal.write_duration", ("entity", "user")));
        Assert.Equal(8, meters.Count("akka_users.journal.write_duration", ("entity", "username")));
        Assert.Equal(2, meters.Count("akka_users.journal.write_duration", ("entity", "email")));

        (string, int, int)[] requests = [("/user", 201, 2), ("/user", 409, 2), ("/user/auth", 200, 1), ("/user/auth", 401, 2)];
        await meters.WaitUntil(m => requests.All(r => RequestCount(m, "POST", r.Item1, r.Item2) == r.Item3) && RequestCount(m, "GET", "/user", 200) == 1);
        factory.DeleteData();
    }

    [Fact]
    public async Task A_wrong_password_of_a_known_user_and_an_unknown_login_move_the_same_metrics()
    {
        var first = new ApiFactory();
        using (var client = first.CreateClient())
        {
            await SkeletonMigrationStartedAsync(first);
            await client.RegisterForToken("known", "known@example.com");
        }
        await first.DisposeAsync();

        // After a restart, so that neither login's entity runs yet.
        await using var factory = new ApiFactory(dataDirectory: first.DataDirectory);
        using var again = factory.CreateClient();
        await factory.JoinedAsync(); // the warm-up's entities stop before the join, and would otherwise move the first window
        using var meters = new MeterCollector(factory.Services);

        async Task<Dictionary<string, (int Count, double Sum)>> Moved(string username)
        {
            var answered = RequestCount(meters, "POST", "/user/auth", 401);
            var before = meters.Totals();
            await (await again.PostJson("/user/auth", new { username, password = "wrong-password" })).AssertBoom(401);
            await meters.WaitUntil(m => RequestCount(m, "POST", "/user/auth", 401) > answered);
            return meters.Totals().Select(t => (t.Key, Moved: (t.Value.Count - before.GetValueOrDefault(t.Key).Count,
                    t.Key.Contains("duration") || t.Key.Contains("queue_wait") ? 0 : t.Value.Sum - before.GetValueOrDefault(t.Key).Sum)))
                .Where(t => t.Moved != (0, 0) && !t.Key.Contains("operation=warm-up")) // the start's own hash, whenever it ends
                .ToDictionary(t => t.Key, t => t.Moved);
        }

        var known = await Moved("known");
        var unknown = await Moved("unknown");
        Assert.Contains(known, moved => moved.Key.StartsWith("akka_users.sign_ins"));
        Assert.Equal(known.OrderBy(m => m.Key), unknown.OrderBy(m => m.Key));
        factory.DeleteData();
    }

    [Fact]
    public async Task Prometheus_text_is_served_at_metrics_only_when_enabled()
    {
        await using var enabled = new ApiFactory(new() { ["Metrics:Prometheus"] = "true" });
        using var client = enabled.CreateClient();
        await client.RegisterForToken("scraped", "scraped@example.com");

        var scrape = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        // At least one: other service instances of this test process record under the same meter name.
        Assert.Matches(new Regex(@"^akka_users_registrations_total\{[^}]*\} [1-9]", RegexOptions.Multiline), await scrape.Content.ReadAsStringAsync());
        enabled.DeleteData();

        await using var disabled = new ApiFactory();
        await (await disabled.CreateClient().GetAsync("/metrics")).AssertBoom(404);
        disabled.DeleteData();
    }

    /// <summary>The service's counters, each with every tag value it can have.</summary>
    private static readonly string[] Counters =
    [
        "akka_users_registrations_total", "akka_users_sign_ins_total", "akka_users_conflicts_total", "akka_users_ask_timeouts_total",
        "akka_users_lockouts_total", "akka_users_forgot_password_deliveries_total", "akka_users_forgot_password_dropped_total",
    ];

    [SkippableFact]
    public async Task A_fresh_nodes_scrape_passes_promtool_check_metrics()
    {
        const string promtool = "/usr/bin/promtool";
        var scrape = await FreshScrapeAsync();
        Skip.IfNot(File.Exists(promtool), $"{promtool} is not installed (Debian's prometheus package has it)");

        var check = Process.Start(new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        await check.StandardInput.WriteAsync(scrape);
        check.StandardInput.Close();
        var problems = await check.StandardOutput.ReadToEndAsync() + await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, problems);
    }

    [Fact]
    public async Task A_fresh_node_has_every_counter_at_0_and_the_cluster_read_model_and_hashing_gauges()
    {
        var scrape = await FreshScrapeAsync();

        foreach (var counter in Counters)
        {
            Assert.Contains($"# TYPE {counter} counter", scrape);
            var samples = Samples(scrape, counter);
            Assert.NotEmpty(samples);
            Assert.All(samples, sample => Assert.Equal("0", sample.Value));
        }
        Assert.Equal(2, Samples(scrape, "akka_users_sign_ins_total").Count); // succeeded and failed
        Assert.Equal(3, Samples(scrape, "akka_users_forgot_password_deliveries_total").Count);
        Assert.Contains(Samples(scrape, "akka_users_cluster_members"), s => s.Labels.Contains("status=\"up\"") && s.Value == "1");
        Assert.Contains(Samples(scrape, "akka_users_cluster_members"), s => s.Labels.Contains("status=\"leaving\"") && s.Value == "0");
        foreach (var gauge in new[] { "akka_users_cluster_unreachable_members", "akka_users_read_model_lag_events", "akka_users_read_model_lag_seconds",
                     "akka_users_password_slots_busy", "akka_users_password_queue_length", "akka_users_forgot_password_queue_depth" })
        {
            Assert.Contains($"# TYPE {gauge} gauge", scrape);
            Assert.Equal("0", Assert.Single(Samples(scrape, gauge)).Value);
        }
    }

    [Fact]
    public async Task Every_metric_the_grafana_dashboard_queries_is_on_a_live_scrape()
    {
        // A registration: entities and journal writes are recorded from their first one.
        var scrape = await FreshScrapeAsync(client => client.RegisterForToken("dashboard", "dashboard@example.com"));
        var served = Regex.Matches(scrape, @"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepositoryRoot, "config", "grafana-dashboard.json")))!;
        var queried = dashboard["panels"]!.AsArray()
            .SelectMany(panel => panel!["targets"]!.AsArray().Select(target => target!["expr"]!.GetValue<string>()))
            .SelectMany(expr => Regex.Matches(expr, @"\b(?:akka_users|http_server|dotnet)_[a-z0-9_]+").Select(m => m.Value))
            .ToHashSet();
        Assert.True(queried.Count >= 15, $"only {queried.Count} metrics queried");
        Assert.Empty(queried.Except(served));
    }

    /// <summary>
    /// /metrics of a node of its own (a process: nothing else records into its meters) once its cluster and read
    /// model gauges answer, after one request so that ASP.NET Core's request metrics exist too.
    /// </summary>
    /// <param name="first">Requests to make before scraping.</param>
    private static async Task<string> FreshScrapeAsync(Func<HttpClient, Task>? first = null)
    {
        await using var service = new ServiceProcess(new Dictionary<string, string> { ["Metrics__Prometheus"] = "true" });
        using var client = new HttpClient { BaseAddress = await service.ListeningAddressAsync() };
        if (first is not null)
        {
            await Poll.UntilAsync(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode, ready => ready, "the node is ready");
            await first(client);
        }
        return await Poll.UntilAsync(async () =>
            {
                await client.GetAsync("/health/ready");
                return await client.GetStringAsync("/metrics");
            },
            scrape => Samples(scrape, "akka_users_cluster_members").Any(s => s.Value == "1")
                      && Samples(scrape, "akka_users_read_model_lag_events").Count == 1
                      && scrape.Contains("http_server_request_duration_seconds_bucket"),
            "a scrape with the cluster up, the read model's lag and a request");
    }

    private static List<(string Labels, string Value)> Samples(string scrape, string metric) =>
        Regex.Matches(scrape, $@"^{metric}(\{{[^}}]*\}})? (\S+)", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    private static int RequestCount(MeterCollector meters, string method, string route, int status) =>
        meters.Count("http.server.request.duration", ("http.request.method", method), ("http.route", route), ("http.response.status_code", status));

    /// <summary>
    /// Waits for the skeleton migration's first start: a user registered before it is migrated by it, which starts the
    /// user's skeleton claim entity in whatever window is being measured.
    /// </summary>
    private static Task SkeletonMigrationStartedAsync(ApiFactory factory) =>
        Poll.UntilAsync(() => Task.FromResult(factory.Logs.Lines), lines => lines.Any(l => l.Contains("Username skeleton claims are up to date")),
            "the skeleton migration's first start");
}
