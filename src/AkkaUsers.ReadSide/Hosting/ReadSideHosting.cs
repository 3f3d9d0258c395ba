using System.Data.Common;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.ReadSide.Journal;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.ReadSide.Sweeps;
using LinqToDB.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AkkaUsers.ReadSide.Hosting;

/// <summary>The read side's wiring: the read model, the journal reader, the audit, and their singletons in the cluster.</summary>
public static class ReadSideHosting
{
    /// <summary>The read side's services; the API sees them as <see cref="IUserDirectory"/> and <see cref="IUserHistory"/>.</summary>
    public static IServiceCollection AddReadSide(this IServiceCollection services)
    {
        services.AddSingleton<IInterceptor>(TagQueryInterceptor.Instance);
        services.AddSingleton(sp => new UsersReadModel(sp.GetRequiredService<JournalDatabase>()));
        services.AddSingleton<IUserDirectory>(sp => sp.GetRequiredService<UsersReadModel>());
        services.AddSingleton(sp => new JournalReader(sp.GetRequiredService<JournalDatabase>()));
        services.AddSingleton(sp => new UserHistory(sp.GetRequiredService<ActorSystem>()));
        services.AddSingleton<IUserHistory>(sp => sp.GetRequiredService<UserHistory>());
        return services;
    }

    /// <summary>
    /// The projection, the orphaned-claim sweep, the username-skeleton migration and the deletion resumer: one of each
    /// per cluster, since two would race to store the same offset (or, for the resumer, wake the same entities twice).
    /// </summary>
    public static AkkaConfigurationBuilder WithReadSide(this AkkaConfigurationBuilder builder, IServiceProvider services)
    {
        var readModel = services.GetRequiredService<UsersReadModel>();
        var journalReader = services.GetRequiredService<JournalReader>();
        var entities = services.GetRequiredService<IOptions<EntityOptions>>().Value;
        var clock = services.GetRequiredService<TimeProvider>();
        services.GetRequiredService<AkkaUsersMetrics>().ObserveReadModelLag(() => ReadModelLag(readModel, journalReader, clock));
        return builder
            .WithSingleton<UsersProjection>("users-projection", UsersProjection.Props(readModel), createProxyToo: false)
            .WithSingleton<OrphanedClaimSweep>("orphaned-claim-sweep", (_, registry, _) => OrphanedClaimSweep.Props(
                    readModel, journalReader, registry.Get<UsernameIndex>(), registry.Get<EmailIndex>(),
                    entities.ClaimGracePeriod, entities.AskTimeout),
                createProxyToo: false)
            .WithSingleton<DeletionResumer>("deletion-resumer", (_, registry, _) => DeletionResumer.Props(
                    journalReader, registry.Get<UserActor>(), entities.AskTimeout),
                createProxyToo: false)
            .WithSingleton<UsernameSkeletonClaims>("username-skeleton-claims", (_, registry, _) => UsernameSkeletonClaims.Props(
                    readModel, journalReader, registry.Get<UsernameIndex>(), entities.AskTimeout),
                createProxyToo: false);
    }

    /// <summary>
    /// Read from the database on every node (the offset is stored with the rows), whichever node runs the projection.
    /// Nothing while the database does not answer or has no read model yet.
    /// </summary>
    private static (long Events, TimeSpan Age)? ReadModelLag(UsersReadModel readModel, JournalReader journal, TimeProvider clock)
    {
        try
        {
            var offset = readModel.OffsetAsync(UsersReadModel.ProjectionName, CancellationToken.None).GetAwaiter().GetResult() ?? 0;
            var (events, oldest) = journal.TaggedAfterAsync(JournalTagger.UserTag, offset, CancellationToken.None).GetAwaiter().GetResult();
            var age = oldest is { } written ? clock.GetUtcNow() - written : TimeSpan.Zero;
            return (events, age < TimeSpan.Zero ? TimeSpan.Zero : age);
        }
        catch (DbException)
        {
            return null;
        }
    }
}
