using System.Text.Json.Nodes;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;

using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>A user's past through Akka.Persistence.Query: the audit trail in ranges, and the state at a time.</summary>
public class UserHistorySpec(ITestOutputHelper output) : HostedSpec(output)
{
    private UserHistory History => Host.Services.GetRequiredService<UserHistory>();

    [Fact]
    public async Task The_trail_lists_every_event_in_order_and_narrows_to_ranges()
    {
        var (user, trail) = await UserWithFourEvents();

        Assert.Equal(["user-registered", "user-signed-in", "user-signed-in", "scope-granted"], trail.Select(e => e.Type));
        Assert.Equal([1L, 2, 3, 4], trail.Select(e => e.SequenceNr));
        Assert.All(trail, e => Assert.Equal($"user-{user.Id}", e.PersistenceId));
        Assert.Equal(trail.Select(e => e.Ordering).Order(), trail.Select(e => e.Ordering));
        Assert.Equal(trail.Select(e => e.Timestamp).Order(), trail.Select(e => e.Timestamp));

        Assert.Equal([2L, 3], await SequenceNrs(user.Id, new EventRange(FromSequenceNr: 2, ToSequenceNr: 3), 100));
        Assert.Equal([3L, 4], await SequenceNrs(user.Id, new EventRange(FromTime: trail[2].Timestamp), 100));
        Assert.Equal([1L, 2], await SequenceNrs(user.Id, new EventRange(ToTime: trail[1].Timestamp), 100));
        Assert.Equal([2L], await SequenceNrs(user.Id, new EventRange(FromSequenceNr: 2), 1));
        Assert.Empty(await SequenceNrs(user.Id, new EventRange(FromSequenceNr: 5), 100));
        Assert.True(await History.ExistsAsync(user.Id, CancellationToken.None));
        Assert.False(await History.ExistsAsync(NewUserId(), CancellationToken.None));
    }

    [Fact]
    public async Task The_state_as_of_a_time_is_the_fold_of_the_events_written_until_then()
    {
        var (user, trail) = await UserWithFourEvents();

        var before = await History.StateAsOfAsync(user.Id, trail[0].Timestamp.AddTicks(-1), CancellationToken.None);
        var registered = await History.StateAsOfAsync(user.Id, trail[0].Timestamp, CancellationToken.None);
        var signedIn = await History.StateAsOfAsync(user.Id, trail[2].Timestamp, CancellationToken.None);
        var now = await History.StateAsOfAsync(user.Id, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Null(before.Profile);
        Assert.Equal(["user"], registered.Profile!.Scope);
        Assert.Equal(0, registered.SignInCount);
        Assert.Equal(2, signedIn.SignInCount);
        Assert.Equal(["user"], signedIn.Profile!.Scope);
        Assert.Equal(["user", "admin"], now.Profile!.Scope);
        AssertDeepEqual(user with { Scope = now.Profile.Scope }, now.Profile);
    }

    [Fact]
    public async Task Password_hashes_never_reach_the_trail()
    {
        var (_, trail) = await UserWithFourEvents();

        var registered = JsonNode.Parse(Redaction.Redact(trail[0].Data.Span)!)!;
        Assert.Equal(Redaction.Redacted, registered["passwordHash"]!.GetValue<string>());
        Assert.DoesNotContain("$argon2id$", Redaction.Redact(trail[0].Data.Span));
        Assert.Contains("$argon2id$", System.Text.Encoding.UTF8.GetString(trail[0].Data.Span)); // the raw journal has it
    }

    /// <summary>Registered, signed in twice, granted admin.</summary>
    private async Task<(UserProfile User, IReadOnlyList<AuditEvent> Trail)> UserWithFourEvents()
    {
        var account = new NewAccount(UniqueName("History"), $"{UniqueName("history")}@example.com", "password-1",
            ["user"], "free", null, Metadata());
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Host.Accounts.RegisterAsync(account, CancellationToken.None)).User;
        for (var i = 0; i < 2; i++)
            Assert.IsType<SignInOutcome.SignedIn>(await Host.Accounts.SignInAsync(ClaimKind.Username, account.Username, "password-1", new ClientInfo(null, null), CancellationToken.None));
        Assert.IsType<GrantOutcome.Granted>(await Host.Accounts.GrantScopeAsync(user.Id, "admin", "spec", CancellationToken.None));
        var trail = await History.EventsAsync(user.Id, new EventRange(), 100, CancellationToken.None);
        return (user, trail);
    }

    private async Task<IReadOnlyList<long>> SequenceNrs(string userId, EventRange range, int limit) =>
        (await History.EventsAsync(userId, range, limit, CancellationToken.None)).Select(e => e.SequenceNr).ToList();
}
