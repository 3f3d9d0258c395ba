using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// Makes another .NET process run a full, blocking garbage collection, as dotnet-gcdump does: an EventPipe session
/// with the runtime's GC-heap-collect keyword. Tells garbage (gone after it) from memory still in use.
/// </summary>
public static class FullCollection
{
    private const long GCHeapCollectKeyword = 0x800000;

    public static async Task InduceAsync(int processId)
    {
        var client = new DiagnosticsClient(processId);
        using var session = client.StartEventPipeSession(
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GCHeapCollectKeyword), requestRundown: false);
        var drain = session.EventStream.CopyToAsync(Stream.Null);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the collection runs as the session starts; its events need a moment
        await session.StopAsync(CancellationToken.None);
        await drain;
    }
}
