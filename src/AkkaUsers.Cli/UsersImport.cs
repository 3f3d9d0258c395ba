using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AkkaUsers.Cli;

/// <summary>
/// <c>users import FILE</c>: posts an NDJSON file of users with their password hashes to a running service's
/// POST /users/import, as an admin, and writes the lines it rejected, each with its reason, to a file of their own.
/// </summary>
public static class UsersImport
{
    public const string UrlVariable = "AKKAUSERS_URL";
    public const string TokenVariable = "AKKAUSERS_TOKEN";

    public sealed record Summary(long Imported, long Exists, long Rejected, double Seconds, string? RejectedFile);

    public static async Task<int> RunAsync(
        string file, string? url, string? token, string? rejectedPath, bool json, TextWriter output, TextWriter errors, bool terminal, CancellationToken ct)
    {
        var source = Path.GetFullPath(file);
        if (!File.Exists(source)) throw CliRefusal.Usage($"No file at {source}");
        url ??= Environment.GetEnvironmentVariable(UrlVariable) ?? RunningService.DefaultUrls;
        token ??= Environment.GetEnvironmentVariable(TokenVariable)
                  ?? throw CliRefusal.Usage($"An admin's token is needed: --token TOKEN or {TokenVariable} (POST /user/auth as an admin gives one)");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var service) || service.Scheme is not ("http" or "https"))
            throw CliRefusal.Usage($"'{url}' is not the service's URL, e.g. http://localhost:2200");
        var rejectedFile = Path.GetFullPath(rejectedPath ?? source + ".rejected.ndjson");

        var progress = new Progress("users import", errors, terminal, await CountLinesAsync(source, ct), unit: "lines");
        using var http = new HttpClient { BaseAddress = service, Timeout = Timeout.InfiniteTimeSpan };
        await using var body = new LineCountingStream(File.OpenRead(source), progress);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/users/import") { Content = new StreamContent(body, 1 << 16) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            progress.Clear();
            throw new CliRefusal(ExitCodes.Unavailable, $"The service at {service} cannot be reached: {e.Message}");
        }
        using (response)
        {
            progress.Clear();
            if (!response.IsSuccessStatusCode)
                throw new CliRefusal(ExitCodes.Unavailable,
                    $"The service answered {(int)response.StatusCode}: {await MessageOf(response, ct)}");

            var (imported, exists, rejected) = await WriteRejectedAsync(await response.Content.ReadAsStreamAsync(ct), source, rejectedFile, ct);
            var summary = new Summary(imported, exists, rejected, progress.Elapsed.TotalSeconds, rejected > 0 ? rejectedFile : null);
            await output.WriteLineAsync(json
                ? JsonSerializer.Serialize(summary, JsonSerializerOptions.Web)
                : $"{Progress.Number(imported)} imported, {Progress.Number(exists)} already there, {Progress.Number(rejected)} rejected " +
                  $"in {summary.Seconds:0.0} s" + (rejected > 0 ? $"; the rejected lines, with their reasons, are in {rejectedFile}" : ""));
            return rejected > 0 ? ExitCodes.ProblemsFound : ExitCodes.Ok;
        }
    }

    private static async Task<long> CountLinesAsync(string file, CancellationToken ct)
    {
        long lines = 0;
        var buffer = new byte[1 << 16];
        await using var stream = File.OpenRead(file);
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0) lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }

    /// <summary>
    /// Counts the answers, and writes each rejected one to <paramref name="rejectedFile"/> with the input line it
    /// answers (read again from the file, as the answers come in the file's order); the file is made only when needed.
    /// </summary>
    private static async Task<(long Imported, long Exists, long Rejected)> WriteRejectedAsync(
        Stream answers, string source, string rejectedFile, CancellationToken ct)
    {
        long imported = 0, exists = 0, rejected = 0;
        using var reader = new StreamReader(answers, Encoding.UTF8);
        using var input = new StreamReader(source, Encoding.UTF8);
        var inputLine = 0;
        StreamWriter? rejects = null;
        try
        {
            while (await reader.ReadLineAsync(ct) is { } text)
            {
                var answer = JsonNode.Parse(text)!.AsObject();
                switch (answer["status"]?.GetValue<string>())
                {
                    case "imported": imported++; break;
                    case "exists": exists++; break;
                    default:
                        rejected++;
                        var number = answer["line"]!.GetValue<int>();
                        string? line = null;
                        while (inputLine < number && await input.ReadLineAsync(ct) is { } next)
                        {
                            inputLine++;
                            line = next;
                        }
                        answer["input"] = line is { Length: <= 1 << 16 } ? line : null;
                        rejects ??= new StreamWriter(rejectedFile, append: false, new UTF8Encoding(false));
                        await rejects.WriteLineAsync(answer.ToJsonString());
                        break;
                }
            }
        }
        finally
        {
            if (rejects is not null) await rejects.DisposeAsync();
        }
        return (imported, exists, rejected);
    }

    private static async Task<string> MessageOf(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonNode.Parse(text)?["message"]?.GetValue<string>() ?? response.ReasonPhrase ?? "";
        }
        catch (JsonException)
        {
            return response.ReasonPhrase ?? "";
        }
    }

    /// <summary>The file as it is sent, counting its lines into the progress display.</summary>
    private sealed class LineCountingStream(Stream inner, Progress progress) : Stream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var read = await inner.ReadAsync(buffer, ct);
            for (var lines = buffer.Span[..read].Count((byte)'\n'); lines > 0; lines--) progress.Add();
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
