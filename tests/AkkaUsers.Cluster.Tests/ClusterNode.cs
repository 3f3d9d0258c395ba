using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AkkaUsers.Cluster.Tests;

/// <summary>One real service process on loopback, configured like a cluster node: the shared profile plus its own addresses.</summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;
    private readonly string _logFile;
    private Process? _process;

    public ClusterNode(int index, int akkaPort, string seedNodes, string connectionString, string workDirectory)
    {
        Index = index;
        HttpPort = FreePort();
        _logFile = Path.Combine(workDirectory, $"node{index}.log");
        _environment = new Dictionary<string, string>(ClusterProfile.Load())
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{HttpPort}",
            ["Cluster__Hostname"] = "127.0.0.1",
            ["Cluster__Port"] = akkaPort.ToString(),
            ["Cluster__SeedNodes"] = seedNodes,
            ["Persistence__ConnectionString"] = connectionString,
            ["Jwt__Secret"] = ClusterProfile.JwtSecret,
            ["Storage__DataDirectory"] = Path.Combine(workDirectory, $"node{index}"),
            ["Password__MemoryKiB"] = "8192", // cheaper hashes: these tests are about the cluster, not Argon2
            ["Password__Iterations"] = "1",
        };
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(15) };
    }

    public int Index { get; }
    public int HttpPort { get; }
    public HttpClient Client { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process and waits until /health/ready says it is an Up member with a reachable journal.</summary>
    public async Task StartAsync(TimeSpan? within = null)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "AkkaUsers.Api.dll")])
        {
            WorkingDirectory = AppContext.BaseDirectory,
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
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"node {Index} exited with {_process.ExitCode}:\n{LogTail()}");
            try
            {
                using var ready = await Client.GetAsync("/health/ready");
                if (ready.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200); // poll interval
        }
        throw new TimeoutException($"node {Index} not ready in time:\n{LogTail()}");
    }

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

    /// <summary>SIGKILL: no goodbye to the cluster, no flush.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a node; returns the exit code and how long the exit took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> TerminateAsync(TimeSpan within)
    {
        var process = _process ?? throw new InvalidOperationException("not started");
        var clock = Stopwatch.StartNew();
        if (kill(process.Id, SigTerm) != 0) throw new InvalidOperationException("SIGTERM failed");
        using var limit = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {Index} did not exit within {within}:\n{LogTail()}");
        }
        return (process.ExitCode, clock.Elapsed);
    }

    public string LogTail(int lines = 40) =>
        File.Exists(_logFile) ? string.Join('\n', File.ReadLines(_logFile).TakeLast(lines)) : "(no log)";

    public ValueTask DisposeAsync()
    {
        if (IsRunning) Kill();
        _process?.Dispose();
        Client.Dispose();
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
