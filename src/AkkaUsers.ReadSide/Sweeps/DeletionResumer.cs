using Akka.Actor;
using Akka.Event;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Audit;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.Sweeps;

/// <summary>
/// Wakes, once at start, every user entity whose deletion is unfinished: entities start only when asked, and one
/// that starts in an unfinished deletion runs the rest itself. One per cluster; waking an entity twice changes nothing.
/// </summary>
public sealed class DeletionResumer : ReceiveActor
{
    private sealed record Woken(int Count);

    public DeletionResumer(JournalReader journalReader, IActorRef users, TimeSpan askTimeout)
    {
        var log = Context.GetLogger();
        WakeAsync(journalReader, users, askTimeout, log).PipeTo(Self, success: count => new Woken(count));
        // It stays, idle, rather than stop: the singleton manager would take a stopped singleton for a failed one.
        Receive<Woken>(woken => { if (woken.Count > 0) log.Info("Resumed {0} unfinished deletions", woken.Count); });
        Receive<Status.Failure>(failed => log.Warning(failed.Cause, "Finding the unfinished deletions failed; each resumes when its user is next asked for"));
    }

    public static Props Props(JournalReader journalReader, IActorRef users, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create<DeletionResumer>(journalReader, users, askTimeout);

    private static async Task<int> WakeAsync(JournalReader journalReader, IActorRef users, TimeSpan askTimeout, ILoggingAdapter log)
    {
        var unfinished = await journalReader.UnfinishedDeletionsAsync(
            AkkaUsersSerializer.Manifests[typeof(UserDeleted)], CancellationToken.None);
        foreach (var persistenceId in unfinished)
        {
            var userId = UserActor.UserIdOf(persistenceId);
            try
            {
                // Any message starts the entity; this one changes nothing.
                await users.Ask<IUserReply>(new GetUser(userId), askTimeout);
            }
            catch (AskTimeoutException timedOut)
            {
                log.Warning(timedOut, "Waking user {0} to resume its deletion timed out", userId);
            }
        }
        return unfinished.Count;
    }
}
