using System.Diagnostics;
using System.Globalization;

namespace AkkaUsers.Cli;

/// <summary>
/// Counts what a long run has done. On a terminal it redraws one line on stderr a few times a second: a bar, how
/// far it is out of <paramref name="total"/>, the rate and the time left. Anywhere else (a pipe, a file, a log
/// collector) it draws nothing.
/// </summary>
/// <param name="terminal">Whether <paramref name="errors"/> is a terminal, where a line can be redrawn.</param>
/// <param name="total">
/// The journal's last ordering, for a read in journal order that reports each row's ordering to <see cref="Add"/>;
/// else the number of events the run will go through. 0: unknown, no share or time left.
/// </param>
/// <param name="unit">What is counted, in the lines drawn and in the summary.</param>
public sealed class Progress(string task, TextWriter errors, bool terminal = false, long total = 0, string unit = "events")
{
    private const int BarWidth = 24;
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastDrawn;
    private int _drawnWidth;

    public long Count { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public double PerSecond => Count / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    /// <param name="ordering">The ordering of the row just done, when the rows come in journal order; else 0.</param>
    public void Add(long ordering = 0)
    {
        // Reading the clock for every event would cost more than the event.
        if (++Count % 1024 != 0 || !terminal || _clock.Elapsed - _lastDrawn < Every) return;
        _lastDrawn = _clock.Elapsed;
        Draw(ordering);
    }

    /// <summary>Wipes the progress line, so that what follows starts on a clean line.</summary>
    public void Clear()
    {
        if (_drawnWidth == 0) return;
        errors.Write($"\r{new string(' ', _drawnWidth)}\r");
        errors.Flush();
        _drawnWidth = 0;
    }

    /// <summary>"{task}: N events in T s (R events/s){suffix}".</summary>
    public string Summary(string suffix = "") =>
        $"{task}: {Number(Count)} {unit} in {_clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s " +
        $"({Number(PerSecond)} {unit}/s){suffix}";

    public static string Number(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private void Draw(long ordering)
    {
        var line = $"{task}: {Number(Count)} {unit}, {Number(PerSecond)}/s";
        if (total > 0)
        {
            var at = ordering > 0 ? ordering : Count;
            var done = Math.Clamp((double)at / total, 0, 1);
            var filled = (int)(done * BarWidth);
            var left = done > 0 ? TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds * (1 - done) / done) : TimeSpan.Zero;
            var where = ordering > 0 ? $"journal row {Number(at)} of {Number(total)}, {Number(Count)} {unit}" : $"{Number(at)} of {Number(total)} {unit}";
            line = $"{task}: [{new string('#', filled)}{new string('.', BarWidth - filled)}] {done * 100,3:0}% " +
                   $"{where}, {Number(PerSecond)}/s, ETA {(int)left.TotalMinutes}:{left.Seconds:00}";
        }
        errors.Write($"\r{line.PadRight(_drawnWidth)}");
        errors.Flush();
        _drawnWidth = Math.Max(_drawnWidth, line.Length);
    }
}
