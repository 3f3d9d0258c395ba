using System.Globalization;
using System.Text.RegularExpressions;

namespace AkkaUsers.Domain;

/// <summary>Times as clients and operators write them: ISO 8601 only, UTC unless an offset is given.</summary>
public static partial class IsoTime
{
    /// <summary>
    /// "2025-03-14", "2025-03-14T15:09", "2025-03-14T15:09:26.535Z", "2025-03-14T17:09:26+02:00", nothing looser
    /// (DateTimeOffset.TryParse alone would take "3/14/2025" and guess).
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset time)
    {
        time = default;
        return text is not null && Shape().IsMatch(text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                   DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$")]
    private static partial Regex Shape();
}
