using AkkaUsers.Accounts.Hosting;
using AkkaUsers.ReadSide.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.Accounts.Tests;

/// <summary>The write side with the read side, as the service wires them.</summary>
public sealed partial class ActorHost
{
    private static void AddNode(IServiceCollection services, IConfiguration configuration) =>
        services.AddAccounts(configuration, (akka, sp) => akka.WithReadSide(sp)).AddReadSide();

    private static void AddTools(IServiceCollection services, IConfiguration configuration) =>
        services.AddAccountsTools(configuration).AddReadSide();
}
