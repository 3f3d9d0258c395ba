using System.Data.Common;
using AkkaUsers.Actors.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AkkaUsers.Actors.Persistence;

/// <summary>The database behind the journal: its linq2db provider, its preparation, and a readiness probe.</summary>
public sealed class JournalDatabase(PersistenceProvider provider, string connectionString)
{
    public PersistenceProvider Provider { get; } = provider;

    public string ConnectionString { get; } = connectionString;

    public string Linq2DbProviderName => Provider switch
    {
        PersistenceProvider.PostgreSql => LinqToDB.ProviderName.PostgreSQL15,
        _ => LinqToDB.ProviderName.SQLiteMS,
    };

    private DbProviderFactory Factory => Provider switch
    {
        PersistenceProvider.PostgreSql => NpgsqlFactory.Instance,
        _ => SqliteFactory.Instance,
    };

    /// <summary>
    /// SQLite: creates the file's folder and switches the file to WAL, so readers never block the one writer.
    /// WAL is a property of the file, so this holds for every later connection.
    /// </summary>
    public void Prepare()
    {
        if (Provider != PersistenceProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(ConnectionString);
        if (builder.Mode != SqliteOpenMode.Memory && Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder)
            Directory.CreateDirectory(folder);
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL;";
        pragma.ExecuteNonQuery();
    }

    /// <summary>
    /// Null when the database answers a trivial query within <paramref name="timeout"/>, otherwise why it did not.
    /// Never hangs and never throws for an unreachable database.
    /// </summary>
    public async Task<string?> ProbeAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await using var connection = Factory.CreateConnection()!;
            connection.ConnectionString = ConnectionString;
            await connection.OpenAsync(limit.Token).WaitAsync(limit.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(limit.Token).WaitAsync(limit.Token);
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (Exception e) when (e is DbException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            return e.Message;
        }
    }
}
