using System.Globalization;
using Akka.Cluster;
using Microsoft.Extensions.Logging;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// Tells a node's next start whether, and when, this incarnation died as a member of its cluster: a file in the data
/// directory that holds the time, rewritten every <see cref="Interval"/> from the node's join until it has left, and
/// then deleted. The other members count a dead incarnation as one of them until they remove it. If the new
/// incarnation's remoting is up before that removal, a survivor reconnecting to the old one's address reaches the new
/// one, and the removal then orphans that connection: whatever the new incarnation sends over it, its join included,
/// goes unread (docs/cluster.md, "Rejoining after a restart"). So the node's start waits until
/// <see cref="StartNotBefore"/> (<see cref="WaitBeforeStart"/>).
/// </summary>
public sealed class LastAliveMark
{
    public const string FileName = "last-alive";

    /// <summary>How often the mark is rewritten, so how much older than the death it can be.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly string _directory;
    private readonly string _path;
    private readonly ClusterNodeOptions _node;
    private readonly TimeProvider _clock;
    private readonly ILogger<LastAliveMark> _log;

    public LastAliveMark(string directory, ClusterNodeOptions node, TimeProvider clock, ILogger<LastAliveMark> log)
    {
        _directory = directory;
        _path = Path.Combine(directory, FileName);
        _node = node;
        _clock = clock;
        _log = log;
        PreviousIncarnationLastAlive = Read();
    }

    /// <summary>When the previous incarnation was last alive as a member; null when it left the cluster, or there was none.</summary>
    public DateTimeOffset? PreviousIncarnationLastAlive { get; }

    /// <summary>When the other members have surely removed the previous incarnation; null when there is none to wait for.</summary>
    public DateTimeOffset? StartNotBefore => PreviousIncarnationLastAlive + Interval + _node.DeadMemberRemovedWithin;

    /// <summary>
    /// Blocks until <see cref="StartNotBefore"/> when the node has seed nodes (a cluster of one has no one to wait for).
    /// Called while the actor system is being configured: the host makes it, remoting and all, as soon as the first
    /// service that needs it is made, before any hosted service starts.
    /// </summary>
    public void WaitBeforeStart()
    {
        if (_node.SeedNodeList.Length == 0 || StartNotBefore - _clock.GetUtcNow() is not { Ticks: > 0 } wait) return;
        _log.LogInformation("This node's previous incarnation was last alive at {LastAlive:O} and did not leave the cluster: " +
            "starting in {WaitMs} ms, once the other nodes have removed it", PreviousIncarnationLastAlive, (long)wait.TotalMilliseconds);
        Task.Delay(wait, _clock).Wait();
    }

    /// <summary>
    /// Rewrites the mark from now until this node has left <paramref name="cluster"/>, and then deletes it. A node that
    /// stops without having left (its leave timed out, or it was downed) keeps its last mark.
    /// </summary>
    public void KeepUntilLeft(Akka.Cluster.Cluster cluster)
    {
        PrivateFiles.CreateDirectory(_directory);
        var stop = new CancellationTokenSource();
        var keeping = KeepAsync(stop.Token);
        cluster.RegisterOnMemberRemoved(() =>
        {
            stop.Cancel();
            keeping.Wait();
            if (cluster.SelfMember.Status is MemberStatus.Exiting or MemberStatus.Removed) File.Delete(_path);
        });
    }

    private async Task KeepAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                // Written beside it and renamed over it, so that a crash mid-write leaves the previous mark whole.
                var written = _path + ".new";
                PrivateFiles.CreateOrRestrict(written);
                await File.WriteAllTextAsync(written, _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), CancellationToken.None);
                File.Move(written, _path, overwrite: true);
                await Task.Delay(Interval, _clock, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The node has left, or is stopping.
        }
    }

    private DateTimeOffset? Read()
    {
        if (!File.Exists(_path)) return null;
        // A mark that cannot be read is taken as written just now: waiting too long is safe, starting too early is not.
        return DateTimeOffset.TryParse(File.ReadAllText(_path), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var lastAlive)
            ? lastAlive
            : _clock.GetUtcNow();
    }
}
