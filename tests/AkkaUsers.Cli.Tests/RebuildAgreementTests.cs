using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Domain;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.ReadSide.ReadModel;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Cli.Tests;

/// <summary>
/// A journal written by the service as it runs (the live projection and the sweeps included), with deletions and a
/// registration race in it: projection rebuild reads it without a problem and lists what the live projection listed.
/// </summary>
public sealed class RebuildAgreementTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _dataDirectory = ActorHost.NewDataDirectory();

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Rebuild_of_a_journal_with_deletions_and_a_registration_race_lists_the_live_projections_rows()
    {
        var host = await ActorHost.StartAsync(dataDirectory: _dataDirectory);
        var users = new List<UserProfile>();
        for (var i = 0; i < 6; i++) users.Add(Registered(await host.Accounts.RegisterAsync(Account($"user{i}", $"user{i}@example.com"), None)));
        Assert.IsType<GrantOutcome.Granted>(await host.Accounts.GrantScopeAsync(users[0].Id, "admin", "spec", None));
        // Four ask for one username at once: one wins, the others release the email claims they got.
        var race = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => host.Accounts.RegisterAsync(Account("racer", $"racer{i}@example.com"), None)));
        Assert.Single(race.OfType<RegistrationOutcome.Registered>());
        foreach (var user in users.Skip(2))
        {
            var ticket = Assert.IsType<DeletionOutcome.Started>(await host.Accounts.DeleteAsync(user.Id, users[0].Id, None)).Ticket;
            await Poll.UntilAsync(() => host.Accounts.GetDeletionStatusAsync(user.Id, ticket, None),
                s => s is DeletionLookup.Found { Progress: DeletionProgress.Completed }, "the deletion");
        }

        var lastUserEvent = 0L;
        await foreach (var row in host.Services.GetRequiredService<JournalReader>().ReadAsync(new JournalFilter(PersistenceIdPrefix: "user-"), None))
            lastUserEvent = row.Ordering;
        var liveModel = host.Services.GetRequiredService<UsersReadModel>();
        await Poll.UntilAsync(() => liveModel.PrepareAsync(None), offset => offset >= lastUserEvent, "the live projection");
        var live = await liveModel.ListAsync(new UserQuery(Sort: UserSort.UsernameAscending), None);
        await host.StopAsync();

        var run = await CliRun.RunAsync("projection", "rebuild", $"--Storage:DataDirectory={_dataDirectory}");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.Output);
        Assert.DoesNotContain("skipped", run.Output);
        var rebuilt = await new UsersReadModel(new JournalDatabase(PersistenceProvider.Sqlite, $"Data Source={host.DatabaseFile}"))
            .ListAsync(new UserQuery(Sort: UserSort.UsernameAscending), None);
        Assert.Equal(["racer", "user0", "user1"], live.Select(u => u.Username));
        Assert.Equal(live.Select(u => u.Id), rebuilt.Select(u => u.Id));
        foreach (var (before, after) in live.Zip(rebuilt)) TestData.AssertDeepEqual(before, after);
    }

    private static NewAccount Account(string username, string email) => new(username, email, "password-1", ["user"], "free", null, null);

    private static UserProfile Registered(RegistrationOutcome outcome) => Assert.IsType<RegistrationOutcome.Registered>(outcome).User;
}
