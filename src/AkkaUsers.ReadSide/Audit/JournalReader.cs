using System.Runtime.CompilerServices;
using AkkaUsers.Accounts.Persistence;

namespace AkkaUsers.ReadSide.Audit;

/// <summary>One row of the journal's table, as Akka.Persistence.Sql stores it.</summary>
public sealed record JournalRow(
    long Ordering, string PersistenceId, long SequenceNr, DateTimeOffset Timestamp, string? Manifest, int? SerializerId, byte[] Message)
{
    /// <summary>The journal keeps the write time as UTC ticks (the "created" column, and EventEnvelope.Timestamp).</summary>
    public static DateTimeOffset TimestampOf(long ticks) => new(ticks, TimeSpan.Zero);
}

/// <summary>
/// Which rows to read: all by default; each set field narrows it. In journal order (ordering), or with
/// <paramref name="ByEntity"/> each persistence id's rows together, in sequence number order.
/// </summary>
public sealed record JournalFilter(
    DateTimeOffset? Since = null, string? PersistenceId = null, string? PersistenceIdPrefix = null, long? UpToOrdering = null,
    bool ByEntity = false);

/// <summary>
/// Reads the journal's table directly, in journal order (the ordering column), one row at a time: the tools'
/// fast path, with memory independent of the journal's size. The service itself reads through
/// Akka.Persistence.Query; this reads the same rows with plain SQL that SQLite and PostgreSQL both accept.
/// </summary>
public sealed class JournalReader(JournalDatabase database)
{
    public async IAsyncEnumerable<JournalRow> ReadAsync(JournalFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct, scan: filter.ByEntity);
        await using var command = connection.CreateCommand();
        var where = new List<string> { "deleted = @deleted" };
        command.AddParameter("@deleted", false);
        if (filter.Since is { } since)
        {
            where.Add("created >= @since");
            command.AddParameter("@since", since.UtcTicks);
        }
        if (filter.PersistenceId is { } persistenceId)
        {
            where.Add("persistence_id = @persistence_id");
            command.AddParameter("@persistence_id", persistenceId);
        }
        if (filter.PersistenceIdPrefix is { } prefix)
        {
            if (prefix.IndexOfAny(['%', '_', '\\']) >= 0) throw new ArgumentException($"'{prefix}' is not a plain prefix", nameof(filter));
            where.Add("persistence_id LIKE @prefix");
            command.AddParameter("@prefix", prefix + "%");
        }
        if (filter.UpToOrdering is { } upTo)
        {
            where.Add("ordering <= @up_to");
            command.AddParameter("@up_to", upTo);
        }
        command.CommandText =
            $"SELECT ordering, persistence_id, sequence_number, created, manifest, identifier, message FROM {database.Table("journal")} " +
            $"WHERE {string.Join(" AND ", where)} ORDER BY {(filter.ByEntity ? "persistence_id, sequence_number" : "ordering")}";

        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return new JournalRow(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt64(2),
                JournalRow.TimestampOf(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.GetFieldValue<byte[]>(6));
        }
    }

    /// <summary>
    /// The persistence ids whose tombstone (<paramref name="tombstoneManifest"/>) still has an event before it: the
    /// history is erased last, so each of them is a deletion not yet done. None before the journal has made its tables.
    /// </summary>
    public async Task<IReadOnlyList<string>> UnfinishedDeletionsAsync(string tombstoneManifest, CancellationToken ct)
    {
        if (!await database.TableExistsAsync("journal", ct)) return [];
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        var journal = database.Table("journal");
        command.AddParameter("@deleted", false);
        command.AddParameter("@manifest", tombstoneManifest);
        command.CommandText =
            $"SELECT DISTINCT t.persistence_id FROM {journal} t WHERE t.manifest = @manifest AND t.deleted = @deleted " +
            $"AND EXISTS (SELECT 1 FROM {journal} e WHERE e.persistence_id = t.persistence_id " +
            "AND e.sequence_number < t.sequence_number AND e.deleted = @deleted)";
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>How many rows the journal holds (those marked deleted aside): what a full read will go through.</summary>
    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.AddParameter("@deleted", false);
        command.CommandText = $"SELECT COUNT(*) FROM {database.Table("journal")} WHERE deleted = @deleted";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>How many events with <paramref name="tag"/> come after <paramref name="ordering"/>, and when the first of them was written.</summary>
    public async Task<(long Events, DateTimeOffset? Oldest)> TaggedAfterAsync(string tag, long ordering, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.AddParameter("@tag", tag);
        command.AddParameter("@ordering", ordering);
        command.CommandText =
            $"SELECT COUNT(*), MIN(j.created) FROM {database.Table("tags")} t JOIN {database.Table("journal")} j ON j.ordering = t.ordering_id " +
            "WHERE t.tag = @tag AND t.ordering_id > @ordering";
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : JournalRow.TimestampOf(reader.GetInt64(1)));
    }

    /// <summary>The ordering of the newest row, 0 for an empty journal.</summary>
    public async Task<long> LastOrderingAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COALESCE(MAX(ordering), 0) FROM {database.Table("journal")}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }
}
