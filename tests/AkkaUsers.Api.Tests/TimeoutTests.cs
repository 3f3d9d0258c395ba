namespace AkkaUsers.Api.Tests;

/// <summary>An entity that does not answer in time is a 503 Boom error, never a hang and never a 500, and is counted.</summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task An_entity_ask_that_times_out_is_503()
    {
        // One millisecond is less than any first ask needs (shard allocation, recovery from SQLite).
        await using var factory = new ApiFactory(new() { ["Entities:AskTimeout"] = "00:00:00.001" });
        using var client = factory.CreateClient();
        // Ready first (an Up member with its journal), so that it is the entity ask, not the start, that runs out.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health/ready")).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(50); // poll interval
        using var meters = new MeterCollector(factory.Services);
        // The journal's write lock held: the registration's claim cannot be stored, however fast the entity starts.
        using var writer = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={factory.DatabaseFile};Pooling=False");
        writer.Open();
        using var holding = writer.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);

        var signIn = await client.PostJson("/user/auth", new { username = "slow", password = "abc321" });
        var register = await client.Register("slow-new", "slow-new@example.com");
        holding.Rollback();

        Assert.Equal("The service is busy; try again", await signIn.AssertBoom(503));
        Assert.Equal("The service is busy; try again", await register.AssertBoom(503));
        // Both gave up at their first ask, to the username index: the look-up and the claim.
        Assert.Equal(2, meters.Sum("akka_users.ask_timeouts", ("entity", "username")));
        Assert.Equal(2, meters.Sum("akka_users.ask_timeouts"));
        factory.DeleteData();
    }
}
