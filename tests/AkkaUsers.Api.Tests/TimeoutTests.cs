namespace AkkaUsers.Api.Tests;

/// <summary>An entity that does not answer in time is a 503 Boom error, never a hang and never a 500, and is counted.</summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task An_entity_ask_that_times_out_is_503()
    {
        var first = new ApiFactory();
        await using (first)
        {
            using var setUp = first.CreateClient();
            await setUp.RegisterForToken("slow", "slow@example.com");
        }

        // One millisecond is less than any journal write needs, and both requests below must write: a sign-in records
        // itself, a registration claims its username. Their reads may or may not beat it on a warmed-up node.
        await using var factory = new ApiFactory(new() { ["Entities:AskTimeout"] = "00:00:00.001" }, first.DataDirectory);
        using var client = factory.CreateClient();
        // Ready first (an Up member with its journal), so that it is the entity ask, not the start, that runs out.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health/ready")).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(50); // poll interval
        using var meters = new MeterCollector(factory.Services);
        // The journal's write lock held: no event can be stored, however fast the entities answer reads.
        using var writer = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={factory.DatabaseFile};Pooling=False");
        writer.Open();
        using var holding = writer.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);

        var signIn = await client.PostJson("/user/auth", new { username = "slow", password = "abc321" });
        var register = await client.Register("slow-new", "slow-new@example.com");
        holding.Rollback();

        Assert.Equal("The service is busy; try again", await signIn.AssertBoom(503));
        Assert.Equal("The service is busy; try again", await register.AssertBoom(503));
        // Each gave up at one ask (the first that ran out), and each is counted.
        Assert.Equal(2, meters.Sum("akka_users.ask_timeouts"));
        factory.DeleteData();
    }
}
