namespace AkkaUsers.Api.Tests;

/// <summary>
/// Pulsed each time a listener records something, so that a test awaits its condition instead of sleeping.
/// Gives up after thirty seconds, which fails the test.
/// </summary>
public sealed class Signal
{
    private readonly SemaphoreSlim _pulses = new(0);

    public void Pulse() => _pulses.Release();

    public async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await _pulses.WaitAsync(timeout.Token);
    }
}
