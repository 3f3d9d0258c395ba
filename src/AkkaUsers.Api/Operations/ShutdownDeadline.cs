using System.Diagnostics;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// A stop (SIGTERM) ends the process within <see cref="Limit"/> whatever hangs: the host gives its services
/// <see cref="HostTimeout"/> (Akka's own phases are bounded well within it), and should the process still be alive
/// at the limit, it ends itself so that an orchestrator never has to.
/// </summary>
public static class ShutdownDeadline
{
    public static readonly TimeSpan HostTimeout = TimeSpan.FromSeconds(7);

    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(8);

    public static WebApplicationBuilder AddShutdownDeadline(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = HostTimeout);
        return builder;
    }

    /// <summary>
    /// Arms the last resort when the host starts stopping; a process that exits in time takes the background thread
    /// with it. Only in the service's own process: a process that hosts the app (a test run) is not the app's to end.
    /// </summary>
    public static void ArmShutdownDeadline(this WebApplication app)
    {
        if (System.Reflection.Assembly.GetEntryAssembly() != typeof(ShutdownDeadline).Assembly) return;
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShutdownDeadline));
            var stopping = Stopwatch.StartNew();
            // A dedicated thread: a starved thread pool may be what the shutdown is stuck on.
            new Thread(() =>
            {
                Thread.Sleep(Limit);
                log.LogError("Shutdown still running after {Elapsed}: ending the process", stopping.Elapsed);
                Console.Out.Flush();
                Process.GetCurrentProcess().Kill();
            }) { IsBackground = true, Name = "shutdown-deadline" }.Start();
        });
    }
}
