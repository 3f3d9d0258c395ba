using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using AkkaUsers.Actors.Entities;
using AkkaUsers.Actors.Passwords;
using AkkaUsers.Actors.Persistence;
using AkkaUsers.Actors.Telemetry;
using AkkaUsers.Domain;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Actors.Hosting;

/// <summary>All of the service's Akka wiring: options, remoting, the cluster, persistence, serialization and the shard regions.</summary>
public static class AkkaUsersHosting
{
    public const string ActorSystemName = "akka-users";

    /// <summary>Binds and validates the options, registers the account services, and starts the actor system.</summary>
    public static IServiceCollection AddAkkaUsers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddOptions<PersistenceOptions>().Bind(configuration.GetSection(PersistenceOptions.Section)).ValidateOnStart();
        services.AddOptions<EntityOptions>().Bind(configuration.GetSection(EntityOptions.Section)).ValidateOnStart();
        services.AddOptions<ClusterNodeOptions>().Bind(configuration.GetSection(ClusterNodeOptions.Section)).ValidateOnStart();
        services.AddOptions<PasswordOptions>().Bind(configuration.GetSection(PasswordOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PersistenceOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<EntityOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<ClusterNodeOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<PasswordOptions>, AkkaUsersOptionsValidation>();

        services.AddSingleton(sp =>
        {
            var persistence = sp.GetRequiredService<IOptions<PersistenceOptions>>().Value;
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new JournalDatabase(persistence.Provider, persistence.ResolveConnectionString(storage));
        });
        services.AddSingleton<AkkaUsersMetrics>(); // its IMeterFactory comes with every .NET host
        services.AddSingleton(sp =>
        {
            var password = sp.GetRequiredService<IOptions<PasswordOptions>>().Value;
            return new PasswordHashing(password.CreateHasher(), password.MaxConcurrency, sp.GetRequiredService<AkkaUsersMetrics>());
        });
        services.AddSingleton(sp => new UserAccounts(
            sp.GetRequiredService<IRequiredActor<UserActor>>(),
            sp.GetRequiredService<IRequiredActor<UsernameIndex>>(),
            sp.GetRequiredService<IRequiredActor<EmailIndex>>(),
            sp.GetRequiredService<PasswordHashing>(),
            sp.GetRequiredService<ServingGate>(),
            sp.GetRequiredService<AkkaUsersMetrics>(),
            sp.GetRequiredService<IOptions<EntityOptions>>().Value.AskTimeout));
        services.AddSingleton<ServingGate>();
        services.AddSingleton<JournalAvailability>();
        services.AddHostedService(sp => sp.GetRequiredService<JournalAvailability>());

        services.AddAkka(ActorSystemName, (builder, sp) => builder.AddAkkaUsersActors(
            sp.GetRequiredService<JournalDatabase>(),
            sp.GetRequiredService<IOptions<PersistenceOptions>>().Value,
            sp.GetRequiredService<IOptions<EntityOptions>>().Value,
            sp.GetRequiredService<IOptions<ClusterNodeOptions>>().Value,
            sp.GetRequiredService<AkkaUsersMetrics>()));
        return services;
    }

    public static AkkaConfigurationBuilder AddAkkaUsersActors(
        this AkkaConfigurationBuilder builder, JournalDatabase journal,
        PersistenceOptions persistence, EntityOptions entities, ClusterNodeOptions node, AkkaUsersMetrics metrics)
    {
        journal.Prepare();

        // Coordinator state in distributed data, not in the journal, which holds only the service's own events.
        var shardOptions = new ShardOptions
        {
            StateStoreMode = StateStoreMode.DData,
            RememberEntities = false,
            ShouldPassivateIdleEntities = true,
            PassivateIdleEntityAfter = entities.PassivateIdleAfter,
        };

        builder
            .ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = Akka.Event.LogLevel.InfoLevel;
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithRemoting(new RemoteOptions { HostName = node.Hostname, PublicHostName = node.PublicHostname, Port = node.Port })
            .WithClustering(new ClusterOptions
            {
                SeedNodes = node.SeedNodeList,
                Roles = node.RoleList,
                // Keep-majority: the larger side of a partition downs the smaller, so its shards move.
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .AddHocon($"akka.cluster.split-brain-resolver.stable-after = {(int)node.DownUnreachableAfter.TotalMilliseconds}ms", HoconAddMode.Prepend)
            // The coordinators' state is written to a plain majority. Akka's defaults (majority + 3, and at least 5
            // nodes) mean every node of a small cluster: then one crashed node blocks every shard allocation, even of
            // shards it never held, until it is removed. Reads stay at majority + 5, so a new coordinator sees every write.
            .AddHocon(
                """
                akka.cluster.sharding.coordinator-state.write-majority-plus = 0
                akka.cluster.sharding.distributed-data.majority-min-cap = 1
                """, HoconAddMode.Prepend)
            // On SIGTERM the host stops the HTTP server first, draining in-flight requests, and only then the
            // actor system (leave the cluster, hand off shards); Akka's own exit hook would start that too early.
            .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
            .WithCustomSerializer("akka-users", AkkaUsersSerializer.BoundTypes, system => new AkkaUsersSerializer(system))
            .WithSqlPersistence(
                journal.ConnectionString, journal.Linq2DbProviderName, PersistenceMode.Both,
                schemaName: persistence.SchemaName,
                journalBuilder: adapters => adapters.AddWriteEventAdapter<JournalTagger>(
                    "tagger", [typeof(UserProtocol.IUserEvent), typeof(ClaimProtocol.IClaimEvent)]))
            .WithShardRegion<UserActor>(
                UserActor.EntityName, userId => UserActor.Props(userId, persistence.SnapshotEvery, metrics),
                new UserMessageExtractor(), shardOptions)
            .WithShardRegion<UsernameIndex>(
                ClaimIndexActor.EntityName(ClaimKind.Username),
                (_, registry, _) => entityId => Props.Create(() => new UsernameIndex(
                    entityId, registry.Get<UserActor>(), entities.ClaimGracePeriod, entities.AskTimeout, metrics)),
                new ClaimMessageExtractor(), shardOptions)
            .WithShardRegion<EmailIndex>(
                ClaimIndexActor.EntityName(ClaimKind.Email),
                (_, registry, _) => entityId => Props.Create(() => new EmailIndex(
                    entityId, registry.Get<UserActor>(), entities.ClaimGracePeriod, entities.AskTimeout, metrics)),
                new ClaimMessageExtractor(), shardOptions);

        // No seed nodes: a cluster of one, joined as soon as the system is up.
        if (node.SeedNodeList.Length == 0)
            builder.AddStartup((system, _) => Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress));

        // SQLite takes one writer at a time. Reads run in deferred transactions: at any other isolation level
        // Microsoft.Data.Sqlite begins them IMMEDIATE, which takes the write lock, so every entity recovery queued
        // behind the journal's writes and both sides slept out SQLITE_BUSY. In WAL mode a deferred read still sees
        // one committed snapshot ("uncommitted" only matters with a shared cache, which is not used).
        if (journal.Provider == PersistenceProvider.Sqlite)
            builder.AddHocon(
                """
                akka.persistence.journal.sql.parallelism = 1
                akka.persistence.journal.sql.read-isolation-level = read-uncommitted
                akka.persistence.snapshot-store.sql.read-isolation-level = read-uncommitted
                akka.persistence.query.journal.sql.read-isolation-level = read-uncommitted
                """, HoconAddMode.Prepend);
        return builder;
    }
}
