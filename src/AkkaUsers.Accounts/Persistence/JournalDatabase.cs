using System.Data.Common;
using AkkaUsers.Accounts.Hosting;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// The database behind the journal: its linq2db provider, its preparation, a readiness probe, and connections
/// for the read side. Everything that differs between SQLite and PostgreSQL is decided here.
/// </summary>
/// <param name="schemaName">The schema of the journal's tables (Persistence:SchemaName); null for the connection's default.</param>
public sealed class JournalDatabase(PersistenceProvider provider, string connectionString, string? schemaName = null)
{
    public PersistenceProvider Provider { get; } = provider;

    public string ConnectionString { get; } = connectionString;

    public string? SchemaName { get; } = schemaName;

    /// <summary>
    /// <paramref name="name"/> for SQL. On PostgreSQL with a configured schema it is qualified with the schema, quoted,
    /// so the read side reads the journal's own table and keeps its tables beside it; otherwise it is unqualified.
    /// </summary>
    public string Table(string name) =>
        Provider == PersistenceProvider.PostgreSql && SchemaName is { } schema ? $"\"{schema.Replace("\"", "\"\"")}\".{name}" : name;

    public string Linq2DbProviderName => Provider switch
    {
        PersistenceProvider.PostgreSql => LinqToDB.ProviderName.PostgreSQL15,
        _ => LinqToDB.ProviderName.SQLiteMS,
    };

    /// <summary>linq2db interceptors for the journal's connections (the read side rewrites its tag queries).</summary>
    public IReadOnlyList<IInterceptor> Interceptors { get; init; } = [];

    /// <summary>
    /// linq2db's options for the journal and snapshot store: the provider and connection string, the
    /// <see cref="Interceptors"/>, and for SQLite the same busy timeout as <see cref="OpenConnectionAsync"/>.
    /// </summary>
    public DataOptions Linq2DbOptions
    {
        get
        {
            var options = new DataOptions().UseConnectionString(Linq2DbProviderName, ConnectionString);
            foreach (var interceptor in Interceptors) options = options.UseInterceptor(interceptor);
            return Provider == PersistenceProvider.Sqlite
                ? options.UseAfterConnectionOpened(connection => ConfigureAsync(connection, CancellationToken.None).GetAwaiter().GetResult(), ConfigureAsync)
                : options;
        }
    }

    private DbProviderFactory Factory => Provider switch
    {
        PersistenceProvider.PostgreSql => NpgsqlFactory.Instance,
        _ => SqliteFactory.Instance,
    };

    /// <summary>An open connection to the journal's database, for the read model and the tools that read the journal's table.</summary>
    /// <param name="ct">Cancels the opening.</param>
    /// <param name="scan">
    /// For a read of the whole journal in index order, which visits the table's pages out of order: SQLite maps the
    /// file's first GiB into memory and keeps a larger page cache, so pages are not read again and again.
    /// </param>
    public async Task<DbConnection> OpenConnectionAsync(CancellationToken ct, bool scan = false)
    {
        var connection = Factory.CreateConnection()!;
        connection.ConnectionString = ConnectionString;
        try
        {
            await connection.OpenAsync(ct);
            await ConfigureAsync(connection, ct);
            if (scan && Provider == PersistenceProvider.Sqlite)
            {
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -262144;";
                await pragma.ExecuteNonQueryAsync(ct);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// SQLite: a busy timeout, so that SQLite waits for the write lock itself rather than Microsoft.Data.Sqlite sleeping
    /// between tries; secure delete, so that an erased user's rows do not stay readable in the file's free pages.
    /// </summary>
    private async Task ConfigureAsync(DbConnection connection, CancellationToken ct)
    {
        if (Provider != PersistenceProvider.Sqlite) return;
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA secure_delete = ON;";
        await pragma.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// SQLite: copies the write-ahead log into the database file and truncates the log to nothing, so that the page
    /// images it held of rows deleted since (an erased user's) are gone from the disk too. False when a reader kept the
    /// checkpoint from finishing (the next one catches up); for PostgreSQL there is nothing to do here (see VACUUM).
    /// </summary>
    public async Task<bool> CheckpointAsync(CancellationToken ct)
    {
        if (Provider != PersistenceProvider.Sqlite || IsInMemory) return true;
        await using var connection = await OpenConnectionAsync(ct);
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        await using var reader = await checkpoint.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && reader.GetInt64(0) == 0; // the first column is 1 when it could not finish
    }

    private bool IsInMemory => new SqliteConnectionStringBuilder(ConnectionString) is var b
        && (b.Mode == SqliteOpenMode.Memory || b.DataSource is "" or ":memory:");

    /// <summary>
    /// The SQLite file's full path when it does not exist (a tool pointed at the wrong data directory would
    /// otherwise create an empty journal); null when it exists, for an in-memory database, and for PostgreSQL.
    /// </summary>
    public string? MissingFile()
    {
        if (Provider != PersistenceProvider.Sqlite) return null;
        var builder = new SqliteConnectionStringBuilder(ConnectionString);
        if (builder.Mode == SqliteOpenMode.Memory) return null;
        var path = Path.GetFullPath(builder.DataSource);
        return File.Exists(path) ? null : path;
    }

    /// <summary>
    /// <paramref name="column"/> for ORDER BY in plain code-point order: SQLite compares text that way already,
    /// PostgreSQL would otherwise use the database's locale, and the two would list users differently.
    /// </summary>
    public string CodePointOrder(string column) =>
        Provider == PersistenceProvider.PostgreSql ? $"{column} COLLATE \"C\"" : column;

    /// <summary>
    /// SQLite: creates the file's folder (0700) and the file (0600; its -wal and -shm files take its mode), and switches
    /// the file to WAL, so readers never block the one writer. WAL is a property of the file, so this holds for every
    /// later connection.
    /// </summary>
    public void Prepare()
    {
        if (Provider != PersistenceProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(ConnectionString);
        if (!IsInMemory && builder.Mode != SqliteOpenMode.ReadOnly)
        {
            var file = Path.GetFullPath(builder.DataSource);
            if (Path.GetDirectoryName(file) is { } folder) PrivateFiles.CreateDirectory(folder);
            foreach (var suffix in new[] { "-wal", "-shm" })
                if (File.Exists(file + suffix)) PrivateFiles.CreateOrRestrict(file + suffix);
            PrivateFiles.CreateOrRestrict(file);
        }
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL;";
        pragma.ExecuteNonQuery();
    }

    public const string TagOrderingIndex = "tags_tag_ordering_idx";

    /// <summary>
    /// Indexes the journal's tag table by tag and ordering. Akka.Persistence.Sql indexes it by tag alone, and its
    /// EventsByTag query asks for one tag's events past an offset: through that index SQLite reads every event the
    /// tag ever had to find the few new ones, on each poll, so following a tag cost more the longer the journal
    /// grew. Run by the journal's followers when they start, because the journal makes its tables when it starts.
    /// </summary>
    public async Task IndexTagsByOrderingAsync(CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ChangeSchemaAsync(transaction, $"CREATE INDEX IF NOT EXISTS {TagOrderingIndex} ON {Table("tags")} (tag, ordering_id)", ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>Whether the table <paramref name="name"/> exists yet: the journal makes its tables when it first starts.</summary>
    public async Task<bool> TableExistsAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = Provider == PersistenceProvider.PostgreSql
            ? "SELECT to_regclass(@name) IS NOT NULL"
            : "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = @name)";
        command.AddParameter("@name", Table(name));
        return Convert.ToBoolean(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>The PostgreSQL advisory lock that serializes this service's schema changes ("akkauser" in ASCII).</summary>
    public const long SchemaLock = 0x616B6B6175736572;

    /// <summary>Takes <see cref="SchemaLock"/> until the transaction ends.</summary>
    private static readonly string TakeSchemaLock = $"SELECT pg_advisory_xact_lock({SchemaLock})";

    /// <summary>
    /// Runs DDL in <paramref name="transaction"/>, one node and one caller at a time: PostgreSQL's
    /// CREATE ... IF NOT EXISTS is not safe against itself (two at once, and one fails with a duplicate key on its
    /// catalog), so on PostgreSQL it first takes <see cref="SchemaLock"/>, held until the transaction ends, and
    /// the second caller then finds the table made. SQLite takes one writer at a time anyway.
    /// </summary>
    public async Task ChangeSchemaAsync(DbTransaction transaction, string sql, CancellationToken ct)
    {
        if (Provider == PersistenceProvider.PostgreSql) await ExecuteAsync(transaction, TakeSchemaLock, ct);
        await ExecuteAsync(transaction, sql, ct);
    }

    private static async Task ExecuteAsync(DbTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Runs <paramref name="schemaChanges"/>, made on connections of their own (the journal plugins making their
    /// tables), while holding <see cref="SchemaLock"/> on PostgreSQL, so that no other node changes the schema
    /// meanwhile. On SQLite it just runs them: a transaction held open there would block their writes instead.
    /// </summary>
    public async Task WithSchemaLockAsync(Func<Task> schemaChanges, CancellationToken ct)
    {
        if (Provider != PersistenceProvider.PostgreSql)
        {
            await schemaChanges();
            return;
        }
        await using var connection = await OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ExecuteAsync(transaction, TakeSchemaLock, ct);
        await schemaChanges();
        await transaction.CommitAsync(ct);
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
