using System.Globalization;
using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Accounts.Tests;

/// <summary>
/// A node of a cluster marks, in its data directory, that it is alive as a member; restarted after dying as one, it
/// starts (its remoting included) only once the other members must have removed its previous incarnation.
/// </summary>
public sealed class LastAliveMarkSpec
{
    [Fact]
    public async Task A_node_with_seed_nodes_keeps_the_mark_while_it_is_a_member_and_deletes_it_when_it_leaves()
    {
        await using var host = await ActorHost.StartAsync(SeededOnItself());
        var mark = Path.Combine(host.DataDirectory, LastAliveMark.FileName);

        var first = await Poll.UntilAsync(() => Task.FromResult(File.Exists(mark) ? ReadMark(mark) : (DateTimeOffset?)null),
            lastAlive => lastAlive is not null, "the mark");
        Assert.InRange(first!.Value, DateTimeOffset.UtcNow.AddSeconds(-30), DateTimeOffset.UtcNow);
        await Poll.UntilAsync(() => Task.FromResult(ReadMark(mark)), lastAlive => lastAlive > first, "a newer mark");

        await host.StopAsync();
        Assert.False(File.Exists(mark), "a node that left the cluster kept its mark");
    }

    [Fact]
    public async Task A_node_restarted_after_dying_as_a_member_starts_once_the_others_must_have_removed_it()
    {
        var settings = SeededOnItself();
        var dataDirectory = ActorHost.NewDataDirectory();
        Directory.CreateDirectory(dataDirectory);
        var diedAt = DateTimeOffset.UtcNow;
        await File.WriteAllTextAsync(Path.Combine(dataDirectory, LastAliveMark.FileName), diedAt.ToString("O", CultureInfo.InvariantCulture));

        await using var host = await ActorHost.StartAsync(settings, dataDirectory);

        var up = DateTimeOffset.UtcNow;
        var removedWithin = host.Services.GetRequiredService<IOptions<ClusterNodeOptions>>().Value.DeadMemberRemovedWithin;
        Assert.True(up >= diedAt + LastAliveMark.Interval + removedWithin,
            $"Up {(up - diedAt).TotalSeconds:F1} s after the mark, before its previous incarnation was surely removed ({removedWithin.TotalSeconds:F1} s)");
    }

    [Fact]
    public async Task A_cluster_of_one_has_no_mark_to_keep()
    {
        await using var host = await ActorHost.StartAsync();

        Assert.False(File.Exists(Path.Combine(host.DataDirectory, LastAliveMark.FileName)));
    }

    [Fact]
    public void A_mark_that_cannot_be_read_is_taken_as_written_just_now()
    {
        var directory = ActorHost.NewDataDirectory();
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, LastAliveMark.FileName), "2026-12-0");
            var before = DateTimeOffset.UtcNow;

            var lastAlive = new LastAliveMark(directory, new ClusterNodeOptions(), TimeProvider.System, NullLogger<LastAliveMark>.Instance).PreviousIncarnationLastAlive;

            Assert.NotNull(lastAlive);
            Assert.InRange(lastAlive.Value, before, DateTimeOffset.UtcNow);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A node whose only seed node is itself, with a fast failure detector: it joins itself at once.</summary>
    private static Dictionary<string, string?> SeededOnItself()
    {
        var port = AkkaUsers.Harness.ServiceProcess.FreePort();
        return new()
        {
            ["Cluster:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Cluster:SeedNodes"] = $"akka.tcp://{AccountsHosting.ActorSystemName}@127.0.0.1:{port}",
            ["Cluster:Tls:Disabled"] = "true", // loopback only
            ["Claims:Secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Cluster:HeartbeatInterval"] = "00:00:00.200",
            ["Cluster:AcceptableHeartbeatPause"] = "00:00:00.500",
            ["Cluster:DownUnreachableAfter"] = "00:00:00.500",
        };
    }

    private static DateTimeOffset ReadMark(string path) =>
        DateTimeOffset.Parse(File.ReadAllText(path), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
