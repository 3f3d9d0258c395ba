using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using System.Threading.Channels;
using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>
/// <c>POST /users/import</c>: a user base moved over with its ids and password hashes, one user per line of
/// <c>mongoexport</c>'s NDJSON, answered one line per user, in order, once the body is read. The body is streamed
/// (read a line at a time, never whole) and the answers wait on disk, so neither size is limited by memory; lines
/// are imported a batch at a time.
/// </summary>
public static class ImportEndpoints
{
    public const string ContentType = "application/x-ndjson";

    /// <summary>A line longer than this is rejected without being read: no user is anywhere near it.</summary>
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>Lines imported together, the new users among them in one journal write; few enough to keep memory flat.</summary>
    private const int LinesPerBatch = 512;

    /// <summary>Batches imported at once: the next one is read and written while the last is answered.</summary>
    private const int BatchesInFlight = 2;

    public static IEndpointRouteBuilder MapImportEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/users/import", Import).RequireAuthorization(AdminEndpoints.AdminPolicy).WithTags("Admin")
            .WithName("importUsers")
            .WithSummary("Import users")
            .WithDescription("Users moved over with their ids and password hashes, one per NDJSON line; one answer line per user")
            .Accepts<ImportedUserLine>(ContentType) // any other content type is a 415 before the handler runs
            .Produces<ImportResult>(StatusCodes.Status200OK, ContentType)
            .ProducesBoom(401, 403, 415, 503);
        return routes;
    }

    private static async Task Import(HttpContext http, UserAccounts accounts, IOptions<AccountOptions> options, ILoggerFactory logs)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var log = logs.CreateLogger(typeof(ImportEndpoints));
        var ct = http.RequestAborted;
        // The answers wait until the whole body is read: a client that sends its body before it reads the answer (as
        // HTTP/1.1 clients do) would otherwise fill both ways' buffers and stall. Past a few KiB they wait on disk.
        await using var answers = new FileBufferingWriteStream();
        var done = Channel.CreateBounded<Task<ImportResult>>(LinesPerBatch * BatchesInFlight);
        var answering = AnswerAsync(done.Reader, answers, ct);
        try
        {
            var batch = new List<ReadLine>(LinesPerBatch);
            await foreach (var (number, line) in LinesAsync(http.Request.BodyReader, ct))
            {
                batch.Add(Read(number, line, options.Value, log));
                if (batch.Count < LinesPerBatch) continue;
                await ImportAsync(batch, accounts, done.Writer, log, ct);
                batch = new List<ReadLine>(LinesPerBatch);
            }
            await ImportAsync(batch, accounts, done.Writer, log, ct);
        }
        finally
        {
            done.Writer.Complete();
            await answering;
        }
        http.Response.ContentType = ContentType;
        await answers.DrainBufferAsync(http.Response.Body, ct);
    }

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>Each line's answer, in order, as soon as it is done.</summary>
    private static async Task AnswerAsync(ChannelReader<Task<ImportResult>> done, Stream answers, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(answers);
        await foreach (var line in done.ReadAllAsync(ct))
        {
            JsonSerializer.Serialize(json, await line, ImportJson.Options);
            await json.FlushAsync(ct);
            json.Reset();
            await answers.WriteAsync(NewLine, ct);
        }
    }

    /// <summary>
    /// The body's lines, numbered from 1, each without its line break; blank lines are counted but not answered. A line
    /// past <see cref="MaxLineBytes"/> comes as null, and is skipped to its end without being kept.
    /// </summary>
    private static async IAsyncEnumerable<(int Number, byte[]? Line)> LinesAsync(
        PipeReader body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var number = 0;
        var skippingLongLine = false;
        while (true)
        {
            var read = await body.ReadAsync(ct);
            var buffer = read.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } end)
            {
                var line = buffer.Slice(0, end);
                buffer = buffer.Slice(buffer.GetPosition(1, end));
                number++;
                if (skippingLongLine) skippingLongLine = false; // the end of a line already answered as too long
                else if (line.Length > MaxLineBytes) yield return (number, null);
                else if (!IsBlank(line)) yield return (number, line.ToArray());
            }

            if (!skippingLongLine && buffer.Length > MaxLineBytes)
            {
                yield return (number + 1, null);
                skippingLongLine = true;
            }
            if (skippingLongLine) buffer = buffer.Slice(buffer.End);

            if (read.IsCompleted)
            {
                if (!skippingLongLine && !IsBlank(buffer)) yield return (number + 1, buffer.ToArray());
                body.AdvanceTo(buffer.End);
                yield break;
            }
            body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
            foreach (var b in segment.Span)
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                    return false;
        return true;
    }

    /// <summary>A line read: the account to import, or already its answer.</summary>
    private sealed record ReadLine(int Number, string? Id, ImportedAccount? Account, ImportResult? Answer);

    private static ReadLine Read(int number, byte[]? line, AccountOptions options, ILogger log)
    {
        if (line is null) return Answered(number, ImportResult.Rejected(number, null, $"the line is longer than {MaxLineBytes} bytes"));
        string? id = null;
        try
        {
            var body = JsonBody.Parse(line);
            id = ImportedUserLine.IdOf(body);
            return new ReadLine(number, id, ImportedUserLine.Read(body, id, options), null);
        }
        catch (ApiError e)
        {
            return Answered(number, ImportResult.Rejected(number, id, e.Message));
        }
        catch (Exception e)
        {
            log.LogError(e, "Reading line {Line} failed", number);
            return Answered(number, ImportResult.Rejected(number, id, InternalError));
        }
    }

    private static ReadLine Answered(int number, ImportResult answer) => new(number, answer.Id, null, answer);

    /// <summary>Imports the accounts of <paramref name="lines"/> together, and queues every line's answer in order.</summary>
    private static async Task ImportAsync(
        IReadOnlyList<ReadLine> lines, UserAccounts accounts, ChannelWriter<Task<ImportResult>> answers, ILogger log, CancellationToken ct)
    {
        var outcomes = accounts.ImportAll(lines.Where(l => l.Account is not null).Select(l => l.Account!).ToList(), ct);
        var next = 0;
        foreach (var line in lines)
            await answers.WriteAsync(line.Answer is { } answer ? Task.FromResult(answer) : AnswerAsync(line, outcomes[next++], log), ct);
    }

    private const string InternalError = "an internal error; the line may be imported again";

    private static async Task<ImportResult> AnswerAsync(ReadLine line, Task<ImportOutcome> import, ILogger log)
    {
        try
        {
            return (await import).Match(
                imported => new ImportResult(line.Number, line.Id, ImportResult.Imported, null),
                exists => new ImportResult(line.Number, line.Id, ImportResult.Exists, null),
                rejected => ImportResult.Rejected(line.Number, line.Id, rejected.Reason));
        }
        catch (Exception e) when (e is ServiceBusyException or NodeNotReadyException)
        {
            return ImportResult.Rejected(line.Number, line.Id, "the service did not answer in time; import the line again (an imported user answers \"exists\")");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Importing line {Line} failed", line.Number);
            return ImportResult.Rejected(line.Number, line.Id, InternalError);
        }
    }
}

/// <summary>The answer to one line: <c>imported</c>, <c>exists</c> (the same user was imported before) or <c>rejected</c>, with why.</summary>
public sealed record ImportResult(int Line, string? Id, string Status, string? Reason)
{
    public const string Imported = "imported";
    public const string Exists = "exists";
    public const string RejectedStatus = "rejected";

    public static ImportResult Rejected(int line, string? id, string reason) => new(line, id, RejectedStatus, reason);
}

/// <summary>
/// One line of <c>mongoexport --jsonFormat=relaxed</c> of Appmixer's users: <c>_id</c>, <c>username</c>, <c>email</c>
/// and <c>password</c> (its hash) are required; scope, plan, vendor, isActive, metadata and created take the
/// service's defaults; any other field is ignored.
/// </summary>
public sealed record ImportedUserLine(
    [property: System.Text.Json.Serialization.JsonPropertyName("_id")] JsonElement Id, string Username, string Email, string Password,
    IReadOnlyList<string>? Scope = null, string? Plan = null, JsonElement? Vendor = null, bool? IsActive = null,
    JsonElement? Metadata = null, JsonElement? Created = null)
{
    /// <summary>The id of <c>{"$oid": "..."}</c> or of a plain string, lower-cased; null when there is no such id.</summary>
    public static string? IdOf(JsonBody body)
    {
        var value = body.Field("_id");
        if (value is { ValueKind: JsonValueKind.Object } oid && oid.TryGetProperty("$oid", out var inner)) value = inner;
        return value is { ValueKind: JsonValueKind.String } text && UserId.TryParse(text.GetString()!.ToLowerInvariant(), out var id)
            ? id.Value
            : null;
    }

    /// <param name="id">The line's <see cref="IdOf"/>, read already for the answer.</param>
    public static ImportedAccount Read(JsonBody body, string? id, AccountOptions options)
    {
        if (id is null) throw ApiError.BadRequest("\"_id\" must be an ObjectId: {\"$oid\": \"<24 hex characters>\"}");
        var username = body.RequiredString("username");
        var email = body.RequiredString("email");
        var hash = body.RequiredString("password");
        var scope = body.OptionalStrings("scope") ?? ["user"];
        var plan = body.OptionalString("plan")?.Trim() ?? options.DefaultPlan;
        var vendor = body.OptionalStringOrStrings("vendor") ?? (options.DefaultVendor is { } v ? JsonSerializer.SerializeToElement(v) : null);
        var isActive = body.OptionalBoolean("isActive") ?? false;
        var metadata = body.OptionalObject("metadata");
        var created = CreatedOf(body) ?? DateTimeOffset.UtcNow;

        ApiError.Check(Validation.Username(username));
        ApiError.Check(Validation.Email(email));
        ApiError.Check(Validation.Scope(scope));
        ApiError.Check(Validation.Plan(plan));
        if (vendor is { } given) ApiError.Check(Validation.Vendor(given));
        if (metadata is { } m) ApiError.Check(Validation.Metadata(m));
        var format = ImportedHashes.FormatOf(hash) ?? throw ApiError.BadRequest(
            "\"password\" is no known hash format (bcrypt, argon2id, argon2i, ASP.NET Core Identity v2 or v3) within cost bounds");
        return new ImportedAccount(id, username, email, hash, format, scope, plan, vendor, metadata, isActive, created);
    }

    /// <summary><c>{"$date": "ISO 8601"}</c>, <c>{"$date": {"$numberLong": "ms"}}</c> or an ISO 8601 string; null when absent.</summary>
    private static DateTimeOffset? CreatedOf(JsonBody body)
    {
        var value = body.Field("created");
        if (value is null) return null;
        if (value is { ValueKind: JsonValueKind.Object } date && date.TryGetProperty("$date", out var inner)) value = inner;
        if (value is { ValueKind: JsonValueKind.String } iso
            && DateTimeOffset.TryParse(iso.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            return at.ToUniversalTime();
        if (value is { ValueKind: JsonValueKind.Object } number && number.TryGetProperty("$numberLong", out var ms)
            && ms.ValueKind == JsonValueKind.String && long.TryParse(ms.GetString(), out var millis)
            && millis is >= -62135596800000 and <= 253402300799999)
            return DateTimeOffset.FromUnixTimeMilliseconds(millis);
        throw ApiError.BadRequest("\"created\" must be a date: {\"$date\": \"<ISO 8601>\"}");
    }
}

/// <summary>camelCase, nulls left out: <c>{"line":1,"id":"...","status":"imported"}</c>.</summary>
internal static class ImportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
