using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>Hashing is bounded: a burst queues instead of running everything at once, and runs on the thread pool, never blocking the caller.</summary>
public sealed class PasswordHashingTests
{
    [Fact]
    public async Task A_burst_runs_at_most_max_concurrency_hashes_at_once()
    {
        var hasher = new GatedHasher();
        var hashing = new PasswordHashing(hasher, maxConcurrency: 2, TestData.Metrics());

        var burst = Enumerable.Range(0, 10).Select(i => hashing.HashAsync($"p{i}", CancellationToken.None)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref hasher.Started) < 2 && DateTime.UtcNow < deadline) await Task.Delay(10);

        Assert.Equal(2, Volatile.Read(ref hasher.Started)); // the other eight wait for a slot
        Assert.All(burst, task => Assert.False(task.IsCompleted)); // and no caller was blocked meanwhile
        hasher.Gate.Release(10);
        var hashes = await Task.WhenAll(burst);

        Assert.Equal(10, hashes.Distinct().Count());
        Assert.Equal(2, hasher.MaxRunning);
        Assert.All(hasher.OnThreadPool, Assert.True);
    }

    [Fact]
    public async Task A_cancelled_request_gives_up_its_place_in_the_queue()
    {
        var hasher = new GatedHasher();
        var hashing = new PasswordHashing(hasher, maxConcurrency: 1, TestData.Metrics());
        var first = hashing.HashAsync("first", CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var queued = hashing.HashAsync("queued", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        hasher.Gate.Release(1);
        Assert.Equal("$argon2id$first", await first);
        Assert.Equal(1, hasher.Started);
    }
}
