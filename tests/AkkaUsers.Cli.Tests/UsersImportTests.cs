using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Api.Tests;
using static AkkaUsers.Cli.Tests.CliRun;

namespace AkkaUsers.Cli.Tests;

/// <summary>
/// users import against a stand-in for POST /users/import (the endpoint itself is tested end to end in Api.Tests): the
/// file goes as NDJSON with the admin's token, the summary counts the answers, the rejected lines land in a file with
/// their reasons and input, and a refusal is one line with its exit code.
/// </summary>
public sealed class UsersImportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("akka-users-import-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Answers each line: "rejected" when it holds "bad", "exists" when it holds "old", else "imported"; or a fixed error.</summary>
    private sealed class ImportService(int status = 200) : LoopbackHttpServer
    {
        public string? Body { get; private set; }
        public string? Authorization { get; private set; }
        public string? ContentType { get; private set; }

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            Body = await new StreamReader(context.Request.InputStream).ReadToEndAsync();
            Authorization = context.Request.Headers["Authorization"];
            ContentType = context.Request.ContentType;
            context.Response.StatusCode = status;
            var answer = status != 200
                ? """{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}""" + "\n"
                : string.Concat(Body.Split('\n').Select((line, i) => (line, number: i + 1)).Where(l => l.line.Length > 0).Select(l =>
                    $$"""{"line":{{l.number}},"id":"65f2c0de0123456789abcde{{l.number % 10}}","status":"{{(l.line.Contains("bad") ? "rejected\",\"reason\":\"the email belongs to another user" : l.line.Contains("old") ? "exists" : "imported")}}"}""" + "\n"));
            var bytes = Encoding.UTF8.GetBytes(answer);
            await context.Response.OutputStream.WriteAsync(bytes);
        }
    }

    private string File(params string[] lines)
    {
        var path = Path.Combine(_directory, "users.ndjson");
        System.IO.File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    [Fact]
    public async Task The_file_goes_as_ndjson_with_the_token_and_the_rejected_lines_land_in_a_file_with_their_reasons()
    {
        using var service = new ImportService();
        var file = File("""{"n":"new"}""", """{"n":"bad"}""", """{"n":"old"}""", """{"n":"new2"}""");

        var run = await RunAsync("users", "import", file, "--url", service.BaseUrl, "--token", "admin-token");

        Assert.Equal(ExitCodes.ProblemsFound, run.ExitCode);
        Assert.Equal("Bearer admin-token", service.Authorization);
        Assert.Equal("application/x-ndjson", service.ContentType);
        Assert.Equal(System.IO.File.ReadAllText(file), service.Body);
        Assert.Equal($"2 imported, 1 already there, 1 rejected in {run.Output.Split(" in ")[1].Split(' ')[0]} s; the rejected lines, with their reasons, are in {file}.rejected.ndjson\n", run.Output);
        var rejected = JsonNode.Parse(Assert.Single(System.IO.File.ReadAllLines(file + ".rejected.ndjson")))!;
        Assert.Equal((2, "the email belongs to another user", """{"n":"bad"}"""),
            (rejected["line"]!.GetValue<int>(), rejected["reason"]!.GetValue<string>(), rejected["input"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Nothing_rejected_is_exit_0_with_a_json_summary_and_no_rejected_file()
    {
        using var service = new ImportService();
        var file = File("""{"n":"new"}""", """{"n":"old"}""");

        var run = await RunAsync("users", "import", file, "--url", service.BaseUrl, "--token", "t", "--format", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var summary = JsonNode.Parse(run.Output)!;
        Assert.Equal((1, 1, 0), (summary["imported"]!.GetValue<int>(), summary["exists"]!.GetValue<int>(), summary["rejected"]!.GetValue<int>()));
        Assert.False(System.IO.File.Exists(file + ".rejected.ndjson"));
    }

    [Fact]
    public async Task A_refused_token_an_unreachable_service_a_missing_file_or_token_are_one_line_each()
    {
        using var refusing = new ImportService(status: 401);
        var file = File("""{"n":"new"}""");

        var refused = await RunAsync("users", "import", file, "--url", refusing.BaseUrl, "--token", "expired");
        Assert.Equal((ExitCodes.Unavailable, "The service answered 401: Invalid token"), (refused.ExitCode, OneLine(refused.Errors)));

        var unreachable = await RunAsync("users", "import", file, "--url", AnsweringService.NobodyUrl(), "--token", "t");
        Assert.Equal(ExitCodes.Unavailable, unreachable.ExitCode);
        Assert.StartsWith("The service at http://127.0.0.1:", OneLine(unreachable.Errors));

        var missing = await RunAsync("users", "import", Path.Combine(_directory, "none.ndjson"), "--token", "t");
        Assert.Equal((ExitCodes.Usage, $"No file at {Path.Combine(_directory, "none.ndjson")}"), (missing.ExitCode, OneLine(missing.Errors)));

        if (Environment.GetEnvironmentVariable(UsersImport.TokenVariable) is null)
        {
            var noToken = await RunAsync("users", "import", file, "--url", refusing.BaseUrl);
            Assert.Equal(ExitCodes.Usage, noToken.ExitCode);
            Assert.StartsWith("An admin's token is needed", OneLine(noToken.Errors));
        }
    }
}
