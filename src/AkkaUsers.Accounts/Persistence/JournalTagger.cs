using Akka.Persistence.Journal;
using AkkaUsers.Domain;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>Tags every event so read sides and audits can follow them with EventsByTag.</summary>
public sealed class JournalTagger : IWriteEventAdapter
{
    public const string UserTag = "user";
    public const string ClaimTag = "claim";

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt switch
    {
        UserProtocol.IUserEvent => new Tagged(evt, [UserTag]),
        ClaimProtocol.IClaimEvent => new Tagged(evt, [ClaimTag]),
        _ => evt,
    };
}
