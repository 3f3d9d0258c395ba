using Akka.Hosting.Logging;
using AkkaUsers.Accounts.Telemetry;
using Microsoft.Extensions.Logging.Console;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// What operators and API consumers get besides the API: the OpenAPI document and its reference page,
/// metrics and traces through OpenTelemetry, and logs that carry the trace id.
/// </summary>
public static class OperationsSetup
{
    public const string OpenApiEnabledKey = "OpenApi:Enabled";
    public const string PrometheusKey = "Metrics:Prometheus";
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        // Each log line written inside a request carries its trace and span ids (as a scope), to go from a trace to its logs.
        builder.Logging.Configure(logging =>
            logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        // The one timestamp format of appsettings.json ends with the space that the simple format needs before the level.
        builder.Services.PostConfigure<JsonConsoleFormatterOptions>(json => json.TimestampFormat = json.TimestampFormat?.TrimEnd());

        builder.Services.AddOpenApi(OpenApiDocumentation.Configure);

        var configuration = builder.Configuration;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "akka-users"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddView(RuntimeView)
                .AddMeter(AkkaUsersMetrics.Name)
                // Always collected; served at /metrics only when Metrics:Prometheus is true. That switch is read
                // after Build, with the rest of the configuration, so a bad value stops the start with one line.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !IsProbeOrScrape(http.Request.Path))
                .AddSource(AkkaUsersMetrics.Name));

        // The standard OTEL_EXPORTER_OTLP_* variables (endpoint, protocol, headers) configure the exporter itself.
        // Akka's log lines come from actor threads, where no span is current: its processor takes the trace from the log state.
        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]))
            telemetry.WithLogging(logging => logging.AddProcessor(new AkkaTraceContextProcessor())).UseOtlpExporter();
        return builder;
    }

    /// <summary>/openapi/v1.json and /docs when OpenApi:Enabled (default: in Development only); /metrics when Metrics:Prometheus.</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool?>(OpenApiEnabledKey) ?? app.Environment.IsDevelopment())
        {
            // Only the one document: any other name finds no route, so its 404 is a Boom error like every other.
            app.MapOpenApi("/openapi/{documentName:regex(^v1$)}.json");
            app.MapScalarApiReference("/docs", scalar =>
            {
                scalar.WithTitle("AkkaUsers");
                // The page asks nothing of any other host (its script is served from here): no web fonts, no telemetry,
                // and none of the hosted product's buttons (client download, developer toolbar, AI agent, MCP).
                scalar.DefaultFonts = false;
                scalar.Telemetry = false;
                scalar.HideClientButton = true;
                scalar.ShowDeveloperTools = DeveloperToolsVisibility.Never;
                scalar.Agent = new ScalarAgentOptions { Disabled = true };
                scalar.Mcp = new ScalarMcpOptions { Disabled = true };
                scalar.OperationTitleSource = OperationTitleSource.Summary;
            });
        }

        // Prometheus text for scrapers, not part of the API a client calls.
        if (app.Configuration.GetValue<bool>(PrometheusKey))
            app.MapPrometheusScrapingEndpoint().ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// Prometheus-clean names for the runtime's gauges ("_count" is a histogram's suffix), and no thread pool size or
    /// queue typed as a counter (the service's meter has them as gauges).
    /// </summary>
    private static MetricStreamConfiguration? RuntimeView(Instrument instrument) => instrument.Meter.Name != "System.Runtime" ? null
        : instrument.Name switch
        {
            "dotnet.assembly.count" => new MetricStreamConfiguration { Name = "dotnet.assemblies.loaded" },
            "dotnet.process.cpu.count" => new MetricStreamConfiguration { Name = "dotnet.process.cpus" },
            "dotnet.timer.count" => new MetricStreamConfiguration { Name = "dotnet.timers" },
            "dotnet.thread_pool.thread.count" or "dotnet.thread_pool.queue.length" => MetricStreamConfiguration.Drop,
            _ => null,
        };

    /// <summary>Health probes and metric scrapes come every few seconds: as traces they would drown the requests.</summary>
    private static bool IsProbeOrScrape(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
}
