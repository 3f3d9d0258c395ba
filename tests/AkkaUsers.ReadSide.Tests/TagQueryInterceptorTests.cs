using AkkaUsers.Accounts.Persistence;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

using AkkaUsers.Accounts.Tests;
using AkkaUsers.ReadSide.Journal;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>
/// The SQL read journal's tag queries, as linq2db 6.5.1 writes them for Akka.Persistence.Sql's EventsByTag, before and
/// after <see cref="TagQueryInterceptor"/>: the same answer, from each event's own tag rows, in the order of the index
/// that the journal's followers add.
/// </summary>
public sealed class TagQueryInterceptorTests
{
    private const string SqliteEventsByTag = """
        SELECT
        	[x_1].[Ordering],
        	[x_1].[PersistenceId],
        	(
        		SELECT
        			GROUP_CONCAT(CASE
        				WHEN [t1].[ordering_id] = [x_1].[Ordering] THEN [t1].[tag]
        				ELSE NULL
        			END, ';')
        		FROM
        			[tags] [t1]
        	)
        FROM
        	(
        		SELECT
        			[x].[ordering] as [Ordering],
        			[x].[persistence_id] as [PersistenceId]
        		FROM
        			[journal] [x]
        				INNER JOIN [tags] [lp] ON [lp].[ordering_id] = [x].[ordering]
        		WHERE
        			[lp].[ordering_id] > @Offset AND
        			[lp].[ordering_id] <= @MaxOffset AND
        			NOT [x].[deleted] AND
        			[lp].[tag] = @Tag
        		ORDER BY
        			[x].[ordering]
        		LIMIT @take
        	) [x_1]
        """;

    private const string PostgresEventsByTag = """
        SELECT
        	x_1."Ordering",
        	(
        		SELECT
        			STRING_AGG(t1.tag, ';') FILTER (WHERE t1.ordering_id = x_1."Ordering")
        		FROM
        			"AkkaUsers".tags t1
        	)
        FROM
        	(
        		SELECT
        			x.ordering as "Ordering"
        		FROM
        			"AkkaUsers".journal x
        				INNER JOIN "AkkaUsers".tags lp ON lp.ordering_id = x.ordering
        		WHERE
        			lp.ordering_id > :Offset AND
        			lp.ordering_id <= :MaxOffset AND
        			NOT x.deleted AND
        			lp.tag = :Tag
        		ORDER BY
        			x.ordering
        		LIMIT :take
        	) x_1
        """;

    [Fact]
    public async Task On_SQLite_a_poll_reads_its_own_events_tag_rows_in_index_order_with_the_same_answer()
    {
        await using var db = await JournalWithTaggedEvents();

        var rewritten = TagQueryInterceptor.Rewrite(SqliteEventsByTag);

        Assert.Equal(await Rows(db, SqliteEventsByTag), await Rows(db, rewritten));
        Assert.Equal(["1 user-a user", "4 user-b user;vip"], await Rows(db, rewritten));
        Assert.Contains("SCAN t1", await Plan(db, SqliteEventsByTag));
        Assert.Contains("USE TEMP B-TREE FOR ORDER BY", await Plan(db, SqliteEventsByTag));
        Assert.Equal(
            [
                $"SEARCH lp USING COVERING INDEX {JournalDatabase.TagOrderingIndex} (tag=? AND ordering_id>? AND ordering_id<?)",
                "SEARCH x USING INTEGER PRIMARY KEY (rowid=?)",
                "CORRELATED SCALAR SUBQUERY 1",
                "SEARCH t1 USING COVERING INDEX sqlite_autoindex_tags_1 (ordering_id=?)",
            ],
            (await Plan(db, rewritten)).Where(step => step.StartsWith("SEARCH", StringComparison.Ordinal) || step.StartsWith("USE", StringComparison.Ordinal) || step.StartsWith("CORRELATED", StringComparison.Ordinal)));
    }

    [Fact]
    public void On_PostgreSQL_the_same_two_rewrites_apply()
    {
        var rewritten = Regex.Replace(TagQueryInterceptor.Rewrite(PostgresEventsByTag), @"\s+", " ");

        Assert.Contains("""( SELECT STRING_AGG(t1.tag, ';') FROM "AkkaUsers".tags t1 WHERE t1.ordering_id = x_1."Ordering" )""", rewritten);
        Assert.Contains("ORDER BY lp.ordering_id LIMIT :take", rewritten);
        Assert.DoesNotContain("FILTER", rewritten);
    }

    [Theory]
    [InlineData("INSERT INTO [tags] ([ordering_id], [tag], [sequence_nr], [persistence_id]) VALUES (3, 'user', 1, 'user-a')")]
    [InlineData("SELECT GROUP_CONCAT([t1].[tag], ';') FROM [tags] [t1] WHERE [t1].[ordering_id] = 7")]
    [InlineData("SELECT MAX([x].[ordering]) FROM [journal] [x]")]
    public void Other_statements_are_left_as_they_are(string sql) => Assert.Equal(sql, TagQueryInterceptor.Rewrite(sql));

    /// <summary>The plugin's journal and tag tables with four events: "user", "claim", untagged, and "user" plus "vip".</summary>
    private static async Task<SqliteConnection> JournalWithTaggedEvents()
    {
        var db = new SqliteConnection("Data Source=:memory:");
        await db.OpenAsync();
        await using var setup = db.CreateCommand();
        setup.CommandText = """
            CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, deleted BIT NOT NULL, persistence_id NVARCHAR(255) NOT NULL);
            CREATE TABLE tags (ordering_id INTEGER NOT NULL, tag NVARCHAR(64) NOT NULL, CONSTRAINT PK_tags PRIMARY KEY (ordering_id, tag));
            CREATE INDEX tags_tag_idx ON tags (tag);
            CREATE INDEX tags_tag_ordering_idx ON tags (tag, ordering_id);
            INSERT INTO journal (deleted, persistence_id) VALUES (0, 'user-a'), (0, 'username-a'), (0, 'user-c'), (0, 'user-b');
            INSERT INTO tags VALUES (1, 'user'), (2, 'claim'), (4, 'user'), (4, 'vip');
            """;
        await setup.ExecuteNonQueryAsync();
        return db;
    }

    private static async Task<List<string>> Rows(SqliteConnection db, string sql)
    {
        await using var command = Query(db, sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add($"{reader.GetInt64(0)} {reader.GetString(1)} {string.Join(';', reader.GetString(2).Split(';').Order())}");
        return rows;
    }

    private static async Task<List<string>> Plan(SqliteConnection db, string sql)
    {
        await using var command = Query(db, "EXPLAIN QUERY PLAN " + sql);
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(3));
        return plan;
    }

    private static SqliteCommand Query(SqliteConnection db, string sql)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@Offset", 0);
        command.Parameters.AddWithValue("@MaxOffset", 10);
        command.Parameters.AddWithValue("@Tag", "user");
        command.Parameters.AddWithValue("@take", 500);
        return command;
    }
}
