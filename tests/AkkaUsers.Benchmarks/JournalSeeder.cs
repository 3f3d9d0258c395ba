using Akka.Actor;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using Microsoft.Data.Sqlite;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// Writes registered users straight into a SQLite journal that the service created, row for row as
/// Akka.Persistence.Sql writes them: for each user, its username, username skeleton and email claims and its UserRegistered, each
/// serialized by the service's own serializer under its manifest, with the tag rows the journal's tagger adds.
/// </summary>
public static class JournalSeeder
{
    /// <summary>The username of the i-th seeded user; its email is this at example.com.</summary>
    public static string Username(int i) => $"seeded{i}";

    public static void Seed(string databaseFile, int users, string passwordHash)
    {
        using var system = ActorSystem.Create("journal-seeder");
        var serializer = new AkkaUsersSerializer((ExtendedActorSystem)system);
        var writer = Guid.NewGuid().ToString("N");

        using var connection = new SqliteConnection($"Data Source={databaseFile};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        var ordering = Scalar(connection, transaction, "SELECT COALESCE(MAX(ordering), 0) FROM journal");

        using var journal = Command(connection, transaction,
            "INSERT INTO journal (ordering, created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
            "VALUES ($ordering, $created, 0, $pid, 1, $message, $manifest, $identifier, $writer)",
            "$ordering", "$created", "$pid", "$message", "$manifest", "$identifier", "$writer");
        using var tags = Command(connection, transaction,
            "INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES ($ordering, $tag, 1, $pid)",
            "$ordering", "$tag", "$pid");

        void Write(string persistenceId, object evt, string tag)
        {
            ordering++;
            journal.Parameters["$ordering"].Value = ordering;
            journal.Parameters["$created"].Value = DateTime.UtcNow.Ticks;
            journal.Parameters["$pid"].Value = persistenceId;
            journal.Parameters["$message"].Value = serializer.ToBinary(evt);
            journal.Parameters["$manifest"].Value = serializer.Manifest(evt);
            journal.Parameters["$identifier"].Value = serializer.Identifier;
            journal.Parameters["$writer"].Value = writer;
            journal.ExecuteNonQuery();
            tags.Parameters["$ordering"].Value = ordering;
            tags.Parameters["$tag"].Value = tag;
            tags.Parameters["$pid"].Value = persistenceId;
            tags.ExecuteNonQuery();
        }

        for (var i = 0; i < users; i++)
        {
            var now = DateTimeOffset.UtcNow;
            var id = UserId.New(now).Value;
            var username = Username(i);
            var email = Keys.Email($"{username}@example.com");
            var usernameKey = Keys.Username(username);
            Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(usernameKey)), new KeyClaimed(null, id, now) { Key = usernameKey }, JournalTagger.ClaimTag);
            var skeletonKey = Keys.UsernameSkeleton(username);
            Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(skeletonKey)), new KeyClaimed(null, id, now) { Key = skeletonKey }, JournalTagger.ClaimTag);
            Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(email)), new KeyClaimed(null, id, now) { Key = email }, JournalTagger.ClaimTag);
            Write(UserActor.PersistenceIdFor(id),
                new UserRegistered(id, username, email, passwordHash, ["user"], "free", null, null, now), JournalTagger.UserTag);
        }
        transaction.Commit();
    }

    private static long Scalar(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = Command(connection, transaction, sql);
        return Convert.ToInt64(command.ExecuteScalar());
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        command.Prepare();
        return command;
    }
}
