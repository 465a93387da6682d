#!/usr/bin/env python3
"""test_owner.py: one owner per database, and databases that cannot be
written, driven through the built `sluice` binary; prints TAP.

Pins issue 13 item 9 (a second sluice process on a live database reads,
fast, and is refused every write with a message naming the owner's pid;
--serve on an owned database exits 1; the owner's queries stay running and
keep their results; a kill -9'd owner's lock does not block the next
process, which becomes the owner and resumes) and item 15 (opening a file
that is not a database keeps SQLite's cause; a database that cannot be
written answers pull queries read-only and says why; --read-only).

Tests run as root in CI, where file modes do not stop root from writing: a
directory root cannot write is made by running sluice as uid 65534, and a
file root cannot write with chattr +i (skipped where chattr is refused).

    test_owner.py SLUICE
"""

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli  # noqa: E402  (ok, show, Dir, UNBOUNDED_JOB: one copy)
from test_cli import ok, show, Dir, UNBOUNDED_JOB  # noqa: E402

NOBODY = 65534


def run(args, cwd, timeout=20, as_nobody=False):
    """Runs sluice; (exit, stdout, stderr, seconds), exit None on timeout."""
    pre = None
    if as_nobody:
        def pre():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
    t0 = time.monotonic()
    try:
        p = subprocess.run([test_cli.SLUICE] + args, cwd=cwd,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, preexec_fn=pre)
    except subprocess.TimeoutExpired as e:
        return (None, (e.stdout or b"").decode(), (e.stderr or b"").decode(),
                time.monotonic() - t0)
    return (p.returncode, p.stdout.decode(), p.stderr.decode(),
            time.monotonic() - t0)


def query(db, sql):
    """Rows of sql read by Python's sqlite3 (read-only), [] if not there."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def wait_for(fn, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def start(args, cwd):
    return subprocess.Popen([test_cli.SLUICE] + args, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def stop(p, sig=signal.SIGINT):
    """Signals p and returns its exit status (None if it had to be killed)."""
    if p.poll() is None:
        p.send_signal(sig)
    try:
        code = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        code = None
    p.stdout.close()
    p.stderr.close()
    return code


def setup_job(d, rows):
    os.mkdir(os.path.join(d, "data"))
    with open(os.path.join(d, "data", "orders1.csv"), "w") as f:
        f.write("order_id,store_id,amount,event_time\n")
        for i, store in enumerate(rows):
            f.write("%d,%s,1.5,2026-03-17 23:58:%02d\n" % (i + 1, store, i))
    with open(os.path.join(d, "job.sql"), "w") as f:
        f.write(UNBOUNDED_JOB)


def append_row(d, order_id, store):
    with open(os.path.join(d, "data", "orders1.csv"), "a") as f:
        f.write("%d,%s,2.5,2026-03-17 23:59:00\n" % (order_id, store))


def counts(d):
    return dict(query(os.path.join(d, "t.db"),
                      "SELECT store_id, n FROM per_store"))


def status(d):
    rows = query(os.path.join(d, "t.db"),
                 "SELECT status FROM sluice_catalog WHERE name = 'per_store'")
    return rows[0][0] if rows else None


def test_second_process_reads_and_is_refused_writes():
    with Dir() as d:
        setup_job(d, ["s1", "s2", "s1"])
        owner = start(["t.db", "-f", "job.sql"], d)
        ready = wait_for(lambda: counts(d) == {"s1": 2, "s2": 1})
        ok(ready, "owner_runs_its_query", "counts: %r" % counts(d))
        owned = "is owned by sluice process %d (started " % owner.pid

        code, out, err, secs = run(["t.db", "-c",
                                    "SELECT store_id, n FROM per_store "
                                    "ORDER BY store_id"], d)
        ok(code == 0 and out == "store_id,n\ns1,2\ns2,1\n",
           "second_process_answers_a_pull_query", show(code, out, err))
        ok(secs < 5, "second_process_answers_fast",
           "took %.1f s\n%s" % (secs, show(code, out, err)))
        ok(owned in err and "read-only" in err,
           "second_process_says_it_is_read_only_and_names_the_owner", err)

        code, out, err, _ = run(["t.db", "-c", "SHOW VIEWS; DESCRIBE per_store; "
                                 "EXPLAIN SELECT n FROM per_store"], d)
        ok(code == 0 and "per_store,materialized view,running" in out and
           "store_id,TEXT,primary key" in out and "per_store" in out,
           "second_process_runs_show_describe_explain", show(code, out, err))

        refused = [
            ("create", "CREATE TABLE x (a BIGINT)", "CREATE"),
            ("create_view", "CREATE MATERIALIZED VIEW v2 AS SELECT COUNT(*) "
             "AS n FROM orders", "CREATE"),
            ("drop", "DROP MATERIALIZED VIEW per_store", "DROP"),
            ("insert", "INSERT INTO per_store VALUES ('s9', 9)", "INSERT"),
            ("update_for_sqlite", "UPDATE per_store SET n = 0", "UPDATE"),
            ("delete_for_sqlite", "DELETE FROM per_store", "DELETE"),
            ("copy", "COPY per_store FROM 'data/orders1.csv' WITH (format = "
             "'csv', header = true)", "COPY"),
            ("push_query", "SELECT * FROM orders",
             "a push query over a source"),
        ]
        for name, sql, what in refused:
            code, out, err, secs = run(["t.db", "-c", sql], d)
            ok(code == 1 and owned in err and
               ("so %s is refused" % what) in err and secs < 5,
               "second_process_refuses_%s_naming_the_owner" % name,
               show(code, out, err))

        code, out, err, secs = run(["t.db", "--serve"], d)
        ok(code == 1 and err.startswith("error: database t.db " + owned) and
           "--serve" in err and secs < 5,
           "serve_on_an_owned_database_exits_1_naming_the_owner",
           show(code, out, err))

        # the owner's query was neither failed nor written by the others
        append_row(d, 10, "s2")
        moved = wait_for(lambda: counts(d) == {"s1": 2, "s2": 2})
        ok(moved and status(d) == "running" and owner.poll() is None,
           "owner_keeps_running_its_query_and_its_results",
           "counts %r status %r exit %r" % (counts(d), status(d), owner.poll()))
        ok(not query(os.path.join(d, "t.db"),
                     "SELECT 1 FROM sqlite_schema WHERE name IN ('x', 'v2')"),
           "refused_statements_changed_nothing")

        code = stop(owner)
        ok(code == 0, "owner_stops_on_sigint", "exit %r" % code)
        free, text = False, None
        try:
            with open(os.path.join(d, "t.db-owner"), "r+") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    free = True
                except OSError:
                    pass
                text = f.read()
        except OSError as e:
            text = str(e)
        ok(free and text == "", "stopped_owner_leaves_its_lock_free_and_empty",
           "free %r text %r" % (free, text))


def test_killed_owner_does_not_block_the_next():
    with Dir() as d:
        setup_job(d, ["s1", "s2"])
        owner = start(["t.db", "-f", "job.sql"], d)
        ok(wait_for(lambda: counts(d) == {"s1": 1, "s2": 1}),
           "first_owner_runs", "counts: %r" % counts(d))
        owner.kill()
        owner.wait()
        owner.stdout.close()
        owner.stderr.close()

        serve = start(["t.db", "--serve"], d)
        time.sleep(1.0)
        ok(serve.poll() is None, "serve_after_kill_9_becomes_the_owner",
           "exit %r: %s" % (serve.poll(), serve.stderr.read().decode()
                            if serve.poll() is not None else ""))
        try:
            with open(os.path.join(d, "t.db-owner")) as f:
                text = f.read()
        except OSError as e:
            text = str(e)
        ok(text.startswith("pid %d\n" % serve.pid),
           "lock_file_names_the_new_owner", text)
        code, out, err, _ = run(["t.db", "-c", "CREATE TABLE x (a BIGINT)"], d)
        ok(code == 1 and ("owned by sluice process %d " % serve.pid) in err,
           "third_process_is_refused_naming_the_new_owner", show(code, out, err))
        append_row(d, 10, "s1")
        ok(wait_for(lambda: counts(d) == {"s1": 2, "s2": 1}) and
           status(d) == "running",
           "new_owner_resumes_the_query",
           "counts %r status %r" % (counts(d), status(d)))
        code = stop(serve, signal.SIGTERM)
        ok(code == 0, "new_owner_stops_on_sigterm", "exit %r" % code)


def test_not_a_database():
    with Dir() as d:
        with open(os.path.join(d, "bad.db"), "w") as f:
            f.write("this is not a database\n" * 100)
        code, out, err, _ = run(["bad.db", "-c", "SELECT 1"], d)
        ok(code == 1 and
           err == "error: cannot initialise database bad.db: file is not a "
                  "database\n",
           "not_a_database_keeps_sqlites_cause", show(code, out, err))


def make_table_db(d):
    code, out, err, _ = run(["t.db", "-c", "CREATE TABLE t (a BIGINT); "
                             "INSERT INTO t VALUES (1), (2)"], d)
    ok(code == 0, "table_database_created", show(code, out, err))


def check_read_only(d, label, why, as_nobody=False):
    """SELECT works and says why it is read-only; INSERT is refused."""
    code, out, err, secs = run(["t.db", "-c", "SELECT a FROM t ORDER BY a"], d,
                               as_nobody=as_nobody)
    ok(code == 0 and out == "a\n1\n2\n" and why in err and "read-only" in err,
       "%s_answers_a_pull_query" % label, show(code, out, err))
    code, out, err, _ = run(["t.db", "-c", "INSERT INTO t VALUES (3)"], d,
                            as_nobody=as_nobody)
    ok(code == 1 and why in err and "so INSERT is refused" in err,
       "%s_refuses_a_write_saying_why" % label, show(code, out, err))


def test_read_only_directory():
    """A directory this process cannot write: no lock file, no -wal/-shm."""
    with Dir() as d:
        make_table_db(d)
        root = os.geteuid() == 0
        if root:
            os.chmod(d, 0o755)
            # sluice makes its databases 0600; another user reads this one
            # because its owner shared it
            os.chmod(os.path.join(d, "t.db"), 0o644)
        else:
            os.chmod(os.path.join(d, "t.db"), 0o444)
            os.chmod(d, 0o555)
        try:
            check_read_only(d, "unwritable_directory",
                            "database t.db cannot be written: cannot open its "
                            "lock file t.db-owner: Permission denied",
                            as_nobody=root)
        finally:
            os.chmod(d, 0o755)
        ok(not os.path.exists(os.path.join(d, "t.db-wal")),
           "unwritable_directory_left_no_wal")


def test_read_only_file():
    """A database file this process cannot write (0444; root: chattr +i)."""
    with Dir() as d:
        make_table_db(d)
        path = os.path.join(d, "t.db")
        root = os.geteuid() == 0
        if root:
            made = subprocess.run(["chattr", "+i", path],
                                  capture_output=True).returncode == 0
        else:
            os.chmod(path, 0o444)
            made = True
        if not made:
            ok(True, "read_only_file_answers_a_pull_query # SKIP chattr +i "
               "refused here, and root writes a 0444 file")
            ok(True, "read_only_file_refuses_a_write_saying_why # SKIP")
            return
        try:
            check_read_only(d, "read_only_file", "database t.db cannot be "
                            "written: the file is read-only")
        finally:
            if root:
                subprocess.run(["chattr", "-i", path], capture_output=True)
            os.chmod(path, 0o644)


def test_read_only_option():
    with Dir() as d:
        make_table_db(d)
        code, out, err, _ = run(["t.db", "--read-only", "-c",
                                 "SELECT COUNT(*) AS n FROM t"], d)
        ok(code == 0 and out == "n\n2\n" and err == "",
           "read_only_option_answers_quietly", show(code, out, err))
        code, out, err, _ = run(["t.db", "--read-only", "-c", "DELETE FROM t"], d)
        ok(code == 1 and "opened read-only on request" in err and
           "so DELETE is refused" in err and
           query(os.path.join(d, "t.db"), "SELECT COUNT(*) FROM t") == [(2,)],
           "read_only_option_refuses_writes", show(code, out, err))
        code, out, err, _ = run(["t.db", "--read-only", "--serve"], d)
        ok(code == 2 and "not with --read-only" in err,
           "read_only_serve_is_bad_usage",
           show(code, out, err))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_owner.py SLUICE\n")
        return 2
    test_cli.SLUICE = os.path.abspath(sys.argv[1])
    test_second_process_reads_and_is_refused_writes()
    test_killed_owner_does_not_block_the_next()
    test_not_a_database()
    test_read_only_directory()
    test_read_only_file()
    test_read_only_option()
    print("1..%d" % test_cli.N)
    return 1 if test_cli.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
