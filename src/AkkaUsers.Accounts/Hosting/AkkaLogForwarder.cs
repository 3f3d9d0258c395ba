using System.Collections;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// Akka's logger: each of Akka's log events becomes one Microsoft.Extensions.Logging entry under the category of the
/// class that logged it, with the rendered message (no Akka timestamp or thread prefix), the message template and its
/// properties as state, and the originating trace as a TraceId/SpanId scope, the same shape as ASP.NET Core's lines.
/// </summary>
/// <remarks>
/// Akka.Hosting's own logger writes Akka's pre-formatted line under one category, in a state the JSON console
/// formatter cannot enumerate.
/// </remarks>
public sealed class AkkaLogForwarder : LoggerFactoryLogger
{
    private readonly ILoggerFactory _factory =
        Context.System.Settings.Setup.Get<LoggerFactorySetup>().Value.LoggerFactory;

    protected override void PreStart() => ShutdownLogger.Factory = _factory;

    protected override void Log(LogEvent log, ActorPath path) => Write(_factory, log);

    private static void Write(ILoggerFactory factory, LogEvent log)
    {
        var logger = factory.CreateLogger(Category(log)); // the factory keeps one logger per category
        var level = Level(log.LogLevel());
        if (!logger.IsEnabled(level)) return;

        using var scope = log.ActivityContext is { } trace && trace.TraceId != default ? logger.BeginScope(new TraceScope(trace)) : null;
        logger.Log(level, default, new AkkaLogEntry(log), log.Cause, static (entry, _) => entry.Message);
    }

    /// <summary>
    /// Akka's console logger (akka.stdout-logger-class), for what Akka logs after its loggers stopped: the same entries
    /// through the logger factory of the last forwarder started in this process, instead of text in Akka's own format.
    /// </summary>
    public sealed class ShutdownLogger : MinimalLogger
    {
        internal static volatile ILoggerFactory? Factory;

        protected override void Log(object message)
        {
            if (message is not LogEvent log || Factory is not { } factory) return;
            try
            {
                Write(factory, log);
            }
            catch (ObjectDisposedException)
            {
                // The host is gone, and its console with it.
            }
        }
    }

    /// <summary>
    /// The class that logged; for a source given as a string (Akka's "Cluster (akka://system)"), "Akka." and its name.
    /// </summary>
    private static string Category(LogEvent log)
    {
        if (log.LogClass is { } type && type != typeof(DummyClassForStringSources)) return type.FullName ?? type.Name;
        var name = (log.LogSource ?? "").Split(' ')[0];
        return name.Length == 0 ? "Akka" : "Akka." + char.ToUpperInvariant(name[0]) + name[1..];
    }

    private static MelLogLevel Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => MelLogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => MelLogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => MelLogLevel.Warning,
        _ => MelLogLevel.Error,
    };

    /// <summary>The template's properties, Akka's source, and the template itself under MEL's "{OriginalFormat}" key.</summary>
    private sealed class AkkaLogEntry : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly List<KeyValuePair<string, object?>> _properties = [];

        public AkkaLogEntry(LogEvent log)
        {
            Message = Render(log);
            if (log.TryGetProperties(out var properties) && properties is not null)
                foreach (var (name, value) in properties) _properties.Add(new(name, value));
            _properties.Add(new("LogSource", log.LogSource));
            // Read by Akka.Hosting's OpenTelemetry log processor, which puts the trace on the exported record.
            if (log.ActivityContext is { } trace && trace.TraceId != default)
            {
                _properties.Add(new("Akka.TraceId", trace.TraceId));
                _properties.Add(new("Akka.SpanId", trace.SpanId));
                _properties.Add(new("Akka.TraceFlags", (int)trace.TraceFlags));
            }
            _properties.Add(new("{OriginalFormat}", log.GetTemplate()));
        }

        public string Message { get; }

        public int Count => _properties.Count;

        public KeyValuePair<string, object?> this[int index] => _properties[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _properties.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;

        /// <summary>A template whose arguments do not fit still gives a line, with the template and the arguments.</summary>
        private static string Render(LogEvent log)
        {
            try
            {
                return log.Message?.ToString() ?? "";
            }
            catch (FormatException)
            {
                return log.Message is LogMessage message
                    ? $"{message.Format} (arguments: {string.Join(", ", message.Unformatted())})"
                    : "(a log message that could not be formatted)";
            }
        }
    }

    /// <summary>The originating trace, under the names ASP.NET Core's activity tracking gives its scope.</summary>
    private sealed class TraceScope(ActivityContext trace) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _items =
            [new("TraceId", trace.TraceId.ToHexString()), new("SpanId", trace.SpanId.ToHexString())];

        public int Count => _items.Length;

        public KeyValuePair<string, object?> this[int index] => _items[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_items).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"SpanId:{_items[1].Value}, TraceId:{_items[0].Value}";
    }
}
