namespace AkkaUsers.Benchmarks;

/// <summary>
/// Threads that each wake every millisecond and touch 16 KiB, doing almost no work: the context switches a busy
/// service makes around its hashing threads, without the service.
/// </summary>
public sealed class Wakers : IDisposable
{
    private volatile bool _stopped;

    public Wakers(int count)
    {
        for (var i = 0; i < count; i++)
            new Thread(Run) { IsBackground = true, Name = $"waker {i}" }.Start();
    }

    private void Run()
    {
        var memory = new byte[16384];
        while (!_stopped)
        {
            Thread.Sleep(1);
            for (var i = 0; i < memory.Length; i += 64) memory[i]++;
        }
    }

    public void Dispose() => _stopped = true;
}
