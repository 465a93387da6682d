#!/usr/bin/env python3
"""test_repl.py: drives the sluice REPL through a pseudo-terminal; prints TAP.

Types into `sluice test.db` on a pty as a user would and checks what the
terminal shows: a statement typed across two lines (continuation prompt),
an error followed by a working statement (the REPL goes on), table mode as
the default on a terminal, \\mode, \\help, tab completion of a keyword (in
the case typed) and of a table name, Ctrl-C clearing the input, the history
file ($SLUICE_HISTORY) written per statement and loaded by the next session,
and leaving with \\q, .quit and Ctrl-D. HOME and SLUICE_HISTORY point into a
temporary directory.

    test_repl.py SLUICE
"""

import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

SLUICE = None
N = 0
FAILED = 0
TIMEOUT_S = 20
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x07")


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


class Term:
    """A sluice process on a pty, with expect-style reading."""

    def __init__(self, cwd, env):
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(cwd)
            os.execve(SLUICE, [SLUICE, "test.db"], env)
        self.pid, self.fd = pid, fd
        self.pending = b""       # output not yet consumed by expect
        self.status = None

    def send(self, text):
        os.write(self.fd, text.encode())

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:          # EIO: the child closed the terminal
            return None
        if not data:
            return None
        self.pending += data
        return True

    def screen(self):
        return ANSI.sub(b"", self.pending).replace(b"\r", b"").decode("utf-8", "replace")

    def expect(self, pattern):
        """Waits until pattern (a regex over output with escapes and CRs
        removed) appears; consumes output up to the match. Returns the text
        before and including the match, or None on timeout/EOF."""
        rx = re.compile(pattern)
        deadline = time.time() + TIMEOUT_S
        while True:
            text = self.screen()
            m = rx.search(text)
            if m:
                # Consume the raw bytes: find how much raw output maps to the
                # cleaned text up to the match end.
                self._consume(m.end())
                return text[:m.end()]
            left = deadline - time.time()
            if left <= 0:
                return None
            got = self._read(left)
            if got is None:
                text = self.screen()
                m = rx.search(text)
                if m:
                    self._consume(m.end())
                    return text[:m.end()]
                return None

    def _consume(self, clean_chars):
        # Drop raw bytes until the cleaned prefix has clean_chars characters.
        lo, hi = 0, len(self.pending)
        while lo < hi:
            mid = (lo + hi) // 2
            n = len(ANSI.sub(b"", self.pending[:mid]).replace(b"\r", b"")
                    .decode("utf-8", "replace"))
            if n < clean_chars:
                lo = mid + 1
            else:
                hi = mid
        self.pending = self.pending[lo:]

    def wait_exit(self):
        deadline = time.time() + TIMEOUT_S
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
                return os.waitstatus_to_exitcode(status)
            self._read(0.1)
        return None

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


PROMPT = r"sluice> $"
MORE = r"   \.\.\.> $"


def unvis(line):
    """Decodes a libedit history line (strvis VIS_WHITE: octal escapes)."""
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 3 < len(line) + 0 and re.match(r"[0-7]{3}", line[i + 1:i + 4]):
            out.append(chr(int(line[i + 1:i + 4], 8)))
            i += 4
        elif c == "\\" and line[i + 1:i + 2] == "\\":
            out.append("\\")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def history_entries(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    return [unvis(x) for x in lines[1:] if x], lines[:1]


def session_one(d, env, hist):
    t = Term(d, env)
    try:
        ok(t.expect(PROMPT) is not None, "repl_shows_prompt", t.screen())

        t.send("CREATE TABLE items (id BIGINT, label TEXT);\r")
        ok(t.expect(PROMPT) is not None, "create_table_returns_to_prompt", t.screen())

        # One statement over two lines: the continuation prompt, then the result.
        t.send("INSERT INTO items VALUES (1, 'one'),\r")
        ok(t.expect(MORE) is not None, "unfinished_statement_shows_continuation_prompt",
           t.screen())
        t.send("(22, 'twenty-two');\r")
        ok(t.expect(PROMPT) is not None, "finished_statement_returns_to_prompt", t.screen())
        t.send("SELECT id, label\r")
        ok(t.expect(MORE) is not None, "select_continues_on_next_line", t.screen())
        t.send("FROM items ORDER BY id;\r")
        out = t.expect(PROMPT)
        ok(out is not None and
           "+----+------------+\n"
           "| id |   label    |\n"
           "+----+------------+\n"
           "|  1 | one        |\n"
           "| 22 | twenty-two |\n"
           "+----+------------+\n" in out,
           "multi_line_select_prints_a_table_on_a_terminal", out or t.screen())

        # An error, then the REPL goes on.
        t.send("SELECT nope FROM items;\r")
        out = t.expect(PROMPT)
        ok(out is not None and "error: " in out and "nope" in out and "^" in out,
           "error_is_rendered_with_caret", out or t.screen())
        t.send("SELECT 41 + 1 AS answer;\r")
        out = t.expect(PROMPT)
        ok(out is not None and re.search(r"\|\s+42 \|", out) is not None,
           "statement_after_error_runs", out or t.screen())

        # \mode shows and sets the output format.
        t.send("\\mode\r")
        out = t.expect(PROMPT)
        ok(out is not None and "mode: table" in out, "mode_shows_current_mode",
           out or t.screen())
        t.send("\\mode csv\r")
        ok(t.expect(PROMPT) is not None, "mode_csv_accepted", t.screen())
        t.send("SELECT label FROM items WHERE id = 22;\r")
        out = t.expect(PROMPT)
        ok(out is not None and "label\ntwenty-two\n" in out, "mode_csv_changes_output",
           out or t.screen())
        t.send("\\mode xml\r")
        out = t.expect(PROMPT)
        ok(out is not None and "unknown mode 'xml'" in out, "mode_rejects_unknown_mode",
           out or t.screen())

        # Tab completion: a keyword in the case typed, then a table name.
        t.send("sel\t")
        out = t.expect(r"select $")
        ok(out is not None, "tab_completes_lowercase_keyword", t.screen())
        t.send("COUNT(*) AS n FR\t")
        out = t.expect(r"FROM $")
        ok(out is not None, "tab_completes_uppercase_keyword", t.screen())
        t.send("ite\t")
        out = t.expect(r"items $")
        ok(out is not None, "tab_completes_table_name", t.screen())
        t.send(";\r")
        out = t.expect(PROMPT)
        ok(out is not None and "n\n2\n" in out, "completed_statement_runs",
           out or t.screen())

        # Ctrl-C at the prompt discards the line; in a continuation, the
        # whole unfinished statement.
        t.send("SELECT garbage here\x03")
        ok(t.expect(PROMPT) is not None, "ctrl_c_gives_a_fresh_prompt", t.screen())
        t.send("SELECT 1 AS one\r")
        ok(t.expect(MORE) is not None, "continuation_before_ctrl_c", t.screen())
        t.send("\x03")
        ok(t.expect(PROMPT) is not None, "ctrl_c_in_continuation_gives_main_prompt",
           t.screen())
        t.send("SELECT 3 AS three;\r")
        out = t.expect(PROMPT)
        ok(out is not None and "three\n3\n" in out and "error" not in out,
           "ctrl_c_discarded_the_input", out or t.screen())

        # \help lists statements and meta-commands.
        t.send("\\help\r")
        out = t.expect(PROMPT)
        ok(out is not None and "CREATE MATERIALIZED VIEW" in out and "\\mode" in out
           and "\\q" in out, "help_lists_statements_and_meta_commands",
           out or t.screen())
        t.send("\\frobnicate\r")
        out = t.expect(PROMPT)
        ok(out is not None and "unknown command \\frobnicate" in out,
           "unknown_meta_command_is_reported", out or t.screen())

        # The history file holds each statement as typed, multi-line ones whole.
        entries, head = history_entries(hist) or (None, None)
        ok(entries is not None and "SELECT id, label\nFROM items ORDER BY id;" in entries
           and "select COUNT(*) AS n FROM items ;" in entries
           and "SELECT 3 AS three;" in entries,
           "history_file_written_per_statement", repr(entries))

        t.send("\x04")           # Ctrl-D on an empty line
        code = t.wait_exit()
        ok(code == 0, "ctrl_d_exits_0", "exit: %r\n%s" % (code, t.screen()))
    finally:
        t.close()


def session_two(d, env, hist):
    t = Term(d, env)
    try:
        ok(t.expect(PROMPT) is not None, "second_session_prompt", t.screen())
        # The last entry of the previous session comes back with Ctrl-P.
        t.send("\x10")
        out = t.expect(r"\\frobnicate$")
        ok(out is not None, "history_loaded_at_start", t.screen())
        t.send("\x10\x10")
        out = t.expect(r"SELECT 3 AS three;$")
        ok(out is not None, "history_walks_back_to_older_entries", t.screen())
        t.send("\r")
        out = t.expect(PROMPT)
        ok(out is not None and "| three |\n+-------+\n|     3 |" in out,
           "history_entry_can_be_rerun",
           out or t.screen())
        # Rows written by the first session are in the database.
        t.send("SELECT COUNT(*) AS c FROM items;\r")
        out = t.expect(PROMPT)
        ok(out is not None and re.search(r"\|\s+2 \|", out) is not None,
           "data_persists_across_sessions", out or t.screen())
        t.send("\\q\r")
        code = t.wait_exit()
        ok(code == 0, "backslash_q_exits_0", "exit: %r\n%s" % (code, t.screen()))
    finally:
        t.close()

    t = Term(d, env)
    try:
        t.expect(PROMPT)
        t.send(".quit\r")
        code = t.wait_exit()
        ok(code == 0, "dot_quit_exits_0", "exit: %r\n%s" % (code, t.screen()))
    finally:
        t.close()

    entries, head = history_entries(hist) or (None, None)
    ok(head == ["_HiStOrY_V2_"] and entries is not None and entries[-1] == ".quit"
       and entries.count("CREATE TABLE items (id BIGINT, label TEXT);") == 1,
       "history_appended_across_sessions", repr(entries))


def session_secrets(d, env, hist):
    """A statement holding a secret: the history file keeps it redacted and
    is the owner's alone (0600), as are the database and DB.secrets; the
    catalog holds a reference instead of the secret."""
    t = Term(d, env)
    try:
        t.expect(PROMPT)
        t.send("CREATE SOURCE k (a BIGINT) WITH (connector = 'kafka', "
               "brokers = '127.0.0.1:1', topic = 't', format = 'json',\r")
        t.expect(MORE)
        t.send("'kafka.sasl.username' = 'me', 'kafka.sasl.password' = "
               "'hunter2', group_id = 'g');\r")
        out = t.expect(PROMPT)
        ok(out is not None and "error" not in out,
           "source_with_a_secret_created", out or t.screen())
        t.send("SELECT count(*) AS n FROM sluice_catalog WHERE "
               "instr(sql, 'hunter' || '2') > 0;\r")
        out = t.expect(PROMPT)
        ok(out is not None and re.search(r"\|\s+0 \|", out) is not None,
           "catalog_row_has_no_secret", out or t.screen())
        t.send("\\q\r")
        t.wait_exit()
    finally:
        t.close()
    with open(hist, encoding="utf-8", errors="replace") as f:
        text = f.read()
    entries, head = history_entries(hist) or (None, None)
    last = entries[-3] if entries and len(entries) > 2 else None
    ok("hunter2" not in text and last is not None and
       "'kafka.sasl.password' = '***'" in last and
       "'kafka.sasl.username' = 'me'" in last and "group_id = 'g'" in last,
       "history_keeps_the_statement_without_its_secret", repr(last))
    modes = {name: os.stat(os.path.join(d, name)).st_mode & 0o777
             for name in ("history", "test.db", "test.db.secrets")
             if os.path.exists(os.path.join(d, name))}
    ok(modes == {"history": 0o600, "test.db": 0o600, "test.db.secrets": 0o600},
       "history_database_and_secrets_are_the_owners_alone_0600",
       repr({k: oct(v) for k, v in modes.items()}))
    secrets = os.path.join(d, "test.db.secrets")
    kept = open(secrets).read() if os.path.exists(secrets) else ""
    ok("k.kafka.sasl.password\thunter2\n" in kept,
       "secret_kept_in_db_secrets", kept)


def main():
    global SLUICE
    if len(sys.argv) != 2:
        sys.stderr.write("usage: test_repl.py SLUICE\n")
        return 2
    SLUICE = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="sluice-repl-")
    try:
        hist = os.path.join(d, "history")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": d, "SLUICE_HISTORY": hist, "TERM": "dumb",
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        session_one(d, env, hist)
        session_two(d, env, hist)
        session_secrets(d, env, hist)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
