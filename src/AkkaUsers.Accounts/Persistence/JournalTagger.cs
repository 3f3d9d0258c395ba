using Akka.Persistence.Journal;
using AkkaUsers.Domain;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// Tags the events read sides follow with EventsByTag. A sign-in's outcome is left untagged: no follower reads it (it
/// changes nothing a listing shows) and, as most of a busy journal's events, it would cost each a tag row and a read.
/// </summary>
public sealed class JournalTagger : IWriteEventAdapter
{
    public const string UserTag = "user";
    public const string ClaimTag = "claim";

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt switch
    {
        UserProtocol.UserSignedIn or UserProtocol.SignInFailed => evt,
        UserProtocol.IUserEvent => new Tagged(evt, [UserTag]),
        ClaimProtocol.IClaimEvent => new Tagged(evt, [ClaimTag]),
        _ => evt,
    };
}
