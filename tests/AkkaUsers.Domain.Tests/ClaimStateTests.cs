using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;

namespace AkkaUsers.Domain.Tests;

public class ClaimStateTests
{
    private const string Key = "jsmith";

    /// <summary>What the events hold instead of <see cref="Key"/>.</summary>
    private static readonly string KeyDigest = Keys.KeyedDigest("a-claim-secret-of-at-least-32-bytes"u8.ToArray(), Key);

    private static readonly string EntityId = Keys.Digest(Key);
    private const string Owner = "507f1f77bcf86cd799439011";
    private const string Other = "65a1b2c3d4e5f6a7b8c9d0e1";

    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static ClaimState Fold(ClaimState state, IEnumerable<IClaimEvent> events) =>
        events.Aggregate(state, (s, e) => s.Apply(e));

    private static ClaimDecision.Done DecideDone(ClaimState state, IClaimCommand command, DateTimeOffset now) =>
        Assert.IsType<ClaimDecision.Done>(state.Decide(command, KeyDigest, now, Grace));

    /// <summary>The key claimed by <see cref="Owner"/> at <see cref="T0"/>.</summary>
    private static ClaimState Claimed() => Fold(ClaimState.Free, DecideDone(ClaimState.Free, new ClaimKey(Key, Owner), T0).Events);

    [Fact]
    public void Free_has_no_owner()
    {
        Assert.Null(ClaimState.Free.OwnerId);
        Assert.Null(ClaimState.Free.ClaimedAt);
    }

    // ClaimKey

    [Fact]
    public void Claiming_a_free_key_yields_KeyClaimed_and_ClaimGranted()
    {
        var decision = DecideDone(ClaimState.Free, new ClaimKey(Key, Owner), T0);

        Assert.Equal(new KeyClaimed(KeyDigest, Owner, T0), Assert.Single(decision.Events));
        Assert.Equal(new ClaimGranted(Key, Owner), decision.Reply);
    }

    [Fact]
    public void Applying_KeyClaimed_records_the_owner_and_time()
    {
        Assert.Equal(new ClaimState(Owner, T0), Claimed());
    }

    [Fact]
    public void The_same_owner_reclaiming_gets_granted_with_no_events()
    {
        var decision = DecideDone(Claimed(), new ClaimKey(Key, Owner), T0.AddDays(30));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimGranted(Key, Owner), decision.Reply);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(599)] // the grace period is 600 seconds
    public void Another_user_within_the_grace_period_is_refused_naming_the_owner(int secondsLater)
    {
        var decision = DecideDone(Claimed(), new ClaimKey(Key, Other), T0.AddSeconds(secondsLater));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimRefused(Key, Owner), decision.Reply);
    }

    [Fact]
    public void Another_user_a_tick_before_the_grace_period_ends_is_refused()
    {
        var decision = DecideDone(Claimed(), new ClaimKey(Key, Other), T0 + Grace - TimeSpan.FromTicks(1));

        Assert.Equal(new ClaimRefused(Key, Owner), decision.Reply);
    }

    [Theory]
    [InlineData(601)]
    [InlineData(86_400)]
    [InlineData(31_536_000)]
    public void Another_user_after_the_grace_period_asks_to_verify_the_owner(int secondsLater)
    {
        var decision = Claimed().Decide(new ClaimKey(Key, Other), KeyDigest, T0.AddSeconds(secondsLater), Grace);

        Assert.Equal(new ClaimDecision.VerifyOwner(Owner), decision);
    }

    [Fact]
    public void The_grace_period_is_the_one_given()
    {
        var state = Claimed();
        var now = T0.AddMinutes(30);

        Assert.IsType<ClaimDecision.Done>(state.Decide(new ClaimKey(Key, Other), KeyDigest, now, TimeSpan.FromHours(1)));
        Assert.IsType<ClaimDecision.VerifyOwner>(state.Decide(new ClaimKey(Key, Other), KeyDigest, now, TimeSpan.FromMinutes(1)));
    }

    // DecideAfterOwnerCheck

    [Fact]
    public void After_the_owner_check_an_owner_that_holds_the_key_keeps_it()
    {
        var now = T0.AddDays(1);

        var decision = Claimed().DecideAfterOwnerCheck(new ClaimKey(Key, Other), KeyDigest, ownerHoldsKey: true, now);

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimRefused(Key, Owner), decision.Reply);
    }

    [Fact]
    public void After_the_owner_check_an_orphan_claim_moves_to_the_new_user()
    {
        var now = T0.AddDays(1);

        var decision = Claimed().DecideAfterOwnerCheck(new ClaimKey(Key, Other), KeyDigest, ownerHoldsKey: false, now);

        Assert.Collection(decision.Events,
            e => Assert.Equal(new KeyReleased(KeyDigest, Owner, now), e),
            e => Assert.Equal(new KeyClaimed(KeyDigest, Other, now), e));
        Assert.Equal(new ClaimGranted(Key, Other), decision.Reply);
    }

    [Fact]
    public void Applying_the_moved_claim_gives_the_new_owner()
    {
        var now = T0.AddDays(1);
        var state = Claimed();

        var decision = state.DecideAfterOwnerCheck(new ClaimKey(Key, Other), KeyDigest, ownerHoldsKey: false, now);

        Assert.Equal(new ClaimState(Other, now), Fold(state, decision.Events));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void After_the_owner_check_a_key_freed_meanwhile_is_simply_claimed(bool ownerHoldsKey)
    {
        var now = T0.AddDays(1);

        var decision = ClaimState.Free.DecideAfterOwnerCheck(new ClaimKey(Key, Other), KeyDigest, ownerHoldsKey, now);

        Assert.Equal(new KeyClaimed(KeyDigest, Other, now), Assert.Single(decision.Events));
        Assert.Equal(new ClaimGranted(Key, Other), decision.Reply);
    }

    // ReviewClaim

    [Fact]
    public void Reviewing_a_claim_within_the_grace_period_changes_nothing()
    {
        var decision = DecideDone(Claimed(), new ReviewClaim(EntityId, Owner), T0 + Grace - TimeSpan.FromTicks(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimReviewed(EntityId, Owner), decision.Reply);
    }

    [Fact]
    public void Reviewing_the_claim_of_someone_who_no_longer_holds_the_key_changes_nothing()
    {
        var decision = DecideDone(Claimed(), new ReviewClaim(EntityId, Other), T0.AddDays(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimReviewed(EntityId, Owner), decision.Reply);
    }

    [Fact]
    public void Reviewing_a_free_key_changes_nothing()
    {
        var decision = DecideDone(ClaimState.Free, new ReviewClaim(EntityId, Owner), T0.AddDays(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimReviewed(EntityId, null), decision.Reply);
    }

    [Fact]
    public void Reviewing_a_claim_past_the_grace_period_asks_its_owner()
    {
        var decision = Claimed().Decide(new ReviewClaim(EntityId, Owner), KeyDigest, T0 + Grace, Grace);

        Assert.Equal(new ClaimDecision.VerifyOwner(Owner), decision);
    }

    [Fact]
    public void After_the_owner_check_a_review_keeps_the_claim_of_an_owner_that_holds_the_key()
    {
        var decision = Claimed().DecideAfterOwnerCheck(new ReviewClaim(EntityId, Owner), KeyDigest, ownerHoldsKey: true, T0.AddDays(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new ClaimReviewed(EntityId, Owner), decision.Reply);
    }

    [Fact]
    public void After_the_owner_check_a_review_releases_an_orphan_claim()
    {
        var now = T0.AddDays(1);
        var state = Claimed();

        var decision = state.DecideAfterOwnerCheck(new ReviewClaim(EntityId, Owner), KeyDigest, ownerHoldsKey: false, now);

        Assert.Equal(new KeyReleased(KeyDigest, Owner, now), Assert.Single(decision.Events));
        Assert.Equal(new ClaimReviewed(EntityId, null, Released: true), decision.Reply);
        Assert.Equal(ClaimState.Free, Fold(state, decision.Events));
    }

    // ReleaseKey

    [Fact]
    public void ReleaseKey_by_the_owner_frees_the_key()
    {
        var state = Claimed();
        var now = T0.AddMinutes(1);

        var decision = DecideDone(state, new ReleaseKey(Key, Owner), now);

        Assert.Equal(new KeyReleased(KeyDigest, Owner, now), Assert.Single(decision.Events));
        Assert.Equal(new KeyReleaseDone(Key), decision.Reply);
        Assert.Equal(ClaimState.Free, Fold(state, decision.Events));
    }

    [Fact]
    public void A_released_key_can_be_claimed_by_another_user_at_once()
    {
        var state = Claimed();
        var now = T0.AddMinutes(1);
        var freed = Fold(state, DecideDone(state, new ReleaseKey(Key, Owner), now).Events);

        var decision = DecideDone(freed, new ClaimKey(Key, Other), now);

        Assert.Equal(new ClaimGranted(Key, Other), decision.Reply);
        Assert.Equal(new ClaimState(Other, now), Fold(freed, decision.Events));
    }

    [Fact]
    public void ReleaseKey_by_a_non_owner_is_a_no_op()
    {
        var state = Claimed();

        var decision = DecideDone(state, new ReleaseKey(Key, Other), T0.AddMinutes(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new KeyReleaseDone(Key), decision.Reply);
        Assert.Equal(state, Fold(state, decision.Events));
    }

    [Fact]
    public void ReleaseKey_on_a_free_key_is_a_no_op()
    {
        var decision = DecideDone(ClaimState.Free, new ReleaseKey(Key, Owner), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new KeyReleaseDone(Key), decision.Reply);
    }

    [Fact]
    public void Applying_a_KeyReleased_of_another_user_leaves_the_state()
    {
        var state = Claimed();

        Assert.Equal(state, state.Apply(new KeyReleased(KeyDigest, Other, T0.AddMinutes(1))));
    }

    [Fact]
    public void Events_written_before_claims_held_digests_name_the_key_and_recover_alike()
    {
        IClaimEvent[] legacy =
        [
            new KeyClaimed(null, Owner, T0) { Key = Key },
            new KeyReleased(null, Owner, T0.AddMinutes(1)) { Key = Key },
            new KeyClaimed(null, Other, T0.AddMinutes(2)) { Key = Key },
        ];

        Assert.Equal(new ClaimState(Other, T0.AddMinutes(2)), Fold(ClaimState.Free, legacy));
    }

    [Fact]
    public void ClaimErased_leaves_the_state_as_it_is()
    {
        Assert.Equal(ClaimState.Free, ClaimState.Free.Apply(new ClaimErased(T0)));
    }

    // LookupKey

    [Fact]
    public void LookupKey_on_a_free_key_answers_null()
    {
        var decision = DecideDone(ClaimState.Free, new LookupKey(Key), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new KeyOwner(Key, null), decision.Reply);
    }

    [Fact]
    public void LookupKey_on_a_claimed_key_answers_the_owner()
    {
        var decision = DecideDone(Claimed(), new LookupKey(Key), T0.AddYears(1));

        Assert.Empty(decision.Events);
        Assert.Equal(new KeyOwner(Key, Owner), decision.Reply);
    }

    // Rebuilding and unknown messages

    [Fact]
    public void Folding_the_journal_gives_the_same_state_as_the_incremental_one()
    {
        var steps = new (IClaimCommand Command, DateTimeOffset At)[]
        {
            (new ClaimKey(Key, Owner), T0),
            (new ClaimKey(Key, Other), T0.AddMinutes(1)), // refused
            (new ReleaseKey(Key, Other), T0.AddMinutes(2)), // no-op
            (new ReleaseKey(Key, Owner), T0.AddMinutes(3)),
            (new ClaimKey(Key, Other), T0.AddMinutes(4)),
        };

        var incremental = ClaimState.Free;
        var journal = new List<IClaimEvent>();
        foreach (var (command, at) in steps)
        {
            var decision = DecideDone(incremental, command, at);
            journal.AddRange(decision.Events);
            incremental = Fold(incremental, decision.Events);
        }

        Assert.Equal(3, journal.Count);
        Assert.Equal(incremental, Fold(ClaimState.Free, journal));
        Assert.Equal(new ClaimState(Other, T0.AddMinutes(4)), incremental);
    }

    private sealed record UnknownEvent : IClaimEvent;

    private sealed record UnknownCommand(string Key) : IKeyCommand;

    [Fact]
    public void Apply_of_an_unknown_event_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClaimState.Free.Apply(new UnknownEvent()));
    }

    [Fact]
    public void Decide_of_an_unknown_command_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClaimState.Free.Decide(new UnknownCommand(Key), KeyDigest, T0, Grace));
    }
}
