using System.Diagnostics.Metrics;

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

    public AkkaUsersMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
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
            "akka_users.journal.write_duration", "s", "Time from an entity's persist call to its handler (the journal write), by entity", advice: Seconds);
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

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
