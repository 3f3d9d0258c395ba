using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Serialization;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

/// <summary>
/// The serializer as the actor system resolves it: every bound type under its fixed manifest, a lossless
/// round trip, no fallback for a type without a manifest, and nothing but those manifests in the journal.
/// </summary>
public class AkkaUsersSerializerSpec(ITestOutputHelper output)
    : HostedSpec(output, new Dictionary<string, string?> { ["Persistence:SnapshotEvery"] = "2" })
{
    private static readonly DateTimeOffset At = new(2025, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(2));
    private static readonly string Id = "65f2c0de0123456789abcdef";
    private static readonly string Hash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    private static readonly string Ticket = "0b9f7c55-7d1c-4f39-9a8e-5a7a0b7c2d11";
    private static readonly string CodeHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private static readonly UserProfile Profile = new(
        Id, "Ada Lovelace", IsActive: true, "ada@example.com", ["user", "admin"], "pro", Metadata("""["acme","globex"]"""),
        Metadata("""{"nested":{"deep":[1,2.5,"x",null,true]},"unicode":"žluťoučký kůň ☃"}"""), At);

    private static readonly UserChanges Changes = new(
        ["user", "admin"], Metadata("\"acme\""), Metadata("""{"team":"red"}"""), "lovelace@example.com", true, "enterprise");

    /// <summary>One sample per serializable type, each with every field set (no null where null is allowed).</summary>
    private static readonly string KeyDigest = Keys.KeyedDigest("a-claim-secret-of-at-least-32-bytes"u8.ToArray(), "ada lovelace");

    private static readonly IReadOnlyDictionary<Type, object> Samples = new object[]
    {
        new UserRegistered(Id, "Ada Lovelace", "ada@example.com", Hash, ["user", "admin"], "pro", "acme", Metadata(), At),
        new UserImported(Id, "Ada Lovelace", "ada@example.com", "$2b$10$abcdefghijklmnopqrstuu", "bcrypt", ["user"], "pro",
            System.Text.Json.JsonSerializer.SerializeToElement(new[] { "acme" }), Metadata(), true, At.AddYears(-2), At),
        new UserSignedIn(At, "2001:db8::1", "Mozilla/5.0 (X11; Linux x86_64)"),
        new PasswordRehashed(Hash, At),
        new RegistrationAbandoned(At),
        new ScopeGranted("admin", "bootstrap", At),
        new PasswordChanged(Hash, Id, At, At.AddSeconds(1)),
        new UserUpdated(Changes, Id, At),
        new SignInFailed(At, "2001:db8::2", "curl/8.0"),
        new SignInLockedOut(At, At.AddMinutes(1), 10),
        new SignInAddressLockedOut(At, At.AddMinutes(1), 10, "2001:db8::/64"),
        new ErasureBoundary(At),
        new UserDeleted(Ticket, Id, At),
        new DeletionStepDone(Ticket, DeletionSteps.EmailReleased, At),
        new DeletionFailed(Ticket, DeletionSteps.HistoryErased, "journal unavailable", At),
        new PasswordResetRequested(CodeHash, At, At.AddHours(1)),
        new RegisterUser(Id, "Ada Lovelace", "ada@example.com", Hash, ["user"], "free", "acme", Metadata()),
        new ImportUser(Id, "Ada Lovelace", "ada@example.com", Hash, "argon2id", ["user"], "free",
            System.Text.Json.JsonSerializer.SerializeToElement("acme"), Metadata(), false, At.AddYears(-1)),
        new GetUser(Id),
        new Unload(Id),
        new GetSignInSecret(Id, "192.0.2.1"),
        new RecordSignIn(Id, Hash, "192.0.2.1", "curl/8.0", "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA"),
        new AbandonIfUnregistered(Id),
        new GrantScope(Id, "admin", "cli"),
        new ChangePassword(Id, Hash, "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA", Id),
        new CheckToken(Id, At),
        new RecordSignInFailed(Id, "192.0.2.1", "curl/8.0"),
        new UpdateUser(Id, Changes, Id),
        new DeleteUser(Id, Ticket, Id),
        new RecordDeletionStep(Id, Ticket, DeletionSteps.UsernameReleased),
        new EraseHistory(Id, Ticket),
        new RecordDeletionFailed(Id, Ticket, DeletionSteps.EmailReleased, "ask timed out"),
        new GetDeletionStatus(Id, Ticket),
        new RequestPasswordReset(Id, CodeHash),
        new ResetPasswordWithCode(Id, CodeHash, Hash),
        new UserFound(Profile),
        new UserNotFound(Id),
        new SignInSecret(Profile, Hash),
        new RegistrationRefused(Id, "the registration was abandoned"),
        new AlreadyImported(Profile),
        new ImportRefused(Id, "the id belongs to a user with another username or email", Profile),
        new SignInRefused(Id),
        new RegistrationStatus(Id, Profile),
        new SignedIn(Profile, At.AddSeconds(1)),
        new TokenChecked(Id, ["user", "admin"]),
        new SignInLocked(Id),
        new UserUpdateDone(Profile, Profile.With(Changes)),
        new SignInFailureRecorded(Id),
        new DeletionStarted(Id, Ticket, Profile, [DeletionSteps.UsernameReleased]),
        new DeletionStatus(Id, Ticket, DeletionProgress.Failed, 2, 4),
        new PasswordResetIssued(Profile, At, At.AddHours(1)),
        new PasswordResetThrottled(Id),
        new PasswordResetRefused(Id),
        // Never a key and a digest together in a real event: here both are set, to prove each round trips.
        new KeyClaimed(KeyDigest, Id, At) { Key = "ada lovelace" },
        new KeyReleased(KeyDigest, Id, At) { Key = "ada lovelace" },
        new ClaimErased(At),
        new ClaimKey("ada lovelace", Id),
        new ReleaseKey("ada lovelace", Id),
        new LookupKey("ada@example.com"),
        new UnloadKey("ada@example.com"),
        new ReviewClaim(Keys.Digest("ada@example.com"), Id),
        new ClaimGranted("ada lovelace", Id),
        new ClaimRefused("ada lovelace", Id),
        new KeyReleaseDone("ada lovelace"),
        new KeyOwner("ada lovelace", Id),
        new ClaimReviewed(Keys.Digest("ada@example.com"), Id, Released: true),
        new UserState
        {
            Status = UserState.Lifecycle.Registered,
            Profile = Profile,
            PasswordHash = Hash,
            LastSignInAt = At.AddMinutes(5),
            SignInCount = 42,
            TokensValidFrom = At.AddSeconds(1),
            RecentFailures = [At.AddMinutes(1), At.AddMinutes(2)],
            Lockouts = 2,
            LockedUntil = At.AddMinutes(3),
            FailingAddresses = [new AddressFailures("192.0.2.1", [At.AddMinutes(1)], 1, At.AddMinutes(2))],
            // Never together with a live profile in a real snapshot: here every field is set, to prove each round trips.
            Deletion = new UserDeletion(Ticket, Id, At, [DeletionSteps.UsernameReleased], Profile, DeletionSteps.EmailReleased),
            ResetCodeHash = CodeHash,
            ResetCodeExpiresAt = At.AddHours(1),
        },
        new ClaimState(Id, At),
    }.ToDictionary(sample => sample.GetType());

    [Fact]
    public void An_entitys_failed_write_reaches_a_caller_on_another_node_as_itself()
    {
        // What Akka.Remote does with the entity's answer: the cause of a Status.Failure that cannot be rebuilt arrives as
        // null, and the caller's ask is then cancelled instead of failing with a reason it can act on.
        var failure = new Akka.Actor.Status.Failure(new EntityWriteFailedException("email"));
        var serializer = Sys.Serialization.FindSerializerFor(failure);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, failure);

        var back = Assert.IsType<Akka.Actor.Status.Failure>(
            Sys.Serialization.Deserialize(serializer.ToBinary(failure), serializer.Identifier, manifest));

        Assert.Equal("the email entity's write failed", Assert.IsType<EntityWriteFailedException>(back.Cause).Message);
    }

    [Fact]
    public void Every_type_with_a_manifest_has_a_sample()
    {
        var missing = AkkaUsersSerializer.Manifests.Keys.Where(type => !Samples.ContainsKey(type)).Select(type => type.Name).ToList();
        Assert.True(missing.Count == 0, $"add a sample to {nameof(Samples)} for: {string.Join(", ", missing)}");
        Assert.Empty(Samples.Keys.Except(AkkaUsersSerializer.Manifests.Keys));
    }

    [Fact]
    public void Every_message_state_and_event_type_of_the_domain_has_a_unique_manifest()
    {
        var domainTypes = typeof(UserProtocol).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false })
            .Where(t => AkkaUsersSerializer.BoundTypes.Any(bound => bound.IsAssignableFrom(t)))
            .ToList();

        Assert.NotEmpty(domainTypes);
        var unlisted = domainTypes.Where(t => !AkkaUsersSerializer.Manifests.ContainsKey(t)).Select(t => t.FullName).ToList();
        Assert.True(unlisted.Count == 0, $"bound to the serializer without a manifest: {string.Join(", ", unlisted)}");

        var manifests = AkkaUsersSerializer.Manifests.Values.ToList();
        Assert.Equal(manifests.Count, manifests.Distinct(StringComparer.Ordinal).Count());
        Assert.All(manifests, m => Assert.Matches("^[a-z]+(-[a-z]+)*$", m));
    }

    [Fact]
    public void Every_type_round_trips_through_the_serializer_the_system_picks_for_it()
    {
        Assert.NotEmpty(AkkaUsersSerializer.Manifests);
        foreach (var (type, manifest) in AkkaUsersSerializer.Manifests)
        {
            Assert.True(Samples.TryGetValue(type, out var sample), $"no sample for {type.Name}");
            AssertEverySetFieldIsSet(sample!);

            var serializer = Sys.Serialization.FindSerializerFor(sample);
            Assert.True(serializer.Identifier == AkkaUsersSerializer.Id,
                $"{type.Name} goes to {serializer.GetType().Name} ({serializer.Identifier}), not {nameof(AkkaUsersSerializer)}");
            Assert.IsType<AkkaUsersSerializer>(serializer);
            Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(serializer, sample));

            var bytes = serializer.ToBinary(sample);
            var json = Encoding.UTF8.GetString(bytes);
            Assert.DoesNotContain("AkkaUsers.", json);
            Assert.DoesNotContain("$type", json);

            // Through the system's own deserialization by serializer id and manifest, as journal and remoting do.
            var back = Sys.Serialization.Deserialize(bytes, AkkaUsersSerializer.Id, manifest);
            Assert.IsType(type, back);
            AssertDeepEqual(sample, back, type.Name);
            if (!HasListOrJson(type)) Assert.Equal(sample, back);
            Assert.Equal(json, Encoding.UTF8.GetString(serializer.ToBinary(back)));
        }
    }

    [Fact]
    public void A_claim_event_holds_the_keys_digest_and_not_the_key()
    {
        var json = Encoding.UTF8.GetString(AkkaUsersSerializer.Encode(new KeyClaimed(KeyDigest, Id, At)));

        Assert.Equal(["keyDigest", "userId", "at"], JsonNode.Parse(json)!.AsObject().Select(p => p.Key));
        Assert.Contains(KeyDigest, json);
    }

    [Theory]
    [InlineData("key-claimed")]
    [InlineData("key-released")]
    public void A_claim_event_written_before_claims_held_digests_still_decodes_with_its_key(string manifest)
    {
        var old = JsonSerializer.SerializeToUtf8Bytes(new { key = "ada lovelace", userId = Id, at = At }, AkkaUsersSerializer.Json);

        var decoded = Sys.Serialization.Deserialize(old, AkkaUsersSerializer.Id, manifest);

        Assert.Equal(manifest == "key-claimed"
            ? new KeyClaimed(null, Id, At) { Key = "ada lovelace" }
            : new KeyReleased(null, Id, At) { Key = "ada lovelace" }, decoded);
    }

    [Fact]
    public void A_type_without_a_manifest_throws_instead_of_falling_back()
    {
        var unknown = new Unlisted(Id);
        var serializer = Sys.Serialization.FindSerializerFor(unknown);
        Assert.Equal(AkkaUsersSerializer.Id, serializer.Identifier);

        var error = Assert.Throws<SerializationException>(() => Akka.Serialization.Serialization.ManifestFor(serializer, unknown));
        Assert.Contains(nameof(Unlisted), error.Message);

        Assert.Throws<SerializationException>(() => ((SerializerWithStringManifest)serializer).FromBinary("{}"u8.ToArray(), "no-such-manifest"));
        Assert.ThrowsAny<Exception>(() => Sys.Serialization.Deserialize("{}"u8.ToArray(), AkkaUsersSerializer.Id, "no-such-manifest"));
        // A CLR type name is not a manifest either.
        Assert.ThrowsAny<Exception>(() => Sys.Serialization.Deserialize(
            "{}"u8.ToArray(), AkkaUsersSerializer.Id, typeof(GetUser).AssemblyQualifiedName!));
    }

    [Fact]
    public async Task The_journal_of_the_service_entities_holds_only_the_serializers_manifests_and_no_clr_names()
    {
        var rows = await JournalAfterRegistering();

        var entityRows = rows.Where(r => !r.PersistenceId.StartsWith("/system/", StringComparison.Ordinal)).ToList();
        Assert.Contains(entityRows, r => r.PersistenceId.StartsWith("user-", StringComparison.Ordinal));
        Assert.Contains(entityRows, r => r.PersistenceId.StartsWith("username-", StringComparison.Ordinal));
        Assert.Contains(entityRows, r => r.PersistenceId.StartsWith("email-", StringComparison.Ordinal));
        Assert.All(entityRows, AssertOurs);

        // Whatever else is in the journal, no row carries a CLR type name.
        Assert.All(rows, AssertNoClrName);

        var snapshots = ReadRows(Host.DatabaseFile, "SELECT persistence_id, manifest, serializer_id, snapshot FROM snapshot");
        Assert.Contains(snapshots, s => s.Manifest == "user-state");
        Assert.All(snapshots, AssertOurs);
    }

    /// <summary>
    /// The whole journal, sharding's own rows included. Fails while the shard regions keep their coordinator
    /// state in the journal (state-store-mode = persistence, the HOCON default that ShardOptions does not override).
    /// </summary>
    [Fact]
    public async Task Every_journal_row_is_written_by_the_serializer_under_one_of_its_manifests()
    {
        var rows = await JournalAfterRegistering();

        var foreign = rows.Where(r => r.SerializerId != AkkaUsersSerializer.Id || !AkkaUsersSerializer.Manifests.Values.Contains(r.Manifest ?? ""))
            .Select(r => $"{r.PersistenceId} manifest '{r.Manifest}' serializer {r.SerializerId}")
            .Distinct()
            .ToList();
        Assert.True(foreign.Count == 0, "journal rows not written by AkkaUsersSerializer:\n" + string.Join("\n", foreign));
        Assert.All(rows, AssertNoClrName);
    }

    private async Task<IReadOnlyList<Row>> JournalAfterRegistering()
    {
        var account = new NewAccount(UniqueName("Journal"), $"{UniqueName("journal")}@example.com", "password-1",
            ["user"], "free", null, Metadata());
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Host.Accounts.RegisterAsync(account, CancellationToken.None)).User;
        for (var i = 0; i < 2; i++)
            Assert.IsType<SignInOutcome.SignedIn>(await Host.Accounts.SignInAsync(ClaimKind.Username, account.Username, "password-1", new ClientInfo("192.0.2.1", "spec"), CancellationToken.None));
        // An id retired before registration, and a claim nobody registers.
        Assert.IsType<RegistrationStatus>(await AskAsync<IUserReply>(Host.Users, new AbandonIfUnregistered(NewUserId())));
        Assert.IsType<ClaimGranted>(await AskAsync<IClaimReply>(Host.Usernames, new ClaimKey(Keys.Username(UniqueName("gone")), NewUserId())));

        // Wait for the snapshot of the signed-in user, saved after its second event.
        await AwaitAssertAsync(() => Assert.Contains(
                ReadRows(Host.DatabaseFile, "SELECT persistence_id, manifest, serializer_id, snapshot FROM snapshot"),
                s => s.PersistenceId == UserActor.PersistenceIdFor(user.Id)),
            Timeout, TimeSpan.FromMilliseconds(100));

        var rows = ReadRows(Host.DatabaseFile, "SELECT persistence_id, manifest, identifier, message FROM journal");
        Assert.Contains(rows, r => r.Manifest == "user-registered");
        Assert.Contains(rows, r => r.Manifest == "user-signed-in");
        Assert.Contains(rows, r => r.Manifest == "registration-abandoned");
        Assert.Contains(rows, r => r.Manifest == "key-claimed");
        return rows;
    }

    private static void AssertOurs(Row row)
    {
        Assert.True(row.SerializerId == AkkaUsersSerializer.Id, $"{row.PersistenceId}: serializer {row.SerializerId}");
        Assert.Contains(row.Manifest ?? "", AkkaUsersSerializer.Manifests.Values);
        AssertNoClrName(row);
    }

    private static void AssertNoClrName(Row row)
    {
        var payload = Encoding.UTF8.GetString(row.Payload);
        foreach (var clue in new[] { "AkkaUsers.", "Version=" })
        {
            Assert.DoesNotContain(clue, row.Manifest ?? "");
            Assert.DoesNotContain(clue, payload);
        }
    }

    private static List<Row> ReadRows(string databaseFile, string select)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databaseFile,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = select;
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
        {
            rows.Add(new Row(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2),
                reader.IsDBNull(3) ? [] : (byte[])reader.GetValue(3)));
        }

        return rows;
    }

    /// <summary>Records compare lists and JSON by reference: for those the deep comparison is the check.</summary>
    private static bool HasListOrJson(Type type) => type.GetProperties().Any(p =>
        p.PropertyType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType)
        || p.PropertyType == typeof(System.Text.Json.JsonElement) || p.PropertyType == typeof(System.Text.Json.JsonElement?)
        || p.PropertyType == typeof(UserProfile) || p.PropertyType == typeof(UserChanges));

    /// <summary>A sample with a null field would not show that the field survives the round trip.</summary>
    private static void AssertEverySetFieldIsSet(object sample)
    {
        foreach (var property in sample.GetType().GetProperties())
        {
            var type = property.PropertyType;
            if (type.IsValueType && Nullable.GetUnderlyingType(type) is null) continue;
            Assert.True(property.GetValue(sample) is not null, $"{sample.GetType().Name}.{property.Name} of the sample is null");
        }
    }

    private sealed record Row(string PersistenceId, string? Manifest, int? SerializerId, byte[] Payload);

    private sealed record Unlisted(string UserId) : IUserMessage;
}
