using System.Collections.Concurrent;
using System.Text;

namespace AkkaUsers.Soak;

/// <summary>What a soak saw: every answer by kind of request and outcome, the kills, and every broken promise.</summary>
public sealed class SoakReport
{
    /// <summary>A request to a node that was killed while it was in flight: refused or cut, which is allowed.</summary>
    public const string NodeDown = "node down";

    /// <summary>A node that was up did not answer within the client's time-out: a violation.</summary>
    public const string NoAnswer = "no answer";

    private readonly ConcurrentDictionary<(string Kind, string Outcome), int> _counts = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<string, TimeSpan> _slowest = new();
    private int _kills;

    public TimeSpan Duration { get; init; }
    public int Kills => _kills;
    public int Acknowledged { get; set; }
    public int Lost { get; set; }
    public int JournalUsers { get; set; }

    /// <summary>Claims a kill left between a registration's claims and its registration that the sweep had not released by the end.</summary>
    public int OrphanedClaims { get; set; }

    /// <summary>What `audit verify` reported on the journal at the end, orphaned claims aside.</summary>
    public string AuditVerify { get; set; } = "";
    public IReadOnlyCollection<string> Violations => _violations;
    public bool Passed => Lost == 0 && _violations.IsEmpty;

    public void Count(string kind, string outcome) => _counts.AddOrUpdate((kind, outcome), 1, (_, n) => n + 1);

    /// <summary>Keeps the longest wait for an answer per kind: how long a failover holds a request.</summary>
    public void Answered(string kind, TimeSpan took) => _slowest.AddOrUpdate(kind, took, (_, longest) => took > longest ? took : longest);

    public void Violation(string what) => _violations.Enqueue(what);

    public void Killed() => Interlocked.Increment(ref _kills);

    /// <summary>Requests by kind (rows) and status (columns), then the totals that decide the verdict.</summary>
    public override string ToString()
    {
        var kinds = _counts.Keys.Select(k => k.Kind).Distinct().ToList();
        var outcomes = _counts.Keys.Select(k => k.Outcome).Distinct().OrderBy(o => o, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.AppendLine($"{"requests",-14}" + string.Concat(outcomes.Select(o => $"{o,11}")) + $"{"slowest",11}");
        foreach (var kind in kinds)
            text.AppendLine($"{kind,-14}" + string.Concat(outcomes.Select(o => $"{_counts.GetValueOrDefault((kind, o)),11}")) +
                            $"{_slowest.GetValueOrDefault(kind).TotalSeconds,10:0.0}s");
        text.AppendLine();
        text.AppendLine($"duration {Duration.TotalSeconds:0} s, kills {Kills}, acknowledged registrations {Acknowledged}, users in the journal {JournalUsers}");
        text.AppendLine(AuditVerify);
        text.AppendLine($"claims orphaned by a kill and not released by the sweep within a minute past the grace period: {OrphanedClaims}");
        text.AppendLine($"lost {Lost}, violations {_violations.Count}: {(Passed ? "PASSED" : "FAILED")}");
        foreach (var violation in _violations.Take(20)) text.AppendLine("  " + violation);
        if (_violations.Count > 20) text.AppendLine($"  ... and {_violations.Count - 20} more");
        return text.ToString();
    }
}
