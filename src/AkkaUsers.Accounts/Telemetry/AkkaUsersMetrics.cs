using System.Diagnostics.Metrics;
using Akka.Cluster;

namespace AkkaUsers.Accounts.Telemetry;

/// <summary>
/// Every meter of the service, in one place so that the table in docs/operations.md (Metrics) and this file can be read side by side.
/// The meter comes from the host's <see cref="IMeterFactory"/>, so each host (and each test's host) has its own.
/// </summary>
public sealed class AkkaUsersMetrics
{
    /// <summary>The meter's name, and the name of the service's activity source.</summary>
    public const string Name = "AkkaUsers";

    /// <summary>
    /// Bucket bounds in seconds (those of ASP.NET Core's request duration): the SDK's default bounds are meant
    /// for milliseconds and would put every hash and write in the first bucket.
    /// </summary>
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    private readonly Counter<long> _registrations;
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _askTimeouts;
    private readonly Histogram<double> _passwordQueueWait;
    private readonly Histogram<double> _passwordDuration;
    private readonly UpDownCounter<long> _entitiesAlive;
    private readonly Histogram<double> _journalWrite;
    private readonly Counter<long> _lockouts;
    private readonly Counter<long> _resetCodeDeliveries;
    private readonly Counter<long> _forgotPasswordDropped;
    private readonly Meter _meter;

    public AkkaUsersMetrics(IMeterFactory meters)
    {
        var meter = _meter = meters.Create(Name);
        _registrations = meter.CreateCounter<long>(
            "akka_users.registrations", "{registration}", "Accounts created (POST /user answered 201)");
        _signIns = meter.CreateCounter<long>(
            "akka_users.sign_ins", "{sign_in}", "Sign-ins by outcome: succeeded or failed (bad credentials of any kind)");
        _conflicts = meter.CreateCounter<long>(
            "akka_users.conflicts", "{conflict}", "Registrations refused with 409 because the username or email is taken, by field");
        _askTimeouts = meter.CreateCounter<long>(
            "akka_users.ask_timeouts", "{timeout}", "Asks to an entity that did not answer within Entities:AskTimeout (answered 503), by entity");
        _passwordQueueWait = meter.CreateHistogram<double>(
            "akka_users.password.queue_wait", "s", "Time a password hash or verification waited for a hashing slot, by operation", advice: Seconds);
        _passwordDuration = meter.CreateHistogram<double>(
            "akka_users.password.duration", "s", "Time a password hash or verification took once it had a slot, by operation", advice: Seconds);
        _entitiesAlive = meter.CreateUpDownCounter<long>(
            "akka_users.entities.alive", "{entity}", "Entities running on this node (not passivated), by entity");
        _journalWrite = meter.CreateHistogram<double>(
            "akka_users.journal.write_duration", "s",
            "Time an entity's events took to be stored (its persist call to its handler, or a new user's one write), by entity", advice: Seconds);
        _lockouts = meter.CreateCounter<long>(
            "akka_users.lockouts", "{lockout}", "Sign-in lockouts started, by scope: the whole account, or one client address of it");
        _resetCodeDeliveries = meter.CreateCounter<long>(
            "akka_users.forgot_password.deliveries", "{delivery}", "Password reset codes handed to the webhook, by outcome: delivered, failed or not_configured");
        _forgotPasswordDropped = meter.CreateCounter<long>(
            "akka_users.forgot_password.dropped", "{request}", "Forgot-password requests dropped because the queue was full");

        // The thread pool's current size and backlog as gauges: the runtime's own meter types them as counters.
        meter.CreateObservableGauge("dotnet.thread_pool.threads", () => ThreadPool.ThreadCount, "{thread}", "Thread pool threads that exist now");
        meter.CreateObservableGauge("dotnet.thread_pool.queued_work_items", () => ThreadPool.PendingWorkItemCount, "{work_item}",
            "Work items queued to the thread pool and not yet started");

        // Every counter series exists from the start at 0, so that a rate over it is defined before the first event.
        _registrations.Add(0);
        foreach (var outcome in new[] { "succeeded", "failed" }) _signIns.Add(0, Tag("outcome", outcome));
        foreach (var field in new[] { "username", "email" }) _conflicts.Add(0, Tag("field", field));
        foreach (var entity in Entities) _askTimeouts.Add(0, Tag("entity", entity));
        foreach (var scope in new[] { "account", "address" }) _lockouts.Add(0, Tag("scope", scope));
        foreach (var outcome in new[] { "delivered", "failed", "not_configured" }) _resetCodeDeliveries.Add(0, Tag("outcome", outcome));
        _forgotPasswordDropped.Add(0);
    }

    private static readonly string[] Entities = ["user", "username", "email"];

    /// <summary>Hashing slots in use (of Password:MaxConcurrency) and hashes or verifications waiting for one.</summary>
    public void ObservePasswordHashing(Func<int> slotsBusy, Func<int> waiting)
    {
        _meter.CreateObservableGauge("akka_users.password.slots_busy", slotsBusy, "{slot}", "Hashing slots in use now");
        _meter.CreateObservableGauge("akka_users.password.queue_length", waiting, "{operation}",
            "Password hashes and verifications waiting for a hashing slot now");
    }

    /// <summary>Valid forgot-password requests queued for the worker.</summary>
    public void ObserveForgotPasswordQueue(Func<int> depth) =>
        _meter.CreateObservableGauge("akka_users.forgot_password.queue_depth", depth, "{request}", "Forgot-password requests waiting for the worker now");

    /// <summary>The cluster as this node sees it: members by status (every status, 0 included) and unreachable members.</summary>
    public void ObserveCluster(Cluster cluster)
    {
        _meter.CreateObservableGauge("akka_users.cluster.members", () =>
        {
            var members = cluster.State.Members;
            return Enum.GetValues<MemberStatus>().Select(status =>
                new Measurement<int>(members.Count(m => m.Status == status), Tag("status", status.ToString().ToLowerInvariant())));
        }, "{member}", "Cluster members as this node sees them, by status");
        _meter.CreateObservableGauge("akka_users.cluster.unreachable_members", () => cluster.State.Unreachable.Count, "{member}",
            "Cluster members this node's failure detector marks unreachable");
    }

    /// <summary>How far the users read model is behind the journal: its unprojected events, and the age of the oldest.</summary>
    public void ObserveReadModelLag(Func<(long Events, TimeSpan Age)?> lag)
    {
        _meter.CreateObservableGauge("akka_users.read_model.lag_events", () => lag() is { } l ? [new Measurement<long>(l.Events)] : Array.Empty<Measurement<long>>(),
            "{event}", "User events in the journal that the users read model has not applied yet");
        _meter.CreateObservableGauge("akka_users.read_model.lag", () => lag() is { } l ? [new Measurement<double>(l.Age.TotalSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest user event the users read model has not applied yet (0 when it is caught up)");
    }

    public void Registered() => _registrations.Add(1);

    public void SignedIn(bool succeeded) => _signIns.Add(1, Tag("outcome", succeeded ? "succeeded" : "failed"));

    /// <param name="field">"username" or "email"</param>
    public void Conflict(string field) => _conflicts.Add(1, Tag("field", field));

    /// <param name="entity">"user", "username" or "email"</param>
    public void AskTimedOut(string entity) => _askTimeouts.Add(1, Tag("entity", entity));

    /// <param name="operation">"hash", "verify" or "warm-up"</param>
    public void PasswordWorked(string operation, TimeSpan queueWait, TimeSpan duration)
    {
        _passwordQueueWait.Record(queueWait.TotalSeconds, Tag("operation", operation));
        _passwordDuration.Record(duration.TotalSeconds, Tag("operation", operation));
    }

    public void EntityStarted(string entity) => _entitiesAlive.Add(1, Tag("entity", entity));

    public void EntityStopped(string entity) => _entitiesAlive.Add(-1, Tag("entity", entity));

    public void JournalWritten(string entity, TimeSpan duration) => _journalWrite.Record(duration.TotalSeconds, Tag("entity", entity));

    /// <param name="scope">"account" or "address"</param>
    public void LockedOut(string scope) => _lockouts.Add(1, Tag("scope", scope));

    /// <param name="outcome">"delivered", "failed" or "not_configured"</param>
    public void ResetCodeDelivered(string outcome) => _resetCodeDeliveries.Add(1, Tag("outcome", outcome));

    public void ForgotPasswordDropped() => _forgotPasswordDropped.Add(1);

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
