using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AkkaUsers.Accounts.Tests;

/// <summary>
/// One node of the service, started through the production wiring (<c>AddNode</c>: the write side's, or with the read side's)
/// in a generic host, on its own data directory. Ready once the node is an Up member of its cluster of one.
/// </summary>
public sealed partial class ActorHost : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly IHost _host;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly bool _tools;
    private bool _stopped;

    private ActorHost(IHost host, string dataDirectory, IReadOnlyDictionary<string, string?> settings, bool tools = false)
    {
        _tools = tools;
        _host = host;
        _settings = settings;
        DataDirectory = dataDirectory;
        System = host.Services.GetRequiredService<ActorSystem>();
        var registry = ActorRegistry.For(System);
        Users = registry.Get<UserActor>();
        Usernames = registry.Get<UsernameIndex>();
        Emails = registry.Get<EmailIndex>();
        Accounts = host.Services.GetRequiredService<UserAccounts>();
    }

    public string DataDirectory { get; }

    /// <summary>The SQLite file of the journal and snapshot store.</summary>
    public string DatabaseFile => Path.Combine(DataDirectory, "akka-users.db");

    public ActorSystem System { get; }

    public IActorRef Users { get; }

    public IActorRef Usernames { get; }

    public IActorRef Emails { get; }

    public UserAccounts Accounts { get; }

    /// <summary>The host's services: the read model, the journal reader, the options, and what a test that wires its own <see cref="UserAccounts"/> needs.</summary>
    public IServiceProvider Services => _host.Services;

    public static string NewDataDirectory() =>
        Path.Combine(Path.GetTempPath(), "akka-users-tests", Guid.NewGuid().ToString("N"));

    /// <summary>For a test class constructor, which cannot await: runs on the thread pool, off xunit's synchronization context.</summary>
    public static ActorHost Start(IReadOnlyDictionary<string, string?>? settings = null) =>
        Task.Run(() => StartAsync(settings)).GetAwaiter().GetResult();

    /// <param name="settings">Configuration on top of the test defaults (e.g. "Entities:ClaimGracePeriod").</param>
    /// <param name="dataDirectory">An existing data directory to start on again; a fresh one when null.</param>
    /// <param name="tools">
    /// The command-line tools' wiring (<see cref="AccountsHosting.AddAccountsTools"/>): the same entities in a local
    /// actor system, with no cluster and no read-model projection.
    /// </param>
    /// <param name="services">More services on top of the wiring's (e.g. a warm-up).</param>
    public static async Task<ActorHost> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null, string? dataDirectory = null, bool tools = false,
        Action<IServiceCollection>? services = null)
    {
        dataDirectory ??= NewDataDirectory();
        settings ??= new Dictionary<string, string?>();
        var configuration = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Password:MemoryKiB"] = "8192",
            ["Password:Iterations"] = "1",
            ["Entities:AskTimeout"] = "00:00:30", // a busy two-core machine must not fail the use cases' asks
        };
        foreach (var (key, value) in settings) configuration[key] = value;

        var host = new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(configuration))
            .ConfigureServices((ctx, s) =>
            {
                if (tools) AddTools(s, ctx.Configuration);
                else AddNode(s, ctx.Configuration);
                services?.Invoke(s);
            })
            .Build();
        try
        {
            using var startLimit = new CancellationTokenSource(StartTimeout);
            await host.StartAsync(startLimit.Token);
            if (!tools) await WaitUntilUp(host.Services.GetRequiredService<ActorSystem>());
            return new ActorHost(host, dataDirectory, settings, tools);
        }
        catch
        {
            await StopQuietly(host);
            host.Dispose();
            throw;
        }
    }

    /// <summary>Stops this node (its actor system included) and starts a new one on the same data directory.</summary>
    public async Task<ActorHost> RestartAsync()
    {
        await StopAsync();
        return await StartAsync(_settings, DataDirectory, _tools);
    }

    /// <summary>Stops the host and its actor system, keeping the data directory. Tolerates an already terminated system.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await StopQuietly(_host);
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        DeleteDataDirectory();
    }

    private static async Task WaitUntilUp(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        var deadline = DateTime.UtcNow + StartTimeout;
        // The callback is the fast path; the status poll covers a member that was Up before it registered.
        while (cluster.SelfMember.Status != MemberStatus.Up)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{cluster.SelfAddress} is not Up after {StartTimeout} (is {cluster.SelfMember.Status})");
            await Task.WhenAny(up.Task, Task.Delay(TimeSpan.FromMilliseconds(50)));
        }
    }

    private static async Task StopQuietly(IHost host)
    {
        try
        {
            using var stopLimit = new CancellationTokenSource(StopTimeout);
            await host.StopAsync(stopLimit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The TestKit may have terminated the actor system already; there is nothing left to stop.
        }
        catch (ArgumentNullException)
        {
            // A host whose start failed before its hosted services were made: the start's own error is the one to see.
        }

        try
        {
            var system = host.Services.GetService<ActorSystem>();
            if (system is not null) await system.Terminate().WaitAsync(StopTimeout);
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            // Never started, or already gone.
        }
    }

    private void DeleteDataDirectory()
    {
        try
        {
            if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp folder; every run uses a fresh one.
        }
    }
}
