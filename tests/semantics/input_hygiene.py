#!/usr/bin/env python3
"""input_hygiene.py: what bad bytes in input files do, read back the way a
user reads them (python's sqlite3; issue 13, items 3 and 4).

1. TEXT that is not valid UTF-8, or holds a NUL byte (CSV, NDJSON raw bytes,
   NDJSON \\u0000 and lone surrogate escapes), makes its record a dead letter
   naming the column; the good records are rows; python's sqlite3 reads the
   whole result table and sluice_dead_letters (the raw text of a record
   that is not UTF-8 is kept as a BLOB).
2. A UTF-8 byte-order mark at the start of a file is skipped: NDJSON,
   CSV without a header and CSV with a header lose no record and name
   their first column right.
3. JSON keys match exactly before case-insensitively: {"id":44,"ID":45}
   gives 44, in either order.
4. A follow = true CSV source with one stray quote: once the quoted field
   is open max_record_bytes into its record, the quote's line is a dead
   letter at file:line and every later line arrives (before the fix they
   were held back for good).

Usage: input_hygiene.py SLUICE
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluicerun as sr                          # noqa: E402

TIMEOUT = 15.0
tests = []


def ok(cond, desc, detail=""):
    tests.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(tests), desc))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()
    return cond


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read_all(db, sql):
    """Rows of sql read by python's sqlite3, or the error it raised."""
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.Error as e:
        return "error: %s" % e
    finally:
        con.close()


def bad_text(sluice, d):
    write(d, "t.csv", b"id,name\n"
          b"1,ann\n"
          b"2,caf\xe9\n"                 # Latin-1, not UTF-8
          b"3,\"n\x00l\"\n"               # a NUL byte
          b"4,caf\xc3\xa9\n"             # valid UTF-8
          b"5,\xed\xa0\x80\n")           # an encoded surrogate
    write(d, "t.ndjson", b'{"id":1,"name":"ann"}\n'
          b'{"id":2,"name":"caf\xe9"}\n'
          b'{"id":3,"name":"a\\u0000b"}\n'
          b'{"id":4,"name":"\\ud83d\\ude00 ok"}\n'
          b'{"id":5,"name":"lone \\ud800"}\n'
          b'{"id":6,"skip":"\xff","name":"kept"}\n')
    db = os.path.join(d, "bad_text.db")
    sql = ("CREATE SOURCE c (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 't.csv');"
           "CREATE SOURCE j (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 't.ndjson');"
           "CREATE STREAMING TABLE cs AS SELECT id, name FROM c;"
           "CREATE STREAMING TABLE js AS SELECT id, name FROM j;")
    rc, out, err = sr.run_sluice(sluice, db, sql, cwd=d)
    ok(rc == 0, "bad text: sluice runs", err)
    rows = read_all(db, "SELECT id, name FROM cs ORDER BY id")
    ok(rows == [(1, "ann"), (4, "caf\u00e9")],
       "CSV: python's sqlite3 reads the table; only the good records are rows",
       rows)
    rows = read_all(db, "SELECT id, name FROM js ORDER BY id")
    ok(rows == [(1, "ann"), (4, "\U0001F600 ok"), (6, "kept")],
       "NDJSON: python's sqlite3 reads the table; only the good records are rows",
       rows)
    dead = read_all(db, "SELECT location, raw, reason FROM sluice_dead_letters "
                    "ORDER BY id")
    want = [("t.csv:3", b"2,caf\xe9", "column name: text is not valid UTF-8"),
            ("t.csv:4", "3,\"n\x00l\"", "column name: text holds a NUL byte"),
            ("t.csv:6", b"5,\xed\xa0\x80", "column name: text is not valid UTF-8"),
            ("t.ndjson:2", b'{"id":2,"name":"caf\xe9"}',
             "column name: text is not valid UTF-8"),
            ("t.ndjson:3", '{"id":3,"name":"a\\u0000b"}',
             "column name: text holds a NUL byte"),
            ("t.ndjson:5", '{"id":5,"name":"lone \\ud800"}',
             "column name: text is not valid UTF-8")]
    ok(isinstance(dead, list) and sorted(dead) == sorted(want),
       "dead letters name the column; python reads them (raw bytes as a BLOB)",
       "got %r\nwant %r" % (dead, want))


def byte_order_mark(sluice, d):
    bom = b"\xef\xbb\xbf"
    write(d, "b.ndjson", bom + b'{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n')
    write(d, "b_nohdr.csv", bom + b"1,a\n2,b\n")
    write(d, "b_hdr.csv", bom + b"id,name\n1,a\n2,b\n")
    db = os.path.join(d, "bom.db")
    sql = ("CREATE SOURCE j (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 'b.ndjson');"
           "CREATE SOURCE c (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 'b_nohdr.csv', header = false);"
           "CREATE SOURCE h (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 'b_hdr.csv');"
           "CREATE STREAMING TABLE js AS SELECT id, name FROM j;"
           "CREATE STREAMING TABLE cs AS SELECT id, name FROM c;"
           "CREATE STREAMING TABLE hs AS SELECT id, name FROM h;")
    rc, out, err = sr.run_sluice(sluice, db, sql, cwd=d)
    ok(rc == 0, "BOM: sluice runs", err)
    for t, what in (("js", "NDJSON"), ("cs", "CSV without a header"),
                    ("hs", "CSV with a header")):
        rows = read_all(db, "SELECT id, name FROM %s ORDER BY id" % t)
        ok(rows == [(1, "a"), (2, "b")],
           "BOM: %s keeps its first record and its first column" % what, rows)
    dead = read_all(db, "SELECT location, reason FROM sluice_dead_letters")
    ok(dead == [], "BOM: no dead letter", dead)


def exact_keys(sluice, d):
    write(d, "k.ndjson", b'{"id":44,"ID":45,"n":1}\n{"ID":45,"id":44,"n":2}\n'
          b'{"Id":46,"n":3}\n')
    db = os.path.join(d, "keys.db")
    sql = ("CREATE SOURCE k (id BIGINT, n BIGINT) WITH (connector = 'file', "
           "path = 'k.ndjson');"
           "CREATE STREAMING TABLE ks AS SELECT n, id FROM k;")
    rc, out, err = sr.run_sluice(sluice, db, sql, cwd=d)
    ok(rc == 0, "keys: sluice runs", err)
    rows = read_all(db, "SELECT n, id FROM ks ORDER BY n")
    ok(rows == [(1, 44), (2, 44), (3, 46)],
       "keys: the exact key wins over a case-insensitive one, in either order",
       rows)


def stray_quote(sluice, d):
    f = os.path.join(d, "q.csv")
    write(d, "q.csv", b"id,name\n1,a\n2,\"stray quote\n")
    db = os.path.join(d, "quote.db")
    sql = ("CREATE SOURCE q (id BIGINT, name TEXT) WITH (connector = 'file', "
           "path = 'q.csv', follow = true, max_record_bytes = '64KiB');"
           "CREATE STREAMING TABLE qs AS SELECT id, name FROM q;")
    env = dict(os.environ, SLUICE_COMMIT_INTERVAL_MS="50")
    proc = subprocess.Popen([sluice, db, "-c", sql], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=d)
    # good lines, 100 KiB of them: more than the bound after the quote
    with open(f, "ab") as out:
        for i in range(3, 9003):
            out.write(b"%d,line %d\n" % (i, i))
    want = set(range(1, 9003)) - {2}
    t0, got = time.time(), set()
    while time.time() - t0 < TIMEOUT and proc.poll() is None:
        rows = read_all(db, "SELECT id FROM qs")
        got = set(r[0] for r in rows) if isinstance(rows, list) else set()
        if want <= got:
            break
        time.sleep(0.05)
    ok(want <= got, "stray quote: the lines after it arrive (%d of %d)"
       % (len(got & want), len(want)), "sluice exit %r" % proc.poll())
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    ok(rc == 0, "stray quote: SIGTERM, exit 0", "exit %r" % rc)
    dead = read_all(db, "SELECT location, raw, reason FROM sluice_dead_letters")
    ok(isinstance(dead, list) and len(dead) == 1 and dead[0][0] == "q.csv:3"
       and dead[0][1] == '2,"stray quote'
       and dead[0][2].startswith("column name: unterminated quoted field "
                                 "(no closing quote within 65536 bytes"),
       "stray quote: one dead letter, the quote's line at file:line", dead)


def main():
    sluice = os.path.abspath(sys.argv[1])
    print("1..14")
    with sr.scratch() as d:
        bad_text(sluice, d)
        byte_order_mark(sluice, d)
        exact_keys(sluice, d)
        stray_quote(sluice, d)
    return 0 if all(tests) else 1


if __name__ == "__main__":
    sys.exit(main())
