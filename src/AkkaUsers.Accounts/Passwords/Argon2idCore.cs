using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>The instructions the owned-memory engine computes Argon2 with.</summary>
public enum Argon2Instructions
{
    Scalar,
    Avx2,
    Avx512,
}

/// <summary>
/// Argon2id, version 0x13 (RFC 9106), over working memory the caller owns. Lanes are computed one after another
/// within each slice, which gives the same result as computing them in parallel.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Argon2idCore
{
    public const int BlockBytes = 1024;
    private const int BlockWords = BlockBytes / 8;
    private const int SyncPoints = 4;
    private const uint Version = 0x13;
    private const uint TypeId = 2;

    /// <summary>The blocks Argon2id works on for <paramref name="memoryKiB"/>: rounded down to a multiple of four per lane.</summary>
    public static int BlockCount(int memoryKiB, int lanes) => memoryKiB / (SyncPoints * lanes) * SyncPoints * lanes;

    /// <summary>The widest vectors this CPU computes with.</summary>
    public static Argon2Instructions Fastest =>
        Avx512F.IsSupported ? Argon2Instructions.Avx512 : Avx2.IsSupported ? Argon2Instructions.Avx2 : Argon2Instructions.Scalar;

    public static bool IsSupported(Argon2Instructions instructions) => instructions switch
    {
        Argon2Instructions.Avx512 => Avx512F.IsSupported,
        Argon2Instructions.Avx2 => Avx2.IsSupported,
        _ => true,
    };

    /// <summary>Fills <paramref name="tag"/> using <see cref="BlockCount"/> blocks of <paramref name="memory"/>, which it leaves dirty.</summary>
    public static void Compute(
        Span<byte> tag, ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> associatedData,
        int memoryKiB, int passes, int lanes, byte* memory, Argon2Instructions instructions)
    {
        if (lanes < 1 || passes < 1 || memoryKiB < 8 * lanes || tag.Length < 4)
            throw new ArgumentException("Argon2id needs at least one lane and one pass, 8 KiB per lane and a tag of 4 bytes");
        var instance = new Instance((ulong*)memory, BlockCount(memoryKiB, lanes), passes, lanes, instructions);
        // BLAKE2b's own vectors are 256 bits wide: AVX-512 adds nothing to it.
        var vectorized = instructions != Argon2Instructions.Scalar;

        Span<byte> seed = stackalloc byte[Blake2b.MaxOutBytes + 8];
        var h0 = new Blake2b(Blake2b.MaxOutBytes, vectorized);
        h0.Update((uint)lanes);
        h0.Update((uint)tag.Length);
        h0.Update((uint)memoryKiB);
        h0.Update((uint)passes);
        h0.Update(Version);
        h0.Update(TypeId);
        UpdateWithLength(ref h0, password);
        UpdateWithLength(ref h0, salt);
        UpdateWithLength(ref h0, secret);
        UpdateWithLength(ref h0, associatedData);
        h0.Final(seed);

        for (var lane = 0; lane < lanes; lane++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(seed[68..], (uint)lane);
            for (var first = 0u; first < 2; first++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(seed[64..], first);
                Blake2b.LongHash(new Span<byte>(instance.Block(lane, (int)first), BlockBytes), seed, vectorized);
            }
        }
        CryptographicOperations.ZeroMemory(seed);

        for (var pass = 0; pass < passes; pass++)
            for (var slice = 0; slice < SyncPoints; slice++)
                for (var lane = 0; lane < lanes; lane++)
                    FillSegment(instance, pass, slice, lane);

        Span<byte> last = stackalloc byte[BlockBytes];
        new ReadOnlySpan<byte>(instance.Block(0, instance.LaneLength - 1), BlockBytes).CopyTo(last);
        for (var lane = 1; lane < lanes; lane++)
        {
            var other = new ReadOnlySpan<byte>(instance.Block(lane, instance.LaneLength - 1), BlockBytes);
            for (var i = 0; i < BlockBytes; i++)
                last[i] ^= other[i];
        }
        Blake2b.LongHash(tag, last, vectorized);
        CryptographicOperations.ZeroMemory(last);
    }

    private static void UpdateWithLength(ref Blake2b hash, ReadOnlySpan<byte> input)
    {
        hash.Update((uint)input.Length);
        hash.Update(input);
    }

    private readonly struct Instance(ulong* memory, int blocks, int passes, int lanes, Argon2Instructions instructions)
    {
        public readonly ulong* Memory = memory;
        public readonly int Blocks = blocks;
        public readonly int Passes = passes;
        public readonly int Lanes = lanes;
        public readonly int LaneLength = blocks / lanes;
        public readonly int SegmentLength = blocks / lanes / SyncPoints;
        public readonly Argon2Instructions Instructions = instructions;

        public ulong* Block(int lane, int index) => Memory + ((long)lane * LaneLength + index) * BlockWords;

        /// <summary>
        /// Whether each block's reference and its own memory are fetched into the cache ahead of their use (see
        /// <see cref="FollowingBlock"/>): on the AVX2 path; the AVX-512 path's interleaved compression gave back what the
        /// fetch saved.
        /// </summary>
        public bool PrefetchesReferences => Instructions == Argon2Instructions.Avx2;
    }

    private static void FillSegment(in Instance instance, int pass, int slice, int lane)
    {
        // Argon2id: the first half of the first pass picks its reference blocks independently of the password.
        var independent = pass == 0 && slice < SyncPoints / 2;
        var addresses = stackalloc ulong[BlockWords];
        var addressInput = stackalloc ulong[BlockWords];
        var zero = stackalloc ulong[BlockWords];
        if (independent)
        {
            new Span<ulong>(zero, BlockWords).Clear();
            new Span<ulong>(addressInput, BlockWords).Clear();
            addressInput[0] = (ulong)pass;
            addressInput[1] = (ulong)lane;
            addressInput[2] = (ulong)slice;
            addressInput[3] = (ulong)instance.Blocks;
            addressInput[4] = (ulong)instance.Passes;
            addressInput[5] = TypeId;
        }

        var start = pass == 0 && slice == 0 ? 2 : 0;
        if (independent && start != 0)
            NextAddresses(addresses, addressInput, zero, instance.Instructions);

        ulong* located = null;
        for (var i = start; i < instance.SegmentLength; i++)
        {
            var index = slice * instance.SegmentLength + i;
            var previous = instance.Block(lane, index == 0 ? instance.LaneLength - 1 : index - 1);
            var following = new FollowingBlock(instance, pass, slice, lane, i + 1);
            ulong random;
            if (independent)
            {
                if (i % BlockWords == 0)
                    NextAddresses(addresses, addressInput, zero, instance.Instructions);
                random = addresses[i % BlockWords];
                // The next block's pseudo-random bits are known already, unless they are the next batch's.
                if (instance.PrefetchesReferences && (i + 1) % BlockWords != 0)
                    following.Locate(addresses[(i + 1) % BlockWords]);
            }
            else
            {
                random = previous[0];
            }

            var reference = located != null ? located : ReferenceBlock(instance, pass, slice, lane, i, random);
            FillBlock(previous, reference, instance.Block(lane, index), xorInto: pass > 0, instance.Instructions,
                instance.PrefetchesReferences && !independent ? &following : null);
            located = following.Located;
        }
    }

    /// <summary>The block that block <paramref name="i"/> of the segment references, picked by its pseudo-random 64 bits.</summary>
    private static ulong* ReferenceBlock(in Instance instance, int pass, int slice, int lane, int i, ulong random)
    {
        // No division on the way from one block to the next when there is one lane: it is the only one.
        var referenceLane = pass == 0 && slice == 0 || instance.Lanes == 1 ? lane : (int)((random >> 32) % (ulong)instance.Lanes);
        return instance.Block(referenceLane, ReferenceIndex(instance, pass, slice, i, (uint)random, referenceLane == lane));
    }

    /// <summary>
    /// The block after the one being filled. Where blocks pick their references by the block before (all but the first
    /// half of the first pass), its reference is known once the new block's first word is final, while the rest of the
    /// compression still runs: located then and fetched into the cache, with the block's own memory, both have arrived
    /// by the time they are needed, where memory read on demand would stall the compression.
    /// </summary>
    private struct FollowingBlock(in Instance instance, int pass, int slice, int lane, int i)
    {
        private readonly Instance _instance = instance;

        /// <summary>Its reference, once <see cref="Locate"/> has found it.</summary>
        public ulong* Located { get; private set; }

        /// <param name="random">Its pseudo-random 64 bits: the block before it's first word once final, or its word from the address block.</param>
        public void Locate(ulong random)
        {
            // Past the segment's end the block is another segment's, filled by another call.
            if (i >= _instance.SegmentLength)
                return;
            Located = ReferenceBlock(_instance, pass, slice, lane, i, random);
            Prefetch(Located);
            // Its own memory too: passes after the first XOR into it, and the first writes it.
            Prefetch(_instance.Block(lane, slice * _instance.SegmentLength + i));
        }
    }

    /// <summary>Asks for a block's 16 cache lines ahead of its use.</summary>
    private static void Prefetch(ulong* block)
    {
        for (var line = 0; line < BlockWords; line += 8)
            Sse.Prefetch0(block + line);
    }

    /// <summary>Maps a pseudo-random 32 bits onto the blocks this one may reference, favouring the most recent.</summary>
    private static int ReferenceIndex(in Instance instance, int pass, int slice, int i, uint random, bool sameLane)
    {
        long area;
        if (pass == 0)
            area = slice == 0 || sameLane
                ? slice * instance.SegmentLength + i - 1
                : slice * instance.SegmentLength + (i == 0 ? -1 : 0);
        else
            area = instance.LaneLength - instance.SegmentLength + (sameLane ? i - 1 : i == 0 ? -1 : 0);

        var squared = (ulong)random * random >> 32;
        var relative = (ulong)area - 1 - ((ulong)area * squared >> 32);
        var startOfWindow = pass == 0 || slice == SyncPoints - 1 ? 0 : (slice + 1) * instance.SegmentLength;
        // The window starts within the lane and is shorter than it, so wrapping needs one subtraction, not a division.
        var index = (long)startOfWindow + (long)relative;
        return (int)(index < instance.LaneLength ? index : index - instance.LaneLength);
    }

    private static void NextAddresses(ulong* addresses, ulong* input, ulong* zero, Argon2Instructions instructions)
    {
        input[6]++;
        FillBlock(zero, input, addresses, xorInto: false, instructions);
        FillBlock(zero, addresses, addresses, xorInto: false, instructions);
    }

    /// <summary>
    /// next = P(prev ⊕ reference) ⊕ prev ⊕ reference, where P applies BLAKE2b's round (with multiplications) to the
    /// block's eight rows of 128 bytes and then to its eight columns; with <paramref name="xorInto"/> the result is
    /// XORed into next's old value (passes after the first). next may be prev or reference only when not XORing into it.
    /// </summary>
    private static void FillBlock(
        ulong* previous, ulong* reference, ulong* next, bool xorInto, Argon2Instructions instructions, FollowingBlock* following = null)
    {
        switch (instructions)
        {
            case Argon2Instructions.Avx512:
                FillBlockAvx512(previous, reference, next, xorInto);
                break;
            case Argon2Instructions.Avx2:
                FillBlockAvx2(previous, reference, next, xorInto, following);
                break;
            default:
                FillBlockScalar(previous, reference, next, xorInto);
                break;
        }
    }

    /// <param name="following">Located and fetched as soon as this block's first word is final, if given.</param>
    private static void FillBlockAvx2(ulong* previous, ulong* reference, ulong* next, bool xorInto, FollowingBlock* following)
    {
        var r = stackalloc Vector256<ulong>[BlockWords / 4];
        var q = stackalloc Vector256<ulong>[BlockWords / 4];
        for (var k = 0; k < BlockWords / 4; k++)
            q[k] = r[k] = Vector256.Load(previous + 4 * k) ^ Vector256.Load(reference + 4 * k);

        // A row is 16 consecutive words: four vectors, one per row of BLAKE2b's 4×4 matrix.
        for (var row = 0; row < 8; row += 2)
        {
            var v = q + 4 * row;
            var (a0, b0, c0, d0, a1, b1, c1, d1) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
            TwoRoundsAvx2(ref a0, ref b0, ref c0, ref d0, ref a1, ref b1, ref c1, ref d1);
            (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]) = (a0, b0, c0, d0, a1, b1, c1, d1);
        }

        // Vector i of a row holds its words 4i to 4i + 3: two words of column 2i, then two of column 2i + 1. So vector i
        // of rows 0 and 1 is the first row of both columns' matrices, half each; rows 2 and 3 are the second, and so on.
        // A column's words are final once XORed with r (and next's old words), so they go straight to next.
        for (var i = 0; i < 4; i++)
        {
            var (a0, a1, b0, b1, c0, c1, d0, d1) = (q[i], q[4 + i], q[8 + i], q[12 + i], q[16 + i], q[20 + i], q[24 + i], q[28 + i]);
            RoundOfColumnPairAvx2(ref a0, ref a1, ref b0, ref b1, ref c0, ref c1, ref d0, ref d1);
            Finish(a0, r, next, i, xorInto);
            Finish(a1, r, next, 4 + i, xorInto);
            Finish(b0, r, next, 8 + i, xorInto);
            Finish(b1, r, next, 12 + i, xorInto);
            Finish(c0, r, next, 16 + i, xorInto);
            Finish(c1, r, next, 20 + i, xorInto);
            Finish(d0, r, next, 24 + i, xorInto);
            Finish(d1, r, next, 28 + i, xorInto);
            if (i == 0 && following != null)
                following->Locate(next[0]);
        }

        static void Finish(Vector256<ulong> vector, Vector256<ulong>* r, ulong* next, int k, bool xorInto)
        {
            vector ^= r[k];
            if (xorInto)
                vector ^= Vector256.Load(next + 4 * k);
            vector.Store(next + 4 * k);
        }
    }

    /// <summary>
    /// BLAKE2b's round on two columns' matrices held in halves: each 128-bit half of a vector is one column's, x0 holding
    /// words 0 and 1 of its matrix row x, x1 words 2 and 3. The diagonals line up by blending and swapping words within
    /// each half, without the permutation across halves that a whole matrix row in one vector needs (the row rounds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundOfColumnPairAvx2(
        ref Vector256<ulong> a0, ref Vector256<ulong> a1, ref Vector256<ulong> b0, ref Vector256<ulong> b1,
        ref Vector256<ulong> c0, ref Vector256<ulong> c1, ref Vector256<ulong> d0, ref Vector256<ulong> d1)
    {
        TwoMixesAvx2(ref a0, ref b0, ref c0, ref d0, ref a1, ref b1, ref c1, ref d1);
        // Row b rotated left by one word, c by two, d by three.
        (b0, b1) = (SwapWords(Blend(b1, b0)), SwapWords(Blend(b0, b1)));
        (c0, c1) = (c1, c0);
        (d0, d1) = (SwapWords(Blend(d0, d1)), SwapWords(Blend(d1, d0)));
        TwoMixesAvx2(ref a0, ref b0, ref c0, ref d0, ref a1, ref b1, ref c1, ref d1);
        // And back.
        (b0, b1) = (SwapWords(Blend(b0, b1)), SwapWords(Blend(b1, b0)));
        (c0, c1) = (c1, c0);
        (d0, d1) = (SwapWords(Blend(d1, d0)), SwapWords(Blend(d0, d1)));

        // Each half's first word from x, its second from y.
        static Vector256<ulong> Blend(Vector256<ulong> x, Vector256<ulong> y) => Avx2.Blend(x.AsUInt32(), y.AsUInt32(), 0b1100_1100).AsUInt64();

        static Vector256<ulong> SwapWords(Vector256<ulong> x) => Avx2.Shuffle(x.AsUInt32(), 0b01_00_11_10).AsUInt64();
    }

    /// <summary>
    /// BLAKE2b's round on two independent 4×4 matrices, step by step together: each step waits on the one before (a
    /// multiplication most of all), and one matrix alone leaves the vector units idle through those waits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoRoundsAvx2(
        ref Vector256<ulong> a0, ref Vector256<ulong> b0, ref Vector256<ulong> c0, ref Vector256<ulong> d0,
        ref Vector256<ulong> a1, ref Vector256<ulong> b1, ref Vector256<ulong> c1, ref Vector256<ulong> d1)
    {
        TwoMixesAvx2(ref a0, ref b0, ref c0, ref d0, ref a1, ref b1, ref c1, ref d1);
        Lanes.Diagonalize(ref b0, ref c0, ref d0);
        Lanes.Diagonalize(ref b1, ref c1, ref d1);
        TwoMixesAvx2(ref a0, ref b0, ref c0, ref d0, ref a1, ref b1, ref c1, ref d1);
        Lanes.Undiagonalize(ref b0, ref c0, ref d0);
        Lanes.Undiagonalize(ref b1, ref c1, ref d1);
    }

    /// <summary>BlaMka: BLAKE2b's G with each addition x + y made x + y + 2·lo32(x)·lo32(y), and no message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoMixesAvx2(
        ref Vector256<ulong> a0, ref Vector256<ulong> b0, ref Vector256<ulong> c0, ref Vector256<ulong> d0,
        ref Vector256<ulong> a1, ref Vector256<ulong> b1, ref Vector256<ulong> c1, ref Vector256<ulong> d1)
    {
        a0 = AddMultiplied(a0, b0); a1 = AddMultiplied(a1, b1);
        d0 = Lanes.RotateRight32(d0 ^ a0); d1 = Lanes.RotateRight32(d1 ^ a1);
        c0 = AddMultiplied(c0, d0); c1 = AddMultiplied(c1, d1);
        b0 = Lanes.RotateRight24(b0 ^ c0); b1 = Lanes.RotateRight24(b1 ^ c1);
        a0 = AddMultiplied(a0, b0); a1 = AddMultiplied(a1, b1);
        d0 = Lanes.RotateRight16(d0 ^ a0); d1 = Lanes.RotateRight16(d1 ^ a1);
        c0 = AddMultiplied(c0, d0); c1 = AddMultiplied(c1, d1);
        b0 = Lanes.RotateRight63(b0 ^ c0); b1 = Lanes.RotateRight63(b1 ^ c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> AddMultiplied(Vector256<ulong> x, Vector256<ulong> y)
    {
        var product = Avx2.Multiply(x.AsUInt32(), y.AsUInt32());
        return x + y + product + product;
    }

    /// <summary>
    /// <see cref="FillBlockAvx2"/> on 512-bit vectors: each holds two rows (or two columns) of BLAKE2b's matrix, so a
    /// round works on two rows or columns of the block at once, and the rotations are single instructions.
    /// </summary>
    private static void FillBlockAvx512(ulong* previous, ulong* reference, ulong* next, bool xorInto)
    {
        var r = stackalloc Vector512<ulong>[BlockWords / 8];
        var q = stackalloc Vector512<ulong>[BlockWords / 8];
        for (var k = 0; k < BlockWords / 8; k++)
            q[k] = r[k] = Vector512.Load(previous + 8 * k) ^ Vector512.Load(reference + 8 * k);

        // Rows r and r + 1, 16 consecutive words each: vector i holds words 4i to 4i + 3 of both.
        var words = (ulong*)q;
        FourRoundsAvx512(words, pairs: 32, stride: 4, RowLayout);
        // Columns c and c + 1, the same two words of every row: vector i holds their four words of rows 2i and 2i + 1.
        FourRoundsAvx512(words, pairs: 4, stride: 32, ColumnLayout);

        for (var k = 0; k < BlockWords / 8; k++)
        {
            var result = q[k] ^ r[k];
            if (xorInto)
                result ^= Vector512.Load(next + 8 * k);
            result.Store(next + 8 * k);
        }
    }

    /// <summary>
    /// The rounds of four pairs of rows (or columns) at once, pair p starting <paramref name="pairs"/> words after pair
    /// p - 1, its vector i made of the four words at i·<paramref name="stride"/> and the four 16 words further. The
    /// four are independent, so each step is taken for all four in turn: one round alone waits on each step's result
    /// (a multiplication's most of all), four keep the vector units busy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourRoundsAvx512(ulong* first, int pairs, int stride, in Layout layout)
    {
        ulong* p0 = first, p1 = first + pairs, p2 = first + 2 * pairs, p3 = first + 3 * pairs;
        var (a0, b0, c0, d0) = (Pair(p0), Pair(p0 + stride), Pair(p0 + 2 * stride), Pair(p0 + 3 * stride));
        var (a1, b1, c1, d1) = (Pair(p1), Pair(p1 + stride), Pair(p1 + 2 * stride), Pair(p1 + 3 * stride));
        var (a2, b2, c2, d2) = (Pair(p2), Pair(p2 + stride), Pair(p2 + 2 * stride), Pair(p2 + 3 * stride));
        var (a3, b3, c3, d3) = (Pair(p3), Pair(p3 + stride), Pair(p3 + 2 * stride), Pair(p3 + 3 * stride));

        // BlaMka's G on the columns, then on the diagonals: rotating b, c and d left by one, two and three words lines
        // the diagonals up as columns, and rotating them by three, two and one puts them back.
        var (rotateB, rotateD) = (layout.Left1, layout.Left3);
        for (var half = 0; half < 2; half++)
        {
            a0 = AddMultiplied(a0, b0); a1 = AddMultiplied(a1, b1); a2 = AddMultiplied(a2, b2); a3 = AddMultiplied(a3, b3);
            d0 = Avx512F.RotateRight(d0 ^ a0, 32); d1 = Avx512F.RotateRight(d1 ^ a1, 32); d2 = Avx512F.RotateRight(d2 ^ a2, 32); d3 = Avx512F.RotateRight(d3 ^ a3, 32);
            c0 = AddMultiplied(c0, d0); c1 = AddMultiplied(c1, d1); c2 = AddMultiplied(c2, d2); c3 = AddMultiplied(c3, d3);
            b0 = Avx512F.RotateRight(b0 ^ c0, 24); b1 = Avx512F.RotateRight(b1 ^ c1, 24); b2 = Avx512F.RotateRight(b2 ^ c2, 24); b3 = Avx512F.RotateRight(b3 ^ c3, 24);
            a0 = AddMultiplied(a0, b0); a1 = AddMultiplied(a1, b1); a2 = AddMultiplied(a2, b2); a3 = AddMultiplied(a3, b3);
            d0 = Avx512F.RotateRight(d0 ^ a0, 16); d1 = Avx512F.RotateRight(d1 ^ a1, 16); d2 = Avx512F.RotateRight(d2 ^ a2, 16); d3 = Avx512F.RotateRight(d3 ^ a3, 16);
            c0 = AddMultiplied(c0, d0); c1 = AddMultiplied(c1, d1); c2 = AddMultiplied(c2, d2); c3 = AddMultiplied(c3, d3);
            b0 = Avx512F.RotateRight(b0 ^ c0, 63); b1 = Avx512F.RotateRight(b1 ^ c1, 63); b2 = Avx512F.RotateRight(b2 ^ c2, 63); b3 = Avx512F.RotateRight(b3 ^ c3, 63);

            b0 = Avx512F.PermuteVar8x64(b0, rotateB); b1 = Avx512F.PermuteVar8x64(b1, rotateB); b2 = Avx512F.PermuteVar8x64(b2, rotateB); b3 = Avx512F.PermuteVar8x64(b3, rotateB);
            c0 = Avx512F.PermuteVar8x64(c0, layout.Left2); c1 = Avx512F.PermuteVar8x64(c1, layout.Left2); c2 = Avx512F.PermuteVar8x64(c2, layout.Left2); c3 = Avx512F.PermuteVar8x64(c3, layout.Left2);
            d0 = Avx512F.PermuteVar8x64(d0, rotateD); d1 = Avx512F.PermuteVar8x64(d1, rotateD); d2 = Avx512F.PermuteVar8x64(d2, rotateD); d3 = Avx512F.PermuteVar8x64(d3, rotateD);
            (rotateB, rotateD) = (rotateD, rotateB);
        }

        Store(a0, p0); Store(b0, p0 + stride); Store(c0, p0 + 2 * stride); Store(d0, p0 + 3 * stride);
        Store(a1, p1); Store(b1, p1 + stride); Store(c1, p1 + 2 * stride); Store(d1, p1 + 3 * stride);
        Store(a2, p2); Store(b2, p2 + stride); Store(c2, p2 + 2 * stride); Store(d2, p2 + 3 * stride);
        Store(a3, p3); Store(b3, p3 + stride); Store(c3, p3 + 2 * stride); Store(d3, p3 + 3 * stride);

        static Vector512<ulong> Pair(ulong* words) =>
            Avx512F.InsertVector256(Vector256.Load(words).ToVector512Unsafe(), Vector256.Load(words + 16), 1);

        static void Store(Vector512<ulong> pair, ulong* words)
        {
            pair.GetLower().Store(words);
            pair.GetUpper().Store(words + 16);
        }
    }

    /// <summary>
    /// Where a 512-bit vector keeps the four words of each of its two matrix rows, as the lane permutations that rotate
    /// those rows left by one, two and three words (diagonalizing) and back.
    /// </summary>
    private readonly struct Layout(Vector512<ulong> left1, Vector512<ulong> left2, Vector512<ulong> left3)
    {
        public readonly Vector512<ulong> Left1 = left1;
        public readonly Vector512<ulong> Left2 = left2;
        public readonly Vector512<ulong> Left3 = left3;
    }

    /// <summary>Two rows side by side: lanes 0 to 3 and 4 to 7.</summary>
    private static readonly Layout RowLayout = new(
        Vector512.Create(1UL, 2, 3, 0, 5, 6, 7, 4), Vector512.Create(2UL, 3, 0, 1, 6, 7, 4, 5), Vector512.Create(3UL, 0, 1, 2, 7, 4, 5, 6));

    /// <summary>Two columns interleaved in pairs of words: one in lanes 0, 1, 4 and 5, the other in 2, 3, 6 and 7.</summary>
    private static readonly Layout ColumnLayout = new(
        Vector512.Create(1UL, 4, 3, 6, 5, 0, 7, 2), Vector512.Create(4UL, 5, 6, 7, 0, 1, 2, 3), Vector512.Create(5UL, 0, 7, 2, 1, 4, 3, 6));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> AddMultiplied(Vector512<ulong> x, Vector512<ulong> y)
    {
        var product = Avx512F.Multiply(x.AsUInt32(), y.AsUInt32());
        return x + y + product + product;
    }

    private static void FillBlockScalar(ulong* previous, ulong* reference, ulong* next, bool xorInto)
    {
        var r = stackalloc ulong[BlockWords];
        var q = stackalloc ulong[BlockWords];
        for (var k = 0; k < BlockWords; k++)
            q[k] = r[k] = previous[k] ^ reference[k];

        var v = stackalloc ulong[16];
        for (var row = 0; row < 8; row++)
        {
            for (var k = 0; k < 16; k++)
                v[k] = q[16 * row + k];
            RoundScalar(v);
            for (var k = 0; k < 16; k++)
                q[16 * row + k] = v[k];
        }
        for (var column = 0; column < 8; column++)
        {
            for (var k = 0; k < 16; k++)
                v[k] = q[16 * (k / 2) + 2 * column + k % 2];
            RoundScalar(v);
            for (var k = 0; k < 16; k++)
                q[16 * (k / 2) + 2 * column + k % 2] = v[k];
        }

        for (var k = 0; k < BlockWords; k++)
            next[k] = (xorInto ? next[k] : 0) ^ q[k] ^ r[k];
    }

    private static void RoundScalar(ulong* v)
    {
        MixScalar(v, 0, 4, 8, 12);
        MixScalar(v, 1, 5, 9, 13);
        MixScalar(v, 2, 6, 10, 14);
        MixScalar(v, 3, 7, 11, 15);
        MixScalar(v, 0, 5, 10, 15);
        MixScalar(v, 1, 6, 11, 12);
        MixScalar(v, 2, 7, 8, 13);
        MixScalar(v, 3, 4, 9, 14);
    }

    private static void MixScalar(ulong* v, int a, int b, int c, int d)
    {
        v[a] = AddMultiplied(v[a], v[b]);
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 32);
        v[c] = AddMultiplied(v[c], v[d]);
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 24);
        v[a] = AddMultiplied(v[a], v[b]);
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 16);
        v[c] = AddMultiplied(v[c], v[d]);
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 63);
    }

    private static ulong AddMultiplied(ulong x, ulong y) => x + y + 2 * (ulong)(uint)x * (uint)y;
}
