#!/usr/bin/env python3
"""run.py: the one command of the sluice benchmarks (issue 6, docs/benchmarks.md).

In one invocation it generates the data once (bench/data/, deterministic, reused
when already there), then for each workload and input format runs sluice (the
whole process: `sluice fresh.db -f workload.sql`, results committed to SQLite),
DuckDB (bench/duckdb_run.mjs, one thread) and the do-it-yourself SQLite
baseline (bench/sqlite_baseline) alternately, N times each, measuring wall time
and peak RSS (/usr/bin/time -f '%e %M'), and prints per workload, format and
engine the median events/s, the peak RSS and the ratio sluice/peer. Then it
measures end-to-end latency on a `follow = true` file source (bench/latency)
and on a Kafka source (bench/kafka_latency), all with a 5 ms commit interval,
and the Kafka source again with 1 ms (the latency the setting buys).

Formats: csv and ndjson are files every engine reads; kafka (orders
workloads) is the NDJSON rows loaded once into a 64-partition topic of the
test broker (tests/kafka/mock_broker, bench/kafka_load), which sluice reads
with until = 'end' while the peers read the NDJSON file; gen (Nexmark) is
sluice's in-process generator (connector = 'nexmark', no decoding), the
peers reading the generator's CSV files. q0bh/q1bh/q2bh are q0-q2 into a
blackhole sink, as Flink's Nexmark queries are run (sluice only).

    bench/run.py                      the full benchmark (10M CSV rows, 2M NDJSON
                                      rows, Nexmark 10M events, 5 runs)
    bench/run.py --quick              a ~10-second smoke run: 200k rows, 1 run,
                                      every workload; exits 1 if any engine fails
    options: --rows N --json-rows N --nexmark-events N --runs N
             --workloads b1,b2,...,q0,q5 --formats csv,ndjson,kafka,gen
             --engines sluice,duckdb,sqlite --build DIR --sluice PATH
             --data-dir DIR --out-dir DIR --no-latency --json FILE

It owns bench/data/ and bench/out/ (or the directories given); nothing else.
DuckDB is skipped with a message when bench/node_modules is missing
(`cd bench && npm install`).
"""
import argparse
import re
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
ORDER_WORKLOADS = ["b1", "b2", "b3", "b4", "b5", "b6"]
HAVE_TIME = os.path.exists("/usr/bin/time")
NEXMARK_WORKLOADS = ["q0", "q1", "q2", "q5", "q7", "q8", "q0bh", "q1bh", "q2bh"]
FORMATS = ["csv", "ndjson", "kafka", "gen"]
KAFKA_PARTITIONS = 64  # the mock broker keeps ~5 MB per partition: 2M orders need 64
KAFKA_BROKERS = 3      # a three-broker test cluster, as a small real one
# the table each query's rows end up in (checked to be non-empty)
RESULT_TABLE = {}
TARGETS_CSV = {"b1": 12e6, "b2": 8e6, "b3": 6e6, "b4": 3e6, "b5": 5e6, "b6": 7e6}
TARGETS_NDJSON = {"b2": 4e6}
TARGETS_KAFKA = {"b1": 1e6, "b2": 1e6}
TARGETS_NEXMARK = {"q0": 4e6, "q1": 4e6, "q2": 4e6, "q5": 1e6, "q8": 1e6,
                   "q0bh": 4e6, "q1bh": 4e6, "q2bh": 4e6}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: 200k rows, 1 run")
    ap.add_argument("--rows", type=int, help="CSV orders rows (default 10M)")
    ap.add_argument("--json-rows", type=int, help="NDJSON orders rows (default 2M)")
    ap.add_argument("--nexmark-events", type=int, help="Nexmark events (default 10M)")
    ap.add_argument("--runs", type=int, help="runs per engine (default 5)")
    ap.add_argument("--workloads", default=",".join(ORDER_WORKLOADS + NEXMARK_WORKLOADS))
    ap.add_argument("--formats", help="csv,ndjson,kafka,gen (default all; --quick: csv, "
                    "and b2 on NDJSON and Kafka, q0bh from the generator)")
    ap.add_argument("--engines", default="sluice,duckdb,sqlite")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="meson build dir holding sluice and bench/ programs")
    ap.add_argument("--sluice", help="sluice binary (default BUILD/sluice)")
    ap.add_argument("--data-dir", default=os.path.join(BENCH, "data"))
    ap.add_argument("--out-dir", default=os.path.join(BENCH, "out"))
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--latency-seconds", type=float)
    ap.add_argument("--json", help="also write the results as JSON to this file")
    a = ap.parse_args()
    q = a.quick
    a.rows = a.rows or (200_000 if q else 10_000_000)
    a.json_rows = a.json_rows or (200_000 if q else 2_000_000)
    a.nexmark_events = a.nexmark_events or (200_000 if q else 10_000_000)
    a.runs = a.runs or (1 if q else 5)
    a.latency_seconds = a.latency_seconds or (1.0 if q else 10.0)
    a.workloads = [w.strip().lower() for w in a.workloads.split(",") if w.strip()]
    a.quick_formats = q and not a.formats
    a.formats = [f.strip().lower() for f in (a.formats or ",".join(FORMATS)).split(",")
                 if f.strip()]
    a.engines = [e.strip().lower() for e in a.engines.split(",") if e.strip()]
    a.sluice = os.path.abspath(a.sluice or os.path.join(a.build, "sluice"))
    for w in a.workloads:
        if w not in ORDER_WORKLOADS + NEXMARK_WORKLOADS:
            ap.error(f"unknown workload {w}")
    for f in a.formats:
        if f not in FORMATS:
            ap.error(f"unknown format {f}")
    for e in a.engines:
        if e not in ("sluice", "duckdb", "sqlite"):
            ap.error(f"unknown engine {e}")
    return a


def file_fmt(fmt):
    """The file format behind a format: Kafka carries the NDJSON rows, the
    generator's peers read its CSV files."""
    return {"kafka": "ndjson", "gen": "csv"}.get(fmt, fmt)


def applies(w, fmt):
    """Kafka is for the orders workloads, the generator for Nexmark."""
    if fmt == "kafka":
        return w in ORDER_WORKLOADS
    if fmt == "gen":
        return w in NEXMARK_WORKLOADS
    return not w.endswith("bh")


def tool(a, name):
    p = os.path.join(a.build, "bench", name)
    if not os.path.exists(p):
        sys.exit(f"run.py: {p} is missing: build with `ninja -C {a.build}`")
    return p


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 24)
            if not b:
                return n
            n += b.count(b"\n")


def generate(a):
    """Generate every input the run needs, once; returns the paths."""
    os.makedirs(a.data_dir, exist_ok=True)
    d = {}
    gen = tool(a, "gen_orders")
    d["stores"] = os.path.join(a.data_dir, "stores.csv")
    if not os.path.exists(d["stores"]):
        subprocess.run([gen, "--stores", "-o", d["stores"]], check=True)
    rows = {"csv": a.rows, "ndjson": a.json_rows}
    # Kafka loads the NDJSON rows; the generator's peers read its CSV files
    files = []
    for fmt in a.formats:
        if file_fmt(fmt) not in files:
            files.append(file_fmt(fmt))
    for fmt in files:
        p = os.path.join(a.data_dir, f"orders_{rows[fmt]}.{fmt}")
        if not os.path.exists(p):
            log(f"generating {p}")
            t = time.perf_counter()
            subprocess.run([gen, "--rows", str(rows[fmt]), "--format", fmt, "-o", p + ".tmp"],
                           check=True)
            os.rename(p + ".tmp", p)
            dt = time.perf_counter() - t
            log(f"  {rows[fmt]} rows in {dt:.2f} s ({rows[fmt] / dt / 1e6:.1f} M rows/s)")
        d[("orders", fmt)] = p
        if fmt == "ndjson" and a.quick_formats and "b2" not in a.workloads:
            continue
        if any(w in NEXMARK_WORKLOADS for w in a.workloads) and not (
                a.quick_formats and fmt == "ndjson") and (
                fmt in a.formats or "duckdb" in a.engines):
            nd = os.path.join(a.data_dir, f"nexmark_{a.nexmark_events}_{fmt}")
            if not os.path.exists(os.path.join(nd, "done")):
                log(f"generating {nd}")
                subprocess.run([tool(a, "gen_nexmark"), "--events", str(a.nexmark_events),
                                "--format", fmt, "--dir", nd], check=True)
                counts = {k: count_lines(os.path.join(nd, f"{k}.{fmt}")) - (fmt == "csv")
                          for k in ("persons", "auctions", "bids")}
                with open(os.path.join(nd, "done"), "w") as f:
                    json.dump(counts, f)
            with open(os.path.join(nd, "done")) as f:
                d[("nexmark", fmt)] = (nd, json.load(f))
    return d


def start_kafka(a, data, load):
    """Starts the test broker with an orders topic (and the latency probe's)
    and, if load, fills it with the NDJSON rows once; returns the broker
    process (data["brokers"] is set)."""
    mock = os.path.join(a.build, "tests", "kafka", "mock_broker")
    if not os.path.exists(mock):
        sys.exit(f"run.py: {mock} is missing: build with `ninja -C {a.build}`")
    boot = os.path.join(a.out_dir, "kafka_bootstrap")
    if os.path.exists(boot):
        os.remove(boot)
    proc = subprocess.Popen([mock, "-n", str(KAFKA_BROKERS), boot,
                             f"orders:{KAFKA_PARTITIONS}", "lat:4", "lat1:4"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(boot):
            break
        time.sleep(0.05)
    with open(boot) as f:
        data["brokers"] = f.read().strip()
    if not load:
        return proc
    log(f"loading {a.json_rows} orders into Kafka topic orders ({KAFKA_PARTITIONS} "
        f"partitions) at {data['brokers']}")
    subprocess.run([tool(a, "kafka_load"), "--brokers", data["brokers"], "--topic", "orders",
                    "--input", data[("orders", "ndjson")]], check=True)
    return proc


# librdkafka 2.0 (Debian 12) stops fetching a partition for a second when
# its prefetch queue reaches queued.max.messages.kbytes (64 MiB by
# default; later versions make that pause fetch.queue.backoff.ms): a
# consumer that reads 2M messages faster than they arrive then idles, so
# the harness lets the queue hold the whole topic (docs/benchmarks.md).
KAFKA_PROPS = ("'kafka.queued.min.messages' = '1000000', "
               "'kafka.queued.max.messages.kbytes' = '1048576', "
               "'kafka.fetch.message.max.bytes' = '4194304'")


def format_clause(fmt):
    return "format = 'csv', header = true" if fmt == "csv" else "format = 'ndjson'"


def sluice_sql(a, data, w, fmt):
    if w in ORDER_WORKLOADS:
        src = os.path.join(BENCH, "workloads", f"{w}.sql")
    else:
        src = os.path.join(BENCH, "nexmark", f"{w.replace('bh', '')}.sql")
    with open(src) as f:
        sql = f.read()
    if w.endswith("bh"):
        # q0-q2 as Flink's Nexmark runs them: into a blackhole sink (rows
        # counted in sluice_metrics, then dropped) instead of a SQLite table
        q = w.replace("bh", "")
        sql = sql.replace(f"CREATE STREAMING TABLE {q} AS", f"CREATE SINK {w} AS")
        sql = sql.rstrip().rstrip(";") + "\nWITH (connector = 'blackhole');\n"
    if fmt == "kafka":
        sql = sql.replace("connector = 'file', path = '@ORDERS@', @FORMAT@",
                          f"connector = 'kafka', brokers = '{data['brokers']}', "
                          f"topic = 'orders', format = 'json', start = 'earliest', "
                          f"until = 'end', {KAFKA_PROPS}")
    elif fmt == "gen":
        sql, n = re.subn(r"connector = 'file', path = '@NEXMARK@/(person|auction|bid)s\.@EXT@', "
                         r"@FORMAT@",
                         lambda m: f"connector = 'nexmark', kind = '{m.group(1)}', "
                                   f"events = {a.nexmark_events}", sql)
        assert n > 0, f"{src}: no Nexmark file source to replace"
    sql = sql.replace("@FORMAT@", format_clause(fmt)).replace("@EXT@", fmt)
    sql = sql.replace("@STORES@", data["stores"])
    if w in ORDER_WORKLOADS:
        sql = sql.replace("@ORDERS@", data[("orders", file_fmt(fmt))])
    elif fmt != "gen":
        sql = sql.replace("@NEXMARK@", data[("nexmark", fmt)][0])
    path = os.path.join(a.out_dir, f"{w}_{fmt}.sql")
    with open(path, "w") as f:
        f.write(sql)
    return path


def nexmark_mix(events):
    """Persons, auctions and bids among the first `events` events of the
    Nexmark stream (of every 50: 1 person, 3 auctions, 46 bids)."""
    full, rem = divmod(events, 50)
    persons = full + min(rem, 1)
    auctions = 3 * full + max(0, min(rem, 4) - 1)
    return dict(persons=persons, auctions=auctions, bids=events - persons - auctions)


def events_of(a, data, w, fmt):
    """Input events a workload reads."""
    if w in ORDER_WORKLOADS:
        return a.rows if fmt == "csv" else a.json_rows
    w = w.replace("bh", "")
    counts = nexmark_mix(a.nexmark_events) if fmt == "gen" else data[("nexmark", fmt)][1]
    if w == "q8":
        return counts["persons"] + counts["auctions"]
    return counts["bids"]


def remove_db(path):
    for suffix in ("", "-wal", "-shm", ".wal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def command(a, data, engine, w, fmt, db):
    if engine == "sluice":
        return [a.sluice, db, "-f", sluice_sql(a, data, w, fmt)]
    fmt = file_fmt(fmt)   # the peers read the file behind Kafka / the generator
    if engine == "duckdb":
        cmd = ["node", os.path.join(BENCH, "duckdb_run.mjs"), "--workload", w, "--db", db,
               "--format", fmt]
        if w in ORDER_WORKLOADS:
            cmd += ["--input", data[("orders", fmt)], "--stores", data["stores"]]
        else:
            cmd += ["--nexmark", data[("nexmark", fmt)][0]]
        return cmd
    return [tool(a, "sqlite_baseline"), "--workload", w, "--input", data[("orders", fmt)],
            "--format", fmt, "--db", db, "--stores", data["stores"]]


def check_result(a, data, engine, w, fmt, db):
    """The run must have left a non-empty result (a blackhole sink: rows
    counted out); over Kafka and the generator, sluice must have read every
    event (its rows_in metric)."""
    if engine == "duckdb":
        return None  # duckdb_run.mjs prints its count; a failure exits non-zero
    table = RESULT_TABLE.get(w, w)
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        if w.endswith("bh"):
            n = con.execute("SELECT value FROM sluice_metrics WHERE query = ? AND "
                            "name = 'rows_out'", (w,)).fetchone()
            n = n[0] if n else 0
        else:
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        rows_in = None
        if engine == "sluice" and fmt in ("kafka", "gen"):
            r = con.execute("SELECT value FROM sluice_metrics WHERE query = ? AND "
                            "name = 'rows_in'", (table,)).fetchone()
            rows_in = int(r[0]) if r else 0
        con.close()
    except sqlite3.Error as e:
        return f"cannot read result table {table}: {e}"
    if n <= 0:
        return f"result {table} is empty"
    want = events_of(a, data, w, fmt)
    if rows_in is not None and rows_in != want:
        return f"read {rows_in} events, not {want}"
    return None


def run_once(a, data, engine, w, fmt):
    ext = "duckdb" if engine == "duckdb" else "db"
    db = os.path.join(a.out_dir, f"{engine}_{w}_{fmt}.{ext}")
    remove_db(db)
    cmd = command(a, data, engine, w, fmt, db)
    if HAVE_TIME:
        tf = os.path.join(a.out_dir, "time.txt")
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", tf] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out, errout = p.communicate()
    wall = time.perf_counter() - t0
    if HAVE_TIME:
        with open(tf) as f:
            last = f.read().strip().splitlines()[-1].split()
        rss_kb = int(last[1])
    else:  # the same number /usr/bin/time reports: the child's ru_maxrss
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p.stdout, p.stderr = out, errout
    err = None
    if p.returncode != 0:
        err = (p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}")[-600:]
    else:
        err = check_result(a, data, engine, w, fmt, db)
    return wall, rss_kb, err


def fmt_rate(x):
    if x is None:
        return "-"
    return f"{x / 1e6:.2f} M" if x >= 1e5 else f"{x / 1e3:.1f} k"


def main():
    a = parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    if not os.path.exists(a.sluice):
        sys.exit(f"run.py: no sluice binary at {a.sluice}")
    if not HAVE_TIME:
        log("note: /usr/bin/time is missing (apt-get install time); peak RSS is the "
            "largest ru_maxrss of any child so far")
    engines = list(a.engines)
    if "duckdb" in engines and (not shutil.which("node") or not os.path.isdir(
            os.path.join(BENCH, "node_modules", "@duckdb", "node-api"))):
        log("note: DuckDB skipped: bench/node_modules/@duckdb/node-api is missing "
            "(cd bench && npm install) or node is not installed")
        engines.remove("duckdb")

    t_start = time.perf_counter()
    data = generate(a)
    cases = []
    quick_only = {"ndjson": ("b2",), "kafka": ("b2",), "gen": ("q0bh", "q8")}
    for fmt in a.formats:
        for w in a.workloads:
            if not applies(w, fmt):
                continue
            if a.quick_formats and fmt in quick_only and w not in quick_only[fmt]:
                continue
            cases.append((w, fmt))
    broker = None
    if any(fmt == "kafka" for _, fmt in cases) or not a.no_latency:
        broker = start_kafka(a, data, any(fmt == "kafka" for _, fmt in cases))

    results = []
    failures = []
    for w, fmt in cases:
        # the peers read files: over Kafka and the generator only sluice runs
        # (its file rows are the comparison); blackhole sinks are sluice's
        eng = [e for e in engines if e == "sluice" or not (
            (e == "sqlite" and w in NEXMARK_WORKLOADS) or fmt in ("kafka", "gen")
            or w.endswith("bh"))]
        samples = {e: [] for e in eng}
        errors = {}
        for r in range(a.runs):
            for e in eng:  # alternate engines run by run
                if e in errors:
                    continue
                wall, rss, err = run_once(a, data, e, w, fmt)
                if err:
                    errors[e] = err
                    failures.append((w, fmt, e, err))
                    log(f"FAIL {w} {fmt} {e}: {err}")
                    continue
                samples[e].append((wall, rss))
                log(f"{w:3} {fmt:6} {e:7} run {r + 1}/{a.runs}: {wall:7.2f} s "
                    f"{rss / 1024:7.1f} MiB")
        n_events = events_of(a, data, w, fmt)
        for e in eng:
            s = samples[e]
            if not s:
                results.append(dict(workload=w, format=fmt, engine=e, events=n_events,
                                    error=errors.get(e)))
                continue
            med = statistics.median(x[0] for x in s)
            results.append(dict(workload=w, format=fmt, engine=e, events=n_events,
                                runs=len(s), wall_s=[x[0] for x in s], median_s=med,
                                events_per_s=n_events / med,
                                peak_rss_kb=max(x[1] for x in s)))

    print_table(a, results)
    lat = None
    if not a.no_latency:
        lat = run_latency(a)
        if lat is None:
            failures.append(("latency", "csv", "sluice", "latency run failed"))
        klat = run_kafka_latency(a, data, "lat", 5)
        if klat is None:
            failures.append(("latency", "kafka", "sluice", "Kafka latency run failed"))
        # the same with a 1 ms commit interval: what the knob buys
        klat1 = run_kafka_latency(a, data, "lat1", 1)
        if klat1 is None:
            failures.append(("latency", "kafka", "sluice",
                             "Kafka latency run (1 ms commits) failed"))
        lat = [lat, klat, klat1]
    if broker is not None:
        broker.terminate()
        broker.wait()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(results=results, latency=lat, rows=a.rows, json_rows=a.json_rows,
                           nexmark_events=a.nexmark_events, runs=a.runs), f, indent=1)
    log(f"total {time.perf_counter() - t_start:.1f} s")
    if failures:
        print(f"\n{len(failures)} failure(s):")
        for w, fmt, e, err in failures:
            print(f"  {w} {fmt} {e}: {err}")
        sys.exit(1)


def print_table(a, results):
    by = {(r["workload"], r["format"], r["engine"]): r for r in results}
    print(f"\nsluice benchmark: CSV {a.rows} rows, NDJSON {a.json_rows} rows, "
          f"Nexmark {a.nexmark_events} events; median of {a.runs} run(s)\n")
    hdr = ("workload", "format", "engine", "events/s", "peak RSS", "sluice/peer", "target")
    rows = []
    for r in results:
        w, fmt, e = r["workload"], r["format"], r["engine"]
        eps = r.get("events_per_s")
        ratio = ""
        s = by.get((w, fmt, "sluice"))
        if e != "sluice" and eps and s and s.get("events_per_s"):
            ratio = f"{s['events_per_s'] / eps:.2f}x"
        target = ""
        if e == "sluice":
            t = {"csv": TARGETS_CSV, "ndjson": TARGETS_NDJSON,
                 "kafka": TARGETS_KAFKA}.get(fmt, {}).get(w)
            if w in TARGETS_NEXMARK and fmt == "gen":
                t = TARGETS_NEXMARK[w]
            if t:
                target = f">= {t / 1e6:g} M" + (f" ({eps / t:.0%})" if eps else "")
        rss = f"{r['peak_rss_kb'] / 1024:.0f} MiB" if "peak_rss_kb" in r else "-"
        rate = fmt_rate(eps) if eps else "FAILED"
        rows.append((w, fmt, e, rate, rss, ratio, target))
    widths = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    line = lambda cols: "| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(cols)) + " |"
    print(line(hdr))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for x in rows:
        print(line(x))
    sys.stdout.flush()


def run_latency(a):
    exe = tool(a, "latency")
    d = os.path.join(a.out_dir, "latency")
    p = subprocess.run([exe, "--sluice", a.sluice, "--dir", d, "--seconds",
                        str(a.latency_seconds), "--rate", "1000", "--commit-ms", "5"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = (p.stdout + p.stderr).strip()
    print("\n" + out)
    if p.returncode != 0:
        return None
    return out


def run_kafka_latency(a, data, topic, commit_ms):
    d = os.path.join(a.out_dir, f"kafka_latency_{topic}")
    p = subprocess.run([tool(a, "kafka_latency"), "--sluice", a.sluice, "--brokers",
                        data["brokers"], "--topic", topic, "--dir", d, "--seconds",
                        str(a.latency_seconds), "--rate", "1000", "--commit-ms",
                        str(commit_ms)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = (p.stdout + p.stderr).strip()
    print(out)
    if p.returncode != 0:
        return None
    return out


if __name__ == "__main__":
    main()
