using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// Waits for the journal's database at start, retrying with backoff and one log line per attempt.
/// Until it answers, nothing asks an entity, so the journal plugin is not started against a database
/// that is down (it would fail and retry on its own, with a stack trace each time).
/// </summary>
public sealed class JournalAvailability(JournalDatabase journal, ILogger<JournalAvailability> log) : BackgroundService
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource _reachable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the database has answered; it stays completed.</summary>
    public Task Reachable => _reachable.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            if (await journal.ProbeAsync(ProbeTimeout, stoppingToken) is not { } failure)
            {
                if (attempt > 1) log.LogInformation("{Provider} journal database reachable after {Attempts} attempts", journal.Provider, attempt);
                _reachable.TrySetResult();
                return;
            }

            log.LogWarning("{Provider} journal database not reachable (attempt {Attempt}): {Reason}; retrying in {Delay} s",
                journal.Provider, attempt, failure, delay.TotalSeconds);
            await Task.Delay(delay, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestDelay.Ticks));
        }
    }
}
