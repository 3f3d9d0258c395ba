using System.Diagnostics;
using System.Globalization;

namespace AkkaUsers.Cli;

/// <summary>Counts what a long run has done and says so on stderr about once a second, then once at the end.</summary>
public sealed class Progress(string task, TextWriter errors)
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastReport;

    public long Count { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public double PerSecond => Count / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    public void Add()
    {
        // Reading the clock for every event would cost more than the event.
        if (++Count % 4096 != 0 || _clock.Elapsed - _lastReport < Every) return;
        _lastReport = _clock.Elapsed;
        errors.WriteLine($"{task}: {Number(Count)} events so far ({Number(PerSecond)}/s)");
    }

    /// <summary>"{task}: N events in T s (R events/s){suffix}".</summary>
    public string Summary(string suffix = "") =>
        $"{task}: {Number(Count)} events in {_clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s " +
        $"({Number(PerSecond)} events/s){suffix}";

    public static string Number(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
