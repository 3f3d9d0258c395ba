#!/usr/bin/env python3
"""What one poll of the SQL read journal's EventsByTag costs on a SQLite journal of N users, in four steps: the query
as linq2db writes it (each event's tags aggregated over the whole tag table) with the plugin's indexes; with that
aggregate rewritten to the event's own rows (TagQueryInterceptor); with the (tag, ordering_id) index as well
(JournalDatabase.IndexTagsByOrderingAsync); and ordered by the tag row's ordering (TagQueryInterceptor again). The journal is shaped like the service's (per user a username claim, an
email claim and a registration) and built in a temporary file; each poll is timed as the best of three.

usage: tests/tools/tag-poll-cost.py [users]     (default 100000: about a minute; the first step grows with users squared)
"""
import os, re, shutil, sqlite3, sys, tempfile, time

users = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
events = 3 * users
folder = tempfile.mkdtemp(prefix="tag-poll-cost-")
db = sqlite3.connect(os.path.join(folder, "journal.db"))
db.executescript("""
    PRAGMA journal_mode = WAL;
    CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL,
        deleted BIT NOT NULL, persistence_id NVARCHAR(255) NOT NULL, sequence_number INTEGER NOT NULL,
        message VARBINARY NOT NULL, manifest NVARCHAR(500) NULL, identifier INTEGER NULL, writer_uuid NVARCHAR(128) NULL);
    CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
    CREATE TABLE tags (ordering_id INTEGER NOT NULL, tag NVARCHAR(64) NOT NULL, sequence_nr INTEGER NOT NULL,
        persistence_id NVARCHAR(255) NOT NULL, CONSTRAINT PK_tags PRIMARY KEY (ordering_id, tag));
    CREATE INDEX tags_persistence_id_sequence_nr_idx ON tags (persistence_id, sequence_nr);
    CREATE INDEX tags_tag_idx ON tags (tag);
""")
db.executemany("INSERT INTO journal VALUES (?, 0, 0, ?, 1, ?, 'm', 1, 'w')",
               ((3 * i + k + 1, f"{kind}-{i}", b"x" * 60) for i in range(users) for k, kind in enumerate(("username", "email", "user"))))
db.execute("INSERT INTO tags SELECT ordering, CASE WHEN persistence_id LIKE 'user-%' THEN 'user' ELSE 'claim' END, 1, persistence_id FROM journal")
db.commit()

# Akka.Persistence.Sql's EventsByTag in tag-table mode as linq2db 6.5.1 writes it for SQLite (columns trimmed).
as_written = """
SELECT x_1.Ordering, x_1.PersistenceId,
    (SELECT GROUP_CONCAT(CASE WHEN t1.ordering_id = x_1.Ordering THEN t1.tag ELSE NULL END, ';') FROM tags t1)
FROM (SELECT x.ordering AS Ordering, x.persistence_id AS PersistenceId
      FROM journal x INNER JOIN tags lp ON lp.ordering_id = x.ordering
      WHERE lp.ordering_id > :offset AND lp.ordering_id <= :max AND NOT x.deleted AND lp.tag = :tag
      ORDER BY x.ordering LIMIT 500) x_1"""
own_rows = re.sub(r"GROUP_CONCAT\(CASE WHEN t1.ordering_id = x_1.Ordering THEN t1.tag ELSE NULL END, ';'\) FROM tags t1",
                  "GROUP_CONCAT(t1.tag, ';') FROM tags t1 WHERE t1.ordering_id = x_1.Ordering", as_written)
by_tag_row = own_rows.replace("ORDER BY x.ordering", "ORDER BY lp.ordering_id")
assert own_rows != as_written and by_tag_row != own_rows

polls = [("100 new user events at the end of the journal", dict(tag="user", offset=events - 300, max=events)),
         ("no new claim event", dict(tag="claim", offset=events, max=events + 100)),
         ("a batch of 500 user events from the beginning", dict(tag="user", offset=0, max=events))]

def best_of_three(sql, arguments):
    best = None
    for _ in range(3):
        start = time.perf_counter()
        db.execute(sql, arguments).fetchall()
        best = min(best or 1e9, time.perf_counter() - start)
    return best * 1000

print(f"{users:,} users, {events:,} events, SQLite {sqlite3.sqlite_version}; ms per poll, best of three")
written = {name: best_of_three(as_written, a) for name, a in polls}
rewritten = {name: best_of_three(own_rows, a) for name, a in polls}
start = time.perf_counter()
db.execute("CREATE INDEX tags_tag_ordering_idx ON tags (tag, ordering_id)")
db.commit()
print(f"index on (tag, ordering_id) built in {time.perf_counter() - start:.2f} s")
print("poll | as linq2db writes it | aggregate over the event's own rows | and the (tag, ordering_id) index | and ordered by the tag row")
for name, a in polls:
    print(f"{name} | {written[name]:.2f} | {rewritten[name]:.2f} | {best_of_three(own_rows, a):.2f} | {best_of_three(by_tag_row, a):.2f}")
db.close()
shutil.rmtree(folder)
