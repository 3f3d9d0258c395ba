using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Telemetry;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>
/// Runs the CPU-heavy hashing on the thread pool, never on an actor's thread, with at most
/// <c>maxConcurrency</c> hashes at once so that a burst queues instead of thrashing.
/// </summary>
public sealed class PasswordHashing : INodeWarmUp, IDisposable
{
    private readonly IPasswordHasher _hasher;
    private readonly SemaphoreSlim _slots;
    private int _waiting;
    private readonly Lazy<string> _dummyHash;
    private readonly AkkaUsersMetrics _metrics;

    public PasswordHashing(IPasswordHasher hasher, int maxConcurrency, AkkaUsersMetrics metrics)
    {
        _hasher = hasher;
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _metrics = metrics;
        metrics.ObservePasswordHashing(() => maxConcurrency - _slots.CurrentCount, () => Volatile.Read(ref _waiting));
        // Verified against when no user matches, so an unknown user costs as much as a wrong password.
        _dummyHash = new Lazy<string>(() => hasher.Hash(Convert.ToBase64String(Guid.NewGuid().ToByteArray())));
    }

    public Task<string> HashAsync(string password, CancellationToken ct) => Run("hash", () => _hasher.Hash(password), ct);

    /// <summary>
    /// An imported hash (see <see cref="ImportedHashes"/>) is verified by its own format's implementation, and one
    /// dummy verification by the engine is spent besides, so that an imported user never answers faster than a native one.
    /// </summary>
    public Task<bool> VerifyAsync(string encodedHash, string password, CancellationToken ct) =>
        Run("verify", () => _hasher.Verifies(encodedHash) ? _hasher.Verify(encodedHash, password) : VerifyImported(encodedHash, password), ct);

    private bool VerifyImported(string encodedHash, string password)
    {
        var verified = ImportedHashes.Verify(encodedHash, password);
        _hasher.Verify(_dummyHash.Value, password);
        return verified;
    }

    /// <summary>Spends the same work as a real verification, for a login that matches nobody.</summary>
    public Task VerifyNobodyAsync(string password, CancellationToken ct) =>
        Run("verify", () => _hasher.Verify(_dummyHash.Value, password), ct);

    /// <summary>True for every imported format, so that the first sign-in replaces it with the engine's.</summary>
    public bool NeedsRehash(string encodedHash) => !_hasher.Verifies(encodedHash) || _hasher.NeedsRehash(encodedHash);

    /// <summary>Computes the dummy hash ahead of the first sign-in of an unknown user.</summary>
    public Task WarmUpAsync(CancellationToken ct) => Run("warm-up", () => _dummyHash.Value, ct);

    /// <summary>Frees the engine's working memory, if it owns any, once the hashes in progress are done.</summary>
    public void Dispose()
    {
        (_hasher as IDisposable)?.Dispose();
    }

    /// <summary>The engine, as a log line names it.</summary>
    public static string Describe(IPasswordHasher hasher) => hasher switch
    {
        OwnedMemoryArgon2Hasher owned => $"the owned-memory engine ({owned.Instructions}, huge pages advised: {(owned.HugePagesAdvised ? "yes" : "no")})",
        LibsodiumArgon2Hasher => "libsodium",
        ManagedArgon2Hasher => "Isopoh (managed)",
        _ => hasher.GetType().Name,
    };

    /// <summary>The instruction sets the engines could use on this CPU.</summary>
    public static string CpuFeatures()
    {
        var features = new (string Name, bool Supported)[]
        {
            ("SSE4.2", Sse42.IsSupported), ("AVX2", Avx2.IsSupported), ("AVX-512F", Avx512F.IsSupported), ("AdvSimd", AdvSimd.IsSupported),
        }.Where(f => f.Supported).Select(f => f.Name).ToList();
        return $"{RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cores, " + (features.Count == 0 ? "no vector extensions" : string.Join(", ", features));
    }

    /// <param name="operation">Names the span and tags the metrics; the same for a real and a dummy verification, as they must look alike.</param>
    private async Task<T> Run<T>(string operation, Func<T> work, CancellationToken ct)
    {
        using var activity = AkkaUsersTracing.Source.StartActivity($"password {operation}");
        var queued = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(ct);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await Task.Run(work, ct);
        }
        finally
        {
            _slots.Release();
            _metrics.PasswordWorked(operation, Stopwatch.GetElapsedTime(queued, started), Stopwatch.GetElapsedTime(started));
        }
    }
}
