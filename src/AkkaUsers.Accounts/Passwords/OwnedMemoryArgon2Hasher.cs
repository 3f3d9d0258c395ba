using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>
/// Argon2id computed in managed code (AVX-512 or AVX2 where the CPU has it) over working memory this engine owns: one buffer
/// per hashing slot, allocated once, aligned to and advised for 2 MiB pages, reused for every hash and wiped when the
/// engine is disposed. libsodium instead maps fresh memory for every hash and pays a page fault for each 4 KiB of it.
/// </summary>
public sealed unsafe class OwnedMemoryArgon2Hasher : IPasswordHasher, IDisposable
{
    private const int SaltBytes = 16;
    private const int TagBytes = 32;

    private readonly ConcurrentStack<nint> _free = new();
    private readonly SemaphoreSlim _freeCount;
    private readonly nint[] _slots;
    private readonly nuint _slotBytes;
    private int _disposed;

    /// <param name="slots">Hashes that can run at once; a further one waits for a slot.</param>
    public OwnedMemoryArgon2Hasher(Argon2Parameters parameters, int slots) : this(parameters, slots, Argon2idCore.Fastest)
    {
    }

    /// <param name="instructions">Narrower ones than the CPU has compute as a CPU without the wider ones would.</param>
    internal OwnedMemoryArgon2Hasher(Argon2Parameters parameters, int slots, Argon2Instructions instructions)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("The owned-memory Argon2id engine needs a little-endian CPU");
        if (!Argon2idCore.IsSupported(instructions))
            throw new PlatformNotSupportedException($"This CPU has no {instructions}");
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Parameters = parameters;
        Instructions = instructions;
        var bytes = (nuint)Argon2idCore.BlockCount(parameters.MemoryKiB, parameters.Parallelism) * Argon2idCore.BlockBytes;
        _slotBytes = HugePageMemory.RoundUp(bytes);
        _freeCount = new SemaphoreSlim(slots, slots);
        _slots = new nint[slots];
        var advised = true;
        for (var i = 0; i < slots; i++)
        {
            var memory = HugePageMemory.Allocate(_slotBytes, out var slotAdvised);
            advised &= slotAdvised;
            _slots[i] = (nint)memory;
            _free.Push((nint)memory);
        }
        HugePagesAdvised = advised;
    }

    public Argon2Parameters Parameters { get; }

    /// <summary>Whether the kernel accepted the advice to back every slot with huge pages (Linux only).</summary>
    public bool HugePagesAdvised { get; }

    /// <summary>How the engine computes on this machine.</summary>
    public Argon2Instructions Instructions { get; }

    public string Hash(string password)
    {
        Span<byte> salt = stackalloc byte[SaltBytes];
        RandomNumberGenerator.Fill(salt);
        Span<byte> tag = stackalloc byte[TagBytes];
        Compute(tag, password, salt, Parameters);
        return Encode(Parameters, salt, tag);
    }

    /// <summary>The PHC string of a hash: its cost, then salt and tag in unpadded base64.</summary>
    public static string Encode(Argon2Parameters parameters, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> tag) =>
        $"{parameters.PhcPrefix}{Base64(salt)}${Base64(tag)}";

    public bool Verify(string encodedHash, string password)
    {
        if (!TryParse(encodedHash, out var parameters, out var salt, out var expected))
            return false;
        var tag = new byte[expected.Length];
        Compute(tag, password, salt, parameters);
        return CryptographicOperations.FixedTimeEquals(tag, expected);
    }

    /// <summary>Any Argon2id v=19 hash whose memory is within what the service verifies at all (see <see cref="ImportedHashes"/>).</summary>
    public bool Verifies(string encodedHash) => TryParse(encodedHash, out _, out _, out _);

    public bool NeedsRehash(string encodedHash) =>
        !encodedHash.StartsWith(Parameters.PhcPrefix, StringComparison.Ordinal);

    /// <summary>The RFC 9106 Argon2id test vector (section 5.3), computed the way this engine computes on this machine.</summary>
    public bool PassesSelfCheck() => PassesSelfCheck(Instructions);

    internal static bool PassesSelfCheck(Argon2Instructions instructions)
    {
        var memory = NativeMemory.AlignedAlloc(32 * 1024, 64);
        try
        {
            Span<byte> tag = stackalloc byte[32];
            Argon2idCore.Compute(tag, Repeat(0x01, 32), Repeat(0x02, 16), Repeat(0x03, 8), Repeat(0x04, 12),
                memoryKiB: 32, passes: 3, lanes: 4, (byte*)memory, instructions);
            return tag.SequenceEqual(Convert.FromHexString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"));
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }

        static byte[] Repeat(byte value, int count) => Enumerable.Repeat(value, count).ToArray();
    }

    private void Compute(Span<byte> tag, string password, ReadOnlySpan<byte> salt, Argon2Parameters parameters)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var bytes = (nuint)Argon2idCore.BlockCount(parameters.MemoryKiB, parameters.Parallelism) * Argon2idCore.BlockBytes;
        var owned = bytes <= _slotBytes;
        // A slot keeps its last hash's blocks until the next overwrites them (the first pass writes each block before
        // reading it). After a second pass every block depends on the whole memory-hard computation, so they let no
        // one test a password faster than the hash does; a single pass leaves blocks cheap to derive, so those are wiped.
        // A hash made with more memory than the slots hold (before a change of cost) gets memory of its own.
        var memory = owned ? Rent() : (nint)HugePageMemory.Allocate(bytes, out _);
        try
        {
            Argon2idCore.Compute(tag, passwordBytes, salt, [], [], parameters.MemoryKiB, parameters.Iterations, parameters.Parallelism,
                (byte*)memory, Instructions);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            if (owned && parameters.Iterations < 2)
                NativeMemory.Clear((void*)memory, bytes);
            if (owned)
                Return(memory);
            else
                HugePageMemory.Free((void*)memory, bytes);
        }
    }

    /// <summary>Takes a slot no other hash holds, waiting for one if all are taken.</summary>
    private nint Rent()
    {
        _freeCount.Wait();
        if (!_free.TryPop(out var memory))
            throw new InvalidOperationException("A hashing slot was counted free but none was");
        return memory;
    }

    private void Return(nint memory)
    {
        _free.Push(memory);
        _freeCount.Release();
    }

    /// <summary>Waits for the hashes in progress, then wipes and frees every slot.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        for (var i = 0; i < _slots.Length; i++)
            _freeCount.Wait();
        FreeSlots();
        _freeCount.Dispose();
        GC.SuppressFinalize(this);
    }

    ~OwnedMemoryArgon2Hasher() => FreeSlots();

    private void FreeSlots()
    {
        // A constructor that failed part way leaves the slots, or some of them, unallocated.
        foreach (var memory in (_slots ?? []).Where(memory => memory != 0))
            HugePageMemory.Free((void*)memory, _slotBytes);
    }

    private static bool TryParse(string encodedHash, out Argon2Parameters parameters, out byte[] salt, out byte[] tag)
    {
        parameters = new Argon2Parameters();
        salt = tag = [];
        var parts = encodedHash.Split('$');
        if (parts is not ["", "argon2id", "v=19", var costs, var saltText, var tagText])
            return false;
        var cost = costs.Split(',');
        if (cost is not [var m, var t, var p]
            || !TryParseCost(m, "m=", out var memory) || !TryParseCost(t, "t=", out var iterations) || !TryParseCost(p, "p=", out var lanes))
            return false;
        if (lanes is < 1 or > ImportedHashes.MaxArgon2Lanes || iterations is < 1 or > ImportedHashes.MaxArgon2Iterations
            || memory < 8 * lanes || memory > ImportedHashes.MaxArgon2MemoryKiB)
            return false;
        if (!TryDecode(saltText, out salt) || salt.Length < 8 || !TryDecode(tagText, out tag) || tag.Length is < 4 or > 1024)
            return false;
        parameters = new Argon2Parameters(memory, iterations, lanes);
        return true;
    }

    private static bool TryParseCost(string text, string name, out int value)
    {
        value = 0;
        return text.StartsWith(name, StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(name.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string Base64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    /// <summary>Unpadded standard base64, as the PHC string format writes it.</summary>
    private static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 == 1 || text.Contains('='))
            return false;
        var padded = text + new string('=', (4 - text.Length % 4) % 4);
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
            return false;
        bytes = buffer[..written];
        return true;
    }
}
