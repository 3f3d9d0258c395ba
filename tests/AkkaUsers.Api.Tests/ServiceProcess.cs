using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// The built service as a real process on a fresh data directory and any free port, for what only a process
/// shows: its exit code and what it writes to its console. Disposing kills it if it still runs and deletes its data.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>A loopback port nothing listens on at the moment.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly Channel<string> _output = Channel.CreateUnbounded<string>();
    private readonly Task<string> _error;

    /// <param name="environment">Variables on top of the data directory and the URL (ASP.NET's Section__Key form).</param>
    public ServiceProcess(IReadOnlyDictionary<string, string> environment)
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["Storage__DataDirectory"] = _dataDirectory,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            },
        };
        foreach (var (variable, value) in environment) start.Environment[variable] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null) _output.Writer.TryComplete();
            else _output.Writer.TryWrite(line.Data);
        };
        _process.BeginOutputReadLine();
        _error = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>The checkout the tests run from (the folder of AkkaUsers.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(folder.FullName, "AkkaUsers.sln"))) folder = folder.Parent!;
            return folder.FullName;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>The URL the service listens on, read from its "Now listening on:" line (in the default log format).</summary>
    public async Task<Uri> ListeningAddressAsync()
    {
        const string listening = "Now listening on: ";
        await foreach (var line in StandardOutput())
            if (line.IndexOf(listening, StringComparison.Ordinal) is var at and >= 0) return new Uri(line[(at + listening.Length)..].Trim());
        throw new InvalidOperationException($"The service ended without listening: {await StandardError}");
    }

    /// <summary>Everything written to standard error, once the process has ended.</summary>
    public Task<string> StandardError => _error;

    /// <summary>Standard output, line by line as written, until the process ends or a minute has passed.</summary>
    public async IAsyncEnumerable<string> StandardOutput()
    {
        using var limit = new CancellationTokenSource(Limit);
        await foreach (var line in _output.Reader.ReadAllAsync(limit.Token)) yield return line;
    }

    public async Task WaitForExitAsync()
    {
        using var limit = new CancellationTokenSource(Limit);
        await _process.WaitForExitAsync(limit.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
