using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// POST /users/import of <c>users</c> generated users (one bcrypt hash shared by all: an import does not hash) into a
/// fresh node: on SQLite, and on PostgreSQL too when AKKAUSERS_TEST_POSTGRES names a server. The file is generated
/// while it is sent and the answer counted while it arrives, so neither side holds it. Prints users/s, the service's
/// CPU per user, and its resident memory before, at its peak during, and after the import.
/// </summary>
public static class ImportRate
{
    private const string AdminEmail = "root@example.com";
    private const string AdminPassword = "root-password-1";

    public static async Task RunAsync(int users)
    {
        Console.WriteLine($"machine: {Machine.Describe()}");
        var admin = new Dictionary<string, string>
        {
            ["Admin__Email"] = AdminEmail,
            ["Admin__Password"] = AdminPassword,
            ["Admin__Username"] = "root",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var work = Directory.CreateTempSubdirectory("akka-users-import-");
        try
        {
            await using (var sqlite = new ServiceProcess("SQLite node", "AkkaUsers.Api.dll", new Dictionary<string, string>(admin)
                         {
                             ["Storage__DataDirectory"] = work.FullName,
                             ["RateLimit__PermitLimit"] = "1000000",
                         }, Path.Combine(work.FullName, "sqlite.log"), "/health/ready"))
                await MeasureAsync("SQLite", sqlite, users);

            if (Environment.GetEnvironmentVariable(ClusterProfile.ConnectionVariable) is { } server)
            {
                await using var database = await TestDatabase.CreateAsync(server);
                var certificates = ClusterCertificates.Create(Path.Combine(work.FullName, "tls"));
                await using var node = new ClusterNode(1, ServiceProcess.FreePort(), "", database.ConnectionString, work.FullName,
                    new Dictionary<string, string>(certificates.NodeSettings).Concat(admin).ToDictionary());
                await MeasureAsync("PostgreSQL", node, users);
            }
            else Console.WriteLine($"PostgreSQL: skipped, {ClusterProfile.ConnectionVariable} is not set");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task MeasureAsync(string journal, ServiceProcess node, int users)
    {
        await node.StartAsync();
        await node.WaitUntilServingAsync();
        var token = await AdminTokenAsync(node);
        using var client = new HttpClient { BaseAddress = node.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/users/import") { Content = new GeneratedUsers(users) };
        request.Headers.Authorization = new("Bearer", token);

        var rssBefore = node.ResidentBytes();
        var peak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, node.ResidentBytes());
                await Task.Delay(250, CancellationToken.None); // sampling interval
            }
        });
        var cpu = node.CpuTime();
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"import answered {response.StatusCode}");
        var counts = new Dictionary<string, int>();
        using (var answers = new StreamReader(await response.Content.ReadAsStreamAsync()))
            while (await answers.ReadLineAsync() is { } line)
            {
                var status = JsonNode.Parse(line)!["status"]!.GetValue<string>();
                counts[status] = counts.GetValueOrDefault(status) + 1;
            }
        var took = clock.Elapsed;
        var serviceCpu = node.CpuTime() - cpu;
        await sampling.CancelAsync();
        await sampler;

        Console.WriteLine($"{journal}: {users:N0} users in {took.TotalSeconds:F1} s = {users / took.TotalSeconds:F0} users/s; " +
                          $"service CPU {serviceCpu.TotalMilliseconds / users:F2} ms per user; " +
                          $"{string.Join(", ", counts.Select(c => $"{c.Value:N0} {c.Key}"))}; " +
                          $"RSS {Mib(rssBefore)} MiB before, {Mib(peak)} MiB at the peak, {Mib(node.ResidentBytes())} MiB after; " +
                          $"load average {Machine.LoadAverage()}");
    }

    private static long Mib(long bytes) => bytes / 1048576;

    private static async Task<string> AdminTokenAsync(ServiceProcess node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var signIn = await node.Client.PostAsJsonAsync("/user/auth", new { email = AdminEmail, password = AdminPassword });
            if (signIn.IsSuccessStatusCode
                && JsonNode.Parse(await signIn.Content.ReadAsStringAsync())!["user"]!["scope"]!.AsArray().Any(s => s!.GetValue<string>() == "admin"))
                return JsonNode.Parse(await signIn.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the admin cannot sign in:\n{node.LogTail()}");
            await Task.Delay(200); // poll interval: the admin is made by a hosted service at start
        }
    }

    /// <summary>mongoexport-shaped users, written as they are sent.</summary>
    private sealed class GeneratedUsers : HttpContent
    {
        private static readonly string Hash = BCrypt.Net.BCrypt.HashPassword("Passw0rd!", workFactor: 10);
        private readonly int _users;

        public GeneratedUsers(int users)
        {
            _users = users;
            Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var prefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 65536, leaveOpen: true);
            for (var i = 0; i < _users; i++)
                await writer.WriteAsync(
                    $$$"""{"_id":{"$oid":"{{{prefix}}}{{{i:x12}}}"},"username":"imported-{{{prefix}}}-{{{i}}}","email":"imported-{{{prefix}}}-{{{i}}}@example.com","password":"{{{Hash}}}","scope":["user"],"plan":"free","isActive":true,"metadata":{"source":"benchmark"},"created":{"$date":"2024-05-01T10:00:00Z"}}""" + "\n");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
