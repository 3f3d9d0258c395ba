using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Persistence;
using static AkkaUsers.Domain.UserProtocol;

using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>The one shape of an audit entry, and the redaction both the HTTP trail and the export go through.</summary>
public class AuditEventTests
{
    private const string Hash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA";
    private static readonly DateTimeOffset At = new(2025, 3, 14, 15, 9, 26, TimeSpan.Zero);

    [Theory]
    [InlineData("passwordHash", true)]
    [InlineData("newPasswordHash", true)]
    [InlineData("password", true)]
    [InlineData("rehashed", true)]
    [InlineData("code", true)]
    [InlineData("resetCode", true)]
    [InlineData("codeHash", true)]
    [InlineData("jwtSecret", true)]
    [InlineData("refreshToken", true)]
    [InlineData("username", false)]
    [InlineData("email", false)]
    [InlineData("clientAddress", false)]
    [InlineData("codec", false)]
    [InlineData("scope", false)]
    public void Secrets_are_recognised_by_property_name(string name, bool secret)
    {
        Assert.Equal(secret, Redaction.IsSecret(name));
    }

    [Fact]
    public void An_entry_has_the_six_fields_and_its_data_keeps_everything_but_the_secrets()
    {
        var registered = new UserRegistered("65f2c0de0123456789abcdef", "Ada \"Countess\" Lovelace", "ada@example.com", Hash,
            ["user"], "pro", null, TestData.Metadata("""{"nested":{"code":"918273","keep":[1,2.50,true,null,"žluť"]}}"""), At);
        var entry = new AuditEvent("user-65f2c0de0123456789abcdef", 1, 42, At, "user-registered", AkkaUsersSerializer.Encode(registered));

        var json = JsonNode.Parse(Write(entry))!.AsObject();

        Assert.Equal(["persistenceId", "sequenceNr", "ordering", "timestamp", "type", "data"], json.Select(p => p.Key));
        Assert.Equal("user-65f2c0de0123456789abcdef", json["persistenceId"]!.GetValue<string>());
        Assert.Equal(1, json["sequenceNr"]!.GetValue<long>());
        Assert.Equal(42, json["ordering"]!.GetValue<long>());
        Assert.Equal(At, json["timestamp"]!.GetValue<DateTimeOffset>());
        Assert.Equal("user-registered", json["type"]!.GetValue<string>());

        var data = json["data"]!.AsObject();
        Assert.Equal(Redaction.Redacted, data["passwordHash"]!.GetValue<string>());
        Assert.Equal(Redaction.Redacted, data["metadata"]!["nested"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain(Hash, Write(entry));
        Assert.DoesNotContain("918273", Write(entry));

        // Everything else is exactly what the journal holds.
        var original = JsonNode.Parse(AkkaUsersSerializer.Encode(registered))!.AsObject();
        original["passwordHash"] = Redaction.Redacted;
        original["metadata"]!["nested"]!["code"] = Redaction.Redacted;
        Assert.True(JsonNode.DeepEquals(original, data), data.ToJsonString());
    }

    [Fact]
    public void A_password_reset_request_shows_its_times_and_not_the_hash_of_its_code()
    {
        const string codeHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        var requested = new PasswordResetRequested(codeHash, At, At.AddHours(1));
        var entry = new AuditEvent("user-65f2c0de0123456789abcdef", 5, 43, At, "password-reset-requested", AkkaUsersSerializer.Encode(requested));

        var data = JsonNode.Parse(Write(entry))!["data"]!.AsObject();

        Assert.Equal(["codeHash", "at", "expiresAt"], data.Select(p => p.Key));
        Assert.Equal(Redaction.Redacted, data["codeHash"]!.GetValue<string>());
        Assert.Equal(At.AddHours(1), data["expiresAt"]!.GetValue<DateTimeOffset>());
        Assert.DoesNotContain(codeHash, Write(entry));
    }

    [Fact]
    public void A_secret_whose_value_is_an_object_or_an_array_is_redacted_whole()
    {
        var redacted = JsonNode.Parse(Redaction.Redact("""{"a":1,"secret":{"x":[1,{"y":2}]},"tokens":[1,2],"b":"after"}"""u8)!)!;

        Assert.Equal("""{"a":1,"secret":"[redacted]","tokens":"[redacted]","b":"after"}""", redacted.ToJsonString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"unterminated\":")]
    public void A_payload_that_is_not_json_is_written_as_null_data(string payload)
    {
        var entry = new AuditEvent("user-x", 1, 1, At, "user-registered", Encoding.UTF8.GetBytes(payload));

        Assert.Null(JsonNode.Parse(Write(entry))!["data"]);
    }

    [Fact]
    public void A_row_of_another_serializer_has_null_data()
    {
        var row = new JournalRow(7, "user-x", 1, At, "something", 1, "{\"passwordHash\":\"x\"}"u8.ToArray());

        var json = JsonNode.Parse(Write(AuditEvent.From(row)))!;

        Assert.Null(json["data"]);
        Assert.Equal("something", json["type"]!.GetValue<string>());
        Assert.Equal(7, json["ordering"]!.GetValue<long>());
    }

    private static string Write(AuditEvent entry)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, AuditEvent.WriterOptions)) entry.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
