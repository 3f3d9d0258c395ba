using System.Data.Common;
using System.Text.Json;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.ReadModel;

/// <summary>One user event and its place in the journal, as the read model consumes it.</summary>
public sealed record UserEventAt(string UserId, long SequenceNr, long Ordering, IUserEvent Event);

public enum UserSort { CreatedDescending, CreatedAscending, UsernameAscending }

/// <summary>A page of the admin's user list. <paramref name="Pattern"/> is a case-insensitive username substring.</summary>
public sealed record UserQuery(
    string? Scope = null, string? Pattern = null, UserSort Sort = UserSort.CreatedDescending, int Limit = 100, int Offset = 0);

/// <summary>
/// The admin's list of users: a <c>users</c> table in the journal's database, derived from the user events only
/// and rebuildable from them at any time. Each row keeps the sequence number of the last event applied to it,
/// so events delivered twice (after a restart, the projection resumes from its last stored offset) change
/// nothing: at-least-once delivery, idempotent rows. The SQL is plain enough for SQLite and PostgreSQL alike; the
/// tables live beside the journal's, in its schema when one is configured.
/// </summary>
public sealed class UsersReadModel(JournalDatabase database) : IUserDirectory
{
    /// <summary>This projection's name in the offsets table.</summary>
    public const string ProjectionName = "users";

    private const int RebuildBatchSize = 1000;

    private readonly string _users = database.Table("users");
    private readonly string _offsets = database.Table("read_model_offsets");

    /// <summary>The tables and indexes (an index always goes into its table's schema, so its name stays unqualified).</summary>
    private string Schema => $"""
        CREATE TABLE IF NOT EXISTS {_users} (
            id VARCHAR(24) NOT NULL PRIMARY KEY,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL,
            email TEXT NOT NULL,
            scope TEXT NOT NULL,
            created BIGINT NOT NULL,
            sequence_nr BIGINT NOT NULL,
            profile TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS users_created_idx ON {_users} (created, id);
        CREATE INDEX IF NOT EXISTS users_username_key_idx ON {_users} (username_key, id);
        CREATE TABLE IF NOT EXISTS {_offsets} (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            ordering BIGINT NOT NULL);
        """;

    private string Upsert => $"""
        INSERT INTO {_users} (id, username, username_key, email, scope, created, sequence_nr, profile)
        VALUES (@id, @username, @username_key, @email, @scope, @created, @sequence_nr, @profile)
        ON CONFLICT (id) DO UPDATE SET
            username = excluded.username, username_key = excluded.username_key, email = excluded.email,
            scope = excluded.scope, created = excluded.created, sequence_nr = excluded.sequence_nr,
            profile = excluded.profile
        """;

    private Task? _created;

    /// <summary>Creates the tables if they are missing; returns the ordering the projection has reached (0: none yet).</summary>
    public async Task<long> PrepareAsync(CancellationToken ct) => await PrepareToFollowAsync(ProjectionName, ct) ?? 0;

    /// <summary>
    /// What every journal follower does when it (re)starts: makes sure of these tables and of the journal's tag index
    /// (<see cref="JournalDatabase.IndexTagsByOrderingAsync"/>), and returns the offset <paramref name="name"/> stored last.
    /// </summary>
    public async Task<long?> PrepareToFollowAsync(string name, CancellationToken ct)
    {
        await database.IndexTagsByOrderingAsync(ct);
        return await OffsetAsync(name, ct);
    }

    /// <summary>The journal ordering that the journal follower <paramref name="name"/> stored last; null before its first.</summary>
    public async Task<long?> OffsetAsync(string name, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT ordering FROM {_offsets} WHERE name = @name";
        command.AddParameter("@name", name);
        return await command.ExecuteScalarAsync(ct) is { } ordering and not DBNull ? Convert.ToInt64(ordering) : null;
    }

    /// <summary>Stores the offset of a journal follower other than this projection, which stores its own with its rows.</summary>
    public async Task SaveOffsetAsync(string name, long ordering, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await SaveOffsetAsync(transaction, name, ordering, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>The listed users among <paramref name="ids"/>, by id.</summary>
    public async Task<IReadOnlyDictionary<string, UserProfile>> ProfilesAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return new Dictionary<string, UserProfile>();
        await EnsureCreatedAsync(ct);
        // No transaction: on SQLite that would take the write lock, for a read.
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await LoadAsync(connection, null, ids, ct);
        return rows.ToDictionary(row => row.Key, row => row.Value.State.Profile!);
    }

    /// <summary>
    /// Applies <paramref name="events"/> (in journal order) and stores the last one's ordering as the offset, in
    /// one transaction. Returns the events that could not be applied (logged by the caller, never retried forever).
    /// A deleted user's row leaves the file at once: the write-ahead log is checkpointed after the batch.
    /// </summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(IReadOnlyList<UserEventAt> events, CancellationToken ct)
    {
        if (events.Count == 0) return [];
        await EnsureCreatedAsync(ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var problems = await ApplyAsync(transaction, events, ct);
        await SaveOffsetAsync(transaction, ProjectionName, events[^1].Ordering, ct);
        await transaction.CommitAsync(ct);
        if (events.Any(e => e.Event is UserProtocol.UserDeleted)) await database.CheckpointAsync(ct);
        return problems;
    }

    /// <summary>
    /// Drops the table and fills it again from <paramref name="journal"/>, every user event up to
    /// <paramref name="upToOrdering"/> in journal order, then stores that offset; all in one transaction, so
    /// readers see the old list until the new one is complete, and a running projection goes on from there.
    /// </summary>
    public async Task<RebuildResult> RebuildAsync(IAsyncEnumerable<UserEventAt> journal, long upToOrdering, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await database.ChangeSchemaAsync(transaction, $"DROP TABLE IF EXISTS {_users}", ct);
        await database.ChangeSchemaAsync(transaction, Schema, ct);

        var problems = new List<string>();
        var events = 0L;
        var batch = new List<UserEventAt>(RebuildBatchSize);
        await foreach (var e in journal.WithCancellation(ct))
        {
            batch.Add(e);
            if (batch.Count < RebuildBatchSize) continue;
            problems.AddRange(await ApplyAsync(transaction, batch, ct));
            events += batch.Count;
            batch.Clear();
        }
        problems.AddRange(await ApplyAsync(transaction, batch, ct));
        events += batch.Count;

        await SaveOffsetAsync(transaction, ProjectionName, upToOrdering, ct);
        await transaction.CommitAsync(ct);
        return new RebuildResult(events, await CountAsync(new UserQuery(), ct), problems);
    }

    public async Task<IReadOnlyList<UserProfile>> ListAsync(UserQuery query, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        var orderBy = query.Sort switch
        {
            UserSort.CreatedAscending => "created, id",
            UserSort.UsernameAscending => $"{database.CodePointOrder("username_key")}, id",
            _ => "created DESC, id DESC",
        };
        command.CommandText = $"SELECT profile FROM {_users}{Where(command, query)} ORDER BY {orderBy} LIMIT @limit OFFSET @offset";
        command.AddParameter("@limit", query.Limit);
        command.AddParameter("@offset", query.Offset);

        var users = new List<UserProfile>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) users.Add(ProfileOf(reader.GetString(0)));
        return users;
    }

    /// <summary>How many users match the query's scope and pattern (its sort, limit and offset do not count).</summary>
    public async Task<long> CountAsync(UserQuery query, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {_users}{Where(command, query)}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>Once per process; shared by every caller, so one caller's cancellation must not end it for the others.</summary>
    private Task EnsureCreatedAsync(CancellationToken ct) => (_created ??= CreateAsync()).WaitAsync(ct);

    private async Task CreateAsync()
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync();
            await database.ChangeSchemaAsync(transaction, Schema, CancellationToken.None);
            await transaction.CommitAsync();
        }
        catch
        {
            _created = null; // the next call tries again
            throw;
        }
    }

    private async Task<IReadOnlyList<string>> ApplyAsync(DbTransaction transaction, IReadOnlyList<UserEventAt> events, CancellationToken ct)
    {
        if (events.Count == 0) return [];
        var rows = await LoadAsync(transaction.Connection!, transaction, events.Select(e => e.UserId).Distinct().ToList(), ct);
        var changed = new HashSet<string>();
        var problems = new List<string>();
        foreach (var e in events)
        {
            // After the tombstone nothing listed changes, and the row is gone: dropped in an earlier batch, or never
            // there when the erasure left the journal starting at the tombstone.
            if (e.Event is DeletionStepDone or DeletionFailed) continue;
            var row = rows.GetValueOrDefault(e.UserId, Row.Absent);
            if (e.SequenceNr <= row.SequenceNr) continue; // delivered again: already applied
            UserState state;
            try
            {
                state = row.State.Apply(e.Event);
            }
            catch (Exception failure) when (failure is ArgumentException or InvalidOperationException)
            {
                problems.Add($"user {e.UserId} event {e.SequenceNr} (ordering {e.Ordering}) cannot be applied: {failure.Message}");
                continue;
            }
            // Only what a listing shows is kept; a sign-in changes nothing there.
            if (ReferenceEquals(state.Profile, row.State.Profile) && IsListed(state) == IsListed(row.State)) continue;
            rows[e.UserId] = new Row(e.SequenceNr, state);
            changed.Add(e.UserId);
        }

        await using var upsert = transaction.Connection!.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = Upsert;
        await using var delete = transaction.Connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"DELETE FROM {_users} WHERE id = @id";
        foreach (var id in changed)
        {
            var row = rows[id];
            if (IsListed(row.State)) await WriteAsync(upsert, row, ct);
            else await delete.SetParameters(("@id", id)).ExecuteNonQueryAsync(ct);
        }
        return problems;
    }

    private static Task WriteAsync(DbCommand upsert, Row row, CancellationToken ct)
    {
        var user = row.State.Profile!;
        return upsert.SetParameters(
            ("@id", user.Id),
            ("@username", user.Username),
            ("@username_key", Keys.Username(user.Username)),
            ("@email", user.Email),
            ("@scope", JsonSerializer.Serialize(user.Scope, AkkaUsersSerializer.Json)),
            ("@created", user.Created.ToUnixTimeMilliseconds()),
            ("@sequence_nr", row.SequenceNr),
            ("@profile", JsonSerializer.Serialize(user, AkkaUsersSerializer.Json))).ExecuteNonQueryAsync(ct);
    }

    private async Task<Dictionary<string, Row>> LoadAsync(
        DbConnection connection, DbTransaction? transaction, IReadOnlyList<string> ids, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var names = ids.Select((id, i) =>
        {
            command.AddParameter($"@id{i}", id);
            return $"@id{i}";
        }).ToList();
        command.CommandText = $"SELECT id, sequence_nr, profile FROM {_users} WHERE id IN ({string.Join(", ", names)})";

        var rows = new Dictionary<string, Row>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            // A listed user is a registered one; the password hash never leaves the journal, and a listing needs only the profile.
            var state = UserState.Empty with { Status = UserState.Lifecycle.Registered, Profile = ProfileOf(reader.GetString(2)) };
            rows[reader.GetString(0)] = new Row(reader.GetInt64(1), state);
        }
        return rows;
    }

    private async Task SaveOffsetAsync(DbTransaction transaction, string name, long ordering, CancellationToken ct)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO {_offsets} (name, ordering) VALUES (@name, @ordering)
            ON CONFLICT (name) DO UPDATE SET ordering = excluded.ordering
            """;
        await command.SetParameters(("@name", name), ("@ordering", ordering)).ExecuteNonQueryAsync(ct);
    }

    /// <summary>" WHERE ..." for the query's scope and pattern (with their parameters), or "".</summary>
    private static string Where(DbCommand command, UserQuery query)
    {
        var conditions = new List<string>();
        if (query.Scope is { } scope)
        {
            // The scope column is the JSON array; a scope matches as a whole JSON string, quotes included.
            conditions.Add(@"scope LIKE @scope ESCAPE '\'");
            command.AddParameter("@scope", $"%{EscapeLike(JsonSerializer.Serialize(scope, AkkaUsersSerializer.Json))}%");
        }
        if (query.Pattern is { } pattern)
        {
            // Both sides in the normalized (NFKC, case-folded) form: case-insensitive on SQLite and PostgreSQL alike.
            conditions.Add(@"username_key LIKE @pattern ESCAPE '\'");
            command.AddParameter("@pattern", $"%{EscapeLike(Keys.Username(pattern))}%");
        }
        return conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    private static bool IsListed(UserState state) => state is { Status: UserState.Lifecycle.Registered, Profile: not null };

    private static UserProfile ProfileOf(string json) => JsonSerializer.Deserialize<UserProfile>(json, AkkaUsersSerializer.Json)!;

    private sealed record Row(long SequenceNr, UserState State)
    {
        public static readonly Row Absent = new(0, UserState.Empty);
    }
}

/// <summary>What a rebuild did: user events read, users listed afterwards, and events that could not be applied.</summary>
public sealed record RebuildResult(long Events, long Users, IReadOnlyList<string> Problems);
