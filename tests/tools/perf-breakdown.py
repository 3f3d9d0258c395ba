#!/usr/bin/env python3
"""Where a service's CPU went, by component, from a `perf record -g` of it. Each sample counts once: for Argon2id if
any frame of its stack is the hash's, otherwise for the component of the frame nearest its leaf that belongs to one.
Counting the nearest owner, not any ancestor, keeps the outermost middleware from claiming the whole request.

usage: perf script -i perf.data -F comm,tid,ip,sym | tests/tools/perf-breakdown.py
"""
import collections, re, sys

HASH = re.compile(r"Argon2idCore|Blake2b|OwnedMemoryArgon2")
COMPONENTS = [
    ("journal: the WAL's fsync", r"fsync|fdatasync|unixSync"),
    ("journal: SQLite", r"sqlite3|yy_|wal[A-Z]|pcache|btree|Vdbe|Pager|Microsoft\.Data\.Sqlite|SQLitePCL"),
    ("journal: linq2db", r"LinqToDB"),
    ("journal: Akka.Persistence", r"Akka\.Persistence"),
    ("HTTP: JSON", r"System\.Text\.Json"),
    ("token (JWT, HMAC)", r"IdentityModel|JsonWebToken|libcrypto|System\.Security\.Cryptography"),
    ("metrics and traces", r"OpenTelemetry|System\.Diagnostics\.Metrics|System\.Diagnostics\.Activity"),
    ("access log and logging", r"Microsoft\.Extensions\.Logging|HttpLog|System\.Console"),
    ("HTTP: rate limiting", r"RateLimit"),
    ("HTTP: Kestrel and sockets", r"Kestrel|AspNetCore|System\.Net\.|System\.IO\.Pipelines|tcp_|sock_|__sys_send|__sys_recv|epoll|ep_poll"),
    ("actors: cluster and sharding", r"Akka\.Cluster"),
    ("actors: Akka", r"Akka\."),
    ("the service's own code", r"AkkaUsers"),
    ("thread pool", r"LowLevelLifoSemaphore|sched_yield|PortableThreadPool|WorkerThread|ThreadPoolWorkQueue|futex"),
    ("garbage collector", r"gc_heap|GCHeap|WKS::|SVR::|GarbageCollect"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in COMPONENTS]

counts = collections.Counter()
for sample in sys.stdin.read().split("\n\n"):
    if not sample.strip():
        continue
    frames = sample.strip().split("\n")[1:]  # the first line names the thread
    if any(HASH.search(frame) for frame in frames):
        counts["Argon2id"] += 1
        continue
    owner = next((name for frame in frames for name, pattern in COMPILED if pattern.search(frame)), "unattributed")
    counts[owner] += 1

total = sum(counts.values())
for name, count in counts.most_common():
    print(f"{100 * count / total:6.2f} %  {name}")
print(f"({total} samples)")
