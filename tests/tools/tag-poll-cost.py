#!/usr/bin/env python3
"""What one poll of EventsByTag costs on a journal of N users, with the SQL read journal's tag index alone and with
the (tag, ordering_id) index the service adds. Builds a SQLite journal shaped like the service's (three events per
user: a username claim, an email claim, a registration) in a temporary file; the best of three runs per poll.

usage: tests/tools/tag-poll-cost.py [users]     (default 1000000; about 20 s and 0.5 GB of disk at that size)
"""
import os, shutil, sqlite3, sys, tempfile, time

users = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
events = 3 * users
path = os.path.join(tempfile.mkdtemp(prefix="tag-poll-cost-"), "journal.db")
db = sqlite3.connect(path)
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

# Akka.Persistence.Sql's EventsByTag query in tag-table mode, as linq2db writes it for SQLite.
poll = """SELECT r.ordering, (SELECT GROUP_CONCAT(t.tag, ';') FROM tags t WHERE t.ordering_id = r.ordering)
          FROM journal r LEFT JOIN tags lp ON lp.ordering_id = r.ordering
          WHERE lp.ordering_id > ? AND lp.ordering_id <= ? AND r.deleted = 0 AND lp.tag = ? ORDER BY r.ordering"""
polls = [("100 new user events at the end", "user", events - 300, events),
         ("no new claim event", "claim", events, events + 100),
         ("500 user events from the beginning", "user", 0, 1500)]

def best_of_three(tag, after, upto):
    best = None
    for _ in range(3):
        start = time.perf_counter()
        db.execute(poll, (after, upto, tag)).fetchall()
        best = min(best or 1e9, time.perf_counter() - start)
    return best * 1000

print(f"{users:,} users, {events:,} events, SQLite {sqlite3.sqlite_version}")
before = {name: best_of_three(tag, a, b) for name, tag, a, b in polls}
start = time.perf_counter()
db.execute("CREATE INDEX tags_tag_ordering_idx ON tags (tag, ordering_id)")
db.commit()
print(f"index (tag, ordering_id) built in {time.perf_counter() - start:.2f} s")
for name, tag, a, b in polls:
    print(f"{name}: {before[name]:.3f} ms with the tag index alone, {best_of_three(tag, a, b):.3f} ms with (tag, ordering_id)")
db.close()
shutil.rmtree(os.path.dirname(path))
