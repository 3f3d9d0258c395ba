using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// Every measurement of one service instance's meters (the service's own and ASP.NET Core's), told apart from
/// other instances in the same test process by the meter factory they were created from.
/// </summary>
public sealed class MeterCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Measurement> _measurements = [];
    private readonly Signal _recorded = new();

    public MeterCollector(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    private sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>The sum of the values recorded by <paramref name="instrument"/> with all of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, object Value)[] tags) => Matching(instrument, tags).Sum(m => m.Value);

    /// <summary>How many values <paramref name="instrument"/> recorded with all of <paramref name="tags"/> (a histogram's count).</summary>
    public int Count(string instrument, params (string Key, object Value)[] tags) => Matching(instrument, tags).Count;

    /// <summary>Every instrument and tag set recorded so far, as "name{key=value,...}", with its count and sum.</summary>
    public Dictionary<string, (int Count, double Sum)> Totals()
    {
        lock (_measurements)
            return _measurements
                .GroupBy(m => $"{m.Instrument}{{{string.Join(",", m.Tags.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}"))}}}")
                .ToDictionary(g => g.Key, g => (g.Count(), g.Sum(m => m.Value)));
    }

    /// <summary>Waits for measurements recorded after the answer reached the client (ASP.NET Core's, at the end of a request).</summary>
    public Task WaitUntil(Func<MeterCollector, bool> condition) => _recorded.WaitUntil(() => condition(this));

    public void Dispose() => _listener.Dispose();

    private List<Measurement> Matching(string instrument, (string Key, object Value)[] tags)
    {
        lock (_measurements)
            return _measurements
                .Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
                .ToList();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var measurement = new Measurement(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()));
        lock (_measurements) _measurements.Add(measurement);
        _recorded.Pulse();
    }
}
