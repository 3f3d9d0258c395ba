using System.Runtime.InteropServices;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>
/// Native memory in whole 2 MiB pages, aligned to them and advised for huge pages, so that an Argon2id working buffer
/// reused from hash to hash takes no page fault and few address translations.
/// </summary>
public static unsafe partial class HugePageMemory
{
    public const int PageBytes = 2 * 1024 * 1024;
    private const int MadviseHugePage = 14;

    /// <summary><paramref name="bytes"/> rounded up to whole huge pages: what <see cref="Allocate"/> hands out.</summary>
    public static nuint RoundUp(nuint bytes) => (bytes + PageBytes - 1) / PageBytes * PageBytes;

    /// <param name="advised">Whether the kernel accepted the advice (Linux only).</param>
    public static void* Allocate(nuint bytes, out bool advised)
    {
        var rounded = RoundUp(bytes);
        var memory = NativeMemory.AlignedAlloc(rounded, PageBytes);
        advised = AdviseHugePages(memory, rounded);
        return memory;
    }

    /// <summary>Wipes <paramref name="bytes"/> (as given to <see cref="Allocate"/>) and frees them.</summary>
    public static void Free(void* memory, nuint bytes)
    {
        NativeMemory.Clear(memory, RoundUp(bytes));
        NativeMemory.AlignedFree(memory);
    }

    private static bool AdviseHugePages(void* memory, nuint bytes)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return Madvise(memory, bytes, MadviseHugePage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
