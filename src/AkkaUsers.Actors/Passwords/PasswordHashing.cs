namespace AkkaUsers.Actors.Passwords;

/// <summary>
/// Runs the CPU-heavy hashing on the thread pool, never on an actor's thread, with at most
/// <c>maxConcurrency</c> hashes at once so that a burst queues instead of thrashing.
/// </summary>
public sealed class PasswordHashing
{
    private readonly IPasswordHasher _hasher;
    private readonly SemaphoreSlim _slots;
    private readonly Lazy<string> _dummyHash;

    public PasswordHashing(IPasswordHasher hasher, int maxConcurrency)
    {
        _hasher = hasher;
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        // Verified against when no user matches, so an unknown user costs as much as a wrong password.
        _dummyHash = new Lazy<string>(() => hasher.Hash(Convert.ToBase64String(Guid.NewGuid().ToByteArray())));
    }

    public Task<string> HashAsync(string password, CancellationToken ct) => Run(() => _hasher.Hash(password), ct);

    public Task<bool> VerifyAsync(string encodedHash, string password, CancellationToken ct) =>
        Run(() => _hasher.Verify(encodedHash, password), ct);

    /// <summary>Spends the same work as a real verification, for a login that matches nobody.</summary>
    public Task VerifyNobodyAsync(string password, CancellationToken ct) =>
        Run(() => _hasher.Verify(_dummyHash.Value, password), ct);

    public bool NeedsRehash(string encodedHash) => _hasher.NeedsRehash(encodedHash);

    /// <summary>Computes the dummy hash ahead of the first sign-in of an unknown user.</summary>
    public Task WarmUpAsync(CancellationToken ct) => Run(() => _dummyHash.Value, ct);

    private async Task<T> Run<T>(Func<T> work, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return await Task.Run(work, ct);
        }
        finally
        {
            _slots.Release();
        }
    }
}
