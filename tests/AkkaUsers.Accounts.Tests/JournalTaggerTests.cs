using Akka.Persistence.Journal;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

public sealed class JournalTaggerTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;
    private readonly JournalTagger _tagger = new();

    [Fact]
    public void A_sign_ins_outcome_is_left_untagged()
    {
        foreach (var outcome in new IUserEvent[] { new UserSignedIn(At, "10.0.0.7", "agent"), new SignInFailed(At, null, null) })
            Assert.Same(outcome, _tagger.ToJournal(outcome));
    }

    [Fact]
    public void Every_other_user_event_and_every_claim_event_is_tagged_for_its_followers()
    {
        var tagged = Assert.IsType<Tagged>(_tagger.ToJournal(new SignInLockedOut(At, At.AddMinutes(1), 5)));
        Assert.Equal(new[] { JournalTagger.UserTag }, tagged.Tags);
        var claim = Assert.IsType<Tagged>(_tagger.ToJournal(new ClaimProtocol.KeyClaimed(null, "507f1f77bcf86cd799439011", At) { Key = "jsmith" }));
        Assert.Equal(new[] { JournalTagger.ClaimTag }, claim.Tags);
    }
}
