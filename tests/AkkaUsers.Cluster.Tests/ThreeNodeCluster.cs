using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// Three service processes on loopback over one fresh PostgreSQL database, nodes 1 and 2 as seeds.
/// Without <see cref="ClusterProfile.ConnectionVariable"/> nothing starts and every test skips, saying why.
/// </summary>
public sealed class ThreeNodeCluster : IAsyncLifetime
{
    public static readonly string? ServerConnection = Environment.GetEnvironmentVariable(ClusterProfile.ConnectionVariable);

    public static string SkipReason =>
        $"cluster tests skipped: set {ClusterProfile.ConnectionVariable} to a PostgreSQL connection string to run them (.ci/run does)";

    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "akka-users-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly string _database = $"akka_users_{Guid.NewGuid():N}";

    public ClusterNode[] Nodes { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (ServerConnection is null) return;
        Directory.CreateDirectory(_workDirectory);
        await Execute($"CREATE DATABASE {_database}");

        var akkaPorts = Enumerable.Range(0, 3).Select(_ => ClusterNode.FreePort()).ToArray();
        var seeds = string.Join(',', akkaPorts.Take(2).Select(port => $"akka.tcp://akka-users@127.0.0.1:{port}"));
        var databaseConnection = new NpgsqlConnectionStringBuilder(ServerConnection) { Database = _database }.ConnectionString;
        Nodes = akkaPorts.Select((port, i) => new ClusterNode(i + 1, port, seeds, databaseConnection, _workDirectory)).ToArray();
        await Task.WhenAll(Nodes.Select(node => node.StartAsync()));
        await Task.WhenAll(Nodes.Select(node => node.WaitUntilServingAsync()));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        if (ServerConnection is null) return;
        await Execute($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        if (Directory.Exists(_workDirectory)) Directory.Delete(_workDirectory, recursive: true);
    }

    private static async Task Execute(string sql)
    {
        await using var connection = new NpgsqlConnection(ServerConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>The few calls these tests make, in Appmixer's JSON.</summary>
public static class Accounts
{
    public static Task<HttpResponseMessage> Register(this ClusterNode node, string username, string email, string password = "abc321") =>
        node.Client.PostAsJsonAsync("/user", new { username, email, password });

    public static Task<HttpResponseMessage> SignIn(this ClusterNode node, string username, string password = "abc321") =>
        node.Client.PostAsJsonAsync("/user/auth", new { username, password });

    public static async Task<HttpResponseMessage> GetUser(this ClusterNode node, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/user");
        request.Headers.Authorization = new("Bearer", token);
        return await node.Client.SendAsync(request);
    }

    public static async Task<JsonObject> Body(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>The status, or 0 when the node refused the connection or did not answer (it is down).</summary>
    public static async Task<int> StatusOf(Func<Task<HttpResponseMessage>> call) => (await Send(call)).Status;

    /// <summary>The status and JSON body, or status 0 and no body when the node is down.</summary>
    public static async Task<(int Status, JsonObject? Body)> Send(Func<Task<HttpResponseMessage>> call)
    {
        try
        {
            using var response = await call();
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, null);
        }
    }

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;
}
