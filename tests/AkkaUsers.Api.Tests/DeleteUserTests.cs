using System.Net;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Tests;
using Microsoft.Data.Sqlite;

namespace AkkaUsers.Api.Tests;

/// <summary>An admin service that snapshots users every second event, so that a deleted user has snapshots to erase.</summary>
public sealed class DeletionService() : AdminService(new() { ["Persistence:SnapshotEvery"] = "2" });

/// <summary>
/// DELETE /users/:userId and its delete-status: the user is gone at once (404, tokens 401), its username and email
/// register again, and its personal data leaves the journal: only the tombstone and the deletion's steps remain.
/// </summary>
public sealed class DeleteUserTests(DeletionService service) : IClassFixture<DeletionService>
{
    private HttpClient Client => service.Client;

    private async Task<(string Id, string Username, string Email, string Token)> NewUser()
    {
        var username = Api.Unique("gone");
        var email = $"{username}@example.com";
        var created = await (await Client.Register(username, email)).Body();
        return (created["user"]!["id"]!.GetValue<string>(), username, email, created["token"]!.GetValue<string>());
    }

    private async Task<string> Delete(string id)
    {
        var response = await Client.Send(HttpMethod.Delete, $"/users/{id}", await service.AdminToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Body();
        Assert.Equal(["ticket"], body.Select(p => p.Key));
        var ticket = body["ticket"]!.GetValue<string>();
        Assert.True(Guid.TryParse(ticket, out _), ticket);
        return ticket;
    }

    private async Task<JsonObject> Status(string id, string ticket) =>
        await (await Client.Get($"/users/{id}/delete-status/{ticket}", await service.AdminToken())).Body();

    private Task<JsonObject> Completed(string id, string ticket) =>
        Poll.UntilAsync(() => Status(id, ticket), s => s["status"]!.GetValue<string>() != "in-progress", "the deletion");

    [Fact]
    public async Task A_deleted_user_is_404_its_tokens_401_and_its_username_and_email_register_again()
    {
        var (id, username, email, token) = await NewUser();
        var ticket = await Delete(id);

        // Gone as soon as the ticket is answered.
        Assert.Equal("User not found", await (await Client.Get($"/users/{id}", await service.AdminToken())).AssertBoom(404));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.GetUser(token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostJson("/user/auth", new { username, password = "abc321" })).StatusCode);

        Assert.Equal("""{"status":"completed","stepsDone":4,"stepsTotal":4}""", (await Completed(id, ticket)).ToJsonString());
        var again = await Client.Register(username.ToUpperInvariant(), email);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.NotEqual(id, (await again.Body())["user"]!["id"]!.GetValue<string>());

        // Deleting again, or an unknown user, is a 404; the ticket stays readable.
        Assert.Equal("User not found", await (await Client.Send(HttpMethod.Delete, $"/users/{id}", await service.AdminToken())).AssertBoom(404));
        Assert.Equal("User not found", await (await Client.Send(HttpMethod.Delete, "/users/65f2c0de0123456789abcdef", await service.AdminToken())).AssertBoom(404));
        Assert.Equal("completed", (await Status(id, ticket))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_journal_keeps_only_the_tombstone_and_the_steps_no_snapshot_and_no_personal_data()
    {
        var (id, username, email, _) = await NewUser();
        for (var i = 0; i < 3; i++) // events enough for a snapshot or two
            Assert.Equal(HttpStatusCode.OK, (await Client.PostJson("/user/auth", new { username, password = "abc321" })).StatusCode);
        Assert.NotEmpty(Snapshots(id));

        await Completed(id, await Delete(id));

        // Registered and three sign-ins are gone; the boundary is kept, marked deleted, for the highest sequence number.
        var rows = JournalRows(id);
        Assert.Equal([(5, "erasure-boundary", true), (6, "user-deleted", false), (7, "deletion-step-done", false), (8, "deletion-step-done", false), (9, "deletion-step-done", false)],
            rows.Select(r => (r.SequenceNr, r.Manifest, r.Deleted)));
        Assert.DoesNotContain(rows, r => r.Payload.Contains(username, StringComparison.OrdinalIgnoreCase) || r.Payload.Contains(email));
        Assert.Empty(Snapshots(id));

        // The audit trail shows the same; asOf any time is 404 now.
        var events = JsonNode.Parse(await (await Client.Get($"/users/{id}/events", await service.AdminToken())).Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(["user-deleted", "deletion-step-done", "deletion-step-done", "deletion-step-done"], events.Select(e => e!["type"]!.GetValue<string>()));
        Assert.Equal(await AdminId(), events[0]!["data"]!["deletedBy"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await Client.Get($"/users/{id}?asOf={DateTimeOffset.UtcNow.AddDays(1):yyyy-MM-ddTHH:mm:ssZ}", await service.AdminToken())).StatusCode);

    }

    [Fact]
    public async Task The_admin_list_no_longer_shows_the_deleted_user()
    {
        var (id, username, _, _) = await NewUser();
        await Poll.UntilAsync(() => Count(username), n => n == 1, "the user in GET /users/count");

        await Completed(id, await Delete(id));

        await Poll.UntilAsync(() => Count(username), n => n == 0, "the deleted user gone from GET /users/count");
    }

    [Fact]
    public async Task Bad_ids_and_tickets_are_400_an_unknown_ticket_404_and_only_admins_may_delete()
    {
        var (id, _, _, token) = await NewUser();
        var admin = await service.AdminToken();

        Assert.Equal("\"userId\" must be 24 lowercase hex characters", await (await Client.Send(HttpMethod.Delete, "/users/not-an-id", admin)).AssertBoom(400));
        Assert.Equal("\"ticket\" must be a lowercase UUID", await (await Client.Get($"/users/{id}/delete-status/not-a-ticket", admin)).AssertBoom(400));
        Assert.Equal("Deletion not found", await (await Client.Get($"/users/{id}/delete-status/{Guid.NewGuid()}", admin)).AssertBoom(404));

        Assert.Equal("Missing authentication", await (await Client.Send(HttpMethod.Delete, $"/users/{id}", null)).AssertBoom(401));
        Assert.Equal("Insufficient scope", await (await Client.Send(HttpMethod.Delete, $"/users/{id}", token)).AssertBoom(403));
        Assert.Equal("Insufficient scope", await (await Client.Get($"/users/{id}/delete-status/{Guid.NewGuid()}", token)).AssertBoom(403));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(token)).StatusCode); // nothing changed
    }

    private async Task<string> AdminId() => (await (await Client.GetUser(await service.AdminToken())).Body())["id"]!.GetValue<string>();

    private async Task<long> Count(string pattern) =>
        (await (await Client.Get($"/users/count?pattern={pattern}", await service.AdminToken())).Body())["count"]!.GetValue<long>();

    private List<(long SequenceNr, string Manifest, string Payload, bool Deleted)> JournalRows(string userId) =>
        Query("SELECT sequence_number, manifest, message, deleted FROM journal WHERE persistence_id = $id ORDER BY sequence_number", userId,
            reader => (reader.GetInt64(0), reader.GetString(1), System.Text.Encoding.UTF8.GetString((byte[])reader[2]), reader.GetBoolean(3)));

    private List<long> Snapshots(string userId) =>
        Query("SELECT sequence_number FROM snapshot WHERE persistence_id = $id", userId, reader => reader.GetInt64(0));

    private List<T> Query<T>(string sql, string userId, Func<SqliteDataReader, T> read)
    {
        using var connection = new SqliteConnection($"Data Source={service.Factory.DatabaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", "user-" + userId);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
