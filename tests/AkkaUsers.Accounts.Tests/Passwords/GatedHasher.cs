using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>Counts how many hashes run at once; each waits until released.</summary>
internal sealed class GatedHasher : IPasswordHasher
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
