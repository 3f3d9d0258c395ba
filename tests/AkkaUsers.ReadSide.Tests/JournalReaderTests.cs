using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Audit;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>The journal reader on a database whose journal has not made its tables yet, as on a cold start.</summary>
public sealed class JournalReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("journal-reader-").FullName;

    [Fact]
    public async Task Before_the_journal_makes_its_tables_no_deletion_is_unfinished()
    {
        var database = new JournalDatabase(PersistenceProvider.Sqlite, $"Data Source={Path.Combine(_folder, "users.db")};Pooling=False", schemaName: null);

        Assert.False(await database.TableExistsAsync("journal", CancellationToken.None));
        Assert.Empty(await new JournalReader(database).UnfinishedDeletionsAsync("UserDeleted", CancellationToken.None));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
