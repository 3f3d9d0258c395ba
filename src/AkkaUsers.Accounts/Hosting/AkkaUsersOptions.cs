using System.Text;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Accounts.Hosting;

public enum PersistenceProvider { Sqlite, PostgreSql }

/// <summary>Fastest: the owned-memory engine (with AVX-512 where the CPU has it) where the CPU has AVX2 and it computes RFC 9106's test vector right, else libsodium (Isopoh for p > 1).</summary>
public enum PasswordEngine { Fastest, Libsodium, Managed, Owned }

/// <summary>"Storage": where the node keeps its files.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Holds the SQLite journal and, when no JWT secret is configured, the generated one.</summary>
    public string DataDirectory { get; init; } = "data";

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}

/// <summary>"Claims": the secret of the keyed digests that the username and email index journals hold instead of the keys.</summary>
public sealed class ClaimsOptions
{
    public const string Section = "Claims";

    /// <summary>The file in the data directory that holds the secret made on first start when none is configured.</summary>
    public const string SecretFileName = "claim-secret";

    /// <summary>At least 32 bytes, the same on every node; null makes one on first start and keeps it in the data directory.</summary>
    public string? Secret { get; init; }

    public ClaimDigests CreateDigests(StorageOptions storage) =>
        new(Encoding.UTF8.GetBytes(Secret ?? PrivateFiles.ReadOrCreateSecret(storage.FullDataDirectory, SecretFileName)));
}

/// <summary>The keyed digests (<see cref="Keys.KeyedDigest"/>) of normalized keys under the deployment's claim secret.</summary>
public sealed class ClaimDigests(byte[] secret)
{
    public string Of(string normalizedKey) => Keys.KeyedDigest(secret, normalizedKey);
}

/// <summary>The claim secret's rules; apart from <see cref="AkkaUsersOptionsValidation"/>, which validates the cluster options it reads.</summary>
public sealed class ClaimsOptionsValidation(IOptions<ClusterNodeOptions> cluster) : IValidateOptions<ClaimsOptions>
{
    /// <summary>The secret's value never appears in a message.</summary>
    public ValidateOptionsResult Validate(string? name, ClaimsOptions o) => AkkaUsersOptionsValidation.Check(
        // A generated secret is per node: the nodes' claim events would name one key by different digests.
        (o.Secret is null && cluster.Value.SeedNodeList.Length > 0,
            $"{ClaimsOptions.Section}:Secret is required when {ClusterNodeOptions.Section}:SeedNodes is set (every node must use the same secret)"),
        (o.Secret is { } secret && Encoding.UTF8.GetByteCount(secret) < 32, $"{ClaimsOptions.Section}:Secret must be at least 32 bytes"));
}

/// <summary>"Persistence": the journal and snapshot store.</summary>
public sealed class PersistenceOptions
{
    public const string Section = "Persistence";

    public PersistenceProvider Provider { get; init; } = PersistenceProvider.Sqlite;

    /// <summary>Overrides the default, which for SQLite is a file in the data directory.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The database schema of the journal tables (PostgreSQL); null uses the connection's default.</summary>
    public string? SchemaName { get; init; }

    /// <summary>A user entity saves a snapshot every this many events, so a busy user recovers fast.</summary>
    public int SnapshotEvery { get; init; } = 100;

    public string ResolveConnectionString(StorageOptions storage) =>
        ConnectionString ?? Provider switch
        {
            PersistenceProvider.Sqlite => $"Data Source={Path.Combine(storage.FullDataDirectory, "akka-users.db")}",
            _ => throw new InvalidOperationException($"{Section}:ConnectionString is required for {Provider}"),
        };
}

/// <summary>"Entities": the lifetimes and time limits of the actors behind the API.</summary>
public sealed class EntityOptions
{
    public const string Section = "Entities";

    /// <summary>An idle entity stops after this long; its state comes back from the journal on the next message.</summary>
    public TimeSpan PassivateIdleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a claim waits for its user to be registered before a newcomer may challenge it.</summary>
    public TimeSpan ClaimGracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request waits for an entity before it answers 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An ask unanswered this long is sent again (a message to a node that just died is lost); shorter brings a
    /// request back sooner after a failover, but repeats more commands to an entity that is merely slow.
    /// </summary>
    public TimeSpan ResendAfter { get; init; } = UserAccounts.DefaultResendAfter;
}

/// <summary>"SignIn": when failed sign-ins lock an account (see <see cref="SignInPolicy"/>).</summary>
public sealed class SignInOptions
{
    public const string Section = "SignIn";

    public int MaxFailures { get; init; } = SignInPolicy.Default.MaxFailures;
    public TimeSpan FailureWindow { get; init; } = SignInPolicy.Default.Window;
    public TimeSpan LockoutDelay { get; init; } = SignInPolicy.Default.FirstLockout;
    public TimeSpan MaxLockoutDelay { get; init; } = SignInPolicy.Default.MaxLockout;

    /// <summary>Failures from all addresses within the window that lock every address out (the account-wide backstop).</summary>
    public int AccountMaxFailures { get; init; } = SignInPolicy.Default.AccountMaxFailures;

    public SignInPolicy Policy => new(MaxFailures, FailureWindow, LockoutDelay, MaxLockoutDelay, AccountMaxFailures);
}

/// <summary>
/// "Cluster": this node's Akka.Remote endpoint and how it finds the others. Lists are comma-separated,
/// so every key is one environment variable. A node without seed nodes forms a cluster of one.
/// </summary>
public sealed class ClusterNodeOptions
{
    public const string Section = "Cluster";

    /// <summary>The address to bind (0.0.0.0 in a container).</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>The address other nodes reach this one at; defaults to <see cref="Hostname"/>.</summary>
    public string? PublicHostname { get; init; }

    /// <summary>0 picks a free port, which suits a cluster of one; a cluster needs a fixed one.</summary>
    public int Port { get; init; }

    /// <summary>
    /// e.g. "akka.ssl.tcp://akka-users@node1:4053,akka.ssl.tcp://akka-users@node2:4053" (akka.tcp:// with
    /// Cluster:Tls:Disabled); empty = cluster of one.
    /// </summary>
    public string SeedNodes { get; init; } = "";

    public string Roles { get; init; } = "";

    /// <summary>How long the split-brain resolver waits for a stable view before it downs unreachable nodes.</summary>
    public TimeSpan DownUnreachableAfter { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long sharding and the singletons wait after a node is downed before they start its work elsewhere
    /// (Akka's down-removal-margin); null waits <see cref="DownUnreachableAfter"/>, Akka's default.
    /// </summary>
    public TimeSpan? DownRemovalMargin { get; init; }

    /// <summary>How often the nodes send each other heartbeats (the failure detector's heartbeat-interval).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long heartbeats may stop before a node is marked unreachable (acceptable-heartbeat-pause).</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How the nodes prove to each other that they belong to this cluster.</summary>
    public ClusterTlsOptions Tls { get; init; } = new();

    /// <summary>
    /// How long after a member's last heartbeat the others have surely removed it: the failure detector's pause, the
    /// resolver's stable view, a tick each of the reaper and the leader (0.5 s), and a few seconds for the removal to
    /// reach every node's remoting.
    /// </summary>
    public TimeSpan DeadMemberRemovedWithin =>
        HeartbeatInterval + AcceptableHeartbeatPause + DownUnreachableAfter + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(3);

    public string[] SeedNodeList => Split(SeedNodes);

    /// <summary>Other hosts can reach this node's remoting: it has seed nodes or binds an address that is not loopback.</summary>
    public bool IsExposed => SeedNodeList.Length > 0 || !IsLoopback(Hostname);

    /// <summary>The remoting addresses' scheme: akka.ssl.tcp when the transport is TLS.</summary>
    public string Scheme => Tls.IsEnabled ? "akka.ssl.tcp" : "akka.tcp";

    public string[] RoleList => Split(Roles);

    private static string[] Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}

/// <summary>
/// "Cluster:Tls": Akka remoting over mutual TLS. Every node presents a certificate issued by the cluster's CA and
/// accepts a peer (inbound or outbound) only if the peer's certificate chains to that CA; host names are not
/// checked, so holding a certificate from the CA is what makes a process a member. Required when the node is
/// reachable from other hosts (seed nodes, or a bind address that is not loopback) unless <see cref="Disabled"/>.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Cluster:Tls";

    /// <summary>A PKCS#12 (.pfx) file with this node's certificate and its private key; unset = no TLS.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>The password of <see cref="CertificatePath"/>; unset = a file without a password.</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>The cluster CA's certificate (PEM or DER), the only trust anchor for peers' certificates.</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>Runs an exposed node's remoting in plain TCP, unauthenticated: only for a network nothing else can reach.</summary>
    public bool Disabled { get; init; }

    public bool IsEnabled => !Disabled && !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>"Password": the password policy and the Argon2id engine and cost.</summary>
public sealed class PasswordOptions
{
    public const string Section = "Password";

    public int MinLength { get; init; } = 6;
    public int MaxLength { get; init; } = 1024;

    /// <summary>New passwords that are among the 10,000 most common are refused. Off by default: "abc321" is Appmixer's example.</summary>
    public bool RejectCommon { get; init; }

    public PasswordEngine Engine { get; init; } = PasswordEngine.Fastest;
    public int MemoryKiB { get; init; } = 19456;
    public int Iterations { get; init; } = 2;
    public int Parallelism { get; init; } = 1;

    /// <summary>Hashes computed at once; more requests queue.</summary>
    public int MaxConcurrency { get; init; } = Environment.ProcessorCount;

    public Argon2Parameters Argon2 => new(MemoryKiB, Iterations, Parallelism);

    /// <summary>What every new password must meet.</summary>
    public PasswordPolicy Policy => new(MinLength, MaxLength, RejectCommon);

    /// <summary>The configured engine, and why it is the one, for the log.</summary>
    public (IPasswordHasher Hasher, string Why) CreateHasher() => Engine switch
    {
        PasswordEngine.Managed => (new ManagedArgon2Hasher(Argon2), "configured"),
        PasswordEngine.Libsodium => (new LibsodiumArgon2Hasher(Argon2), "configured"),
        PasswordEngine.Owned => (CreateOwned(Argon2idCore.Fastest), "configured"),
        _ when Argon2idCore.Fastest is not Argon2Instructions.Scalar and var vectors && OwnedMemoryArgon2Hasher.PassesSelfCheck(vectors) =>
            (CreateOwned(vectors), $"the fastest: {vectors}, and the RFC 9106 test vector computed right"),
        _ when Parallelism == 1 => (new LibsodiumArgon2Hasher(Argon2), "the fastest without AVX2 or with the owned engine's self-check failed"),
        _ => (new ManagedArgon2Hasher(Argon2), "the fastest for more than one lane without AVX2 or with the owned engine's self-check failed"),
    };

    private OwnedMemoryArgon2Hasher CreateOwned(Argon2Instructions instructions)
    {
        var owned = new OwnedMemoryArgon2Hasher(Argon2, MaxConcurrency, instructions);
        if (owned.PassesSelfCheck())
            return owned;
        owned.Dispose();
        throw new InvalidOperationException(
            $"The owned-memory Argon2id engine computes RFC 9106's test vector wrong on this CPU: set {Section}:Engine to Libsodium or Managed");
    }
}

/// <summary>Each failure names the configuration key that is wrong, so a bad start says what to fix.</summary>
public sealed class AkkaUsersOptionsValidation :
    IValidateOptions<PersistenceOptions>, IValidateOptions<EntityOptions>,
    IValidateOptions<PasswordOptions>, IValidateOptions<ClusterNodeOptions>, IValidateOptions<SignInOptions>
{
    public ValidateOptionsResult Validate(string? name, PersistenceOptions o) => Check(
        (!Enum.IsDefined(o.Provider), $"{PersistenceOptions.Section}:Provider must be Sqlite or PostgreSql"),
        (o.Provider != PersistenceProvider.Sqlite && string.IsNullOrWhiteSpace(o.ConnectionString),
            $"{PersistenceOptions.Section}:ConnectionString is required when {PersistenceOptions.Section}:Provider is {o.Provider}"),
        (o.SnapshotEvery < 2, $"{PersistenceOptions.Section}:SnapshotEvery must be at least 2 (is {o.SnapshotEvery})"));

    public ValidateOptionsResult Validate(string? name, EntityOptions o) => Check(
        (o.PassivateIdleAfter <= TimeSpan.Zero, $"{EntityOptions.Section}:PassivateIdleAfter must be positive"),
        (o.ClaimGracePeriod <= TimeSpan.Zero, $"{EntityOptions.Section}:ClaimGracePeriod must be positive"),
        (o.AskTimeout <= TimeSpan.Zero, $"{EntityOptions.Section}:AskTimeout must be positive"),
        (o.ResendAfter <= TimeSpan.Zero, $"{EntityOptions.Section}:ResendAfter must be positive"));

    public ValidateOptionsResult Validate(string? name, ClusterNodeOptions o) => Check(
        (string.IsNullOrWhiteSpace(o.Hostname), $"{ClusterNodeOptions.Section}:Hostname must not be empty"),
        (o.Port is < 0 or > 65535, $"{ClusterNodeOptions.Section}:Port must be between 0 and 65535 (is {o.Port})"),
        (o.SeedNodeList.Length > 0 && o.Port == 0, $"{ClusterNodeOptions.Section}:Port must be fixed when {ClusterNodeOptions.Section}:SeedNodes is set"),
        (o.SeedNodeList.Any(seed => !seed.StartsWith($"{o.Scheme}://{AccountsHosting.ActorSystemName}@", StringComparison.Ordinal)),
            $"{ClusterNodeOptions.Section}:SeedNodes must be {o.Scheme}://{AccountsHosting.ActorSystemName}@host:port addresses"
            + (o.Tls.IsEnabled ? $" ({ClusterTlsOptions.Section} is on)" : "")),
        (o.DownUnreachableAfter <= TimeSpan.Zero, $"{ClusterNodeOptions.Section}:DownUnreachableAfter must be positive"),
        (o.DownRemovalMargin <= TimeSpan.Zero, $"{ClusterNodeOptions.Section}:DownRemovalMargin must be positive"),
        (o.HeartbeatInterval <= TimeSpan.Zero, $"{ClusterNodeOptions.Section}:HeartbeatInterval must be positive"),
        (o.AcceptableHeartbeatPause < o.HeartbeatInterval,
            $"{ClusterNodeOptions.Section}:AcceptableHeartbeatPause must be at least {ClusterNodeOptions.Section}:HeartbeatInterval"));

    public ValidateOptionsResult Validate(string? name, PasswordOptions o) => Check(
        (o.MinLength < 1, $"{PasswordOptions.Section}:MinLength must be at least 1 (is {o.MinLength})"),
        (o.MaxLength < o.MinLength || o.MaxLength > 4096,
            $"{PasswordOptions.Section}:MaxLength must be between {PasswordOptions.Section}:MinLength and 4096 (is {o.MaxLength})"),
        (!Enum.IsDefined(o.Engine), $"{PasswordOptions.Section}:Engine must be Fastest, Owned, Libsodium or Managed"),
        (o.MemoryKiB < 8192, $"{PasswordOptions.Section}:MemoryKiB must be at least 8192 (is {o.MemoryKiB})"),
        (o.Iterations < 1, $"{PasswordOptions.Section}:Iterations must be at least 1 (is {o.Iterations})"),
        (o.Parallelism < 1, $"{PasswordOptions.Section}:Parallelism must be at least 1 (is {o.Parallelism})"),
        (o.Engine == PasswordEngine.Libsodium && o.Parallelism != 1,
            $"{PasswordOptions.Section}:Parallelism must be 1 with {PasswordOptions.Section}:Engine Libsodium (libsodium computes one lane)"),
        (o.MaxConcurrency < 1, $"{PasswordOptions.Section}:MaxConcurrency must be at least 1 (is {o.MaxConcurrency})"));

    public ValidateOptionsResult Validate(string? name, SignInOptions o) => Check(
        (o.MaxFailures is < 1 or > SignInPolicy.MaxRememberedFailures,
            $"{SignInOptions.Section}:MaxFailures must be between 1 and {SignInPolicy.MaxRememberedFailures} (is {o.MaxFailures})"),
        (o.AccountMaxFailures < o.MaxFailures || o.AccountMaxFailures > SignInPolicy.MaxRememberedFailures,
            $"{SignInOptions.Section}:AccountMaxFailures must be between {SignInOptions.Section}:MaxFailures and {SignInPolicy.MaxRememberedFailures} (is {o.AccountMaxFailures})"),
        (o.FailureWindow <= TimeSpan.Zero, $"{SignInOptions.Section}:FailureWindow must be positive"),
        (o.LockoutDelay <= TimeSpan.Zero, $"{SignInOptions.Section}:LockoutDelay must be positive"),
        (o.MaxLockoutDelay < o.LockoutDelay, $"{SignInOptions.Section}:MaxLockoutDelay must be at least {SignInOptions.Section}:LockoutDelay"));

    public static ValidateOptionsResult Check(params (bool Failed, string Message)[] rules)
    {
        var failures = rules.Where(rule => rule.Failed).Select(rule => rule.Message).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
