#!/usr/bin/env python3
"""run.py: the scenario-test runner (the format is in tests/scenarios/README.md).

Runs one `.test` file against a built sluice binary and prints TAP, one test
point per block:

    run.py SLUICE FILE.test              run and compare
    run.py --update SLUICE FILE.test     rewrite the expected sections of
                                         FILE.test from the actual output
    run.py --keep SLUICE FILE.test       keep the scenario's temp directory

Each scenario runs in a fresh temporary directory (the cwd of every block);
all its blocks share the database `test.db` there, and every SQL block is a
new process `sluice test.db --mode csv -c SQL`, so persistence across
processes is exercised. Owns nothing but that temporary directory.
Standard library only.
"""

import difflib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

EMPTY = "<empty>"          # stands for an empty line in an expected section
TIMEOUT_S = 120


class ScenarioError(Exception):
    """A malformed .test file."""


class Block:
    def __init__(self, kind, line, args):
        self.kind = kind        # file | statement | query | error
        self.line = line        # 1-based line of the header
        self.args = args        # header words after the kind
        self.body = []          # file content or SQL lines
        self.expected = None    # list of lines, or None
        self.exp_span = None    # (first, end) 0-based line indices of the expected lines
        self.sep_line = None    # 0-based index of the ---- line


def parse(lines):
    """Splits the lines of a .test file into blocks."""
    blocks = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if line.strip() == "" or line.startswith("#"):
            i += 1
            continue
        words = line.split()
        kind, args = words[0], words[1:]
        b = Block(kind, i + 1, args)
        i += 1
        if kind == "file":
            if len(args) != 1:
                raise ScenarioError("line %d: `file` takes one path" % b.line)
            while i < n and lines[i] != "end":
                b.body.append(lines[i])
                i += 1
            if i == n:
                raise ScenarioError("line %d: `file` block has no `end` line" % b.line)
            i += 1
        elif kind in ("statement", "query", "error", "sqlite"):
            if kind == "sqlite" and args:
                raise ScenarioError("line %d: `sqlite` takes no options" % b.line)
            if kind == "statement":
                if not (args == ["ok"] or (len(args) == 2 and args[0] == "exit"
                                           and args[1].isdigit())):
                    raise ScenarioError("line %d: use `statement ok` or `statement exit N`"
                                        % b.line)
            if kind == "query":
                for a in args:
                    if a != "rowsort" and not (a.startswith("mode=") and
                                               a[5:] in ("table", "csv", "json", "line")):
                        raise ScenarioError("line %d: unknown query option %r" % (b.line, a))
            if kind == "error" and args:
                raise ScenarioError("line %d: `error` takes no options" % b.line)
            while i < n and lines[i].strip() != "" and lines[i] != "----":
                b.body.append(lines[i])
                i += 1
            if not b.body:
                raise ScenarioError("line %d: `%s` block has no SQL" % (b.line, kind))
            if kind in ("query", "error"):
                if i == n or lines[i] != "----":
                    raise ScenarioError("line %d: `%s` block needs a ---- line and the "
                                        "expected output" % (b.line, kind))
                b.sep_line = i
                i += 1
                first = i
                while i < n and lines[i].strip() != "":
                    i += 1
                b.exp_span = (first, i)
                b.expected = [EMPTY_TO_TEXT(x) for x in lines[first:i]]
            elif i < n and lines[i] == "----":
                raise ScenarioError("line %d: `%s` blocks have no expected output"
                                    % (b.line, kind))
        else:
            raise ScenarioError("line %d: unknown block %r (file, statement, query, "
                                "error, sqlite)" % (b.line, kind))
        blocks.append(b)
    return blocks


def EMPTY_TO_TEXT(line):
    return "" if line == EMPTY else line


def TEXT_TO_EMPTY(line):
    return EMPTY if line == "" else line


def split_output(text):
    """Output text to lines (a final newline does not make an empty line)."""
    if text == "":
        return []
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def run_sql(sluice, cwd, sql, mode):
    try:
        p = subprocess.run([sluice, "test.db", "--mode", mode, "-c", sql],
                           cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        return None, out, err + "\n(timed out after %d s)" % TIMEOUT_S
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def diag(text):
    for line in text.split("\n"):
        print("#   " + line)


def run_block(b, sluice, cwd):
    """Runs one block; returns (passed, message, actual_lines or None)."""
    if b.kind == "file":
        path = os.path.join(cwd, b.args[0])
        os.makedirs(os.path.dirname(path) or cwd, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(x + "\n" for x in b.body))
        return True, "", None

    sql = "\n".join(b.body) + "\n"
    if b.kind == "sqlite":
        # another program writing the database (sluice refuses user writes
        # to its own tables): to damage them on purpose
        try:
            con = sqlite3.connect(os.path.join(cwd, "test.db"), timeout=10)
            con.executescript(sql)
            con.close()
        except sqlite3.Error as e:
            return False, "sqlite3: %s" % e, None
        return True, "", None
    mode = "csv"
    for a in b.args:
        if a.startswith("mode="):
            mode = a[5:]
    code, out, err = run_sql(sluice, cwd, sql, mode)

    if b.kind == "statement":
        want = 0 if b.args == ["ok"] else int(b.args[1])
        if code == want:
            return True, "", None
        return False, ("expected exit status %d, got %s\nstdout:\n%s\nstderr:\n%s"
                       % (want, code, out, err)), None

    if b.kind == "query":
        if code != 0:
            return False, ("expected exit status 0, got %s\nstderr:\n%s" % (code, err)), None
        actual = split_output(out)
        if "rowsort" in b.args and actual:
            actual = actual[:1] + sorted(actual[1:])
    else:  # error
        if code != 1:
            return False, ("expected exit status 1, got %s\nstdout:\n%s\nstderr:\n%s"
                           % (code, out, err)), None
        actual = split_output(err)

    if actual == b.expected:
        return True, "", actual
    what = "stdout" if b.kind == "query" else "stderr"
    diff = difflib.unified_diff(b.expected, actual, "expected " + what,
                                "actual " + what, lineterm="")
    msg = "\n".join(diff)
    if b.kind == "query" and err:
        msg += "\nstderr:\n" + err
    return False, msg, actual


def title(b):
    first = b.body[0] if b.body else ""
    if len(first) > 60:
        first = first[:57] + "..."
    head = " ".join([b.kind] + b.args)
    return "line %d: %s: %s" % (b.line, head, first)


def main(argv):
    update = keep = False
    args = []
    for a in argv[1:]:
        if a == "--update":
            update = True
        elif a == "--keep":
            keep = True
        else:
            args.append(a)
    if len(args) != 2:
        sys.stderr.write("usage: run.py [--update] [--keep] SLUICE FILE.test\n")
        return 2
    sluice, path = os.path.abspath(args[0]), args[1]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    try:
        blocks = parse(lines)
    except ScenarioError as e:
        print("1..0")
        sys.stderr.write("%s: %s\n" % (path, e))
        return 1

    tmp = tempfile.mkdtemp(prefix="sluice-scenario-")
    failed = 0
    replacements = []       # (first, end, new lines), for --update
    try:
        for n, b in enumerate(blocks, 1):
            passed, msg, actual = run_block(b, sluice, tmp)
            print("%sok %d - %s" % ("" if passed else "not ", n, title(b)))
            if not passed:
                failed += 1
                diag("%s:%d\nSQL:\n%s\n%s" % (path, b.line, "\n".join(b.body), msg))
            if update and actual is not None and b.exp_span is not None:
                replacements.append((b.exp_span[0], b.exp_span[1],
                                     [TEXT_TO_EMPTY(x) for x in actual]))
            sys.stdout.flush()
        print("1..%d" % len(blocks))
    finally:
        if keep:
            sys.stderr.write("scenario directory kept: %s\n" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    if update:
        for first, end, new in reversed(replacements):
            lines[first:end] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        sys.stderr.write("%s: expected sections rewritten from actual output; "
                         "review the diff before committing\n" % path)
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
