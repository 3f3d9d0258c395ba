using System.Text.RegularExpressions;

namespace AkkaUsers.Harness;

/// <summary>
/// Three service processes on loopback over one fresh PostgreSQL database, every node a seed (node 1 first), their remoting
/// over mutual TLS with a throwaway CA, as the cluster profile requires.
/// </summary>
public sealed partial class LocalCluster : IAsyncDisposable
{
    private readonly string _serverConnection;
    private readonly string? _serviceDirectory;
    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "akka-users-cluster", Guid.NewGuid().ToString("N"));
    private TestDatabase? _database;
    private ClusterCertificates? _certificates;

    private LocalCluster(string serverConnection, string? serviceDirectory)
    {
        _serverConnection = serverConnection;
        _serviceDirectory = serviceDirectory;
    }

    public ClusterNode[] Nodes { get; private set; } = [];

    /// <summary>The cluster's own database, for checks that read the journal.</summary>
    public string DatabaseConnection => _database?.ConnectionString ?? throw new InvalidOperationException("not started");

    /// <summary>The CA the nodes' certificate comes from, and their certificate's files.</summary>
    public ClusterCertificates Certificates => _certificates ?? throw new InvalidOperationException("not started");

    /// <summary>Holds each node's console log (node1.log, ...).</summary>
    public string WorkDirectory => _workDirectory;

    /// <summary>Leave the logs behind on dispose, to find out why a run failed.</summary>
    public bool KeepLogs { get; set; }

    /// <param name="serverConnection">A PostgreSQL server whose user may create databases.</param>
    /// <param name="serviceDirectory">A published service to run (by default the one built next to the caller).</param>
    public static async Task<LocalCluster> StartAsync(string serverConnection, string? serviceDirectory = null)
    {
        var cluster = new LocalCluster(serverConnection, serviceDirectory);
        try
        {
            await cluster.InitializeAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        Directory.CreateDirectory(_workDirectory);
        _database = await TestDatabase.CreateAsync(_serverConnection);
        _certificates = ClusterCertificates.Create(Path.Combine(_workDirectory, "tls"));

        var akkaPorts = Enumerable.Range(0, 3).Select(_ => ServiceProcess.FreePort()).ToArray();
        var seeds = string.Join(',', akkaPorts.Select(ClusterNode.AddressOn));
        Nodes = akkaPorts.Select((port, i) => new ClusterNode(
            i + 1, port, seeds, DatabaseConnection, _workDirectory, _certificates.NodeSettings, _serviceDirectory)).ToArray();
        await Task.WhenAll(Nodes.Select(node => node.StartAsync()));
        await Task.WhenAll(Nodes.Select(node => node.WaitUntilServingAsync()));
    }

    /// <summary>
    /// The running nodes, the oldest member (which hosts the shard coordinators and the singletons) first: in the
    /// order the cluster's leader last moved each of them Up, as their logs tell (a restarted node is Up anew).
    /// A node serves before the leader's line about it may have reached the log, so this waits (up to 30 s) until
    /// every running node is named; a node never named is left out, for the caller to notice.
    /// </summary>
    public async Task<ClusterNode[]> RunningNodesByAgeAsync()
    {
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var byAge = RunningNodesByAgeInLogs();
            if (byAge.Length == Nodes.Count(n => n.IsRunning) || waiting.Elapsed > TimeSpan.FromSeconds(30)) return byAge;
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private ClusterNode[] RunningNodesByAgeInLogs()
    {
        var upSince = new Dictionary<int, (string At, int Line)>();
        foreach (var node in Nodes.Where(n => File.Exists(n.LogFile)))
        {
            var line = 0;
            foreach (var text in File.ReadLines(node.LogFile))
            {
                line++;
                if (MovedUp().Match(text) is { Success: true } up)
                    upSince[int.Parse(up.Groups["port"].Value)] = (up.Groups["at"].Value, line);
            }
        }
        return Nodes.Where(n => n.IsRunning && upSince.ContainsKey(n.AkkaPort))
            .OrderBy(n => upSince[n.AkkaPort].At, StringComparer.Ordinal).ThenBy(n => upSince[n.AkkaPort].Line)
            .ToArray();
    }

    // Akka's leader line, behind the service's UTC timestamp (appsettings.json's console format).
    [GeneratedRegex(@"^(?<at>\d{4}-\d\d-\d\dT[\d:.]+Z) .*Leader is moving node \[[^\]]*:(?<port>\d+)\] to \[Up\]")]
    private static partial Regex MovedUp();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        _certificates?.Dispose();
        if (!KeepLogs && Directory.Exists(_workDirectory)) Directory.Delete(_workDirectory, recursive: true);
    }
}
