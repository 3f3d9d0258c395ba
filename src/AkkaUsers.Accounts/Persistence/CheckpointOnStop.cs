using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// Checkpoints the SQLite journal's write-ahead log when the host stops, after the actor system (it is registered
/// before it, and hosted services stop in reverse order): whatever was deleted last, the file keeps no copy of it.
/// </summary>
public sealed class CheckpointOnStop(JournalDatabase journal, ILogger<CheckpointOnStop> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await journal.CheckpointAsync(cancellationToken))
                logger.LogWarning("A reader kept the journal's write-ahead log from being checkpointed at shutdown");
        }
        catch (Exception failure) when (failure is System.Data.Common.DbException or OperationCanceledException)
        {
            logger.LogWarning(failure, "Checkpointing the journal's write-ahead log at shutdown failed");
        }
    }
}
