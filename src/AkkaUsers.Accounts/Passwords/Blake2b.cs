using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>
/// BLAKE2b (RFC 7693) without a key, as Argon2id uses it: an incremental hash of up to 64 bytes, and
/// <see cref="LongHash"/>, Argon2's variable-length H'. Little-endian machines only (the engine checks).
/// </summary>
[SkipLocalsInit]
internal unsafe struct Blake2b
{
    public const int BlockBytes = 128;
    public const int MaxOutBytes = 64;

    private static readonly ulong[] Iv =
    [
        0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
    ];

    /// <summary>The message schedule: which message word each of a round's eight G steps takes, two per step.</summary>
    private static readonly byte[] Sigma =
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ];

    private fixed ulong _state[8];
    private fixed byte _block[BlockBytes];
    private int _filled;
    private ulong _counter;
    private readonly int _outBytes;
    private readonly bool _vectorized;

    public Blake2b(int outBytes, bool vectorized)
    {
        if (outBytes is < 1 or > MaxOutBytes)
            throw new ArgumentOutOfRangeException(nameof(outBytes));
        _outBytes = outBytes;
        _vectorized = vectorized;
        for (var i = 0; i < 8; i++)
            _state[i] = Iv[i];
        _state[0] ^= 0x01010000UL ^ (ulong)outBytes;
    }

    public void Update(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Update(bytes);
    }

    public void Update(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            // The last block is compressed differently, so a full block waits until more data follows it.
            if (_filled == BlockBytes)
            {
                _counter += BlockBytes;
                CompressBlock(last: false);
                _filled = 0;
            }
            var take = Math.Min(BlockBytes - _filled, data.Length);
            fixed (byte* block = _block)
                data[..take].CopyTo(new Span<byte>(block + _filled, take));
            _filled += take;
            data = data[take..];
        }
    }

    /// <summary>Writes the digest and wipes the state.</summary>
    public void Final(Span<byte> output)
    {
        _counter += (ulong)_filled;
        fixed (byte* block = _block)
        fixed (ulong* state = _state)
        {
            new Span<byte>(block + _filled, BlockBytes - _filled).Clear();
            CompressBlock(last: true);
            new ReadOnlySpan<byte>(state, _outBytes).CopyTo(output);
            new Span<byte>(state, 64).Clear();
            new Span<byte>(block, BlockBytes).Clear();
        }
    }

    public static void Hash(Span<byte> output, ReadOnlySpan<byte> input, bool vectorized)
    {
        var hash = new Blake2b(output.Length, vectorized);
        hash.Update(input);
        hash.Final(output);
    }

    /// <summary>Argon2's H': a digest of any length, chained from 64-byte BLAKE2b digests of which each gives its first half.</summary>
    public static void LongHash(Span<byte> output, ReadOnlySpan<byte> input, bool vectorized)
    {
        var first = new Blake2b(Math.Min(output.Length, MaxOutBytes), vectorized);
        first.Update((uint)output.Length);
        first.Update(input);
        if (output.Length <= MaxOutBytes)
        {
            first.Final(output);
            return;
        }
        Span<byte> chained = stackalloc byte[MaxOutBytes];
        first.Final(chained);
        chained[..32].CopyTo(output);
        var written = 32;
        while (output.Length - written > MaxOutBytes)
        {
            Hash(chained, chained, vectorized);
            chained[..32].CopyTo(output[written..]);
            written += 32;
        }
        Hash(output[written..], chained, vectorized);
        chained.Clear();
    }

    private void CompressBlock(bool last)
    {
        fixed (ulong* state = _state)
        fixed (byte* block = _block)
        {
            if (_vectorized)
                CompressAvx2(state, (ulong*)block, _counter, last);
            else
                CompressScalar(state, (ulong*)block, _counter, last);
        }
    }

    private static void CompressAvx2(ulong* state, ulong* message, ulong counter, bool last)
    {
        var a = Vector256.Load(state);
        var b = Vector256.Load(state + 4);
        var c = Vector256.Create(Iv[0], Iv[1], Iv[2], Iv[3]);
        var d = Vector256.Create(Iv[4], Iv[5], Iv[6], Iv[7]) ^ Vector256.Create(counter, 0, last ? ulong.MaxValue : 0, 0);
        for (var round = 0; round < 12; round++)
        {
            var s = Sigma.AsSpan(round % 10 * 16, 16);
            MixAvx2(ref a, ref b, ref c, ref d,
                Vector256.Create(message[s[0]], message[s[2]], message[s[4]], message[s[6]]),
                Vector256.Create(message[s[1]], message[s[3]], message[s[5]], message[s[7]]));
            Lanes.Diagonalize(ref b, ref c, ref d);
            MixAvx2(ref a, ref b, ref c, ref d,
                Vector256.Create(message[s[8]], message[s[10]], message[s[12]], message[s[14]]),
                Vector256.Create(message[s[9]], message[s[11]], message[s[13]], message[s[15]]));
            Lanes.Undiagonalize(ref b, ref c, ref d);
        }
        (Vector256.Load(state) ^ a ^ c).Store(state);
        (Vector256.Load(state + 4) ^ b ^ d).Store(state + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MixAvx2(ref Vector256<ulong> a, ref Vector256<ulong> b, ref Vector256<ulong> c, ref Vector256<ulong> d,
        Vector256<ulong> x, Vector256<ulong> y)
    {
        a += b + x;
        d = Lanes.RotateRight32(d ^ a);
        c += d;
        b = Lanes.RotateRight24(b ^ c);
        a += b + y;
        d = Lanes.RotateRight16(d ^ a);
        c += d;
        b = Lanes.RotateRight63(b ^ c);
    }

    private static void CompressScalar(ulong* state, ulong* message, ulong counter, bool last)
    {
        var v = stackalloc ulong[16];
        for (var i = 0; i < 8; i++)
        {
            v[i] = state[i];
            v[i + 8] = Iv[i];
        }
        v[12] ^= counter;
        if (last)
            v[14] = ~v[14];
        for (var round = 0; round < 12; round++)
        {
            var s = Sigma.AsSpan(round % 10 * 16, 16);
            MixScalar(v, 0, 4, 8, 12, message[s[0]], message[s[1]]);
            MixScalar(v, 1, 5, 9, 13, message[s[2]], message[s[3]]);
            MixScalar(v, 2, 6, 10, 14, message[s[4]], message[s[5]]);
            MixScalar(v, 3, 7, 11, 15, message[s[6]], message[s[7]]);
            MixScalar(v, 0, 5, 10, 15, message[s[8]], message[s[9]]);
            MixScalar(v, 1, 6, 11, 12, message[s[10]], message[s[11]]);
            MixScalar(v, 2, 7, 8, 13, message[s[12]], message[s[13]]);
            MixScalar(v, 3, 4, 9, 14, message[s[14]], message[s[15]]);
        }
        for (var i = 0; i < 8; i++)
            state[i] ^= v[i] ^ v[i + 8];
    }

    private static void MixScalar(ulong* v, int a, int b, int c, int d, ulong x, ulong y)
    {
        v[a] += v[b] + x;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 32);
        v[c] += v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 24);
        v[a] += v[b] + y;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 16);
        v[c] += v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 63);
    }
}

/// <summary>
/// AVX2 helpers shared by BLAKE2b and Argon2's compression: a 4×4 matrix of 64-bit words held as four row vectors,
/// the rotations of its words, and the lane rotations that line its diagonals up as columns.
/// </summary>
internal static class Lanes
{
    private static readonly Vector256<byte> Rotate24 = Vector256.Create(
        (byte)3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    private static readonly Vector256<byte> Rotate16 = Vector256.Create(
        (byte)2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateRight32(Vector256<ulong> x) => Avx2.Shuffle(x.AsUInt32(), 0b10_11_00_01).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateRight24(Vector256<ulong> x) => Avx2.Shuffle(x.AsByte(), Rotate24).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateRight16(Vector256<ulong> x) => Avx2.Shuffle(x.AsByte(), Rotate16).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateRight63(Vector256<ulong> x) => (x << 1) | (x >>> 63);

    /// <summary>Rotates rows b, c and d left by one, two and three words, so that each column holds one diagonal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Diagonalize(ref Vector256<ulong> b, ref Vector256<ulong> c, ref Vector256<ulong> d)
    {
        b = Avx2.Permute4x64(b, 0b00_11_10_01);
        c = Avx2.Permute4x64(c, 0b01_00_11_10);
        d = Avx2.Permute4x64(d, 0b10_01_00_11);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Undiagonalize(ref Vector256<ulong> b, ref Vector256<ulong> c, ref Vector256<ulong> d)
    {
        b = Avx2.Permute4x64(b, 0b10_01_00_11);
        c = Avx2.Permute4x64(c, 0b01_00_11_10);
        d = Avx2.Permute4x64(d, 0b00_11_10_01);
    }
}
