namespace AkkaUsers.Cli;

/// <summary>A command line that cannot be run; the message says why, the usage follows it.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// "VERB [ARGUMENT] [--option VALUE]... [--Section:Key=value]...": the verb, its arguments and options, and
/// configuration overrides in the service's own command-line form.
/// </summary>
public sealed record CliArguments(
    string Verb, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Options, string[] Configuration)
{
    public const string Usage = """
        usage: AkkaUsers.Cli VERB [--Section:Key=value ...]
          audit export [--out FILE] [--since ISO-TIME] [--user USER-ID]
                                  the event log (or one user's) as JSON lines, secrets redacted
          audit verify            replay every event and check the invariants; exit 1 on any problem
          projection rebuild      drop and rebuild the admin read model (the users table)
          admin grant EMAIL       give the user with this email the admin scope
        Configuration is the service's: appsettings.json, environment variables, --Section:Key=value.
        """;

    /// <summary>Each verb, its number of arguments, and the options it takes.</summary>
    private static readonly Dictionary<string, (int Arguments, string[] Options)> Verbs = new()
    {
        ["audit export"] = (0, ["out", "since", "user"]),
        ["audit verify"] = (0, []),
        ["projection rebuild"] = (0, []),
        ["admin grant"] = (1, []),
    };

    public string? Option(string name) => Options.GetValueOrDefault(name);

    public static CliArguments Parse(IReadOnlyList<string> args)
    {
        var words = new List<string>();
        var options = new Dictionary<string, string>();
        var configuration = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                words.Add(arg);
                continue;
            }
            var (name, value) = arg.IndexOf('=') is var eq and > 0 ? (arg[2..eq], arg[(eq + 1)..]) : (arg[2..], null);
            if (name.Contains(':'))
            {
                configuration.Add(value is null ? arg : $"--{name}={value}");
                if (value is null && i + 1 < args.Count) configuration.Add(args[++i]);
                continue;
            }
            value ??= i + 1 < args.Count ? args[++i] : throw new UsageException($"--{name} needs a value");
            if (!options.TryAdd(name, value)) throw new UsageException($"--{name} is given twice");
        }

        if (words.Count < 2 || !Verbs.TryGetValue($"{words[0]} {words[1]}", out var verb))
            throw new UsageException(words.Count == 0 ? "no verb given" : $"unknown verb '{string.Join(' ', words.Take(2))}'");
        var verbName = $"{words[0]} {words[1]}";
        var arguments = words.Skip(2).ToList();
        if (arguments.Count != verb.Arguments)
            throw new UsageException($"{verbName} takes {verb.Arguments} argument(s), got {arguments.Count}");
        if (options.Keys.FirstOrDefault(o => !verb.Options.Contains(o)) is { } unknown)
            throw new UsageException($"{verbName} has no option --{unknown}");
        return new CliArguments(verbName, arguments, options, configuration.ToArray());
    }
}
