using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using LinqToDB.Interceptors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// The write side's wiring: options, remoting, the cluster, persistence, serialization and the shard regions; and the
/// command-line tools' local variant of it.
/// </summary>
public static class AccountsHosting
{
    public const string ActorSystemName = "akka-users";

    /// <summary>
    /// How often the SQL read journal looks for new events (its refresh interval and its sequence retrieval's
    /// query delay, which only work together): the admin read model runs at most about this far behind the
    /// journal at rest, plus one batch window.
    /// </summary>
    public static readonly TimeSpan QueryRefreshInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Binds and validates the options, registers the account services, and starts the actor system.</summary>
    /// <param name="also">More actors for the same system (the read side's singletons).</param>
    public static IServiceCollection AddAccounts(
        this IServiceCollection services, IConfiguration configuration, Action<AkkaConfigurationBuilder, IServiceProvider>? also = null)
    {
        services.AddAccountServices(configuration);
        services.AddSingleton<IValidateOptions<ClusterNodeOptions>, ClusterTransportValidation>();
        services.AddSingleton(sp => new LastAliveMark(sp.GetRequiredService<IOptions<StorageOptions>>().Value.FullDataDirectory,
            sp.GetRequiredService<IOptions<ClusterNodeOptions>>().Value, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LastAliveMark>>()));
        services.AddAkka(ActorSystemName, (builder, sp) =>
        {
            sp.GetRequiredService<LastAliveMark>().WaitBeforeStart();
            builder.WithAccounts(
                sp.GetRequiredService<JournalDatabase>(),
                sp.GetRequiredService<IOptions<PersistenceOptions>>().Value,
                sp.GetRequiredService<UserActor.Settings>(),
                sp.GetRequiredService<IOptions<EntityOptions>>().Value,
                sp.GetRequiredService<IOptions<ClusterNodeOptions>>().Value,
                sp.GetRequiredService<AkkaUsersMetrics>(),
                sp.GetRequiredService<ClaimDigests>());
            also?.Invoke(builder, sp);
        });
        services.AddSingleton<INodeWarmUp, EntityWarmUp>();
        services.AddSingleton<INodeWarmUp>(sp => sp.GetRequiredService<PasswordHashing>());
        services.AddHostedService<ClusterJoin>(); // after the Akka host, so that it starts once the actor system is up
        return services;
    }

    /// <summary>
    /// For command-line tools: the service's options and services over the same journal, with the entities in a
    /// local actor system (no remoting, no cluster, no read-model projection). Run it while the service is stopped:
    /// two live copies of one entity would both write its journal.
    /// </summary>
    public static IServiceCollection AddAccountsTools(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAccountServices(configuration);
        services.AddAkka(ActorSystemName, (builder, sp) => builder.WithLocalAccounts(
            sp.GetRequiredService<JournalDatabase>(),
            sp.GetRequiredService<IOptions<PersistenceOptions>>().Value,
            sp.GetRequiredService<UserActor.Settings>(),
            sp.GetRequiredService<IOptions<EntityOptions>>().Value,
            sp.GetRequiredService<AkkaUsersMetrics>(),
            sp.GetRequiredService<ClaimDigests>()));
        return services;
    }

    private static void AddAccountServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddOptions<PersistenceOptions>().Bind(configuration.GetSection(PersistenceOptions.Section)).ValidateOnStart();
        services.AddOptions<EntityOptions>().Bind(configuration.GetSection(EntityOptions.Section)).ValidateOnStart();
        services.AddOptions<ClusterNodeOptions>().Bind(configuration.GetSection(ClusterNodeOptions.Section)).ValidateOnStart();
        services.AddOptions<PasswordOptions>().Bind(configuration.GetSection(PasswordOptions.Section)).ValidateOnStart();
        services.AddOptions<SignInOptions>().Bind(configuration.GetSection(SignInOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PersistenceOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<EntityOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<ClusterNodeOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<PasswordOptions>, AkkaUsersOptionsValidation>();
        services.AddSingleton<IValidateOptions<SignInOptions>, AkkaUsersOptionsValidation>();
        services.AddOptions<ClaimsOptions>().Bind(configuration.GetSection(ClaimsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClaimsOptions>, ClaimsOptionsValidation>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ClaimsOptions>>().Value
            .CreateDigests(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        // Every rule that needs "now" reads this clock, so tests can move time instead of waiting for it.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new UserActor.Settings(
            sp.GetRequiredService<IOptions<PersistenceOptions>>().Value.SnapshotEvery,
            sp.GetRequiredService<IOptions<SignInOptions>>().Value.Policy,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<EntityOptions>>().Value.AskTimeout,
            sp.GetRequiredService<JournalDatabase>()));

        services.AddSingleton(sp =>
        {
            var persistence = sp.GetRequiredService<IOptions<PersistenceOptions>>().Value;
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new JournalDatabase(persistence.Provider, persistence.ResolveConnectionString(storage), persistence.SchemaName)
            {
                Interceptors = sp.GetServices<IInterceptor>().ToList(),
            };
        });
        // Before the actor system's own hosted service, so that it stops after it.
        services.AddHostedService<CheckpointOnStop>();
        services.AddSingleton<AkkaUsersMetrics>(); // its IMeterFactory comes with every .NET host
        services.AddSingleton(sp =>
        {
            var password = sp.GetRequiredService<IOptions<PasswordOptions>>().Value;
            var (hasher, why) = password.CreateHasher();
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<PasswordHashing>().LogInformation(
                "Password hashing: Argon2id m={MemoryKiB},t={Iterations},p={Parallelism} by {Engine}, {Why}; CPU: {CpuFeatures}",
                password.MemoryKiB, password.Iterations, password.Parallelism, PasswordHashing.Describe(hasher), why, PasswordHashing.CpuFeatures());
            return new PasswordHashing(hasher, password.MaxConcurrency, sp.GetRequiredService<AkkaUsersMetrics>());
        });
        services.AddSingleton(sp => new UserAccounts(
            sp.GetRequiredService<IRequiredActor<UserActor>>(),
            sp.GetRequiredService<IRequiredActor<UsernameIndex>>(),
            sp.GetRequiredService<IRequiredActor<EmailIndex>>(),
            sp.GetRequiredService<PasswordHashing>(),
            sp.GetRequiredService<NewUserWriter>(),
            sp.GetRequiredService<ServingGate>(),
            sp.GetRequiredService<AkkaUsersMetrics>(),
            sp.GetRequiredService<IOptions<EntityOptions>>().Value.AskTimeout,
            sp.GetRequiredService<IOptions<EntityOptions>>().Value.ResendAfter));
        services.AddSingleton(sp => new NewUserWriter(sp.GetRequiredService<ActorSystem>(), sp.GetRequiredService<JournalDatabase>(),
            sp.GetRequiredService<ClaimDigests>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<EntityOptions>>().Value.AskTimeout, sp.GetRequiredService<AkkaUsersMetrics>(),
            sp.GetRequiredService<ILogger<NewUserWriter>>()));
        services.AddSingleton<ServingGate>();
        services.AddSingleton<IReadiness>(sp => new NodeReadiness(sp.GetRequiredService<ActorSystem>(), sp.GetRequiredService<JournalDatabase>()));
        services.AddSingleton<JournalAvailability>();
        services.AddHostedService(sp => sp.GetRequiredService<JournalAvailability>());
    }

    public static AkkaConfigurationBuilder WithAccounts(
        this AkkaConfigurationBuilder builder, JournalDatabase journal,
        PersistenceOptions persistence, UserActor.Settings userSettings, EntityOptions entities, ClusterNodeOptions node,
        AkkaUsersMetrics metrics, ClaimDigests claimDigests)
    {
        journal.Prepare();

        var remote = new RemoteOptions { HostName = node.Hostname, PublicHostName = node.PublicHostname, Port = node.Port };
        if (node.Tls.IsEnabled) ClusterTransport.Load(node.Tls).Apply(remote);

        // Coordinator state in distributed data, not in the journal, which holds only the service's own events.
        var shardOptions = new ShardOptions
        {
            StateStoreMode = StateStoreMode.DData,
            RememberEntities = false,
            ShouldPassivateIdleEntities = true,
            PassivateIdleEntityAfter = entities.PassivateIdleAfter,
        };

        builder
            .WithLoggerFactory(Akka.Event.LogLevel.InfoLevel)
            .AddStartup((system, _) => metrics.ObserveCluster(Akka.Cluster.Cluster.Get(system)))
            .WithRemoting(remote)
            .WithClustering(new ClusterOptions
            {
                // No seed nodes here: ClusterJoin joins them once this node has warmed up.
                Roles = node.RoleList,
                // Keep-majority: the larger side of a partition downs the smaller, so its shards move.
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .AddHocon(FailoverHocon(node), HoconAddMode.Prepend)
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
            // Each phase is bounded so that leaving takes seconds even when a peer just died and cannot answer:
            // a hand-off that times out only means the survivors start those entities from the journal instead.
            // Exiting gets the longest: a node that stops before the leader removes it is taken for dead, and the
            // survivors wait out the failover's detection before its shards and coordinators move.
            .AddHocon(
                """
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                akka.coordinated-shutdown.default-phase-timeout = 2s
                akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 3s
                akka.coordinated-shutdown.phases.cluster-exiting.timeout = 4s
                akka.coordinated-shutdown.phases.actor-system-terminate.timeout = 2s
                """, HoconAddMode.Prepend)
            .WithAkkaUsersPersistence(journal, persistence)
            .WithUserRegion(userSettings, metrics, shardOptions)
            .WithClaimRegion<UsernameIndex>(ClaimKind.Username, claimDigests, entities, metrics, shardOptions)
            .WithClaimRegion<EmailIndex>(ClaimKind.Email, claimDigests, entities, metrics, shardOptions);
        return builder;
    }

    /// <summary>
    /// How fast a dead node's shards and singletons come back elsewhere: the failure detector marks it unreachable,
    /// the split-brain resolver downs it once the view is stable, and sharding and the singletons wait the removal
    /// margin before starting its work on the survivors. Short margins are safe because the journal fences: a
    /// downed node that still runs writes its entity's next event under a sequence number its replacement already
    /// used (or will), and the journal's primary key on (persistence id, sequence number) refuses one of the two;
    /// the refused writer answers that its write failed and stops, and its caller sends the command again, to the
    /// entity's new incarnation: nothing is acknowledged twice or lost.
    /// </summary>
    private static string FailoverHocon(ClusterNodeOptions node)
    {
        static string Ms(TimeSpan t) => $"{(long)t.TotalMilliseconds}ms";
        var margin = node.DownRemovalMargin ?? node.DownUnreachableAfter;
        return $"""
            akka.cluster.failure-detector.heartbeat-interval = {Ms(node.HeartbeatInterval)}
            akka.cluster.failure-detector.acceptable-heartbeat-pause = {Ms(node.AcceptableHeartbeatPause)}
            akka.cluster.split-brain-resolver.stable-after = {Ms(node.DownUnreachableAfter)}
            akka.cluster.down-removal-margin = {Ms(margin)}
            # The leader removes a downed node and the reaper publishes unreachability on these ticks (1 s by default).
            akka.cluster.leader-actions-interval = 500ms
            akka.cluster.unreachable-nodes-reaper-interval = 500ms
            # A region asks for a shard's new home, and registers with a new coordinator, this often.
            akka.cluster.sharding.retry-interval = 500ms
            # A rebalance that starts as a node dies waits for the dead node's hand-off until this time-out, and the
            # shard's requests wait with it (60 s by default); stopping a shard's entities takes milliseconds.
            akka.cluster.sharding.handoff-timeout = 5s
            # A node restarted on its old address is refused until its old incarnation is removed, which its first
            # join attempt sets off; it tries again this soon (10 s by default).
            akka.cluster.retry-unsuccessful-join-after = 2s
            """;
    }

    /// <summary>The entities of <see cref="AddAccountsTools"/>: the service's own, behind local stand-ins for the shard regions.</summary>
    public static AkkaConfigurationBuilder WithLocalAccounts(
        this AkkaConfigurationBuilder builder, JournalDatabase journal, PersistenceOptions persistence,
        UserActor.Settings userSettings, EntityOptions entities, AkkaUsersMetrics metrics, ClaimDigests claimDigests)
    {
        journal.Prepare();
        return builder
            .WithLoggerFactory(Akka.Event.LogLevel.WarningLevel)
            .WithAkkaUsersPersistence(journal, persistence)
            .WithActors((system, registry) =>
            {
                var users = system.ActorOf(LocalEntities.Props(new UserMessageExtractor(),
                    userId => UserActor.Props(userId, userSettings, metrics)), "user");
                registry.Register<UserActor>(users);
                registry.Register<UsernameIndex>(system.ActorOf(LocalEntities.Props(new ClaimMessageExtractor(),
                    entityId => ClaimIndexActor.Props<UsernameIndex>(entityId, claimDigests, users, entities.ClaimGracePeriod, entities.AskTimeout, metrics)), "username"));
                registry.Register<EmailIndex>(system.ActorOf(LocalEntities.Props(new ClaimMessageExtractor(),
                    entityId => ClaimIndexActor.Props<EmailIndex>(entityId, claimDigests, users, entities.ClaimGracePeriod, entities.AskTimeout, metrics)), "email"));
            });
    }

    /// <summary>Akka's log through the host's ILoggerFactory (Akka.Hosting adds its setup), so it goes where every other log line goes.</summary>
    private static AkkaConfigurationBuilder WithLoggerFactory(this AkkaConfigurationBuilder builder, Akka.Event.LogLevel level) =>
        builder.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = level;
            loggers.ClearLoggers();
            loggers.AddLogger<AkkaLogForwarder>();
        })
        // Akka's own console logger would write what comes after the loggers stop as text in Akka's format.
        .AddHocon($"akka.stdout-logger-class = \"{typeof(AkkaLogForwarder.ShutdownLogger).AssemblyQualifiedName}\"", HoconAddMode.Prepend);

    /// <summary>
    /// The serializer, the SQL journal (the entities', and <see cref="NewUserWriter"/>'s over the same tables) and
    /// snapshot store with the tagging adapter, and the read journal's polling.
    /// </summary>
    private static AkkaConfigurationBuilder WithAkkaUsersPersistence(
        this AkkaConfigurationBuilder builder, JournalDatabase journal, PersistenceOptions persistence)
    {
        Akka.Persistence.Sql.Hosting.SqlJournalOptions Journal(bool isDefaultPlugin, string identifier)
        {
            var options = new Akka.Persistence.Sql.Hosting.SqlJournalOptions(isDefaultPlugin, identifier)
            {
                ConnectionString = journal.ConnectionString,
                ProviderName = journal.Linq2DbProviderName,
                DataOptions = journal.Linq2DbOptions,
                AutoInitialize = true,
                QueryRefreshInterval = QueryRefreshInterval,
            };
            if (persistence.SchemaName is { } journalSchema)
                options.DatabaseOptions = new JournalDatabaseOptions(DatabaseMapping.Default) { SchemaName = journalSchema };
            return options;
        }
        void Tagged(AkkaPersistenceJournalBuilder adapters) => adapters.AddWriteEventAdapter<JournalTagger>(
            "tagger", [typeof(UserProtocol.IUserEvent), typeof(ClaimProtocol.IClaimEvent)]);

        var snapshotOptions = new Akka.Persistence.Sql.Hosting.SqlSnapshotOptions(isDefaultPlugin: true)
        {
            ConnectionString = journal.ConnectionString,
            ProviderName = journal.Linq2DbProviderName,
            DataOptions = journal.Linq2DbOptions,
            AutoInitialize = true,
        };
        if (persistence.SchemaName is { } snapshotSchema)
            snapshotOptions.DatabaseOptions = new SnapshotDatabaseOptions(DatabaseMapping.Default) { SchemaName = snapshotSchema };
        builder
            .WithCustomSerializer("akka-users", AkkaUsersSerializer.BoundTypes, system => new AkkaUsersSerializer(system))
            .WithSqlPersistence(Journal(isDefaultPlugin: true, "sql"), snapshotOptions, journalBuilder: Tagged)
            .WithSqlPersistence(Journal(isDefaultPlugin: false, NewUserWriter.JournalPluginName), snapshotOptions: null, journalBuilder: Tagged)
            // No Hosting API for the sequence retrieval's delay, and the refresh interval alone does not shorten the lag.
            .AddHocon(
                $"akka.persistence.query.journal.sql.journal-sequence-retrieval.query-delay = {QueryRefreshInterval.TotalMilliseconds}ms",
                HoconAddMode.Prepend)
            // A cloned connection hands linq2db a mapping schema that it combines afresh for every query (it caches
            // combinations of locked schemas only); connections made from the plugin's one DataOptions reuse the
            // schema the first of them combined.
            .AddHocon(
                $"""
                akka.persistence.journal.sql.use-clone-connection = false
                {NewUserWriter.JournalPluginId}.use-clone-connection = false
                akka.persistence.snapshot-store.sql.use-clone-connection = false
                akka.persistence.query.journal.sql.use-clone-connection = false
                """, HoconAddMode.Prepend);

        // SQLite takes one writer at a time. Reads run in deferred transactions: at any other isolation level
        // Microsoft.Data.Sqlite begins them IMMEDIATE, which takes the write lock, so every entity recovery queued
        // behind the journal's writes and both sides slept out SQLITE_BUSY. In WAL mode a deferred read still sees
        // one committed snapshot ("uncommitted" only matters with a shared cache, which is not used).
        if (journal.Provider == PersistenceProvider.Sqlite)
            builder.AddHocon(
                $"""
                akka.persistence.journal.sql.parallelism = 1
                akka.persistence.journal.sql.read-isolation-level = read-uncommitted
                {NewUserWriter.JournalPluginId}.parallelism = 1
                {NewUserWriter.JournalPluginId}.read-isolation-level = read-uncommitted
                akka.persistence.snapshot-store.sql.read-isolation-level = read-uncommitted
                akka.persistence.query.journal.sql.read-isolation-level = read-uncommitted
                """, HoconAddMode.Prepend);
        return builder;
    }
}
