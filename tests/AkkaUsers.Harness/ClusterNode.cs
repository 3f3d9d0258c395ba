namespace AkkaUsers.Harness;

/// <summary>One service process configured like a cluster node: the shared profile plus its own addresses.</summary>
public sealed class ClusterNode(int index, int akkaPort, string seedNodes, string connectionString, string workDirectory)
    : ServiceProcess($"node {index}", "AkkaUsers.Api.dll", Environment(index, akkaPort, seedNodes, connectionString, workDirectory),
        Path.Combine(workDirectory, $"node{index}.log"), "/health/ready")
{
    public int Index { get; } = index;

    /// <summary>
    /// Waits until this node answers a sign-in with a real verdict (401 for nobody) instead of a 503:
    /// its regions found their shard coordinators and the journal answered through them.
    /// </summary>
    public async Task WaitUntilServingAsync(TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (await Accounts.StatusOf(() => this.SignIn("nobody-" + Guid.NewGuid().ToString("N"))) != 401)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node {Index} does not serve:\n{LogTail()}");
            await Task.Delay(200); // poll interval
        }
    }

    private static Dictionary<string, string> Environment(int index, int akkaPort, string seedNodes, string connectionString, string workDirectory) =>
        new(ClusterProfile.Load())
        {
            ["Cluster__Hostname"] = "127.0.0.1",
            ["Cluster__Port"] = akkaPort.ToString(),
            ["Cluster__SeedNodes"] = seedNodes,
            ["Persistence__ConnectionString"] = connectionString,
            ["Jwt__Secret"] = ClusterProfile.JwtSecret,
            ["Storage__DataDirectory"] = Path.Combine(workDirectory, $"node{index}"),
            ["Password__MemoryKiB"] = "8192", // cheaper hashes: the cluster runs are about the cluster, not Argon2
            ["Password__Iterations"] = "1",
        };
}
