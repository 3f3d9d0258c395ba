using System.Text.Json;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Domain.Tests;

/// <summary>The deletion rules: the tombstone ends the user at once, each step is recorded once, and it can be resumed.</summary>
public class UserDeletionTests
{
    private const string Id = "507f1f77bcf86cd799439011";
    private const string Ticket = "0b9f7c55-7d1c-4f39-9a8e-5a7a0b7c2d11";
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly DateTimeOffset T1 = T0.AddMinutes(5);

    private static (UserState State, UserDecision Decision) Run(UserState state, IUserCommand command, DateTimeOffset now)
    {
        var decision = state.Decide(command, now);
        return (decision.Events.Aggregate(state, (s, e) => s.Apply(e)), decision);
    }

    private static UserState Registered() => Run(UserState.Empty,
        new RegisterUser(Id, "jsmith", "john@example.com", "$argon2id$hash", ["user"], "free", null, JsonSerializer.SerializeToElement(new { })), T0).State;

    private static UserState Deleted() => Run(Registered(), new DeleteUser(Id, Ticket, "admin-id"), T1).State;

    [Fact]
    public void Deleting_a_registered_user_writes_a_boundary_and_a_tombstone_and_answers_the_profile_to_release()
    {
        var registered = Registered();
        var (state, decision) = Run(registered, new DeleteUser(Id, Ticket, "admin-id"), T1);

        Assert.Equal([new ErasureBoundary(T1), new UserDeleted(Ticket, "admin-id", T1)], decision.Events);
        var started = Assert.IsType<DeletionStarted>(decision.Reply);
        Assert.Equal((Ticket, registered.Profile, 0), (started.Ticket, started.User, started.StepsDone.Count));
        Assert.Equal(UserState.Lifecycle.Deleted, state.Status);
        Assert.Null(state.Profile);
        Assert.Null(state.PasswordHash);
    }

    [Fact]
    public void A_deleted_user_is_not_found_refuses_its_tokens_and_lets_its_claims_go()
    {
        var state = Deleted();

        Assert.IsType<UserNotFound>(state.Decide(new GetUser(Id), T1).Reply);
        Assert.IsType<UserNotFound>(state.Decide(new GetSignInSecret(Id), T1).Reply);
        Assert.Null(Assert.IsType<TokenChecked>(state.Decide(new CheckToken(Id, T1.AddDays(1)), T1).Reply).Scope);
        Assert.Equal(new RegistrationStatus(Id, null), state.Decide(new AbandonIfUnregistered(Id), T1).Reply);
        Assert.Empty(state.Decide(new AbandonIfUnregistered(Id), T1).Events);
        Assert.IsType<RegistrationRefused>(state.Decide(new RegisterUser(Id, "x", "x@example.com", "h", ["user"], "free", null, null), T1).Reply);
    }

    [Fact]
    public void Each_step_is_recorded_once_and_the_last_completes_the_deletion_and_forgets_the_profile()
    {
        var state = Deleted();
        Assert.Equal(new DeletionStatus(Id, Ticket, DeletionProgress.InProgress, 1, 4), state.Decide(new GetDeletionStatus(Id, Ticket), T1).Reply);

        (state, var first) = Run(state, new RecordDeletionStep(Id, Ticket, DeletionSteps.UsernameReleased), T1);
        Assert.Single(first.Events);
        Assert.Empty(state.Decide(new RecordDeletionStep(Id, Ticket, DeletionSteps.UsernameReleased), T1).Events);
        Assert.NotNull(state.Deletion!.Erasing);

        (state, _) = Run(state, new RecordDeletionStep(Id, Ticket, DeletionSteps.EmailReleased), T1);
        (state, var last) = Run(state, new RecordDeletionStep(Id, Ticket, DeletionSteps.HistoryErased), T1);

        Assert.Equal(new DeletionStatus(Id, Ticket, DeletionProgress.Completed, 4, 4), last.Reply);
        Assert.Null(state.Deletion!.Erasing);
        Assert.IsType<UserNotFound>(state.Decide(new DeleteUser(Id, "another-ticket", "admin-id"), T1).Reply);
    }

    [Fact]
    public void An_unfinished_deletion_asked_for_again_answers_its_own_ticket_and_the_steps_done_and_writes_nothing()
    {
        var (state, _) = Run(Deleted(), new RecordDeletionStep(Id, Ticket, DeletionSteps.UsernameReleased), T1);
        (state, _) = Run(state, new RecordDeletionFailed(Id, Ticket, DeletionSteps.EmailReleased, "ask timed out"), T1);
        Assert.Equal(DeletionProgress.Failed, ((DeletionStatus)state.Decide(new GetDeletionStatus(Id, Ticket), T1).Reply).Progress);

        var again = state.Decide(new DeleteUser(Id, "another-ticket", "admin-id"), T1);

        Assert.Empty(again.Events);
        var resumed = Assert.IsType<DeletionStarted>(again.Reply);
        Assert.Equal((Ticket, "jsmith"), (resumed.Ticket, resumed.User!.Username));
        Assert.Equal([DeletionSteps.UsernameReleased], resumed.StepsDone);

        // The next step done clears the failure.
        (state, _) = Run(state, new RecordDeletionStep(Id, Ticket, DeletionSteps.EmailReleased), T1);
        Assert.Equal(new DeletionStatus(Id, Ticket, DeletionProgress.InProgress, 3, 4), state.Decide(new GetDeletionStatus(Id, Ticket), T1).Reply);
    }

    [Fact]
    public void A_journal_that_starts_at_the_tombstone_replays_into_a_deleted_user_without_a_profile()
    {
        IUserEvent[] erased =
        [
            new UserDeleted(Ticket, "admin-id", T1),
            new DeletionStepDone(Ticket, DeletionSteps.UsernameReleased, T1),
            new DeletionStepDone(Ticket, DeletionSteps.EmailReleased, T1),
            new DeletionStepDone(Ticket, DeletionSteps.HistoryErased, T1),
        ];
        var state = erased.Aggregate(UserState.Empty, (s, e) => s.Apply(e));

        Assert.Equal(UserState.Lifecycle.Deleted, state.Status);
        Assert.Null(state.Deletion!.Erasing);
        Assert.Equal(DeletionProgress.Completed, ((DeletionStatus)state.Decide(new GetDeletionStatus(Id, Ticket), T1).Reply).Progress);
    }

    [Fact]
    public void Steps_and_status_of_another_ticket_or_of_a_live_user_are_not_found()
    {
        Assert.IsType<UserNotFound>(Deleted().Decide(new GetDeletionStatus(Id, "another-ticket"), T1).Reply);
        Assert.IsType<UserNotFound>(Deleted().Decide(new RecordDeletionStep(Id, "another-ticket", DeletionSteps.EmailReleased), T1).Reply);
        Assert.IsType<UserNotFound>(Registered().Decide(new GetDeletionStatus(Id, Ticket), T1).Reply);
        Assert.IsType<UserNotFound>(UserState.Empty.Decide(new DeleteUser(Id, Ticket, "admin-id"), T1).Reply);
    }
}
