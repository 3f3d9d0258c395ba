using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// The reference C library of Argon2 (libargon2, as the operating system ships it) computing over memory this process
/// owns, handed to it through its allocation callbacks: the native way to the owned-memory engine's design, which
/// <c>raw</c> measures beside that engine when the library is installed.
/// </summary>
public static unsafe partial class ReferenceArgon2
{
    private const string Library = "libargon2.so.1";
    private const int Ok = 0;
    private const int MemoryAllocationError = -22;
    private const uint Version13 = 0x13;

    /// <summary>Each measuring thread's working memory, allocated on its first hash and kept for the process's life.</summary>
    [ThreadStatic] private static nint _buffer;

    private static readonly nuint BufferBytes = HugePageMemory.RoundUp((nuint)RawHashRate.Argon2Cost.MemoryKiB * 1024);

    public static bool IsInstalled => NativeLibrary.TryLoad(Library, out _);

    /// <summary>The raw Argon2id tag of <paramref name="password"/> at the benchmarks' cost.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt)
    {
        var cost = RawHashRate.Argon2Cost;
        var tag = new byte[32];
        fixed (byte* output = tag, passwordBytes = password, saltBytes = salt)
        {
            var context = new Context
            {
                Out = output, OutLength = (uint)tag.Length,
                Password = passwordBytes, PasswordLength = (uint)password.Length,
                Salt = saltBytes, SaltLength = (uint)salt.Length,
                Passes = (uint)cost.Iterations, MemoryKiB = (uint)cost.MemoryKiB, Lanes = (uint)cost.Parallelism, Threads = 1,
                Version = Version13,
                Allocate = &LendOwnedMemory,
                Free = &KeepOwnedMemory,
            };
            var result = Argon2idContext(&context);
            if (result != Ok)
                throw new InvalidOperationException($"libargon2 failed with error {result}");
        }
        return tag;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int LendOwnedMemory(byte** memory, nuint bytes)
    {
        if (bytes > BufferBytes)
            return MemoryAllocationError;
        if (_buffer == 0)
            _buffer = (nint)HugePageMemory.Allocate(BufferBytes, out _);
        *memory = (byte*)_buffer;
        return Ok;
    }

    /// <summary>The library wipes the memory itself before it hands it back.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void KeepOwnedMemory(byte* memory, nuint bytes)
    {
    }

    /// <summary>argon2.h's <c>argon2_context</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Context
    {
        public byte* Out;
        public uint OutLength;
        public byte* Password;
        public uint PasswordLength;
        public byte* Salt;
        public uint SaltLength;
        public byte* Secret;
        public uint SecretLength;
        public byte* AssociatedData;
        public uint AssociatedDataLength;
        public uint Passes;
        public uint MemoryKiB;
        public uint Lanes;
        public uint Threads;
        public uint Version;
        public delegate* unmanaged[Cdecl]<byte**, nuint, int> Allocate;
        public delegate* unmanaged[Cdecl]<byte*, nuint, void> Free;
        public uint Flags;
    }

    [LibraryImport(Library, EntryPoint = "argon2id_ctx")]
    private static partial int Argon2idContext(Context* context);
}
