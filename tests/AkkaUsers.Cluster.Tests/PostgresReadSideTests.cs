using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Cli;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// One service process (a cluster of one) on its own fresh PostgreSQL database, with a bootstrap admin and six
/// users registered in a known order: usernames in mixed case and beyond ASCII, two of them with an extra scope.
/// The database collates text by ICU's "en-US", as a production database may, and the service's tables are in their
/// own schema.
/// </summary>
public class SingleNodeOnPostgres : IAsyncLifetime
{
    public const string AdminEmail = "root@example.com";
    public const string AdminPassword = "root-password-1";

    /// <summary>The journal's schema (Persistence:SchemaName), in mixed case so that it must be quoted.</summary>
    public const string Schema = "AkkaUsers";

    /// <summary>Registered in this order after the admin ("Root"); the ones marked get the scope "beta" on top of "user".</summary>
    public static readonly (string Username, bool Beta)[] Registrations =
        [("alice", false), ("Bob", true), ("ÉMILE", false), ("émilie", false), ("Zoë", true), ("ﬁona", false)];

    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "akka-users-postgres", Guid.NewGuid().ToString("N"));
    private TestDatabase? _database;
    private ClusterNode? _node;
    private ClusterCertificates? _certificates;

    public ClusterNode Node => _node ?? throw new InvalidOperationException("not started");
    public TestDatabase Database => _database ?? throw new InvalidOperationException("not started");
    public string AdminToken { get; private set; } = "";

    /// <summary>Every user's id by username, the admin's under "Root".</summary>
    public Dictionary<string, string> Ids { get; } = [];

    /// <summary>The node's settings on top of the fixture's own.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        if (ThreeNodeCluster.ServerConnection is null) return;
        Directory.CreateDirectory(_workDirectory);
        // A database that sorts text by a language's rules, where the list must still sort usernames by code point.
        _database = await TestDatabase.CreateAsync(ThreeNodeCluster.ServerConnection, icuLocale: "en-US");
        await _database.ExecuteAsync($"CREATE SCHEMA \"{Schema}\"");
        // The cluster profile names certificate files: this node presents its own, from a throwaway CA.
        _certificates = ClusterCertificates.Create(Path.Combine(_workDirectory, "tls"));
        _node = new ClusterNode(1, ServiceProcess.FreePort(), "", _database.ConnectionString, _workDirectory, new Dictionary<string, string>(_certificates.NodeSettings)
        {
            ["Admin__Email"] = AdminEmail,
            ["Admin__Password"] = AdminPassword,
            ["Admin__Username"] = "Root",
            ["Persistence__SchemaName"] = Schema,
        }.Concat(Settings).ToDictionary());
        await _node.StartAsync();

        // The admin is made by a hosted service at start: registered first, before anyone else.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonObject admin;
        while (await _node.Client.PostAsJsonAsync("/user/auth", new { email = AdminEmail, password = AdminPassword }) is not { StatusCode: HttpStatusCode.OK } signedIn
               || (admin = await signedIn.Body())["user"]!["scope"]!.AsArray().All(s => s!.GetValue<string>() != "admin"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the admin cannot sign in with the admin scope:\n{_node.LogTail()}");
            await Task.Delay(100); // poll interval
        }
        AdminToken = admin["token"]!.GetValue<string>();
        Ids["Root"] = admin["user"]!["id"]!.GetValue<string>();

        foreach (var (username, _) in Registrations)
        {
            var created = await _node.Register(username, $"user{Ids.Count}@example.com");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Ids[username] = (await created.Body())["user"]!["id"]!.GetValue<string>();
        }
        foreach (var (username, _) in Registrations.Where(r => r.Beta))
        {
            using var update = new HttpRequestMessage(HttpMethod.Put, $"/users/{Ids[username]}") { Content = JsonContent.Create(new { scope = new[] { "user", "beta" } }) };
            Assert.Equal(HttpStatusCode.OK, (await Send(update)).StatusCode);
        }
    }

    /// <summary>GET <paramref name="path"/> as the admin: the status and the parsed body.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> Get(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await Send(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<long> Count(string query) =>
        (await Get($"/users/count{query}")).Body!["count"]!.GetValue<long>();

    /// <summary>The usernames GET /users lists for <paramref name="query"/>, in its order.</summary>
    public async Task<List<string>> Usernames(string query)
    {
        var (status, body) = await Get($"/users{query}");
        Assert.True(status == HttpStatusCode.OK, $"GET /users{query}: {status} {body}");
        return body!.AsArray().Select(user => user!["username"]!.GetValue<string>()).ToList();
    }

    /// <summary>Polls until the read model holds every user with their final scopes (the scope changes are the last events).</summary>
    public async Task WaitForTheProjectionAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await Count("") != Ids.Count || await Count("?filter=scope:beta") != Registrations.Count(r => r.Beta))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the read model did not catch up:\n{Node.LogTail()}");
            await Task.Delay(50); // poll interval
        }
    }

    /// <summary>Sends <paramref name="request"/> with the admin's token.</summary>
    public async Task<HttpResponseMessage> Send(HttpRequestMessage request)
    {
        request.Headers.Authorization = new("Bearer", AdminToken);
        return await Node.Client.SendAsync(request);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        _certificates?.Dispose();
        if (Directory.Exists(_workDirectory)) Directory.Delete(_workDirectory, recursive: true);
    }
}

/// <summary>
/// The admin read side (the users table and its SQL) and the command-line tool on PostgreSQL, the cluster's
/// journal: the same answers as the SQLite tests expect. Skipped, saying why, without a server.
/// </summary>
public sealed class PostgresReadSideTests(SingleNodeOnPostgres service) : IClassFixture<SingleNodeOnPostgres>
{
    // The username keys (NFKC + case fold) in code-point order: "alice" < "bob" < "fiona" < "root" < "zoë" < "émile" < "émilie".
    private static readonly string[] ByUsername = ["alice", "Bob", "ﬁona", "Root", "Zoë", "ÉMILE", "émilie"];
    private static readonly string[] ByCreation = ["Root", "alice", "Bob", "ÉMILE", "émilie", "Zoë", "ﬁona"];

    [SkippableFact]
    public async Task Users_are_listed_filtered_sorted_paged_and_counted()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await service.WaitForTheProjectionAsync();

        Assert.Equal(ByCreation.Reverse(), await service.Usernames(""));
        Assert.Equal(ByCreation.Reverse(), await service.Usernames("?sort=created:-1"));
        Assert.Equal(ByCreation, await service.Usernames("?sort=created:1"));
        Assert.Equal(ByUsername, await service.Usernames("?sort=username:1"));
        Assert.Equal(["Bob", "ÉMILE", "émilie"], await service.Usernames("?sort=created:1&limit=3&offset=2"));
        Assert.Equal(["ﬁona", "Zoë"], await service.Usernames("?sort=created:-1&limit=2"));
        Assert.Equal(["ÉMILE", "émilie"], await service.Usernames("?sort=username:1&limit=5&offset=5"));
        Assert.Empty(await service.Usernames("?offset=7"));

        // A scope matches whole: "bet" is no scope of anyone's.
        Assert.Equal(["Bob", "Zoë"], await service.Usernames("?filter=scope:beta&sort=username:1"));
        Assert.Equal(["Root"], await service.Usernames("?filter=scope:admin"));
        Assert.Empty(await service.Usernames("?filter=scope:bet"));
        Assert.Equal(ByCreation, await service.Usernames("?filter=scope:user&sort=created:1"));

        // Case-insensitive beyond ASCII, NFKC ("ﬁ" is "fi"), and LIKE's wildcards are plain characters.
        Assert.Equal(["ÉMILE", "émilie"], await service.Usernames("?pattern=%C3%89MIL&sort=username:1"));
        Assert.Equal(["ﬁona"], await service.Usernames("?pattern=FI"));
        Assert.Equal(["ﬁona"], await service.Usernames("?pattern=%EF%AC%81"));
        Assert.Equal(["Zoë"], await service.Usernames("?pattern=O%C3%8B"));
        Assert.Empty(await service.Usernames("?pattern=%25"));
        Assert.Empty(await service.Usernames("?pattern=_"));
        Assert.Equal(["Bob", "Zoë"], await service.Usernames("?filter=scope:beta&pattern=o&sort=created:1"));
        Assert.Equal(["Bob", "ﬁona", "Root", "Zoë"], await service.Usernames("?pattern=o&sort=username:1"));

        Assert.Equal(7, await service.Count(""));
        Assert.Equal(2, await service.Count("?filter=scope:beta&sort=username:1&limit=1&offset=1"));
        Assert.Equal(1, await service.Count("?filter=scope:admin"));
        Assert.Equal(0, await service.Count("?filter=scope:bet"));
        Assert.Equal(2, await service.Count("?pattern=%C3%A9mil"));
        Assert.Equal(4, await service.Count("?pattern=O"));
        Assert.Equal(2, await service.Count("?filter=scope:beta&pattern=o"));
        Assert.Equal(0, await service.Count("?pattern=_"));
    }

    [SkippableFact]
    public async Task The_journal_tags_are_indexed_by_tag_and_ordering_in_the_journals_schema()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await service.WaitForTheProjectionAsync();

        var index = await service.Database.ScalarAsync(
            $"SELECT indexdef FROM pg_indexes WHERE schemaname = '{SingleNodeOnPostgres.Schema}' AND tablename = 'tags' AND indexname = '{JournalDatabase.TagOrderingIndex}'");

        Assert.EndsWith("USING btree (tag, ordering_id)", Assert.IsType<string>(index));
    }

    [SkippableFact]
    public async Task The_tool_exports_verifies_and_rebuilds_the_postgres_journal()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await service.WaitForTheProjectionAsync();
        var bob = service.Ids["Bob"];

        // Export: the whole journal in journal order, secrets redacted; one user's part is what the service's
        // own audit trail (read through Akka.Persistence.Query) answers for that user.
        var export = await Cli("audit", "export");
        Assert.Equal(0, export.ExitCode);
        var lines = Lines(export.Output);
        var orderings = lines.Select(l => l["ordering"]!.GetValue<long>()).ToList();
        Assert.Equal(orderings.Order(), orderings);
        Assert.Equal(orderings.Count, orderings.Distinct().Count());
        Assert.Equal(7, lines.Count(l => l["type"]!.GetValue<string>() == "user-registered"));
        Assert.Equal(21, lines.Count(l => l["type"]!.GetValue<string>() == "key-claimed")); // username, its skeleton, email
        Assert.DoesNotContain("$argon2id$", export.Output);
        Assert.Contains($"audit export: {lines.Count} events in", export.Errors);

        var bobsExport = Lines((await Cli("audit", "export", "--user", bob)).Output);
        var (status, trail) = await service.Get($"/users/{bob}/events");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["user-registered", "user-updated"], bobsExport.Select(l => l["type"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(new JsonArray(bobsExport.Select(l => (JsonNode)l.DeepClone()).ToArray()), trail),
            $"export:\n{string.Join('\n', bobsExport)}\ntrail:\n{trail}");

        // Verify: clean, then a gap in one user's sequence numbers is found and named.
        var clean = await Cli("audit", "verify");
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains($"audit verify: {lines.Count} events in", clean.Output);
        Assert.Contains(": 7 user ids, 21 index entities\nOK: every invariant holds\n", clean.Output);

        var alice = service.Ids["alice"];
        // Alice has one event; moving it up leaves sequence numbers 1 to 100 missing. Undone below, whatever happens.
        Assert.Equal(1, await service.Database.ExecuteAsync($"UPDATE \"{SingleNodeOnPostgres.Schema}\".journal SET sequence_number = sequence_number + 100 WHERE persistence_id = 'user-{alice}'"));
        try
        {
            var gap = await Cli("audit", "verify");
            Assert.Equal(1, gap.ExitCode);
            Assert.Contains("the sequence numbers are not contiguous", gap.Output);
            Assert.Contains($"offending ids: {alice}", gap.Output);
        }
        finally
        {
            await service.Database.ExecuteAsync($"UPDATE \"{SingleNodeOnPostgres.Schema}\".journal SET sequence_number = sequence_number - 100 WHERE persistence_id = 'user-{alice}'");
        }

        // Rebuild: the emptied list comes back whole, in every order.
        string[] queries = ["?sort=username:1", "?sort=created:-1", "?filter=scope:beta", "?pattern=%C3%A9mil"];
        var before = new List<List<string>>();
        foreach (var query in queries) before.Add(await service.Usernames(query));
        await service.Database.ExecuteAsync($"DELETE FROM \"{SingleNodeOnPostgres.Schema}\".users");
        Assert.Equal(0, await service.Count(""));
        var rebuild = await Cli("projection", "rebuild");
        Assert.Equal(0, rebuild.ExitCode);
        Assert.Contains(": 7 users listed, up to ordering ", rebuild.Output);
        for (var i = 0; i < queries.Length; i++) Assert.Equal(before[i], await service.Usernames(queries[i]));
        Assert.Equal(7, await service.Count(""));
    }

    /// <summary>The tool in process, on the service's database, configured as the service is (provider, connection string, schema).</summary>
    private async Task<CliRun> Cli(params string[] args)
    {
        using var output = new MemoryStream();
        var errors = new StringWriter();
        var exitCode = await AkkaUsersCli.RunAsync(
            [.. args, "--Persistence:Provider=PostgreSql", $"--Persistence:ConnectionString={service.Database.ConnectionString}",
                $"--Persistence:SchemaName={SingleNodeOnPostgres.Schema}"],
            output, errors, CancellationToken.None);
        return new CliRun(exitCode, Encoding.UTF8.GetString(output.ToArray()), errors.ToString());
    }

    private static List<JsonObject> Lines(string jsonLines) =>
        jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private sealed record CliRun(int ExitCode, string Output, string Errors);
}
