using AkkaUsers.Accounts;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.ForgotPassword;

/// <summary>
/// Drains <see cref="ForgotPasswordQueue"/>: looks each email up, has the user's entity persist the hash of a new
/// one-time code, and delivers the code through <see cref="ResetCodeDelivery"/>. Up to
/// <see cref="ForgotPasswordOptions.MaxConcurrentDeliveries"/> requests at once, so that one slow webhook does not hold
/// the others up. An email that belongs to nobody ends here, unseen.
/// </summary>
public sealed class ForgotPasswordWorker(
    ForgotPasswordQueue queue,
    UserAccounts accounts,
    ResetCodeDelivery delivery,
    IOptions<ForgotPasswordOptions> options,
    ILogger<ForgotPasswordWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentDeliveries, CancellationToken = stoppingToken };
        try
        {
            await Parallel.ForEachAsync(queue.Reader.ReadAllAsync(stoppingToken), parallel, ProcessAsync);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The service stops: requests still queued are dropped.
        }
    }

    private async ValueTask ProcessAsync(string email, CancellationToken ct)
    {
        try
        {
            if (await accounts.RequestPasswordResetAsync(email, ct) is ResetCodeOutcome.Issued issued)
                await delivery.DeliverAsync(issued.Code, ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The service stops: whatever this request was waiting for ends with it.
        }
        catch (Exception e)
        {
            // An entity that did not answer in time, a node not ready: the request is lost, the client was answered long ago.
            log.LogWarning("A forgot-password request could not be processed: {Reason}", e.GetType().Name);
        }
    }
}
