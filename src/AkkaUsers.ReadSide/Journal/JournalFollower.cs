using Akka;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace AkkaUsers.ReadSide.Journal;

/// <summary>
/// How an actor follows the events of one tag through the SQL read journal, from an offset it stored: the stream is
/// started again after a back-off when it fails (reading the offset again), and stops with the kill switch returned.
/// </summary>
public static class JournalFollower
{
    private static readonly RestartSettings Restarts = RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2);

    /// <param name="startingOffset">The journal ordering to follow from (exclusive), read at every (re)start.</param>
    /// <param name="process">What the follower makes of the events, e.g. batches written to a table.</param>
    /// <param name="onEach">Called with each element <paramref name="process"/> emits.</param>
    public static UniqueKillSwitch FollowTag<T>(
        this IActorContext context, string tag, Func<Task<long>> startingOffset,
        Func<Source<EventEnvelope, NotUsed>, Source<T, NotUsed>> process, Action<T> onEach)
    {
        var journal = PersistenceQuery.Get(context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        return RestartSource.OnFailuresWithBackoff(() => process(Source
                    .FromTask(startingOffset())
                    .ConcatMany(offset => journal.EventsByTag(tag, Offset.Sequence(offset)))),
                Restarts)
            .ViaMaterialized(KillSwitches.Single<T>(), Keep.Right)
            .ToMaterialized(Sink.ForEach(onEach), Keep.Left)
            .Run(context.Materializer());
    }
}
