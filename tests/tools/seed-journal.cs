#:sdk Microsoft.NET.Sdk.Web
#:project ../../src/AkkaUsers.Accounts/AkkaUsers.Accounts.csproj
#:property PublishAot=false

// A synthetic journal for measuring the read side (audit export, audit verify, projection rebuild, the read
// model's lag): USERS users, each a username claim, an email claim and a registration, as the entities write them
// (the service's serializer and manifests, the "user"/"claim" tags), in one transaction, far faster than
// registering them (which hashes every password). The journal passes `audit verify`.
//
//   dotnet run tests/tools/seed-journal.cs -- DATA-DIRECTORY USERS

using System.Data.Common;
using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

if (args.Length != 2 || !int.TryParse(args[1], out var users) || users < 1)
{
    Console.Error.WriteLine("usage: dotnet run tests/tools/seed-journal.cs -- DATA-DIRECTORY USERS");
    return 2;
}

// The service's own wiring creates the journal's tables when an entity first recovers.
var builder = Host.CreateApplicationBuilder();
builder.Configuration["Storage:DataDirectory"] = Path.GetFullPath(args[0]);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddAccountsTools(builder.Configuration);
using (var host = builder.Build())
{
    await host.StartAsync();
    await host.Services.GetRequiredService<UserAccounts>().GetAsync(UserId.New(DateTimeOffset.UtcNow).Value, CancellationToken.None);
    await host.StopAsync();
}

var database = new JournalDatabase(PersistenceProvider.Sqlite, $"Data Source={Path.Combine(Path.GetFullPath(args[0]), "akka-users.db")}");
await using var connection = await database.OpenConnectionAsync(CancellationToken.None);
await using var transaction = await connection.BeginTransactionAsync();
var insert = Command("""
    INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
    VALUES (@created, 0, @persistence_id, 1, @message, @manifest, @identifier, 'seed') RETURNING ordering
    """);
var tag = Command("INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES (@ordering, @tag, 1, @persistence_id)");
var start = DateTimeOffset.UtcNow;
for (var i = 0; i < users; i++)
{
    var at = start.AddMilliseconds(i);
    var id = UserId.New(at).Value;
    var username = $"user{i:D7}";
    var email = $"{username}@example.com";
    await Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(username)), new KeyClaimed(null, id, at) { Key = username }, at);
    var skeleton = Keys.UsernameSkeleton(username);
    await Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(skeleton)), new KeyClaimed(null, id, at) { Key = skeleton }, at);
    await Write(ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(email)), new KeyClaimed(null, id, at) { Key = email }, at);
    await Write(UserActor.PersistenceIdFor(id), new UserRegistered(id, username, email,
        "$argon2id$v=19$m=19456,t=2,p=1$c2VlZHNlZWRzZWVkc2VlZA$c2VlZGhhc2hzZWVkaGFzaHNlZWRoYXNoc2VlZGhhc2g",
        ["user"], "free", null, null, at), at);
}
await transaction.CommitAsync();
Console.WriteLine($"{users} users, {4 * users} events written to {database.ConnectionString}");
return 0;

DbCommand Command(string sql)
{
    var command = connection.CreateCommand();
    command.Transaction = transaction;
    command.CommandText = sql;
    return command;
}

async Task Write(string persistenceId, object @event, DateTimeOffset at)
{
    var ordering = await insert.SetParameters(
        ("@created", at.UtcTicks), ("@persistence_id", persistenceId), ("@message", AkkaUsersSerializer.Encode(@event)),
        ("@manifest", AkkaUsersSerializer.ManifestOf(@event)), ("@identifier", AkkaUsersSerializer.Id)).ExecuteScalarAsync();
    await tag.SetParameters(("@ordering", ordering), ("@tag", @event is IUserEvent ? JournalTagger.UserTag : JournalTagger.ClaimTag),
        ("@persistence_id", persistenceId)).ExecuteNonQueryAsync();
}
