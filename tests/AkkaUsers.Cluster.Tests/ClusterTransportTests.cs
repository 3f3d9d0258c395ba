using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaCluster = Akka.Cluster.Cluster;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// The nodes' remoting is mutual TLS with the cluster's CA: an actor system in this process, on the same loopback
/// network, joins and reaches a shard region only when it holds a certificate from that CA.
/// </summary>
public sealed class ClusterTransportTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    private static readonly TimeSpan JoinWithin = TimeSpan.FromSeconds(30);

    /// <summary>Far longer than a loopback handshake and a reply take; the control test answers within it.</summary>
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(5);

    [SkippableFact]
    public async Task A_process_with_the_clusters_certificate_joins_and_reaches_a_shard_region()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var member = await JoinAsMemberAsync();

        var members = AkkaCluster.Get(member.System).State.Members.Select(m => m.Address.Port).ToHashSet();
        Assert.Superset(cluster.Nodes.Select(node => (int?)node.AkkaPort).ToHashSet(), members);
        Assert.NotNull(await IdentifyAsync(member, UserRegion(TlsScheme, cluster.Nodes[0])));
    }

    [SkippableFact]
    public async Task A_process_without_a_certificate_can_neither_join_nor_reach_a_shard_region()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var member = await JoinAsMemberAsync();
        await using var intruder = Visitor.Start(ssl: null);

        await AssertLockedOutAsync(member, intruder, PlainScheme);
    }

    [SkippableFact]
    public async Task A_process_with_its_own_self_signed_certificate_can_neither_join_nor_reach_a_shard_region()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var member = await JoinAsMemberAsync();
        // It presents a certificate of its own making and trusts whatever the nodes present.
        await using var intruder = Visitor.Start(new DotNettySslSetup(
            ClusterCertificates.SelfSigned("akka-users-node"), suppressValidation: true, requireMutualAuthentication: true));

        await AssertLockedOutAsync(member, intruder, TlsScheme);
        await Until(() => cluster.Nodes.Any(node => node.LogTail(400).Contains("Refused cluster peer")),
            "no node logged the refused certificate");
    }

    private const string TlsScheme = "akka.ssl.tcp";
    private const string PlainScheme = "akka.tcp";

    /// <summary>
    /// The intruder asks to join and asks node 1's user shard region to identify itself: no answer comes, it never
    /// becomes a member in its own eyes, and the member's view of the cluster (the nodes') never includes it.
    /// </summary>
    private async Task AssertLockedOutAsync(Visitor member, Visitor intruder, string scheme)
    {
        var seeds = cluster.Nodes.Take(2).Select(node => Address.Parse($"{scheme}://akka-users@127.0.0.1:{node.AkkaPort}")).ToList();
        AkkaCluster.Get(intruder.System).JoinSeedNodes(seeds);

        Assert.Null(await IdentifyAsync(intruder, UserRegion(scheme, cluster.Nodes[0])));

        Assert.NotEqual(MemberStatus.Up, AkkaCluster.Get(intruder.System).SelfMember.Status);
        var intruderPort = AkkaCluster.Get(intruder.System).SelfAddress.Port;
        var seen = AkkaCluster.Get(member.System).State;
        Assert.DoesNotContain(seen.Members, m => m.Address.Port == intruderPort);
        Assert.DoesNotContain(seen.Unreachable, m => m.Address.Port == intruderPort);
        Assert.Equal(4, seen.Members.Count(m => m.Status == MemberStatus.Up)); // the three nodes and the member
    }

    /// <summary>
    /// The actor at <paramref name="path"/> as it answers an Identify; null when the message cannot be delivered
    /// (the sender's own dead letters answer it with no actor) or nothing answers in time.
    /// </summary>
    private static async Task<IActorRef?> IdentifyAsync(Visitor from, string path)
    {
        try
        {
            return (await from.System.ActorSelection(path).Ask<ActorIdentity>(new Identify("probe"), AnswerWithin)).Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    private static string UserRegion(string scheme, ClusterNode node) =>
        $"{scheme}://akka-users@127.0.0.1:{node.AkkaPort}/system/sharding/{UserActor.EntityName}";

    /// <summary>A member with the nodes' own certificate files and certificate check, up in the cluster.</summary>
    private async Task<Visitor> JoinAsMemberAsync()
    {
        var transport = ClusterTransport.Load(new ClusterTlsOptions
        {
            CertificatePath = cluster.Certificates.NodePath,
            CertificatePassword = cluster.Certificates.NodePassword,
            CaCertificatePath = cluster.Certificates.AuthorityPath,
        });
        var member = Visitor.Start(new DotNettySslSetup(
            transport.Certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
            transport.Validator));
        try
        {
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var self = AkkaCluster.Get(member.System);
            self.RegisterOnMemberUp(up.SetResult);
            self.JoinSeedNodes(cluster.Nodes.Take(2).Select(node => Address.Parse(node.AkkaAddress)));
            await up.Task.WaitAsync(JoinWithin);
            return member;
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }
    }

    private static async Task Until(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + AnswerWithin;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(failure);
            await Task.Delay(100); // poll interval
        }
    }

    /// <summary>An actor system of the cluster's name on a free loopback port, with TLS when <paramref name="ssl"/> is given.</summary>
    private sealed class Visitor : IAsyncDisposable
    {
        private Visitor(ActorSystem system) => System = system;

        public ActorSystem System { get; }

        public static Visitor Start(DotNettySslSetup? ssl)
        {
            var config = ConfigurationFactory.ParseString($$"""
                akka.loglevel = WARNING
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, enable-ssl = {{(ssl is null ? "off" : "on")}} }
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """).WithFallback(Akka.DistributedData.DistributedData.DefaultConfig()); // reads the nodes' gossip
            var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));
            if (ssl is not null) setup = setup.And(ssl);
            return new Visitor(ActorSystem.Create("akka-users", setup));
        }

        /// <summary>Leaves the cluster first when it is a member, so the nodes do not have to down it.</summary>
        public async ValueTask DisposeAsync()
        {
            if (AkkaCluster.Get(System).SelfMember.Status == MemberStatus.Up)
                await AkkaCluster.Get(System).LeaveAsync().WaitAsync(JoinWithin);
            await System.Terminate();
        }
    }
}
