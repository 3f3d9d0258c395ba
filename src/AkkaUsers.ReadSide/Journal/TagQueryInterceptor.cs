using System.Data.Common;
using System.Text.RegularExpressions;
using LinqToDB.Interceptors;

namespace AkkaUsers.ReadSide.Journal;

/// <summary>
/// Makes the SQL read journal's tag queries cost what they return, not what the journal holds: each event's tags are
/// read through the tag table's key instead of an aggregate over every tag row, and EventsByTag walks
/// <see cref="JournalDatabase.TagOrderingIndex"/> instead of sorting every event past the offset. The patterns are
/// linq2db 6.5.1's; SQL written otherwise passes unchanged. How and how much: docs/how-it-works.md.
/// </summary>
public sealed partial class TagQueryInterceptor : CommandInterceptor
{
    public static readonly TagQueryInterceptor Instance = new();

    public override DbCommand CommandInitialized(CommandEventData eventData, DbCommand command)
    {
        command.CommandText = Rewrite(command.CommandText);
        return command;
    }

    /// <summary><paramref name="sql"/> with both rewrites wherever they apply; any other statement unchanged.</summary>
    public static string Rewrite(string sql) => sql.Contains("ordering_id", StringComparison.Ordinal)
        ? OrderedByJournal().Replace(FilteredAggregate().Replace(CaseAggregate().Replace(sql, EventsOwn), EventsOwn), ByTagRow)
        : sql;

    private const string EventsOwn = "${function}(${alias}.${tag}, ${separator}) FROM ${table} ${alias} WHERE ${alias}.${ordering} = ${event}";

    private const string ByTagRow = "${join}ORDER BY ${alias}.${ordering}";

    private const string Name = """[\["]?\w+[\]"]?""";

    // SQLite: GROUP_CONCAT(CASE WHEN [t1].[ordering_id] = [x_1].[Ordering] THEN [t1].[tag] ELSE NULL END, ';') FROM [tags] [t1]
    [GeneratedRegex($"""
        (?<function>GROUP_CONCAT|STRING_AGG)\(\s*CASE\s+WHEN\s+(?<alias>{Name})\.(?<ordering>[\["]?ordering_id[\]"]?)\s*=\s*(?<event>{Name}\.{Name})\s+
        THEN\s+\k<alias>\.(?<tag>[\["]?tag[\]"]?)\s+ELSE\s+NULL\s+END\s*,\s*(?<separator>'[^']*')\s*\)\s+
        FROM\s+(?<table>(?:{Name}\.)?[\["]?tags[\]"]?)\s+\k<alias>(?=\s*\))
        """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex CaseAggregate();

    // PostgreSQL: STRING_AGG(t1.tag, ';') FILTER (WHERE t1.ordering_id = x_1."Ordering") FROM "schema".tags t1
    [GeneratedRegex($"""
        (?<function>GROUP_CONCAT|STRING_AGG)\(\s*(?<alias>{Name})\.(?<tag>[\["]?tag[\]"]?)\s*,\s*(?<separator>'[^']*')\s*\)\s+
        FILTER\s*\(\s*WHERE\s+\k<alias>\.(?<ordering>[\["]?ordering_id[\]"]?)\s*=\s*(?<event>{Name}\.{Name})\s*\)\s+
        FROM\s+(?<table>(?:{Name}\.)?[\["]?tags[\]"]?)\s+\k<alias>(?=\s*\))
        """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex FilteredAggregate();

    // INNER JOIN [tags] [lp] ON [lp].[ordering_id] = [x].[ordering] WHERE ... ORDER BY [x].[ordering]
    [GeneratedRegex($"""
        (?<join>INNER\s+JOIN\s+(?:{Name}\.)?[\["]?tags[\]"]?\s+(?<alias>{Name})\s+
        ON\s+\k<alias>\.(?<ordering>[\["]?ordering_id[\]"]?)\s*=\s*(?<event>{Name})\.(?<column>[\["]?ordering[\]"]?)
        (?:(?!ORDER\s+BY)[\s\S])*?)
        ORDER\s+BY\s+\k<event>\.\k<column>(?=\s)
        """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex OrderedByJournal();
}
