using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>The PostgreSQL server that the benchmarks which need one make their databases on.</summary>
public static class PostgresServer
{
    /// <summary>
    /// The connection string in AKKAUSERS_TEST_POSTGRES; null once standard error has said to set it, so that the
    /// command can exit with 2.
    /// </summary>
    /// <param name="option">The command-line option that asked for PostgreSQL, to name in the message; null when the command always needs it.</param>
    public static string? FromEnvironment(string? option = null)
    {
        if (Environment.GetEnvironmentVariable(ClusterProfile.ConnectionVariable) is { } server) return server;
        Console.Error.WriteLine($"{(option is null ? "" : option + ": ")}set {ClusterProfile.ConnectionVariable} to a PostgreSQL connection string whose user may create databases");
        return null;
    }
}
