using System.Net;
using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>A deletion cut short resumes by itself when the service starts again: nobody asks for it.</summary>
public sealed class DeletionResumeTests
{
    private static Dictionary<string, string?> Settings(string? askTimeout = null) => new()
    {
        ["Admin:Email"] = AdminService.Email,
        ["Admin:Password"] = AdminService.Password,
        ["Admin:Username"] = "root",
        ["Entities:AskTimeout"] = askTimeout,
    };

    [Fact]
    public async Task A_deletion_left_unfinished_completes_after_a_restart_without_anyone_asking()
    {
        var first = new ApiFactory(Settings(askTimeout: "00:00:01"));
        string id, ticket, username = Api.Unique("resumed"), email = $"{username}@example.com";
        try
        {
            var client = first.CreateClient();
            var adminToken = (await client.SignInAsConfiguredAdmin(AdminService.Email, AdminService.Password))["token"]!.GetValue<string>();
            id = (await (await client.Register(username, email)).Body())["user"]!["id"]!.GetValue<string>();

            // The email index gone, the deletion stops after the tombstone and the username: its journal is then what
            // a crash in the middle leaves.
            var system = first.Services.GetRequiredService<ActorSystem>();
            await ActorRegistry.For(system).Get<EmailIndex>().GracefulStop(TimeSpan.FromSeconds(10));
            var deleted = await client.Send(HttpMethod.Delete, $"/users/{id}", adminToken);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            ticket = (await deleted.Body())["ticket"]!.GetValue<string>();
            var stopped = await Poll.UntilAsync(
                async () => await (await client.Get($"/users/{id}/delete-status/{ticket}", adminToken)).Body(),
                s => s["status"]!.GetValue<string>() != "in-progress", "the interrupted deletion");
            Assert.Equal("failed", stopped["status"]!.GetValue<string>());
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = new ApiFactory(Settings(), first.DataDirectory);
        try
        {
            var client = second.CreateClient();
            // Read from the file alone: asking the service about the user would start its entity, and so the rest.
            var stepManifest = AkkaUsersSerializer.Manifests[typeof(UserProtocol.DeletionStepDone)];
            await Poll.UntilAsync(() => Task.FromResult(RestartTests.JournalPayloads(second.DatabaseFile, stepManifest)),
                steps => steps.Any(step => step.Contains(ticket) && step.Contains(DeletionSteps.HistoryErased)), "the resumed deletion");

            var adminToken = (await client.SignInAsConfiguredAdmin(AdminService.Email, AdminService.Password))["token"]!.GetValue<string>();
            var status = await (await client.Get($"/users/{id}/delete-status/{ticket}", adminToken)).Body();
            Assert.Equal("completed", status["status"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.Created, (await client.Register(username, email)).StatusCode);
        }
        finally
        {
            second.DeleteData();
        }
    }
}
