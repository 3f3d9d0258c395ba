using AkkaUsers.Soak;
using Xunit.Abstractions;

namespace AkkaUsers.Cluster.Tests;

/// <summary>The fault soak, short: a minute of mixed load while random nodes are SIGKILLed and restarted.</summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_minute_of_load_and_kills_loses_no_acknowledged_user_and_answers_no_5xx()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);

        var report = await SoakRun.RunAsync(new SoakSettings(ThreeNodeCluster.ServerConnection, TimeSpan.FromSeconds(60)), output.WriteLine);

        output.WriteLine(report.ToString());
        Assert.True(report.Kills > 0, "no node was killed");
        Assert.True(report.Passed, report.ToString());
    }
}
