namespace AkkaUsers.Harness;

/// <summary>
/// One service process configured like a cluster node: the shared profile plus its own addresses, and
/// <paramref name="settings"/> on top. Without seed nodes it forms a cluster of one. It runs the service built next to
/// the caller, or the one published in <paramref name="serviceDirectory"/>.
/// </summary>
public sealed class ClusterNode(
    int index, int akkaPort, string seedNodes, string connectionString, string workDirectory, IReadOnlyDictionary<string, string>? settings = null,
    string? serviceDirectory = null)
    : ServiceProcess($"node {index}", Path.Combine(serviceDirectory ?? "", "AkkaUsers.Api.dll"), Environment(index, akkaPort, seedNodes, connectionString, workDirectory, settings),
        Path.Combine(workDirectory, $"node{index}.log"), "/health/ready")
{
    public int Index { get; } = index;

    /// <summary>The port of the node's Akka remoting, on 127.0.0.1.</summary>
    public int AkkaPort { get; } = akkaPort;

    /// <summary>The node's remoting address, as the seed list and Akka's log lines name it.</summary>
    public string AkkaAddress => AddressOn(AkkaPort);

    public static string AddressOn(int akkaPort) => $"akka.ssl.tcp://akka-users@127.0.0.1:{akkaPort}";

    private static Dictionary<string, string> Environment(
        int index, int akkaPort, string seedNodes, string connectionString, string workDirectory, IReadOnlyDictionary<string, string>? settings)
    {
        var environment = new Dictionary<string, string>(ClusterProfile.Load())
        {
            ["Cluster__Hostname"] = "127.0.0.1",
            ["Cluster__Port"] = akkaPort.ToString(),
            ["Cluster__SeedNodes"] = seedNodes,
            ["Persistence__ConnectionString"] = connectionString,
            ["Jwt__Secret"] = ClusterProfile.JwtSecret,
            ["Claims__Secret"] = ClusterProfile.ClaimSecret,
            ["Storage__DataDirectory"] = Path.Combine(workDirectory, $"node{index}"),
            ["Password__MemoryKiB"] = "8192", // cheaper hashes: the cluster runs are about the cluster, not Argon2
            ["Password__Iterations"] = "1",
            ["RateLimit__PermitLimit"] = "1000000", // every test client is the one loopback address
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        return environment;
    }
}
