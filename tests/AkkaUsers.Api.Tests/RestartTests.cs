using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace AkkaUsers.Api.Tests;

/// <summary>What the journal holds survives the process: a restart on the same data directory changes nothing a client sees.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Users_survive_a_restart_on_the_same_data_directory()
    {
        var first = new ApiFactory(new() { ["Jwt:Secret"] = null });
        JsonObject registered;
        string token;
        using (var client = first.CreateClient())
        {
            var created = await (await client.Register("Survivor", "survivor@example.com", "s3cret-pass")).Body();
            registered = created["user"]!.AsObject();
            token = created["token"]!.GetValue<string>();
        }
        await first.DisposeAsync();

        await using var second = new ApiFactory(new() { ["Jwt:Secret"] = null }, first.DataDirectory);
        using var again = second.CreateClient();

        // The generated secret was kept: the old token still works, and reads the same user.
        var current = await again.GetUser(token);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.True(JsonNode.DeepEquals(registered, await current.Body()));

        var signIn = await again.PostJson("/user/auth", new { email = "SURVIVOR@example.com", password = "s3cret-pass" });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.True(JsonNode.DeepEquals(registered, (await signIn.Body())["user"]));
        Assert.Equal(HttpStatusCode.Conflict, (await again.Register("survivor", "new@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await again.Register("newcomer", "Survivor@Example.com")).StatusCode);
        second.DeleteData();
    }

    [Fact]
    public async Task The_generated_secret_file_is_readable_by_its_owner_only()
    {
        await using var factory = new ApiFactory(new() { ["Jwt:Secret"] = null });
        using var client = factory.CreateClient();
        await client.RegisterForToken("secretive", "secretive@example.com");

        var file = Path.Combine(factory.DataDirectory, "jwt-secret");
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.True(File.ReadAllText(file).Trim().Length >= 43); // 32 random bytes, base64
        factory.DeleteData();
    }

    [Fact]
    public async Task Changed_argon2_parameters_rehash_the_password_at_the_next_sign_in()
    {
        var cheap = new Dictionary<string, string?> { ["Password:Iterations"] = "1" };
        var first = new ApiFactory(cheap);
        using (var client = first.CreateClient())
            await client.RegisterForToken("rehash", "rehash@example.com", "rehash-me");
        await first.DisposeAsync();

        var second = new ApiFactory(new() { ["Password:Iterations"] = "3" }, first.DataDirectory);
        using (var client = second.CreateClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "rehash", password = "rehash-me" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "rehash", password = "rehash-me" })).StatusCode);
        }
        await second.DisposeAsync();

        // Exactly one rehash (the second sign-in found the hash current), and it carries the new cost.
        var rehashes = JournalPayloads(first.DatabaseFile, "password-rehashed");
        Assert.Single(rehashes);
        Assert.Contains("$argon2id$v=19$m=19456,t=3,p=1$", rehashes[0]);

        await using var third = new ApiFactory(cheap, first.DataDirectory);
        using var last = third.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await last.PostJson("/user/auth", new { username = "rehash", password = "rehash-me" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await last.PostJson("/user/auth", new { username = "rehash", password = "rehash-no" })).StatusCode);
        third.DeleteData();
    }

    internal static List<string> JournalPayloads(string databaseFile, string manifest)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM journal WHERE manifest = $manifest ORDER BY ordering";
        command.Parameters.AddWithValue("$manifest", manifest);
        using var reader = command.ExecuteReader();
        var payloads = new List<string>();
        while (reader.Read()) payloads.Add(System.Text.Encoding.UTF8.GetString((byte[])reader[0]));
        return payloads;
    }
}
