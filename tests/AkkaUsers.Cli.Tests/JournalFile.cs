using AkkaUsers.Accounts.Persistence;
using Microsoft.Data.Sqlite;

namespace AkkaUsers.Cli.Tests;

/// <summary>Rows written straight into a SQLite journal, past the entities: how damage or a large journal is made for a test.</summary>
public static class JournalFile
{
    /// <summary>A row as Akka.Persistence.Sql writes it; the payload is the event's JSON unless <paramref name="message"/> is given.</summary>
    public sealed record Row(
        string PersistenceId, long SequenceNr, object? Event, DateTimeOffset? At = null,
        string? Manifest = null, int SerializerId = AkkaUsersSerializer.Id, byte[]? Message = null);

    /// <summary>Appends the rows in one transaction, in order; returns the ordering of the last one.</summary>
    public static long Append(string databaseFile, IEnumerable<Row> rows)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
            VALUES ($created, 0, $persistence_id, $sequence_number, $message, $manifest, $identifier, 'test');
            SELECT last_insert_rowid();
            """;
        var created = command.Parameters.Add("$created", SqliteType.Integer);
        var persistenceId = command.Parameters.Add("$persistence_id", SqliteType.Text);
        var sequenceNr = command.Parameters.Add("$sequence_number", SqliteType.Integer);
        var message = command.Parameters.Add("$message", SqliteType.Blob);
        var manifest = command.Parameters.Add("$manifest", SqliteType.Text);
        var identifier = command.Parameters.Add("$identifier", SqliteType.Integer);
        long last = 0;
        foreach (var row in rows)
        {
            created.Value = (row.At ?? DateTimeOffset.UtcNow).UtcTicks;
            persistenceId.Value = row.PersistenceId;
            sequenceNr.Value = row.SequenceNr;
            message.Value = row.Message ?? AkkaUsersSerializer.Encode(row.Event!);
            manifest.Value = row.Manifest ?? AkkaUsersSerializer.ManifestOf(row.Event!);
            identifier.Value = row.SerializerId;
            last = (long)command.ExecuteScalar()!;
        }
        transaction.Commit();
        return last;
    }

    public static long Append(string databaseFile, params Row[] rows) => Append(databaseFile, rows.AsEnumerable());

    /// <summary>The next sequence number of a persistence id (1 when it has none).</summary>
    public static long NextSequenceNr(string databaseFile, string persistenceId) =>
        Scalar(databaseFile, "SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM journal WHERE persistence_id = $p", persistenceId);

    public static long Count(string databaseFile, string manifest) =>
        Scalar(databaseFile, "SELECT COUNT(*) FROM journal WHERE manifest = $p", manifest);

    private static long Scalar(string databaseFile, string sql, string parameter)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$p", parameter);
        return (long)command.ExecuteScalar()!;
    }
}
