using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Tests;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// What is left on disk after DELETE /users/:id has finished and the service has stopped: none of the user's personal
/// data, in any table of the SQLite database nor anywhere in its files (free pages and the write-ahead log included).
/// </summary>
public sealed class ErasureTests
{
    [Fact]
    public async Task After_an_erasure_no_table_and_no_byte_of_the_database_files_holds_the_users_data()
    {
        var service = new AdminService();
        await service.InitializeAsync();
        var client = service.Client;
        var admin = await service.AdminToken();
        var marker = Guid.NewGuid().ToString("N");
        var username = $"Erasable-{marker[..10]}";
        var oldEmail = $"first-{marker[..10]}@example.com";
        var email = $"second-{marker[..10]}@example.com";
        var metadata = $"secret-metadata-{marker}";

        var created = await client.PostJson("/user", new { username, email = oldEmail, password = "erase-me-123", metadata = new { note = metadata } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Body())["user"]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username, password = "erase-me-123" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.Send(HttpMethod.Put, $"/users/{id}", admin, new { email })).StatusCode);
        var hash = PasswordHash(service.Factory.DatabaseFile, id);
        await Poll.UntilAsync(() => Count(client, admin, username), n => n == 1, "the user in GET /users/count");

        var deleted = await client.Send(HttpMethod.Delete, $"/users/{id}", admin);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var ticket = (await deleted.Body())["ticket"]!.GetValue<string>();
        await Poll.UntilAsync(async () => (await (await client.Get($"/users/{id}/delete-status/{ticket}", admin)).Body())["status"]!.GetValue<string>(),
            status => status == "completed", "the deletion");
        await Poll.UntilAsync(() => Count(client, admin, username), n => n == 0, "the deleted user gone from GET /users/count");
        await service.Factory.DisposeAsync();

        try
        {
            // The hash's JSON may escape '+', so each run of it between escapable characters is looked for; a random
            // salt and hash may hold several '+', and runs of 10 characters are still too long to occur by chance.
            var secrets = new[] { username, username.ToLowerInvariant(), email, oldEmail, metadata }
                .Concat(hash.Split('+', '$', ',', '=').Where(part => part.Length >= 10))
                .ToList();
            Assert.True(secrets.Count > 5, $"the hash {hash} has no long part");

            foreach (var (table, text) in TableContents(service.Factory.DatabaseFile))
                foreach (var secret in secrets)
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"table {table} holds '{secret}'");

            var files = new[] { "", "-wal", "-shm" }.Select(suffix => service.Factory.DatabaseFile + suffix).Where(File.Exists).ToList();
            Assert.Contains(service.Factory.DatabaseFile, files);
            foreach (var file in files)
            {
                var bytes = await File.ReadAllBytesAsync(file);
                foreach (var secret in secrets)
                    Assert.False(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0, $"{Path.GetFileName(file)} holds '{secret}'");
            }
        }
        finally
        {
            service.Factory.DeleteData();
        }
    }

    private static async Task<long> Count(HttpClient client, string admin, string pattern) =>
        (await (await client.Get($"/users/count?pattern={pattern}", admin)).Body())["count"]!.GetValue<long>();

    /// <summary>The password hash that the user's registration stored.</summary>
    private static string PasswordHash(string databaseFile, string userId)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM journal WHERE persistence_id = $id AND manifest = 'user-registered'";
        command.Parameters.AddWithValue("$id", "user-" + userId);
        var registered = JsonNode.Parse((byte[])command.ExecuteScalar()!)!;
        return registered["passwordHash"]!.GetValue<string>();
    }

    /// <summary>Every row of every table, each value as text (blobs read as UTF-8).</summary>
    private static IEnumerable<(string Table, string Text)> TableContents(string databaseFile)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var reader = list.ExecuteReader();
            while (reader.Read()) tables.Add(reader.GetString(0));
        }
        Assert.Contains("journal", tables);
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            using var reader = select.ExecuteReader();
            var text = new StringBuilder();
            while (reader.Read())
                for (var i = 0; i < reader.FieldCount; i++)
                    text.Append(reader.GetValue(i) switch { byte[] blob => Encoding.UTF8.GetString(blob), var value => value.ToString() }).Append('\n');
            yield return (table, text.ToString());
        }
    }
}

/// <summary>Only the service's own user can read what it keeps in its data directory.</summary>
public sealed class DataDirectoryPermissionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_data_directory_the_service_creates_is_0700_and_every_file_in_it_0600()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("Skipped: Unix file modes do not exist on Windows.");
            return;
        }
        var factory = new ApiFactory(new() { ["Jwt:Secret"] = null });
        Assert.False(Directory.Exists(factory.DataDirectory));
        try
        {
            using (var client = factory.CreateClient())
                await client.RegisterForToken("private-files", "private-files@example.com");

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(factory.DataDirectory));
            var files = Directory.GetFiles(factory.DataDirectory);
            Assert.Contains(factory.DatabaseFile, files);
            Assert.Contains(factory.DatabaseFile + "-wal", files);
            Assert.Contains(Path.Combine(factory.DataDirectory, "jwt-secret"), files);
            Assert.Contains(Path.Combine(factory.DataDirectory, "claim-secret"), files);
            foreach (var file in files)
                Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task A_database_file_made_readable_by_others_is_made_0600_again_at_start()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("Skipped: Unix file modes do not exist on Windows.");
            return;
        }
        var first = new ApiFactory();
        using (var client = first.CreateClient())
            await client.RegisterForToken("loose-files", "loose-files@example.com");
        await first.DisposeAsync();
        var loose = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(first.DatabaseFile, loose);

        await using var second = new ApiFactory(dataDirectory: first.DataDirectory);
        using (var client = second.CreateClient())
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "loose-files", password = "abc321" })).StatusCode);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first.DatabaseFile));
        second.DeleteData();
    }
}
