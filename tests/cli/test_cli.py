#!/usr/bin/env python3
"""test_cli.py: drives the built `sluice` binary (no terminal) and prints TAP.

Pins the command line of DESIGN §4 / docs/cli.md: --help, --version, exit
codes (0 ok, 1 SQL error with the message on stderr, 2 bad usage with a
usage line), -f/-c in order, -f stopping at the first error and naming the
statement and its file position, statements from a non-terminal stdin,
every --mode, the default database ./sluice.db, and --serve on a database
with nothing to run. Each test runs in its own temporary directory.

    test_cli.py SLUICE
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

SLUICE = None
N = 0
FAILED = 0


def ok(cond, name, detail=""):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print("%sok %d - %s" % ("" if cond else "not ", N, name))
    if not cond and detail:
        for line in detail.rstrip("\n").split("\n"):
            print("#   " + line)
    sys.stdout.flush()
    return cond


def run(args, cwd, stdin_text=None, timeout=60):
    p = subprocess.run([SLUICE] + args, cwd=cwd,
                       input=(stdin_text or "").encode(),
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def show(code, out, err):
    return "exit: %s\nstdout:\n%s\nstderr:\n%s" % (code, out, err)


def is_text(got, want, name):
    return ok(got == want, name, "want:\n%s\ngot:\n%s" % (want, got))


class Dir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="sluice-cli-")
        return self.path

    def __exit__(self, *a):
        shutil.rmtree(self.path, ignore_errors=True)


def test_help_and_version():
    with Dir() as d:
        code, out, err = run(["--help"], d)
        ok(code == 0 and out.startswith("usage: sluice") and "--mode" in out
           and "-f FILE" in out and err == "", "help_prints_usage_to_stdout_exit_0",
           show(code, out, err))
        code, out, err = run(["-h"], d)
        ok(code == 0 and out.startswith("usage: sluice"), "short_h_is_help",
           show(code, out, err))
        code, out, err = run(["--version"], d)
        ok(code == 0 and re.fullmatch(r"sluice \d+\.\d+\.\d+\S*\n", out) is not None,
           "version_prints_sluice_and_version", show(code, out, err))
        ok(not os.path.exists(os.path.join(d, "sluice.db")),
           "help_and_version_create_no_database")


def test_usage_errors():
    cases = [
        (["--bogus"], "unknown option --bogus", "unknown_option_exits_2"),
        (["-x"], "unknown option -x", "unknown_short_option_exits_2"),
        (["t.db", "-c"], "option -c needs an argument", "missing_c_argument_exits_2"),
        (["t.db", "-f"], "option -f needs an argument", "missing_f_argument_exits_2"),
        (["t.db", "--mode"], "option --mode needs an argument",
         "missing_mode_argument_exits_2"),
        (["t.db", "--mode", "xml"], "unknown mode 'xml'", "bad_mode_exits_2"),
        (["t.db", "--mode=yaml"], "unknown mode 'yaml'", "bad_mode_equals_exits_2"),
        (["a.db", "b.db"], "unexpected argument b.db", "two_databases_exit_2"),
        (["t.db", "--serve", "-c", "SELECT 1;"], "--serve takes no -f or -c",
         "serve_with_statements_exits_2"),
    ]
    with Dir() as d:
        for args, msg, name in cases:
            code, out, err = run(args, d)
            ok(code == 2 and msg in err and "usage: sluice" in err and out == "",
               name, show(code, out, err))
        ok(not os.path.exists(os.path.join(d, "t.db")),
           "usage_error_creates_no_database")


def test_c_runs_statements():
    with Dir() as d:
        code, out, err = run(["t.db", "-c",
                              "CREATE TABLE t (a BIGINT, b TEXT);"
                              "INSERT INTO t VALUES (1, 'x'), (2, NULL);"
                              "SELECT a, b FROM t ORDER BY a;"], d)
        ok(code == 0, "c_success_exits_0", show(code, out, err))
        is_text(out, "a,b\n1,x\n2,\n", "c_output_is_csv_when_not_a_terminal")
        ok(err == "", "c_success_prints_nothing_on_stderr", err)

        # Several -c and -f run in command-line order.
        with open(os.path.join(d, "mid.sql"), "w") as f:
            f.write("INSERT INTO t VALUES (3, 'from file');\nSELECT COUNT(*) AS n FROM t;\n")
        code, out, err = run(["t.db", "-c", "SELECT MAX(a) AS m FROM t;",
                              "-f", "mid.sql", "-c", "SELECT MAX(a) AS m FROM t;"], d)
        is_text(out, "m\n2\nn\n3\nm\n3\n", "c_and_f_run_in_order")
        ok(code == 0, "c_and_f_exit_0", show(code, out, err))


def test_sql_error_exit_1():
    with Dir() as d:
        run(["t.db", "-c", "CREATE TABLE t (a BIGINT);"], d)
        code, out, err = run(["t.db", "-c", "SELECT nope FROM t;"], d)
        ok(code == 1, "sql_error_exits_1", show(code, out, err))
        ok(err.startswith("error: ") and "nope" in err, "sql_error_message_on_stderr",
           err)
        ok("statement 1, line 1, column 8\nSELECT nope FROM t;\n       ^\n" in err,
           "sql_error_names_position_with_caret", err)
        ok(out == "", "sql_error_prints_nothing_on_stdout", out)

        # A failing -c stops later -c arguments.
        code, out, err = run(["t.db", "-c", "SELECT nope FROM t;",
                              "-c", "INSERT INTO t VALUES (99);"], d)
        code2, out2, _ = run(["t.db", "-c", "SELECT COUNT(*) AS n FROM t;"], d)
        ok(code == 1 and out2 == "n\n0\n", "failing_c_stops_later_arguments",
           show(code, out, err) + "\nafter:\n" + out2)


def test_f_stops_at_first_error():
    with Dir() as d:
        job = ("CREATE TABLE t (a BIGINT);\n"
               "INSERT INTO t VALUES (1);\n"
               "\n"
               "SELECT a,\n"
               "       nope\n"
               "FROM t;\n"
               "INSERT INTO t VALUES (2);\n")
        with open(os.path.join(d, "job.sql"), "w") as f:
            f.write(job)
        code, out, err = run(["t.db", "-f", "job.sql", "-c", "INSERT INTO t VALUES (3);"], d)
        ok(code == 1, "f_error_exits_1", show(code, out, err))
        ok("job.sql: statement 3, line 5, column 8\n       nope\n       ^\n" in err,
           "f_error_names_file_statement_line_and_column", err)
        ok(err.startswith("error: ") and "nope" in err.split("\n")[0],
           "f_error_message_first", err)
        code, out, err = run(["t.db", "-c", "SELECT a FROM t ORDER BY a;"], d)
        is_text(out, "a\n1\n", "f_stops_at_first_error_and_keeps_earlier_work")

        code, out, err = run(["t.db", "-f", "missing.sql"], d)
        ok(code == 1 and "missing.sql" in err and "cannot open" in err,
           "f_missing_file_exits_1", show(code, out, err))


def test_stdin():
    with Dir() as d:
        code, out, err = run(["t.db"], d,
                             "CREATE TABLE t (a BIGINT);\n"
                             "INSERT INTO t VALUES (5), (6);\n"
                             "SELECT SUM(a) AS s\nFROM t;\n")
        ok(code == 0, "stdin_statements_exit_0", show(code, out, err))
        is_text(out, "s\n11\n", "stdin_statements_run_when_not_a_terminal")

        code, out, err = run(["t.db"], d, "SELECT 1;\nSELECT nope FROM t;\nSELECT 2;\n")
        ok(code == 1 and "stdin: statement 2, line 2, column 8" in err,
           "stdin_error_exits_1_with_position", show(code, out, err))
        ok(out.startswith("1\n1\n") and "2\n2\n" not in out,
           "stdin_stops_at_first_error", out)

        code, out, err = run(["t.db"], d, "")
        ok(code == 0 and out == "" and err == "", "empty_stdin_exits_0",
           show(code, out, err))


def test_modes():
    setup = ("CREATE TABLE t (id BIGINT, name TEXT);"
             "INSERT INTO t VALUES (1, 'ann'), (10, NULL);")
    q = "SELECT id, name FROM t ORDER BY id;"
    with Dir() as d:
        run(["t.db", "-c", setup], d)
        code, out, err = run(["t.db", "--mode", "table", "-c", q], d)
        is_text(out,
                "+----+------+\n"
                "| id | name |\n"
                "+----+------+\n"
                "|  1 | ann  |\n"
                "| 10 | NULL |\n"
                "+----+------+\n", "mode_table")
        code, out, err = run(["t.db", "--mode", "csv", "-c", q], d)
        is_text(out, "id,name\n1,ann\n10,\n", "mode_csv")
        code, out, err = run(["t.db", "--mode=json", "-c", q], d)
        is_text(out, '[{"id":1,"name":"ann"},\n{"id":10,"name":null}]\n',
                "mode_json_with_equals")
        code, out, err = run(["t.db", "--mode", "json", "-c",
                              "SELECT id FROM t WHERE id > 100;"], d)
        is_text(out, "[]\n", "mode_json_empty_result")
        code, out, err = run(["t.db", "--mode", "line", "-c", q], d)
        is_text(out, "  id = 1\nname = ann\n\n  id = 10\nname = NULL\n", "mode_line")
        # The mode may come after the statements on the command line.
        code, out, err = run(["t.db", "-c", q, "--mode", "json"], d)
        ok(out.startswith("[{"), "mode_applies_wherever_it_is_given", out)


def test_default_database_and_serve():
    with Dir() as d:
        code, out, err = run(["-c", "CREATE TABLE t (a BIGINT);"], d)
        ok(code == 0 and os.path.exists(os.path.join(d, "sluice.db")),
           "default_database_is_sluice_db_in_cwd", show(code, out, err))
        code, out, err = run(["--serve"], d, timeout=30)
        ok(code == 0, "serve_with_nothing_to_run_exits_0", show(code, out, err))
        code, out, err = run(["sluice.db", "--serve"], d, timeout=30)
        ok(code == 0 and out == "", "serve_on_named_database_exits_0",
           show(code, out, err))


UNBOUNDED_JOB = """\
CREATE SOURCE orders (order_id BIGINT, store_id TEXT, amount DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '10' SECOND)
WITH (connector = 'file', path = 'data/orders*.csv', format = 'csv',
      header = true, follow = true);
CREATE MATERIALIZED VIEW per_store AS
SELECT store_id, COUNT(*) AS n FROM orders GROUP BY store_id;
"""


def test_examples_run():
    """The file-based examples of examples/ run from the project root (as
    the README says) and print their result; deliveries.sql's window join
    pairs orders with their deliveries."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    for name, want in (("quickstart.sql", "store-"),
                       ("ops_dashboard.sql", None),
                       ("deliveries.sql",
                        "store-01,2026-03-17 08:00:00.000,836,373,25.4"),
                       ("medallion.sql",
                        "2026-03-17 08:00:00.000,store-01,835,25720.23")):
        with Dir() as d:
            code, out, err = run([os.path.join(d, "x.db"), "-f",
                                  os.path.join("examples", name)], root)
            ok(code == 0 and (want is None or want in out),
               "example_%s_runs" % name.replace(".sql", ""),
               show(code, out, err))


def wait_or_none(p, seconds):
    try:
        return p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def test_unbounded_runs_until_signal():
    """-f with an unbounded (follow = true) query keeps running; SIGINT makes
    it commit and exit 0; --serve resumes it and stops on SIGTERM."""
    import signal
    with Dir() as d:
        os.mkdir(os.path.join(d, "data"))
        with open(os.path.join(d, "data", "orders1.csv"), "w") as f:
            f.write("order_id,store_id,amount,event_time\n"
                    "1,s1,10.5,2026-03-17 23:58:00\n")
        with open(os.path.join(d, "job.sql"), "w") as f:
            f.write(UNBOUNDED_JOB)
        p = subprocess.Popen([SLUICE, "t.db", "-f", "job.sql"], cwd=d,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        early = wait_or_none(p, 1.5)
        ok(early is None, "f_keeps_running_while_an_unbounded_query_runs",
           "exited early with %r: %s" % (early, p.stderr.read().decode() if early is not None else ""))
        if early is None:
            p.send_signal(signal.SIGINT)
            code = wait_or_none(p, 30)
            err = p.stderr.read().decode()
            ok(code == 0, "sigint_commits_and_exits_0", "exit: %r\n%s" % (code, err))
        else:
            ok(False, "sigint_commits_and_exits_0", "no process to signal")
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()

        p = subprocess.Popen([SLUICE, "t.db", "--serve"], cwd=d,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        early = wait_or_none(p, 1.5)
        ok(early is None, "serve_runs_while_a_query_is_unbounded",
           "exited early with %r" % (early,))
        if early is None:
            p.send_signal(signal.SIGTERM)
            code = wait_or_none(p, 30)
            ok(code == 0, "sigterm_stops_serve_with_exit_0",
               "exit: %r\n%s" % (code, p.stderr.read().decode()))
        else:
            ok(False, "sigterm_stops_serve_with_exit_0", "no process to signal")
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_push_query_big_cell():
    """A push query's row with more than 1 MiB of text (issue 13, item 11:
    the cells were formatted into a fixed 1 MiB buffer)."""
    with Dir() as d:
        big = "x" * (3 << 20)
        with open(os.path.join(d, "big.ndjson"), "w") as f:
            f.write('{"id": 1, "t": "%s"}\n{"id": 2, "t": "y"}\n' % big)
        code, out, err = run(["t.db", "-c",
                              "CREATE SOURCE b (id BIGINT, t TEXT) WITH "
                              "(connector = 'file', path = 'big.ndjson', "
                              "format = 'ndjson'); SELECT id, t FROM b;"], d)
        ok(code == 0 and out == "id,t\n1,%s\n2,y\n" % big,
           "push_query_prints_a_row_bigger_than_1_mib",
           "exit %s, %d bytes out\n%s" % (code, len(out), err))


def main():
    global SLUICE
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_cli.py SLUICE\n")
        return 2
    SLUICE = os.path.abspath(sys.argv[1])
    test_help_and_version()
    test_usage_errors()
    test_c_runs_statements()
    test_sql_error_exit_1()
    test_f_stops_at_first_error()
    test_stdin()
    test_modes()
    test_default_database_and_serve()
    test_examples_run()
    test_unbounded_runs_until_signal()
    test_push_query_big_cell()
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
