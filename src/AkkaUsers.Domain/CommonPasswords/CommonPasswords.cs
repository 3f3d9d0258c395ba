using System.Collections.Frozen;

namespace AkkaUsers.Domain;

/// <summary>
/// The 10,000 most common passwords, from zxcvbn's frequency list (MIT; provenance in README.md next to the list).
/// The list is lower-case, and a password is compared lower-cased (invariant culture), so "Password1" counts as
/// "password1": changing the case of a common password adds almost nothing to guess. Nothing else is changed for
/// the comparison, and the password itself is kept exactly as sent.
/// </summary>
public static class CommonPasswords
{
    public const string ResourceName = "AkkaUsers.Domain.common-passwords.txt";

    // Read on first use: a service that does not reject common passwords never loads it.
    private static readonly Lazy<FrozenSet<string>> List = new(Load);

    public static int Count => List.Value.Count;

    public static bool Contains(string password) => List.Value.Contains(password.ToLowerInvariant());

    private static FrozenSet<string> Load()
    {
        using var stream = typeof(CommonPasswords).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"The resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        var passwords = new List<string>();
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) passwords.Add(line);
        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }
}
