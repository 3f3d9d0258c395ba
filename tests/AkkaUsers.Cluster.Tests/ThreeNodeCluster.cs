namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// A <see cref="LocalCluster"/> per test class, on the server named by <see cref="ClusterProfile.ConnectionVariable"/>.
/// Without it nothing starts and every test skips, saying why.
/// </summary>
public sealed class ThreeNodeCluster : IAsyncLifetime
{
    public static readonly string? ServerConnection = Environment.GetEnvironmentVariable(ClusterProfile.ConnectionVariable);

    public static string SkipReason =>
        $"cluster tests skipped: set {ClusterProfile.ConnectionVariable} to a PostgreSQL connection string to run them (.ci/run does)";

    private LocalCluster? _cluster;

    public ClusterNode[] Nodes => _cluster?.Nodes ?? [];

    /// <inheritdoc cref="LocalCluster.RunningNodesByAgeAsync"/>
    public Task<ClusterNode[]> RunningNodesByAgeAsync() => _cluster?.RunningNodesByAgeAsync() ?? Task.FromResult<ClusterNode[]>([]);

    /// <inheritdoc cref="LocalCluster.DatabaseConnection"/>
    public string DatabaseConnection => _cluster?.DatabaseConnection ?? throw new InvalidOperationException("not started");

    public ClusterCertificates Certificates => _cluster?.Certificates ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        if (ServerConnection is not null) _cluster = await LocalCluster.StartAsync(ServerConnection);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
