using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// Runs the steps of one deletion left after its tombstone, in order, each recorded by the user entity that started
/// it (its parent) as it is done; every step is safe to repeat. The entity starts one right after the tombstone is
/// persisted and again whenever it starts in an unfinished deletion, so a crash only delays the rest.
/// </summary>
public sealed class DeletionWorker : ReceiveActor
{
    /// <summary>The worker's name under its entity: one deletion runs at a time.</summary>
    public const string Name = "deletion";

    private sealed record Finished;

    public DeletionWorker(DeletionStarted deletion, TimeSpan askTimeout, JournalDatabase? journal)
    {
        var registry = ActorRegistry.For(Context.System);
        var (usernames, emails, user) = (registry.Get<UsernameIndex>(), registry.Get<EmailIndex>(), Context.Parent);
        var log = Context.GetLogger();
        RunAsync(deletion, usernames, emails, user, askTimeout, journal, log).PipeTo(Self, success: () => new Finished());
        Receive<Finished>(_ => Context.Stop(Self));
    }

    public static Props Props(DeletionStarted deletion, TimeSpan askTimeout, JournalDatabase? journal) =>
        Akka.Actor.Props.Create<DeletionWorker>(deletion, askTimeout, journal);

    private static async Task RunAsync(
        DeletionStarted deletion, IActorRef usernames, IActorRef emails, IActorRef user,
        TimeSpan askTimeout, JournalDatabase? journal, ILoggingAdapter log)
    {
        var (userId, ticket, profile) = (deletion.UserId, deletion.Ticket, deletion.User);
        foreach (var step in DeletionSteps.AfterTombstone.Except(deletion.StepsDone))
        {
            try
            {
                // Without the profile (its history is erased already), a claim left behind is released by its index
                // once the grace period has passed: the owner it names is no longer a user.
                if (step == DeletionSteps.UsernameReleased && profile is not null)
                    foreach (var key in Keys.HeldBy(ClaimKind.Username, profile))
                        await usernames.Ask<IClaimReply>(new ReleaseKey(key, userId), askTimeout);
                if (step == DeletionSteps.EmailReleased && profile is not null)
                    await emails.Ask<IClaimReply>(new ReleaseKey(Keys.Of(ClaimKind.Email, profile), userId), askTimeout);
                IUserCommand done = step == DeletionSteps.HistoryErased
                    ? new EraseHistory(userId, ticket) // the entity records this step itself
                    : new RecordDeletionStep(userId, ticket, step);
                await user.Ask<IUserReply>(done, askTimeout);
            }
            catch (Exception failure)
            {
                log.Warning(failure, "Deleting user {0}: step {1} failed", userId, step);
                try
                {
                    await user.Ask<IUserReply>(new RecordDeletionFailed(userId, ticket, step, failure.Message), askTimeout);
                }
                catch (Exception unrecorded)
                {
                    log.Warning(unrecorded, "Deleting user {0}: the failure of step {1} could not be recorded", userId, step);
                }
                return;
            }
        }
        try
        {
            if (journal is not null && !await journal.CheckpointAsync(CancellationToken.None))
                log.Warning("Deleting user {0}: a reader kept the journal's write-ahead log from being checkpointed; the next checkpoint clears it", userId);
        }
        catch (Exception failure)
        {
            log.Warning(failure, "Deleting user {0}: checkpointing the journal's write-ahead log failed", userId);
        }
    }
}
