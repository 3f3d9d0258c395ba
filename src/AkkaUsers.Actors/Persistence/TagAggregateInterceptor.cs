using System.Data.Common;
using System.Text.RegularExpressions;
using LinqToDB.Interceptors;

namespace AkkaUsers.Actors.Persistence;

/// <summary>
/// Makes the SQL read journal's queries read each event's own tags instead of the whole tag table.
/// Akka.Persistence.Sql adds every event's tags to what EventsByTag and EventsByPersistenceId return, and linq2db
/// writes that per-event aggregate as an aggregate over every row of <c>tags</c>, keeping the event's rows with a
/// CASE: <c>(SELECT GROUP_CONCAT(CASE WHEN t.ordering_id = e.ordering THEN t.tag ELSE NULL END, ';') FROM tags t)</c>.
/// Each event read thus read the whole tag table, so the read side cost more per event the longer the journal grew
/// (a batch of 500 took minutes on a journal of 3,000,000 events). Written with the condition in WHERE, the same
/// aggregate (the rows it leaves out were NULL, which the aggregate skips) reads the event's rows through the tag
/// table's primary key.
/// </summary>
public sealed partial class TagAggregateInterceptor : CommandInterceptor
{
    public static readonly TagAggregateInterceptor Instance = new();

    public override DbCommand CommandInitialized(CommandEventData eventData, DbCommand command)
    {
        command.CommandText = Rewrite(command.CommandText);
        return command;
    }

    /// <summary><paramref name="sql"/> with every whole-table tag aggregate turned into the event's own; anything else unchanged.</summary>
    public static string Rewrite(string sql) => sql.Contains("ordering_id", StringComparison.Ordinal)
        ? FilteredAggregate().Replace(CaseAggregate().Replace(sql, EventsOwn), EventsOwn)
        : sql;

    private const string EventsOwn = "${function}(${alias}.${tag}, ${separator}) FROM ${table} ${alias} WHERE ${alias}.${ordering} = ${event}";

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
}
