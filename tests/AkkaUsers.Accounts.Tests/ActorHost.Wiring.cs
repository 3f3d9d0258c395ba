using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Accounts.Tests;

/// <summary>The write side alone, as the service wires it.</summary>
public sealed partial class ActorHost
{
    private static void AddNode(IServiceCollection services, IConfiguration configuration) => services.AddAccounts(configuration);

    private static void AddTools(IServiceCollection services, IConfiguration configuration) => services.AddAccountsTools(configuration);
}
