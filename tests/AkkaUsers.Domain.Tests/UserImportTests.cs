using System.Text.Json;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Domain.Tests;

/// <summary>An imported user is a registered user as it was elsewhere; importing it again changes nothing.</summary>
public sealed class UserImportTests
{
    private const string Id = "507f1f77bcf86cd799439011";
    private const string Bcrypt = "$2b$05$pR/jxDOKfmq6cpVBwMCDVOy2KET7OYlJV44Hfce4EAiB4d/Mi1FK.";
    private static readonly DateTimeOffset Created = DateTimeOffset.Parse("2024-05-01T10:00:00Z");
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-05T10:00:00Z");

    private static ImportUser Import(string username = "jsmith", string email = "john@example.com") => new(
        Id, username, email, Bcrypt, "bcrypt", ["user", "tester"], "pro", JsonSerializer.SerializeToElement(new[] { "acme" }),
        JsonSerializer.SerializeToElement(new { team = "blue" }), IsActive: true, Created);

    private static UserState Imported() => UserState.Empty.Apply(Assert.Single(UserState.Empty.Decide(Import(), Now).Events));

    [Fact]
    public void A_new_id_records_one_user_imported_event_and_becomes_the_user_as_it_was_with_its_creation_time()
    {
        var decision = UserState.Empty.Decide(Import(), Now);

        var imported = Assert.IsType<UserImported>(Assert.Single(decision.Events));
        Assert.Equal(("bcrypt", Bcrypt, Now), (imported.Format, imported.PasswordHash, imported.At));
        var user = Assert.IsType<UserFound>(decision.Reply).User;
        Assert.Equal((Id, "jsmith", "john@example.com", true, "pro", Created), (user.Id, user.Username, user.Email, user.IsActive, user.Plan, user.Created));
        Assert.Equal(["user", "tester"], user.Scope);
        Assert.Equal("[\"acme\"]", user.Vendor!.Value.GetRawText());

        var state = UserState.Empty.Apply(imported);
        Assert.Equal(UserState.Lifecycle.Registered, state.Status);
        Assert.Equal(Bcrypt, state.PasswordHash);
        Assert.Equal(user, state.Profile);
    }

    [Fact]
    public void The_same_user_imported_again_is_already_imported_and_records_nothing()
    {
        var decision = Imported().Decide(Import(), Now.AddDays(1));

        Assert.Empty(decision.Events);
        Assert.Equal(Id, Assert.IsType<AlreadyImported>(decision.Reply).User.Id);
    }

    [Theory]
    [InlineData("other", "john@example.com")]
    [InlineData("jsmith", "other@example.com")]
    public void The_same_id_with_another_username_or_email_is_refused_and_names_the_holder(string username, string email)
    {
        var decision = Imported().Decide(Import(username, email), Now);

        Assert.Empty(decision.Events);
        var refused = Assert.IsType<ImportRefused>(decision.Reply);
        Assert.Equal("jsmith", refused.Holder!.Username);
    }

    [Fact]
    public void A_deleted_or_abandoned_id_is_refused()
    {
        var deleted = Imported();
        foreach (var e in deleted.Decide(new DeleteUser(Id, "t1", "admin"), Now).Events) deleted = deleted.Apply(e);
        var abandoned = UserState.Empty.Apply(new RegistrationAbandoned(Now));

        foreach (var state in new[] { deleted, abandoned })
        {
            var decision = state.Decide(Import(), Now);
            Assert.Empty(decision.Events);
            Assert.Null(Assert.IsType<ImportRefused>(decision.Reply).Holder);
        }
    }
}
