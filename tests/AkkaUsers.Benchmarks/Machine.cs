namespace AkkaUsers.Benchmarks;

/// <summary>What the numbers were measured on, and how busy it was.</summary>
public static class Machine
{
    public static string Describe()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return $"{Environment.ProcessorCount} cores ({cpu}), {long.Parse(memory) / 1048576} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
               $".NET {Environment.Version}; load average {LoadAverage()}";
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
