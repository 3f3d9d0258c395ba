using Npgsql;

namespace AkkaUsers.Harness;

/// <summary>Three service processes on loopback over one fresh PostgreSQL database, nodes 1 and 2 as seeds.</summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly string _serverConnection;
    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "akka-users-cluster", Guid.NewGuid().ToString("N"));
    private readonly string _database = $"akka_users_{Guid.NewGuid():N}";

    private LocalCluster(string serverConnection)
    {
        _serverConnection = serverConnection;
        DatabaseConnection = new NpgsqlConnectionStringBuilder(serverConnection) { Database = _database }.ConnectionString;
    }

    public ClusterNode[] Nodes { get; private set; } = [];

    /// <summary>The cluster's own database, for checks that read the journal.</summary>
    public string DatabaseConnection { get; }

    /// <summary>Holds each node's console log (node1.log, ...).</summary>
    public string WorkDirectory => _workDirectory;

    /// <summary>Leave the logs behind on dispose, to find out why a run failed.</summary>
    public bool KeepLogs { get; set; }

    /// <param name="serverConnection">A PostgreSQL server whose user may create databases.</param>
    public static async Task<LocalCluster> StartAsync(string serverConnection)
    {
        var cluster = new LocalCluster(serverConnection);
        try
        {
            await cluster.InitializeAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        Directory.CreateDirectory(_workDirectory);
        await Execute($"CREATE DATABASE {_database}");

        var akkaPorts = Enumerable.Range(0, 3).Select(_ => ServiceProcess.FreePort()).ToArray();
        var seeds = string.Join(',', akkaPorts.Take(2).Select(port => $"akka.tcp://akka-users@127.0.0.1:{port}"));
        Nodes = akkaPorts.Select((port, i) => new ClusterNode(i + 1, port, seeds, DatabaseConnection, _workDirectory)).ToArray();
        await Task.WhenAll(Nodes.Select(node => node.StartAsync()));
        await Task.WhenAll(Nodes.Select(node => node.WaitUntilServingAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        await Execute($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        if (!KeepLogs && Directory.Exists(_workDirectory)) Directory.Delete(_workDirectory, recursive: true);
    }

    private async Task Execute(string sql)
    {
        await using var connection = new NpgsqlConnection(_serverConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
