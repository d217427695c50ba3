#!/usr/bin/env bash
# Start-up with a large schema: how long the release server takes from exec until /ready
# answers 200 when it serves a SQLite database of 1,000 tables, the median of RUNS runs; then
# what a question costs on it.
#
#   bench/startup.sh
#   RUNS=9 TABLES=2000 bench/startup.sh
#
# The database is generated (python3's sqlite3, a fixed seed, so every run reads the same
# schema): TABLES tables of 5-15 columns each (an integer key and a mix of text, integer, real,
# exact decimal, boolean, date and timestamp columns), about a third of them with one or two
# foreign keys to other tables, and 3-5 rows each. Among them are `customers`, `orders`,
# `products` and `order_items` (with their foreign keys), which the questions at the end ask
# about.
#
# Each run starts the server (authentication off on loopback, metrics off, the built-in
# defaults otherwise) and polls GET /ready every 2 ms: the time is from just before the exec to
# the first 200, which the server can send only once its schema index is built and it
# listens. The server's own "schema loaded" log line says how much of that was reading the
# schema and building the index.
#
# Then, on a server of its own with the semantic cache off (so that every answer is the
# engine's reading of the question, not a re-used one) and the rate limit out of the way, each
# of a few questions is asked REPEAT times: its answer, and the median and largest of the
# server's own time for it (its request log's latency_ms). The first must be answered; the
# others make the engine search the schema's join graph, which is where a large schema costs.
#
# Environment: RUNS (5), TABLES (1000), REPEAT (20), BUILD_DIR (build/release: configured and
# built here if absent, like bench/suite.sh), BIN (a server binary to run instead of building
# one, e.g. an older revision's, to compare), WORK (build/bench/startup).
# Output: a line per run, the median, and the questions' answers and latencies; the servers'
# logs stay in WORK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUNS="${RUNS:-5}"
TABLES="${TABLES:-1000}"
REPEAT="${REPEAT:-20}"
for n in "$RUNS" "$TABLES" "$REPEAT"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "RUNS, TABLES and REPEAT must be positive whole numbers" >&2
    exit 2
  }
done
((TABLES >= 4)) || {
  echo "TABLES must be at least 4 (customers, orders, products, order_items)" >&2
  exit 2
}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_require python3 curl jq

build="${BUILD_DIR:-$root/build/release}"
work="${WORK:-$root/build/bench/startup}"
mkdir -p "$work"
if [ -n "${BIN:-}" ]; then
  bin="$BIN"
else
  bench_build "$build" heliosdb-conversational-bi
  bin="$build/src/heliosdb-conversational-bi"
fi
db="$work/schema-$TABLES.db"

# --- The database ----------------------------------------------------------------------------
if [ ! -f "$db" ]; then
  python3 - "$db" "$TABLES" <<'PY'
import os, random, sqlite3, sys

path, tables = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261129)
domains = ["sales", "crm", "hr", "finance", "inventory", "ops", "marketing", "support",
           "shipping", "procurement", "web", "iot", "legal", "it", "product", "quality",
           "billing", "payroll", "fleet", "facilities", "research", "training", "risk",
           "audit", "partner", "retail", "energy", "health", "events", "media"]
entities = ["accounts", "contacts", "leads", "invoices", "payments", "shipments", "tickets",
            "assets", "devices", "readings", "campaigns", "vendors", "contracts", "warehouses",
            "items", "projects", "tasks", "budgets", "expenses", "claims", "policies",
            "sessions", "visits", "reviews", "returns", "refunds", "subscriptions", "plans",
            "regions", "teams", "locations", "suppliers", "parts", "batches", "inspections",
            "incidents", "requests", "approvals", "documents", "licenses"]
countries = ["Germany", "France", "Spain", "Italy", "Japan", "Brazil", "Canada", "India"]
cities = ["Berlin", "Paris", "Madrid", "Rome", "Tokyo", "Sao Paulo", "Toronto", "Mumbai"]
statuses = ["open", "closed", "pending", "active", "cancelled", "archived"]
categories = ["standard", "premium", "internal", "external", "critical", "minor"]
words = ["alpha", "delta", "north", "river", "summit", "harbor", "cedar", "orbit", "maple",
         "quartz", "falcon", "ember"]

def date(r):
    return f"20{r.randint(22, 25)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

def stamp(r):
    return f"{date(r)} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"

# name, SQL type, value maker
pool = [
    ("name", "TEXT", lambda r, i: f"{r.choice(words).title()} {r.choice(words).title()} {i}"),
    ("title", "TEXT", lambda r, i: f"{r.choice(words).title()} {r.choice(categories)}"),
    ("code", "TEXT", lambda r, i: f"{r.choice(words)[:3].upper()}-{r.randint(100, 999)}"),
    ("status", "TEXT", lambda r, i: r.choice(statuses)),
    ("category", "TEXT", lambda r, i: r.choice(categories)),
    ("country", "TEXT", lambda r, i: r.choice(countries)),
    ("city", "TEXT", lambda r, i: r.choice(cities)),
    ("email", "TEXT", lambda r, i: f"{r.choice(words)}.{i}@example.com"),
    ("description", "TEXT", lambda r, i: " ".join(r.choice(words) for _ in range(6))),
    ("notes", "TEXT", lambda r, i: " ".join(r.choice(words) for _ in range(4))),
    ("currency", "TEXT", lambda r, i: r.choice(["EUR", "USD", "JPY", "BRL"])),
    ("phone", "TEXT", lambda r, i: f"+49 30 {r.randint(1000000, 9999999)}"),
    ("amount", "NUMERIC(12,2)", lambda r, i: round(r.uniform(1, 10000), 2)),
    ("unit_price", "NUMERIC(10,2)", lambda r, i: round(r.uniform(1, 500), 2)),
    ("quantity", "INTEGER", lambda r, i: r.randint(1, 100)),
    ("priority", "INTEGER", lambda r, i: r.randint(1, 5)),
    ("version", "INTEGER", lambda r, i: r.randint(1, 20)),
    ("score", "REAL", lambda r, i: round(r.uniform(0, 100), 3)),
    ("weight_kg", "REAL", lambda r, i: round(r.uniform(0.1, 80), 2)),
    ("is_active", "BOOLEAN", lambda r, i: r.randint(0, 1)),
    ("is_verified", "BOOLEAN", lambda r, i: r.randint(0, 1)),
    ("start_date", "DATE", lambda r, i: date(r)),
    ("end_date", "DATE", lambda r, i: date(r)),
    ("due_date", "DATE", lambda r, i: date(r)),
    ("created_at", "TIMESTAMP", lambda r, i: stamp(r)),
    ("updated_at", "TIMESTAMP", lambda r, i: stamp(r)),
]
names = ["customers", "orders", "products", "order_items"]
combos = [f"{d}_{e}" for d in domains for e in entities]
rng.shuffle(combos)
names += combos[: tables - 4]
if len(names) < tables:
    names += [f"extra_table_{i}" for i in range(tables - len(names))]

if os.path.exists(path):
    os.remove(path)
con = sqlite3.connect(path)
con.execute("PRAGMA foreign_keys = OFF")
cur = con.cursor()
cur.execute("""CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT,
  country TEXT, city TEXT, segment TEXT, created_at TIMESTAMP)""")
cur.execute("""CREATE TABLE orders (id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT, total NUMERIC(12,2),
  ordered_at DATE)""")
for i in range(1, 9):
    cur.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (i, f"Customer {i}", f"c{i}@example.com", countries[i % 4], cities[i % 4],
                 rng.choice(["consumer", "corporate"]), stamp(rng)))
cur.execute("""CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT,
  unit_price NUMERIC(10,2), units_in_stock INTEGER)""")
cur.execute("""CREATE TABLE order_items (id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER,
  unit_price NUMERIC(10,2))""")
for i in range(1, 21):
    cur.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                (i, rng.randint(1, 8), rng.choice(statuses), round(rng.uniform(5, 900), 2),
                 date(rng)))
for i in range(1, 11):
    cur.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?)",
                (i, f"Product {i}", ["Books", "Toys", "Garden"][i % 3],
                 round(rng.uniform(2, 90), 2), rng.randint(0, 50)))
for i in range(1, 41):
    cur.execute("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
                (i, rng.randint(1, 20), rng.randint(1, 10), rng.randint(1, 5),
                 round(rng.uniform(2, 90), 2)))
fk_count = 3
for t, name in enumerate(names[4:], start=4):
    width = rng.randint(5, 15)  # columns, the key included
    refs = []
    if rng.random() < 0.35:
        for target in rng.sample(range(t), min(t, rng.choice([1, 1, 2]))):
            refs.append(names[target])
    cols = ["id INTEGER PRIMARY KEY"]
    fk_cols = []
    for target in refs:
        col = target.rstrip("s") + "_id"
        if col in fk_cols:
            continue
        fk_cols.append(col)
        cols.append(f"{col} INTEGER REFERENCES {target}(id)")
        fk_count += 1
    chosen = rng.sample(pool, max(0, width - 1 - len(fk_cols)))
    cols += [f"{c} {ty}" for c, ty, _ in chosen]
    cur.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
    for i in range(1, rng.randint(3, 5) + 1):
        values = [i] + [rng.randint(1, 3) for _ in fk_cols] + [make(rng, i) for _, _, make in chosen]
        cur.execute(f"INSERT INTO {name} VALUES ({', '.join('?' * len(values))})", values)
con.commit()
n = con.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
c = sum(con.execute(f"SELECT COUNT(*) FROM pragma_table_info('{t}')").fetchone()[0] for t in names)
con.close()
print(f"wrote {path}: {n} tables, {c} columns, {fk_count} foreign keys")
PY
fi

# --- The runs --------------------------------------------------------------------------------
python3 - "$bin" "$db" "$work" "$RUNS" "$REPEAT" <<'PY'
import http.client, json, os, signal, socket, statistics, subprocess, sys, time

binary, db, work, runs, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
# The first must be answered (the "one real question"); the others join tables along foreign
# keys or name columns that hundreds of tables have, so that the engine searches the large
# schema's join graph; some of them it declines (422), which costs it as much.
questions = [
    "How many customers are in Germany?",
    "number of orders by customer country",
    "number of order items by product category",
    "total quantity of order items by customer country",
    "total amount by currency",
    "number of tickets by status",
]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def call(port, path, body=None):
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        con.request("POST" if body is not None else "GET", path,
                    body=json.dumps(body) if body is not None else None, headers=headers)
        r = con.getresponse()
        return r.status, r.read()
    finally:
        con.close()

def start(name, extra=""):
    """Starts the server; returns (process, port, seconds from exec to the first 200 of /ready)."""
    port = free_port()
    config = os.path.join(work, f"{name}.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
                "[auth]\nenabled = false\n[metrics]\nenabled = false\n" + extra)
    log = open(os.path.join(work, f"{name}.log"), "w")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}")
    begin = time.monotonic()
    server = subprocess.Popen([binary, "--config", config, "serve"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    while time.monotonic() - begin < 120 and server.poll() is None:
        try:
            if call(port, "/ready")[0] == 200:
                return server, port, time.monotonic() - begin
        except OSError:
            pass
        time.sleep(0.002)
    stop(server)
    sys.exit(f"{name}: the server was not ready (see {log.name})")

def stop(server):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()

def schema_loaded(name):
    # The server's own account of reading the schema and building its index.
    with open(os.path.join(work, f"{name}.log")) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "schema loaded":
                return entry
    return {}

times = []
for run in range(1, runs + 1):
    server, port, ready = start(f"server-{run}")
    stop(server)
    loaded = schema_loaded(f"server-{run}")
    times.append(ready)
    print(f"run {run}: ready in {ready * 1000:.0f} ms (schema loaded: {loaded.get('tables')} "
          f"tables in {float(loaded.get('elapsed_ms', 'nan')):.0f} ms)")
print(f"median of {runs}: ready in {statistics.median(times) * 1000:.0f} ms "
      f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")

server, port, _ = start("server-questions",
                        "[cache]\nenabled = false\n[production.rate_limiting.tenants.default]\n"
                        "queries_per_minute = 100000000\nburst_allowance = 100000000\n")
answers = {}
try:
    for q in questions:
        for _ in range(repeat):
            status, body = call(port, "/api/v1/query", {"query": q})
        answers[q] = (status, json.loads(body))
finally:
    stop(server)
# The server's own time for each request, from its request log (declined questions too).
latencies = {}
with open(os.path.join(work, "server-questions.log")) as f:
    for line in f:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("path") == "/api/v1/query":
            latencies.setdefault(entry.get("query"), []).append(float(entry["latency_ms"]))
for q in questions:
    status, answer = answers[q]
    got = latencies.get(q, [float("nan")])
    what = answer["sql"] if status == 200 else f"HTTP {status} {answer['error']['code']}"
    print(f"'{q}': {what}")
    rows = f"rows {answer['rows'][:3]}{' ...' if answer['row_count'] > 3 else ''}; " \
        if status == 200 else ""
    print(f"    {rows}server latency_ms median {statistics.median(got):.2f}, "
          f"max {max(got):.2f} over {len(got)} asks")
sys.exit(0 if answers[questions[0]][0] == 200 else 1)
PY
