using AkkaUsers.Harness;

namespace AkkaUsers.Soak;

/// <summary>
/// dotnet run -c Release --project tests/AkkaUsers.Soak -- [--duration 10m] [--workers 6] [--postgres "Host=..."]
/// The PostgreSQL connection string defaults to the cluster tests' variable. Exits 1 on any loss or violation.
/// </summary>
public static class SoakProgram
{
    public static async Task<int> Main(string[] args)
    {
        var duration = TimeSpan.FromMinutes(10);
        var workers = 6;
        var postgres = Environment.GetEnvironmentVariable(ClusterProfile.ConnectionVariable);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--duration": duration = ParseDuration(args[i + 1]); break;
                case "--workers": workers = int.Parse(args[i + 1]); break;
                case "--postgres": postgres = args[i + 1]; break;
                default: return Usage($"unknown option {args[i]}");
            }
        }
        if (args.Length % 2 != 0) return Usage($"{args[^1]} needs a value");
        if (string.IsNullOrWhiteSpace(postgres)) return Usage($"--postgres or {ClusterProfile.ConnectionVariable} is required");

        var report = await SoakRun.RunAsync(new SoakSettings(postgres, duration, workers), Console.WriteLine);
        Console.WriteLine();
        Console.Write(report);
        return report.Passed ? 0 : 1;
    }

    /// <summary>"90s", "10m", "1h", or a TimeSpan such as 00:10:00.</summary>
    private static TimeSpan ParseDuration(string text) => text[^1] switch
    {
        's' => TimeSpan.FromSeconds(double.Parse(text[..^1])),
        'm' => TimeSpan.FromMinutes(double.Parse(text[..^1])),
        'h' => TimeSpan.FromHours(double.Parse(text[..^1])),
        _ => TimeSpan.Parse(text),
    };

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"{problem}\nusage: AkkaUsers.Soak [--duration 10m] [--workers 6] [--postgres <Npgsql connection string>]");
        return 2;
    }
}
