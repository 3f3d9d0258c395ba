using Npgsql;

namespace AkkaUsers.Harness;

/// <summary>A fresh PostgreSQL database on a server whose user may create databases, dropped on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _serverConnection;
    private readonly string _name = $"akka_users_{Guid.NewGuid():N}";

    private TestDatabase(string serverConnection)
    {
        _serverConnection = serverConnection;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnection) { Database = _name }.ConnectionString;
    }

    /// <summary>The new database's own connection string.</summary>
    public string ConnectionString { get; }

    /// <param name="serverConnection">The server's connection string.</param>
    /// <param name="icuLocale">
    /// Sort text by this ICU locale (e.g. "en-US", where "é" comes before "r") instead of the server's default, as a
    /// production database usually does; the server must be built with ICU, as Debian's is.
    /// </param>
    public static async Task<TestDatabase> CreateAsync(string serverConnection, string? icuLocale = null)
    {
        var database = new TestDatabase(serverConnection);
        var locale = icuLocale is null ? "" : $" LOCALE_PROVIDER icu ICU_LOCALE '{icuLocale}' LOCALE 'C.UTF-8' TEMPLATE template0";
        await database.ExecuteOnServer($"CREATE DATABASE {database._name}{locale}");
        return database;
    }

    /// <summary>Runs <paramref name="sql"/> in this database; returns the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="sql"/> in this database; returns the first column of its first row (null for none).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync() => await ExecuteOnServer($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");

    private async Task ExecuteOnServer(string sql)
    {
        await using var connection = new NpgsqlConnection(_serverConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
