using System.Net;
using System.Text;

namespace AkkaUsers.Api.Tests;

/// <summary>With OTEL_EXPORTER_OTLP_ENDPOINT set, traces, metrics and logs go to that collector over OTLP.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Traces_metrics_and_logs_reach_the_collector_named_by_OTEL_EXPORTER_OTLP_ENDPOINT()
    {
        using var collector = new FakeCollector();
        await using var factory = new ApiFactory(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Export within a moment instead of the defaults' seconds and minute.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        });
        using var client = factory.CreateClient();

        await client.RegisterForToken("exported", "exported@example.com");

        // OTLP bodies are protobuf, where names are plain UTF-8: enough to recognise what was sent.
        await collector.WaitForBody("/v1/traces", "new user write");
        await collector.WaitForBody("/v1/metrics", "akka_users.registrations");
        await collector.WaitForBody("/v1/logs", "HttpLoggingMiddleware");
        factory.DeleteData();
    }

    /// <summary>Answers every OTLP/HTTP export with 200 and keeps the path and body of each.</summary>
    private sealed class FakeCollector : LoopbackHttpServer
    {
        private readonly List<(string Path, string Body)> _exports = [];
        private readonly Signal _received = new();

        public string Endpoint => BaseUrl;

        public Task WaitForBody(string path, string text) => _received.WaitUntil(() => Received(path, text));

        private bool Received(string path, string text)
        {
            lock (_exports) return _exports.Any(e => e.Path == path && e.Body.Contains(text, StringComparison.Ordinal));
        }

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (_exports) _exports.Add((context.Request.Url!.AbsolutePath, Encoding.UTF8.GetString(body.ToArray())));
            context.Response.StatusCode = 200;
            _received.Pulse();
        }
    }
}
