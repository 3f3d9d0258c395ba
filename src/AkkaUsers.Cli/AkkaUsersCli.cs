using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AkkaUsers.Accounts;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Hosting;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cli;

/// <summary>
/// The operator's tool over the service's journal, with the service's configuration. Exit codes: 0 done (verify:
/// clean), 1 failed (verify: problems found; grant: no such user), 2 bad command line or configuration.
/// </summary>
public static class AkkaUsersCli
{
    public const string GrantedBy = "cli";
    private const string AdminScope = "admin";

    /// <param name="output">Where exports (without --out) and reports go.</param>
    /// <param name="errors">Progress, warnings and errors.</param>
    public static async Task<int> RunAsync(string[] args, Stream output, TextWriter errors, CancellationToken ct)
    {
        CliArguments command;
        try
        {
            command = CliArguments.Parse(args);
        }
        catch (UsageException e)
        {
            return await UsageError(e, errors);
        }

        using var host = BuildHost(command.Configuration, errors);
        JournalDatabase database;
        try
        {
            // Every option is bound and checked here, as the service does at its start.
            host.Services.GetService<IStartupValidator>()?.Validate();
            database = host.Services.GetRequiredService<JournalDatabase>();
        }
        catch (Exception e) when (e is OptionsValidationException || e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            var message = e is OptionsValidationException invalid ? string.Join("; ", invalid.Failures) : e.Message;
            await errors.WriteLineAsync($"Invalid configuration: {message}");
            return 2;
        }
        if (database.MissingFile() is { } missing)
        {
            await errors.WriteLineAsync(
                $"No journal at {missing}: set Storage:DataDirectory or Persistence:ConnectionString as for the service.");
            return 2;
        }

        await using var text = new StreamWriter(output, leaveOpen: true) { AutoFlush = true };
        try
        {
            return command.Verb switch
            {
                "audit export" => await ExportAsync(command, host.Services, output, errors, ct),
                "audit verify" => await VerifyAsync(host.Services, text, errors, ct),
                "projection rebuild" => await RebuildAsync(host.Services, text, errors, ct),
                "admin grant" => await GrantAsync(command.Arguments[0], host, text, errors, ct),
                _ => throw new UsageException($"unknown verb '{command.Verb}'"),
            };
        }
        catch (UsageException e)
        {
            return await UsageError(e, errors);
        }
        catch (DbException e)
        {
            await errors.WriteLineAsync($"{command.Verb}: the database failed: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> UsageError(UsageException e, TextWriter errors)
    {
        await errors.WriteLineAsync($"{e.Message}\n{CliArguments.Usage}");
        return 2;
    }

    /// <summary>The service's configuration sources (appsettings.json in the working directory, environment, arguments) and services.</summary>
    private static IHost BuildHost(string[] configuration, TextWriter errors)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = configuration,
            ContentRootPath = Directory.GetCurrentDirectory(),
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                              ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production,
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(new ErrorsLoggerProvider(errors));
        builder.Services.AddAccountsTools(builder.Configuration).AddReadSide();
        return builder.Build();
    }

    private static async Task<int> ExportAsync(CliArguments command, IServiceProvider services, Stream output, TextWriter errors, CancellationToken ct)
    {
        DateTimeOffset? since = null;
        if (command.Option("since") is { } sinceText)
            since = IsoTime.TryParse(sinceText, out var time) ? time : throw new UsageException("--since must be an ISO 8601 time");
        string? persistenceId = null;
        if (command.Option("user") is { } userText)
            persistenceId = UserId.TryParse(userText, out var id)
                ? UserActor.PersistenceIdFor(id.Value)
                : throw new UsageException("--user must be a user id (24 lowercase hex characters)");

        var outFile = command.Option("out") is { } path ? Path.GetFullPath(path) : null;
        await using var target = outFile is null ? null : File.Create(outFile);
        var progress = new Progress("audit export", errors);
        await Export(services.GetRequiredService<JournalReader>(), new JournalFilter(since, persistenceId), target ?? output, progress, ct);
        await errors.WriteLineAsync(progress.Summary(outFile is null ? "" : $" to {outFile}"));
        return 0;
    }

    /// <summary>One JSON line per journal row, written as it is read: memory does not grow with the journal.</summary>
    public static async Task Export(JournalReader reader, JournalFilter filter, Stream output, Progress progress, CancellationToken ct)
    {
        var buffered = new BufferedStream(output, 1 << 16); // flushed, not disposed: the caller owns the output
        await using (var writer = new Utf8JsonWriter(buffered, AuditEvent.WriterOptions))
        {
            await foreach (var row in reader.ReadAsync(filter, ct))
            {
                AuditEvent.From(row).WriteTo(writer);
                writer.Flush();
                buffered.WriteByte((byte)'\n');
                writer.Reset();
                progress.Add();
            }
        }
        await buffered.FlushAsync(ct);
    }

    private static async Task<int> VerifyAsync(IServiceProvider services, TextWriter text, TextWriter errors, CancellationToken ct)
    {
        var grace = services.GetRequiredService<IOptions<EntityOptions>>().Value.ClaimGracePeriod;
        var verifier = new AuditVerifier(grace, DateTimeOffset.UtcNow);
        var progress = new Progress("audit verify", errors);
        await foreach (var row in services.GetRequiredService<JournalReader>().ReadAsync(new JournalFilter(ByEntity: true), ct))
        {
            verifier.Add(AuditVerifier.Decode(row));
            progress.Add();
        }
        var problems = verifier.Finish();

        await text.WriteLineAsync(progress.Summary($": {Progress.Number(verifier.Users)} user ids, {Progress.Number(verifier.IndexEntities)} index entities"));
        if (problems.Count == 0)
        {
            await text.WriteLineAsync("OK: every invariant holds");
            return 0;
        }
        await text.WriteLineAsync($"{problems.Count} problem(s):");
        foreach (var problem in problems) await text.WriteLineAsync($"  {problem.Message}");
        await text.WriteLineAsync($"offending ids: {string.Join(" ", problems.SelectMany(p => p.Ids).Distinct())}");
        return 1;
    }

    private static async Task<int> RebuildAsync(IServiceProvider services, TextWriter text, TextWriter errors, CancellationToken ct)
    {
        var reader = services.GetRequiredService<JournalReader>();
        var upTo = await reader.LastOrderingAsync(ct);
        var progress = new Progress("projection rebuild", errors);
        var unreadable = new List<string>();
        var result = await services.GetRequiredService<UsersReadModel>().RebuildAsync(UserEvents(reader, upTo, progress, unreadable, ct), upTo, ct);

        await text.WriteLineAsync(progress.Summary($": {Progress.Number(result.Users)} users listed, up to ordering {upTo}"));
        var problems = unreadable.Concat(result.Problems).ToList();
        foreach (var problem in problems) await text.WriteLineAsync($"  skipped: {problem}");
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>The user events of the journal up to <paramref name="upTo"/>, decoded; rows that do not decode are listed and skipped.</summary>
    private static async IAsyncEnumerable<UserEventAt> UserEvents(
        JournalReader reader, long upTo, Progress progress, List<string> unreadable, [EnumeratorCancellation] CancellationToken ct)
    {
        var filter = new JournalFilter(PersistenceIdPrefix: UserActor.PersistenceIdPrefix, UpToOrdering: upTo);
        await foreach (var row in reader.ReadAsync(filter, ct))
        {
            progress.Add();
            IUserEvent e;
            try
            {
                e = (IUserEvent)AkkaUsersSerializer.Decode(row.Message, row.Manifest ?? "");
            }
            catch (Exception failure) when (failure is JsonException or System.Runtime.Serialization.SerializationException or InvalidCastException)
            {
                unreadable.Add($"{row.PersistenceId} #{row.SequenceNr} (ordering {row.Ordering}) does not deserialize: {failure.Message}");
                continue;
            }
            yield return new UserEventAt(UserActor.UserIdOf(row.PersistenceId), row.SequenceNr, row.Ordering, e);
        }
    }

    private static async Task<int> GrantAsync(string email, IHost host, TextWriter text, TextWriter errors, CancellationToken ct)
    {
        if (Validation.Email(email) is { } invalid) throw new UsageException(invalid);

        await host.StartAsync(ct);
        try
        {
            if (await host.Services.GetRequiredService<UserAccounts>().GrantScopeByEmailAsync(email, AdminScope, GrantedBy, ct)
                is not GrantOutcome.Granted { User: var user })
            {
                await errors.WriteLineAsync($"admin grant: no registered user has the email {Keys.Email(email)}");
                return 1;
            }
            await text.WriteLineAsync($"admin grant: user {user.Id} ({user.Username}) has the scopes {string.Join(", ", user.Scope)}");
            return 0;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Every log line at Warning and above, to stderr, so that stdout carries only the export or the report.</summary>
    private sealed class ErrorsLoggerProvider(TextWriter errors) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(errors, categoryName);

        public void Dispose() { }

        private sealed class Logger(TextWriter errors, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                lock (errors) errors.WriteLine($"{logLevel}: {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.Message})")}");
            }
        }
    }
}
