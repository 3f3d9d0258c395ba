namespace AkkaUsers.Benchmarks;

/// <summary>What the numbers were measured on, and how busy it was.</summary>
public static class Machine
{
    public static string Describe()
    {
        var cpuinfo = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList(); // the first core's entry
        var cpu = cpuinfo.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return $"{Environment.ProcessorCount} cores ({cpu}), {long.Parse(memory) / 1048576} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
               $"kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()} ({KernelEntryCost(cpuinfo)}), " +
               $".NET {Environment.Version}, transparent huge pages {TransparentHugePages()}; load average {LoadAverage()}";
    }

    /// <summary>
    /// What makes each page fault and system call dear on a virtual machine: with page-table isolation and no PCID,
    /// every entry into the kernel empties the core's TLB. Libsodium's page faults cost several times more there.
    /// </summary>
    private static string KernelEntryCost(List<string> cpuinfo)
    {
        const string meltdown = "/sys/devices/system/cpu/vulnerabilities/meltdown";
        var flags = cpuinfo.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        var pti = File.ReadAllText("/proc/cmdline").Split(' ').Contains("pti=on")
                  || (File.Exists(meltdown) && File.ReadAllText(meltdown).Contains("PTI", StringComparison.Ordinal));
        return $"page-table isolation {(pti ? "on" : "off")}, PCID {(flags.Contains("pcid") ? "yes" : "no")}";
    }

    /// <summary>
    /// The kernel's transparent huge page mode ("always", "madvise" or "never"). Argon2id's memory comes from an
    /// anonymous mapping that libsodium never advises, so only "always" backs it with huge pages; on some virtual
    /// machines that triples the hashing rate (see docs/performance.md, Transparent huge pages).
    /// </summary>
    public static string TransparentHugePages()
    {
        const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!File.Exists(setting)) return "unknown";
        var modes = File.ReadAllText(setting).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return modes.FirstOrDefault(m => m.StartsWith('['))?.Trim('[', ']') ?? "unknown";
    }

    /// <summary>How much of this process's anonymous memory the kernel backs with huge pages.</summary>
    public static long AnonymousHugePagesKiB() =>
        File.ReadLines("/proc/self/smaps_rollup").Where(l => l.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).SingleOrDefault();

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
