"""kafkatest.py: shared pieces of the kafka integration tests.

Owns the plumbing every test file needs: starting and stopping the mock
broker (tests/kafka/mock_broker.c) with its topics, producing messages with
kcat (an independent Kafka client), running the sluice binary, reading the
database with Python's sqlite3, and printing TAP. Each test file makes its
own broker and its own temporary directory, so test files can run in
parallel. A test skips (TAP plan '1..0 # SKIP') only when kcat is not
installed.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

KCAT = shutil.which("kcat") or shutil.which("kafkacat")

# consumer settings the mock cluster needs (see DESIGN and issue 4)
MOCK_PROPS = ("'kafka.session.timeout.ms'='6000', "
              "'kafka.fetch.wait.max.ms'='10'")


class Tap:
    """Minimal TAP writer: ok(), is_(), done()."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name))
        if not cond and diag:
            for line in str(diag).splitlines():
                print("# " + line)
        sys.stdout.flush()
        return cond

    def is_(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def done(self, wd=None):
        """Ends the plan; a sanitizer report seen in any sluice run is a
        failure; the work directory is removed when everything passed."""
        self.ok(not SANITIZER_REPORTS, "no_sanitizer_reports",
                "\n".join(SANITIZER_REPORTS))
        print("1..%d" % self.n)
        if wd and not self.failed:
            shutil.rmtree(wd, ignore_errors=True)
        sys.exit(1 if self.failed else 0)


SANITIZER_REPORTS = []


def check_sanitizers(stderr):
    """Remembers ASan/UBSan reports (UBSan does not stop the program)."""
    for marker in ("runtime error:", "Sanitizer"):
        if marker in (stderr or ""):
            SANITIZER_REPORTS.append(stderr[:2000])
            return


def skip_without_kcat():
    """The TAP skip plan. (Meson's TAP protocol reads a '1..0 # SKIP' plan
    as a skip; an exit status of 77 would be an error there.)"""
    if KCAT is None:
        print("1..0 # SKIP kcat is not installed")
        sys.exit(0)


class Broker:
    """A mock Kafka cluster with the given topics ({name: partitions}).
    deletable: topics that delete_topics() deletes."""

    def __init__(self, mock_exe, workdir, topics, deletable=()):
        self.boot_file = os.path.join(workdir, "bootstrap")
        args = [mock_exe]
        for d in deletable:
            args += ["-d", d]
        args += [self.boot_file]
        args += ["%s:%d" % (t, n) for t, n in topics.items()]
        self.log = open(os.path.join(workdir, "broker.log"), "w")
        self.proc = subprocess.Popen(args, stderr=self.log)
        deadline = time.time() + 15
        while not os.path.exists(self.boot_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("mock broker did not start")
            time.sleep(0.05)
        with open(self.boot_file) as f:
            self.bootstrap = f.read().strip()

    def down(self):
        self.proc.send_signal(signal.SIGUSR1)

    def up(self):
        self.proc.send_signal(signal.SIGUSR2)

    def delete_topics(self):
        """Deletes the deletable topics (the mock's SIGHUP)."""
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def produce(broker, topic, lines, partition=None, keyed=False, tolerant=False,
            wait=True):
    """Produces one message per line with kcat; 'key:value' when keyed.
    tolerant: keep retrying while the brokers are down (kcat -E).
    Returns the kcat process when wait is False."""
    args = [KCAT, "-P", "-q", "-b", broker.bootstrap, "-t", topic]
    if keyed:
        args += ["-K:"]
    if partition is not None:
        args += ["-p", str(partition)]
    if tolerant:
        args += ["-E"]
    data = "".join(l + "\n" for l in lines).encode()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if tolerant else None)
    proc.stdin.write(data)
    proc.stdin.close()
    if not wait:
        return proc
    if proc.wait(60) != 0:
        raise RuntimeError("kcat failed producing to %s" % topic)
    return None


class Sluice:
    """Runs the sluice binary on a database in a temporary directory."""

    def __init__(self, exe, workdir, name="test.db"):
        self.exe = exe
        self.db = os.path.join(workdir, name)

    def run(self, sql, timeout=60, mode="csv"):
        """Runs -c SQL to completion; returns (rc, stdout, stderr)."""
        try:
            p = subprocess.run([self.exe, self.db, "--mode", mode, "-c", sql],
                               capture_output=True, text=True,
                               timeout=timeout)
            check_sanitizers(p.stderr)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return "timeout", e.stdout or "", e.stderr or ""

    def start(self, sql):
        """Starts -c SQL in the background (an unbounded query keeps it
        running); stop() ends it with SIGTERM."""
        self._spawn(["-c", sql], ".stderr")

    def serve(self):
        """Starts `sluice DB --serve` (resumes the DB's queries)."""
        self._spawn(["--serve"], ".serve.stderr")

    def _spawn(self, args, err_suffix):
        self.err_path = self.db + err_suffix
        self.err_file = open(self.err_path, "w")
        self.proc = subprocess.Popen([self.exe, self.db] + args,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.err_file)

    def stop(self):
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "killed"
        else:
            rc = self.proc.returncode
        self.err_file.close()
        with open(self.err_path) as f:
            err = f.read()
        check_sanitizers(err)
        return rc, err

    def query(self, sql, args=()):
        """Reads the database directly (a committed snapshot)."""
        if not os.path.exists(self.db):
            return []
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []          # table not made yet
        finally:
            con.close()

    def metric(self, query, name):
        rows = self.query("SELECT value FROM sluice_metrics WHERE query = ? "
                          "AND name = ?", (query, name))
        return rows[0][0] if rows and rows[0][0] is not None else None

    def wait_for(self, cond, timeout):
        """Polls cond() until it is true or timeout seconds pass."""
        deadline = time.time() + timeout
        while True:
            if cond():
                return True
            if time.time() > deadline:
                return False
            time.sleep(0.1)


def csv_rows(out):
    """The data rows of --mode csv output (header dropped)."""
    lines = [l for l in out.splitlines() if l]
    return [l.split(",") for l in lines[1:]]


def workdir():
    return tempfile.mkdtemp(prefix="sluice-kafka-")
