using System.Net;
using System.Text.Json.Nodes;

namespace AkkaUsers.Cluster.Tests;

/// <summary>Every node serves the whole API, and uniqueness holds across nodes.</summary>
public sealed class CrossNodeTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    [SkippableFact]
    public async Task A_user_registered_on_node_1_signs_in_on_node_2_and_is_read_on_node_3()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var (n1, n2, n3) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);
        var name = TestAccounts.Unique("cross");

        var created = await n1.Register(name, $"{name}@example.com");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = (await created.Body())["user"]!;

        var signedIn = await n2.SignIn(name.ToUpperInvariant());
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var token = (await signedIn.Body())["token"]!.GetValue<string>();

        var read = await n3.GetUser(token);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.True(JsonNode.DeepEquals(user, await read.Body()));
        Assert.Equal(HttpStatusCode.Conflict, (await n3.Register(name, $"other-{name}@example.com")).StatusCode);
    }

    [SkippableFact]
    public async Task Registration_races_spread_over_all_nodes_have_exactly_one_winner_every_round()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        for (var round = 0; round < 20; round++)
        {
            var email = $"{TestAccounts.Unique("race")}@example.com";
            var username = TestAccounts.Unique("racer");
            // Six racers for one email (other usernames) and six for one username (other emails), two per node.
            var racers = Enumerable.Range(0, 12).Select(i =>
            {
                var node = cluster.Nodes[i % 3];
                return i < 6
                    ? node.Register(TestAccounts.Unique("u"), i % 2 == 0 ? email : email.ToUpperInvariant())
                    : node.Register(i % 2 == 0 ? username : username.ToUpperInvariant(), $"{TestAccounts.Unique("e")}@example.com");
            }).ToList();
            var statuses = (await Task.WhenAll(racers)).Select(r => r.StatusCode).ToList();

            Assert.True(statuses.Take(6).Count(s => s == HttpStatusCode.Created) == 1, $"round {round} email race: {string.Join(",", statuses.Take(6))}");
            Assert.True(statuses.Skip(6).Count(s => s == HttpStatusCode.Created) == 1, $"round {round} username race: {string.Join(",", statuses.Skip(6))}");
            Assert.All(statuses.Where(s => s != HttpStatusCode.Created), s => Assert.Equal(HttpStatusCode.Conflict, s));
        }
    }
}
