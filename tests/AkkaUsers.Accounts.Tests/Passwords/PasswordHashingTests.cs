using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>Hashing is bounded: a burst queues instead of running everything at once, and runs on the thread pool, never blocking the caller.</summary>
public sealed class PasswordHashingTests
{
    /// <summary>Counts how many hashes run at once; each waits until released.</summary>
    private sealed class GatedHasher : IPasswordHasher
    {
        private int _running;
        public readonly SemaphoreSlim Gate = new(0);
        public int MaxRunning;
        public int Started;
        public readonly List<bool> OnThreadPool = [];

        public Argon2Parameters Parameters { get; } = new();

        public string Hash(string password)
        {
            var running = Interlocked.Increment(ref _running);
            lock (OnThreadPool)
            {
                MaxRunning = Math.Max(MaxRunning, running);
                OnThreadPool.Add(Thread.CurrentThread.IsThreadPoolThread);
            }
            Interlocked.Increment(ref Started);
            Gate.Wait();
            Interlocked.Decrement(ref _running);
            return "$argon2id$" + password;
        }

        public bool Verify(string encodedHash, string password) => Hash(password) == encodedHash;

        public bool Verifies(string encodedHash) => true;

        public bool NeedsRehash(string encodedHash) => false;
    }

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
