namespace AkkaUsers.Harness;

/// <summary>config/cluster.env, the same file docker-compose.yml gives every node.</summary>
public static class ClusterProfile
{
    /// <summary>Made afresh for each run: a secret written in the repository is refused at start.</summary>
    public static readonly string JwtSecret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public const string ClaimSecret = "cluster-tests-claim-secret-shared-by-all-nodes";

    /// <summary>The PostgreSQL server the suite runs against (.ci/run starts a private one and sets this).</summary>
    public const string ConnectionVariable = "AKKAUSERS_TEST_POSTGRES";

    public static IReadOnlyDictionary<string, string> Load()
    {
        var file = Path.Combine(RepositoryRoot(), "config", "cluster.env");
        return File.ReadLines(file)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "AkkaUsers.sln"))) return folder.FullName;
        throw new InvalidOperationException("AkkaUsers.sln not found above the test assembly");
    }
}
