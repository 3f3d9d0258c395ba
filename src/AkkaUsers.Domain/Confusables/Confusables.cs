using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace AkkaUsers.Domain;

/// <summary>
/// The skeleton of Unicode Technical Standard #39 (section 4, "Confusable Detection"): two strings that look alike,
/// such as "paypal" with a Cyrillic "а" and the Latin one, or "rn" and "m", have the same skeleton. Built from the
/// Unicode consortium's confusables.txt (see README.md next to this file), compiled in as an embedded resource.
/// </summary>
public static class Confusables
{
    public const string ResourceName = "AkkaUsers.Domain.confusables.txt";

    // Read on first use, like the common passwords.
    private static readonly Lazy<FrozenDictionary<int, string>> Prototypes = new(Load);

    public static int Count => Prototypes.Value.Count;

    /// <summary>NFD, each code point replaced by its prototype (itself when it has none), then NFD again.</summary>
    public static string Skeleton(string text)
    {
        var prototypes = Prototypes.Value;
        var mapped = new StringBuilder(text.Length);
        foreach (var rune in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            if (prototypes.TryGetValue(rune.Value, out var prototype)) mapped.Append(prototype);
            else mapped.Append(rune.ToString());
        }
        return mapped.ToString().Normalize(NormalizationForm.FormD);
    }

    /// <summary>Lines "SOURCE ; TARGET ; TYPE", code points in hex, the target one or more separated by spaces.</summary>
    private static FrozenDictionary<int, string> Load()
    {
        using var stream = typeof(Confusables).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"The resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        var prototypes = new Dictionary<int, string>();
        while (reader.ReadLine() is { } line)
        {
            var data = line.Split('#', 2)[0];
            if (data.Trim().Length == 0) continue;
            var fields = data.Split(';');
            var source = int.Parse(fields[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            prototypes[source] = string.Concat(fields[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(hex => char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));
        }
        return prototypes.ToFrozenDictionary();
    }
}
