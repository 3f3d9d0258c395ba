using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AkkaUsers.Harness;

/// <summary>
/// A built web service (an assembly next to the caller's own) as a real process on a free loopback port:
/// started, polled until ready, killed or terminated by its own pid, its console kept in a log file.
/// </summary>
public class ServiceProcess : IAsyncDisposable
{
    private readonly string _assembly;
    private readonly string _readyPath;
    private readonly Dictionary<string, string> _environment;
    private readonly string _logFile;
    private Process? _process;

    /// <param name="assembly">The service's dll: its file name in the caller's base directory, or a path. It runs in its own folder.</param>
    /// <param name="environment">The service's settings on top of its URL.</param>
    /// <param name="readyPath">Polled until it answers 200.</param>
    public ServiceProcess(string name, string assembly, IReadOnlyDictionary<string, string> environment, string logFile, string readyPath)
    {
        Name = name;
        _assembly = assembly;
        _readyPath = readyPath;
        _logFile = logFile;
        HttpPort = FreePort();
        _environment = new Dictionary<string, string>(environment) { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{HttpPort}" };
        // Longer than the cluster profile's ask time-out, so that a request held through a failover is answered, not cut.
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Name { get; }
    public int HttpPort { get; }
    public HttpClient Client { get; }
    public bool IsRunning => _process is { HasExited: false };
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"{Name} not started");

    /// <summary>The process's console output, kept over restarts.</summary>
    public string LogFile => _logFile;

    /// <summary>Starts the process and waits until the ready path answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> StartAsync(TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        var assembly = Path.Combine(AppContext.BaseDirectory, _assembly);
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        _process = Process.Start(start)!;
        var log = new StreamWriter(_logFile, append: true) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.Exited += (_, _) => { lock (log) log.Flush(); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        var lastAnswer = "nothing: not listening";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{LogTail()}");
            try
            {
                using var ready = await Client.GetAsync(_readyPath);
                if (ready.StatusCode == HttpStatusCode.OK) return clock.Elapsed;
                lastAnswer = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(50); // poll interval
        }
        throw new TimeoutException($"{Name} not ready in time; {_readyPath} last answered {lastAnswer}\n{LogTail()}");
    }

    /// <summary>SIGKILL: no goodbye, no flush.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a service; returns the exit code and how long the exit took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> TerminateAsync(TimeSpan within)
    {
        var process = _process ?? throw new InvalidOperationException($"{Name} not started");
        var clock = Stopwatch.StartNew();
        // A process that already ended on its own (a node the cluster downed exits) has nothing left to stop.
        if (kill(process.Id, SigTerm) != 0 && !process.HasExited) throw new InvalidOperationException("SIGTERM failed");
        using var limit = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Name} did not exit within {within}:\n{LogTail()}");
        }
        return (process.ExitCode, clock.Elapsed);
    }

    /// <summary>The process's resident set size (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{ProcessId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>The CPU time (user and system) the process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        using var process = Process.GetProcessById(ProcessId);
        return process.TotalProcessorTime;
    }

    /// <summary>The log's last lines, without the request lines of the ready path's polls, which would crowd out the rest.</summary>
    public string LogTail(int lines = 40) =>
        File.Exists(_logFile)
            ? string.Join('\n', File.ReadLines(_logFile).Where(line => !line.Contains($"Path: {_readyPath} ")).TakeLast(lines))
            : "(no log)";

    public ValueTask DisposeAsync()
    {
        if (IsRunning) Kill();
        _process?.Dispose();
        Client.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
