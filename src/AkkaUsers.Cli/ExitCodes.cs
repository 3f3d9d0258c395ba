namespace AkkaUsers.Cli;

/// <summary>The tool's exit codes, as its help and docs/audit.md list them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The check or report found problems (verify: broken invariants; rebuild: skipped events; grant: no such user; import: rejected lines).</summary>
    public const int ProblemsFound = 1;

    /// <summary>A bad command line or configuration.</summary>
    public const int Usage = 2;

    /// <summary>The journal cannot be opened or read, or it is in use by a running service; import: the service cannot be reached or refused.</summary>
    public const int Unavailable = 3;

    /// <summary>A failure the tool did not expect: a bug, named on one line.</summary>
    public const int Unexpected = 4;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    public const string Table = """
        Exit codes:
          0    done; audit verify: every invariant holds
          1    problems found: broken invariants (verify), skipped events (rebuild), no user with that email (grant),
               rejected lines (users import)
          2    bad command line or configuration
          3    the journal cannot be opened or read, or a running service holds it; users import: the service
               cannot be reached or refused the request
          4    unexpected failure (a bug; the line names it)
          130  interrupted (Ctrl+C)
        """;
}

/// <summary>A refusal the tool expected: one line on stderr and <see cref="ExitCode"/>, never a stack trace.</summary>
public sealed class CliRefusal(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliRefusal Usage(string message) => new(ExitCodes.Usage, message);
}
