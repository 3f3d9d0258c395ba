using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.ReadModel;
using Npgsql;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// Three nodes started at once on a fresh database (the fixture does that) make the read model's tables and the
/// journal's tag index without one of them tripping over another's CREATE ... IF NOT EXISTS.
/// </summary>
public sealed class ColdStartTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    // What PostgreSQL says when two sessions create one table or index at once, and how Npgsql reports it.
    private static readonly string[] SchemaRaceMarks = ["23505", "42P07", "duplicate key", "already exists", "PostgresException", "NpgsqlException"];

    [SkippableFact]
    public async Task A_cold_start_of_three_nodes_at_once_makes_the_schema_without_an_error()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await Poll.UntilAsync(SchemaIsMadeAsync, TimeSpan.FromSeconds(60), "the read model's tables and the tag index were not made within 60 s");

        var complaints = cluster.Nodes
            .SelectMany(node => File.ReadLines(node.LogFile).Select(line => (node.Name, Line: line)))
            .Where(l => IsWarningOrWorse(l.Line) && SchemaRaceMarks.Any(mark => l.Line.Contains(mark, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        Assert.True(complaints.Count == 0, string.Join('\n', complaints.Take(10)));
    }

    [SkippableFact]
    public async Task Many_nodes_preparing_the_read_model_at_once_on_a_fresh_database_all_succeed()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var database = await TestDatabase.CreateAsync(ThreeNodeCluster.ServerConnection);
        // The journal's tables first, as the journal makes them at start: the tag index goes on its tag table.
        await database.ExecuteAsync("CREATE TABLE tags (ordering_id BIGINT NOT NULL, tag VARCHAR(64) NOT NULL)");
        var journal = new JournalDatabase(PersistenceProvider.PostgreSql, database.ConnectionString, schemaName: null);

        // A read model per node, as each process has its own; all at the same moment.
        using var go = new SemaphoreSlim(0);
        var nodes = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await go.WaitAsync();
            return await new UsersReadModel(journal).PrepareAsync(CancellationToken.None);
        })).ToList();
        go.Release(nodes.Count);

        Assert.All(await Task.WhenAll(nodes), offset => Assert.Equal(0, offset));
    }

    [SkippableFact]
    public async Task A_starting_node_makes_the_journal_tables_only_while_it_holds_the_schema_lock()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var database = await TestDatabase.CreateAsync(ThreeNodeCluster.ServerConnection);
        var workDirectory = Path.Combine(Path.GetTempPath(), "akka-users-cold-start", Guid.NewGuid().ToString("N"));
        var certificates = ClusterCertificates.Create(Path.Combine(workDirectory, "tls"));
        var node = new ClusterNode(1, ServiceProcess.FreePort(), "", database.ConnectionString, workDirectory, certificates.NodeSettings);
        try
        {
            // Another node in the middle of its schema changes.
            await using var otherNode = new NpgsqlConnection(database.ConnectionString);
            await otherNode.OpenAsync();
            await using var changingSchema = await otherNode.BeginTransactionAsync();
            await new NpgsqlCommand($"SELECT pg_advisory_xact_lock({JournalDatabase.SchemaLock})", otherNode, changingSchema).ExecuteNonQueryAsync();

            var started = node.StartAsync(TimeSpan.FromSeconds(90));
            await Poll.UntilAsync(() => WaitsForAdvisoryLock(database), TimeSpan.FromSeconds(60), "the node never asked for the schema lock");
            Assert.Empty(await ExistingAsync(database, JournalTables)); // not made before the lock was taken

            await changingSchema.CommitAsync();
            await started;
            Assert.Equal(JournalTables, await ExistingAsync(database, JournalTables));
        }
        finally
        {
            await node.DisposeAsync();
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    private static async Task<bool> WaitsForAdvisoryLock(TestDatabase database) =>
        (bool)(await database.ScalarAsync(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted " +
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"))!;

    /// <summary>The journal plugins' tables and the snapshot store's, as Akka.Persistence.Sql names them by default.</summary>
    private static readonly string[] JournalTables = ["journal", "tags", "snapshot"];

    private static async Task<List<string>> ExistingAsync(TestDatabase database, string[] tables)
    {
        var existing = new List<string>();
        foreach (var table in tables)
            if ((bool)(await database.ScalarAsync($"SELECT to_regclass('{table}') IS NOT NULL"))!) existing.Add(table);
        return existing;
    }

    private static bool IsWarningOrWorse(string line) =>
        line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal)
        || line.Contains(" crit: ", StringComparison.Ordinal) || line.Contains("[ERROR]", StringComparison.Ordinal)
        || line.Contains("[WARNING]", StringComparison.Ordinal);

    private async Task<bool> SchemaIsMadeAsync()
    {
        await using var connection = new NpgsqlConnection(cluster.DatabaseConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT to_regclass('users') IS NOT NULL AND to_regclass('read_model_offsets') IS NOT NULL " +
            $"AND to_regclass('{JournalDatabase.TagOrderingIndex}') IS NOT NULL", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
