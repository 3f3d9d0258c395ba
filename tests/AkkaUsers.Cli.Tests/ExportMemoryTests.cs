using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Tests;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cli.Tests;

/// <summary>Runs alone, after the tests that run side by side: the managed heap it measures is the whole process's.</summary>
[CollectionDefinition(nameof(HeapMeasuringTests), DisableParallelization = true)]
public sealed class HeapMeasuringTests;

/// <summary>The export streams: exporting a large journal holds no more memory than exporting a small one.</summary>
[Collection(nameof(HeapMeasuringTests))]
public sealed class ExportMemoryTests : IAsyncLifetime
{
    private const int Events = 100_000;

    /// <summary>Retained managed memory may grow by this much at most; the journal's payloads alone are about 100 MB.</summary>
    private const long Bound = 32L * 1024 * 1024;

    private readonly string _dataDirectory = ActorHost.NewDataDirectory();

    public async Task InitializeAsync()
    {
        // The service's own wiring creates the journal's tables (when an entity first recovers); the events are then written in bulk.
        var host = await ActorHost.StartAsync(dataDirectory: _dataDirectory, tools: true);
        Assert.Null(await host.Accounts.GetAsync(TestData.NewUserId(), CancellationToken.None));
        await host.StopAsync();
        var metadata = TestData.Metadata($$"""{"notes":"{{new string('x', 800)}}"}""");
        JournalFile.Append(Path.Combine(_dataDirectory, "akka-users.db"), Enumerable.Range(1, Events).Select(i =>
        {
            var id = $"{i:x24}";
            return new JournalFile.Row(UserActor.PersistenceIdFor(id), 1,
                new UserRegistered(id, $"user{i}", $"user{i}@example.com", "$argon2id$secret", ["user"], "free", null, metadata, DateTimeOffset.UtcNow));
        }));
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Exporting_100_000_events_keeps_retained_memory_under_a_fixed_bound()
    {
        var reader = new JournalReader(new JournalDatabase(PersistenceProvider.Sqlite, $"Data Source={Path.Combine(_dataDirectory, "akka-users.db")}"));
        var output = new MeasuringStream();

        await AkkaUsersCli.Export(reader, new JournalFilter(), output, new Progress("audit export", TextWriter.Null), CancellationToken.None);

        Assert.Equal(Events, output.Lines);
        Assert.True(output.Bytes > Events * 800L, $"only {output.Bytes} bytes written");
        Assert.True(output.Samples >= 5, $"only {output.Samples} memory samples");
        var growth = output.PeakRetained - output.Baseline;
        Assert.True(growth < Bound, $"retained memory grew by {growth / 1024 / 1024} MiB during the export");
    }

    /// <summary>
    /// Counts what the export writes, and every few MB of it measures the retained managed heap (after a full
    /// collection): a buffering export would hold every row by the time its first bytes arrive here.
    /// </summary>
    private sealed class MeasuringStream : Stream
    {
        private const long SampleEvery = 8L * 1024 * 1024;
        private long _nextSample;

        public long Baseline { get; } = GC.GetTotalMemory(forceFullCollection: true);
        public long PeakRetained { get; private set; }
        public int Samples { get; private set; }
        public long Bytes { get; private set; }
        public long Lines { get; private set; }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Bytes >= _nextSample)
            {
                PeakRetained = Math.Max(PeakRetained, GC.GetTotalMemory(forceFullCollection: true));
                Samples++;
                _nextSample += SampleEvery;
            }
            Bytes += buffer.Length;
            Lines += buffer.Count((byte)'\n');
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Bytes;
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
