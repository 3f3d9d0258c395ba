using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Akka.Actor;
using AkkaUsers.Accounts;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Hosting;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Domain;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cli;

/// <summary>
/// The operator's tool over the service's journal, with the service's configuration; its verbs, options and exit
/// codes (<see cref="ExitCodes"/>) are described by its own --help.
/// </summary>
public static class AkkaUsersCli
{
    public const string Name = "akka-users";
    public const string GrantedBy = "cli";
    private const string AdminScope = "admin";

    private const string ConfigurationHelp = """
        Configuration is the service's own: appsettings.json in the working directory, environment variables
        (Section__Key) and --Section:Key=value arguments anywhere on the line, e.g.
          --Storage:DataDirectory=/var/lib/akka-users
          --Persistence:Provider=PostgreSql --Persistence:ConnectionString="Host=db;..."
        """;

    /// <summary>Where a run writes, what it was given beyond its command line, and whether stderr is a terminal.</summary>
    private sealed record Run(Stream Output, TextWriter Text, TextWriter Errors, string[] Configuration, bool Terminal);

    /// <param name="output">Where exports (without --out), reports and help go.</param>
    /// <param name="errors">Progress, warnings and refusals.</param>
    /// <param name="terminal">Whether <paramref name="errors"/> is a terminal: only there is progress drawn.</param>
    public static async Task<int> RunAsync(string[] args, Stream output, TextWriter errors, CancellationToken ct, bool terminal = false)
    {
        await using var text = new StreamWriter(output, leaveOpen: true) { AutoFlush = true };
        try
        {
            var (commandLine, configuration) = SplitConfiguration(args);
            var root = Commands(new Run(output, text, errors, configuration, terminal));
            var parsed = root.Parse(commandLine);
            if (parsed.Action is ParseErrorAction)
                throw CliRefusal.Usage($"{string.Join("; ", parsed.Errors.Select(e => OneLine(e.Message).TrimEnd('.')))} (see '{PathOf(parsed.CommandResult.Command)} --help')");
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = text,
                Error = errors,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // the caller owns Ctrl+C, through ct
            }, ct);
        }
        catch (CliRefusal refusal)
        {
            await errors.WriteLineAsync(refusal.Message);
            return refusal.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await errors.WriteLineAsync($"{Name}: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (DbException e)
        {
            await errors.WriteLineAsync($"The journal's database failed: {OneLine(e.Message)}");
            return ExitCodes.Unavailable;
        }
        catch (Exception e)
        {
            await errors.WriteLineAsync($"{Name}: unexpected failure: {e.GetType().Name}: {OneLine(e.Message)}");
            return ExitCodes.Unexpected;
        }
    }

    /// <summary>
    /// The configuration overrides (--Section:Key=value, or --Section:Key value) taken out of the command line, so
    /// that they may stand anywhere on it; the rest is the verb with its arguments and options.
    /// </summary>
    private static (string[] CommandLine, string[] Configuration) SplitConfiguration(IReadOnlyList<string> args)
    {
        var commandLine = new List<string>();
        var configuration = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var name = arg.Split('=', 2)[0];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || !name.Contains(':'))
            {
                commandLine.Add(arg);
                continue;
            }
            if (arg.Contains('=')) configuration.Add(arg);
            else if (i + 1 < args.Count) configuration.Add($"{arg}={args[++i]}");
            else throw CliRefusal.Usage($"{arg} needs a value: {arg}=VALUE");
        }
        return (commandLine.ToArray(), configuration.ToArray());
    }

    private static RootCommand Commands(Run run)
    {
        var root = new RootCommand("The operator's tool over the AkkaUsers journal: audit export and verify, read model rebuild, admin grant; and users import into a running service.")
        {
            HelpName = Name,
        };
        root.Subcommands.Add(Group("audit", "The event log: export it, or check its invariants.", Export(run), Verify(run)));
        root.Subcommands.Add(Group("projection", "The admin's read model (the users table).", Rebuild(run)));
        root.Subcommands.Add(Group("admin", "Administrators.", Grant(run)));
        root.Subcommands.Add(Group("users", "Users moved over from another system.", Import(run)));
        WithEpilog(root, $"{ConfigurationHelp}\n\n{ExitCodes.Table}");
        return root;
    }

    private static Command Group(string name, string description, params Command[] verbs)
    {
        var group = new Command(name, description);
        foreach (var verb in verbs) group.Subcommands.Add(verb);
        return group;
    }

    /// <summary>Every help screen ends with the configuration and the exit codes, which no option shows.</summary>
    private static void WithEpilog(RootCommand root, string epilog)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        var standard = (SynchronousCommandLineAction)help.Action!;
        help.Action = new HelpWithEpilog(standard, epilog);
    }

    private sealed class HelpWithEpilog(SynchronousCommandLineAction standard, string epilog) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            standard.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(epilog);
            return ExitCodes.Ok;
        }
    }

    private static Option<string> FormatOption() => new Option<string>("--format")
    {
        Description = "How the report is written: text, or one JSON object",
        DefaultValueFactory = _ => "text",
        HelpName = "text|json",
    }.AcceptOnlyFromAmong("text", "json");

    private static Command Export(Run run)
    {
        var outFile = new Option<string>("--out") { Description = "Write to FILE instead of stdout", HelpName = "FILE" };
        var since = new Option<string>("--since") { Description = "Only events written at or after this time", HelpName = "ISO-TIME" };
        var user = new Option<string>("--user") { Description = "Only this user's events", HelpName = "USER-ID" };
        var command = new Command("export", "Write the event log as JSON lines in journal order, secrets redacted. Streams: memory does not grow with the journal.")
        {
            outFile, since, user,
        };
        command.SetAction((parsed, ct) => ExportAsync(run, parsed.GetValue(outFile), parsed.GetValue(since), parsed.GetValue(user), ct));
        return command;
    }

    private static Command Verify(Run run)
    {
        var format = FormatOption();
        var command = new Command("verify", "Replay every event and check the invariants; exit 1 on any problem.") { format };
        command.SetAction((parsed, ct) => VerifyAsync(run, parsed.GetValue(format) == "json", ct));
        return command;
    }

    private static Command Rebuild(Run run)
    {
        var format = FormatOption();
        var command = new Command("rebuild", "Drop the users table and fill it again from the journal, in one transaction; exit 1 if events were skipped.")
        {
            format,
        };
        command.SetAction((parsed, ct) => RebuildAsync(run, parsed.GetValue(format) == "json", ct));
        return command;
    }

    private static Command Grant(Run run)
    {
        var email = new Argument<string>("EMAIL") { Description = "The email of the registered user to make an admin" };
        var serviceUrl = new Option<string>("--service-url")
        {
            Description = "Where to look for a running service first (default: the service's configured urls, else http://localhost:2200)",
            HelpName = "URL",
        };
        var command = new Command("grant", """
            Give the user with this email the admin scope, through the user's own entity. Only while the service is
            stopped: two live copies of one user would both write its journal, so the tool refuses (exit 3) when the
            service answers at its configured URL. With the service running, grant through its API instead, as an
            admin: PUT /users/USER-ID with {"scope": [..., "admin"]}.
            """)
        {
            email, serviceUrl,
        };
        command.SetAction((parsed, ct) => GrantAsync(run, parsed.GetValue(email)!, parsed.GetValue(serviceUrl), ct));
        return command;
    }

    private static Command Import(Run run)
    {
        var file = new Argument<string>("FILE") { Description = "NDJSON, one user per line, as mongoexport writes Appmixer's users collection (see docs/migration.md)" };
        var url = new Option<string>("--url") { Description = $"The running service (default: {UsersImport.UrlVariable}, else {RunningService.DefaultUrls})", HelpName = "URL" };
        var token = new Option<string>("--token") { Description = $"An admin's token (default: {UsersImport.TokenVariable})", HelpName = "TOKEN" };
        var rejected = new Option<string>("--rejected") { Description = "Where the rejected lines go, each with its reason (default: FILE.rejected.ndjson)", HelpName = "FILE" };
        var format = FormatOption();
        var command = new Command("import", """
            Post FILE to the running service's POST /users/import as an admin: users keep their ids and password hashes
            and sign in with their old passwords. A progress bar counts the lines sent; the summary counts imported,
            already there (a file sent twice changes nothing) and rejected users; exit 1 when any line was rejected.
            """)
        {
            file, url, token, rejected, format,
        };
        command.SetAction((parsed, ct) => UsersImport.RunAsync(parsed.GetValue(file)!, parsed.GetValue(url), parsed.GetValue(token),
            parsed.GetValue(rejected), parsed.GetValue(format) == "json", run.Text, run.Errors, run.Terminal, ct));
        return command;
    }

    private static string PathOf(Command command) =>
        command is RootCommand ? Name : $"{PathOf(command.Parents.OfType<Command>().First())} {command.Name}";

    /// <summary>The service's configuration and journal, checked as the service checks them at its start.</summary>
    private static async Task<int> WithJournalAsync(Run run, Func<IHost, Task<int>> verb)
    {
        using var host = BuildHost(run);
        if (host.Services.GetRequiredService<JournalDatabase>().MissingFile() is { } missing)
            throw new CliRefusal(ExitCodes.Unavailable,
                $"No journal at {missing}: set Storage:DataDirectory or Persistence:ConnectionString as for the service.");
        return await verb(host);
    }

    /// <summary>The service's configuration sources (appsettings.json in the working directory, environment, arguments) and services.</summary>
    private static IHost BuildHost(Run run)
    {
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                Args = run.Configuration,
                ContentRootPath = Directory.GetCurrentDirectory(),
                EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                                  ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production,
            });
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddProvider(new ErrorsLoggerProvider(run.Errors));
            builder.Services.AddAccountsTools(builder.Configuration).AddReadSide();
            var host = builder.Build();
            // Every option is bound and checked here, as the service does at its start.
            host.Services.GetService<IStartupValidator>()?.Validate();
            host.Services.GetRequiredService<JournalDatabase>();
            return host;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidDataException
                                  || e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            var message = e is OptionsValidationException invalid ? string.Join("; ", invalid.Failures) : e.Message;
            throw CliRefusal.Usage($"Invalid configuration: {OneLine(message)}");
        }
    }

    private static async Task<int> ExportAsync(Run run, string? outPath, string? sinceText, string? userText, CancellationToken ct)
    {
        DateTimeOffset? since = null;
        if (sinceText is not null)
            since = IsoTime.TryParse(sinceText, out var time) ? time : throw CliRefusal.Usage("--since must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z");
        string? persistenceId = null;
        if (userText is not null)
            persistenceId = UserId.TryParse(userText, out var id)
                ? UserActor.PersistenceIdFor(id.Value)
                : throw CliRefusal.Usage("--user must be a user id (24 lowercase hex characters)");

        return await WithJournalAsync(run, async host =>
        {
            var reader = host.Services.GetRequiredService<JournalReader>();
            var outFile = outPath is null ? null : Path.GetFullPath(outPath);
            await using var target = outFile is null ? null : OpenForWriting(outFile);
            var progress = new Progress("audit export", run.Errors, run.Terminal, await reader.LastOrderingAsync(ct));
            await Export(reader, new JournalFilter(since, persistenceId), target ?? run.Output, progress, ct);
            progress.Clear();
            await run.Errors.WriteLineAsync(progress.Summary(outFile is null ? "" : $" to {outFile}"));
            return ExitCodes.Ok;
        });
    }

    private static FileStream OpenForWriting(string path)
    {
        try
        {
            return File.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliRefusal.Usage($"Cannot write {path}: {e.Message}");
        }
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
                progress.Add(row.Ordering);
            }
        }
        await buffered.FlushAsync(ct);
    }

    private static Task<int> VerifyAsync(Run run, bool json, CancellationToken ct) => WithJournalAsync(run, async host =>
    {
        var grace = host.Services.GetRequiredService<IOptions<EntityOptions>>().Value.ClaimGracePeriod;
        var verifier = new AuditVerifier(grace, DateTimeOffset.UtcNow);
        var reader = host.Services.GetRequiredService<JournalReader>();
        // Entity by entity, the orderings jump about: progress counts rows instead.
        var progress = new Progress("audit verify", run.Errors, run.Terminal, run.Terminal ? await reader.CountAsync(ct) : 0);
        await foreach (var row in reader.ReadAsync(new JournalFilter(ByEntity: true), ct))
        {
            verifier.Add(AuditVerifier.Decode(row));
            progress.Add();
        }
        var problems = verifier.Finish();
        progress.Clear();

        if (json)
        {
            await WriteJsonAsync(run, new
            {
                events = progress.Count,
                seconds = Math.Round(progress.Elapsed.TotalSeconds, 3),
                users = verifier.Users,
                indexEntities = verifier.IndexEntities,
                problems = problems.Select(p => new { message = p.Message, ids = p.Ids }),
            });
        }
        else
        {
            await run.Text.WriteLineAsync(progress.Summary($": {Progress.Number(verifier.Users)} user ids, {Progress.Number(verifier.IndexEntities)} index entities"));
            if (problems.Count == 0) await run.Text.WriteLineAsync("OK: every invariant holds");
            else
            {
                await run.Text.WriteLineAsync($"{problems.Count} problem(s):");
                foreach (var problem in problems) await run.Text.WriteLineAsync($"  {problem.Message}");
                await run.Text.WriteLineAsync($"offending ids: {string.Join(" ", problems.SelectMany(p => p.Ids).Distinct())}");
            }
        }
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.ProblemsFound;
    });

    private static Task<int> RebuildAsync(Run run, bool json, CancellationToken ct) => WithJournalAsync(run, async host =>
    {
        var reader = host.Services.GetRequiredService<JournalReader>();
        var upTo = await reader.LastOrderingAsync(ct);
        var progress = new Progress("projection rebuild", run.Errors, run.Terminal, upTo);
        var unreadable = new List<string>();
        var result = await host.Services.GetRequiredService<UsersReadModel>().RebuildAsync(UserEvents(reader, upTo, progress, unreadable, ct), upTo, ct);
        progress.Clear();

        var skipped = unreadable.Concat(result.Problems).ToList();
        if (json)
        {
            await WriteJsonAsync(run, new
            {
                events = progress.Count,
                seconds = Math.Round(progress.Elapsed.TotalSeconds, 3),
                users = result.Users,
                upToOrdering = upTo,
                skipped,
            });
        }
        else
        {
            await run.Text.WriteLineAsync(progress.Summary($": {Progress.Number(result.Users)} users listed, up to ordering {upTo}"));
            foreach (var problem in skipped) await run.Text.WriteLineAsync($"  skipped: {problem}");
        }
        return skipped.Count == 0 ? ExitCodes.Ok : ExitCodes.ProblemsFound;
    });

    private static async Task WriteJsonAsync(Run run, object report) =>
        await run.Text.WriteLineAsync(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The user events of the journal up to <paramref name="upTo"/>, decoded; rows that do not decode are listed and skipped.</summary>
    private static async IAsyncEnumerable<UserEventAt> UserEvents(
        JournalReader reader, long upTo, Progress progress, List<string> unreadable, [EnumeratorCancellation] CancellationToken ct)
    {
        var filter = new JournalFilter(PersistenceIdPrefix: UserActor.PersistenceIdPrefix, UpToOrdering: upTo);
        await foreach (var row in reader.ReadAsync(filter, ct))
        {
            progress.Add(row.Ordering);
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

    private static async Task<int> GrantAsync(Run run, string email, string? serviceUrl, CancellationToken ct)
    {
        if (Validation.Email(email) is { } invalid) throw CliRefusal.Usage(invalid);

        return await WithJournalAsync(run, async host =>
        {
            if (await RunningService.FindAsync(serviceUrl ?? RunningService.ConfiguredUrls(host.Services.GetRequiredService<IConfiguration>()), ct) is { } url)
                throw new CliRefusal(ExitCodes.Unavailable,
                    $"admin grant: the service is running (it answers at {url}), and two live copies of one user would both write its journal: " +
                    $"stop it first, or grant through its API as an admin: PUT {url}/users/USER-ID with {{\"scope\": [..., \"admin\"]}}");

            await host.StartAsync(ct);
            try
            {
                if (await host.Services.GetRequiredService<UserAccounts>().GrantScopeByEmailAsync(email, AdminScope, GrantedBy, ct)
                    is not GrantOutcome.Granted { User: var user })
                {
                    await run.Errors.WriteLineAsync($"admin grant: no registered user has the email {Keys.Email(email)}");
                    return ExitCodes.ProblemsFound;
                }
                await run.Text.WriteLineAsync($"admin grant: user {user.Id} ({user.Username}) has the scopes {string.Join(", ", user.Scope)}");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ServiceBusyException or NodeNotReadyException or AskTimeoutException)
            {
                throw new CliRefusal(ExitCodes.Unavailable,
                    $"admin grant: {e.Message}; if the service runs elsewhere on this journal, " +
                    "grant through its API as an admin (PUT /users/USER-ID with {\"scope\": [..., \"admin\"]}) instead");
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        });
    }

    private static string OneLine(string message) => System.Text.RegularExpressions.Regex.Replace(message, @"\s+", " ").Trim();

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
