"""Pieces the Python benchmark drivers share (quality.py, moo.py, early_stopping.py and
the Optuna runners they start). The drivers are run as `/usr/bin/python3 bench/X.py`,
so Python finds this module in the script's own directory.
"""
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------- options

def parse_seeds(text, count=True):
    """'0-4,7' is a list; with count, a bare number '10' is ten seeds, 0..9."""
    if count and text.isdigit():
        return list(range(int(text)))
    seeds = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def default_build():
    """$HONE_BUILD, else ROOT/build."""
    return os.environ.get("HONE_BUILD", os.path.join(ROOT, "build"))


def one_blas_thread():
    """Runs go side by side: keep OpenBLAS (hone's GP, numpy under Optuna) to one thread
    per run, so that runs do not steal each other's cores."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")


# ---------------------------------------------------------------------------- binaries

class BuildTools:
    """The binaries of a build directory."""

    def __init__(self, build):
        self.build = build
        self.bench = os.path.join(build, "bench", "hone-bench-quality")
        self.eval = os.path.join(build, "bench", "hone-eval")
        self.hv = os.path.join(build, "bench", "hone-bench-hv")
        self.broker = os.path.join(build, "broker", "hone-broker")
        self.hone = os.path.join(build, "worker-sdk", "cli", "hone")
        self.worker = os.path.join(build, "worker-sdk", "cli", "hone-worker")

    @staticmethod
    def require(script, paths):
        """Exits naming the paths that are not executables."""
        missing = [p for p in paths if not os.access(p, os.X_OK)]
        if missing:
            sys.exit("%s: not built: %s (build with cmake first, or pass --build DIR)" % (script, ", ".join(missing)))


def describe(binary, problem):
    """`BINARY --describe PROBLEM`, parsed."""
    out = subprocess.run([binary, "--describe", problem], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def find_optuna_python():
    """A Python that can import optuna (this one, else Debian's), or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import optuna"], capture_output=True).returncode == 0:
            return py
    return None


def import_optuna():
    """optuna, with its logging and experimental warnings quiet."""
    import logging
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def run_lines(cmd, timeout=1800):
    """Runs cmd; its stdout's JSON lines (RuntimeError with its stderr when it fails)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()[-2000:]))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


class Server:
    """One `BINARY --serve PROBLEM` process: a JSON line in, a JSON line out."""

    def __init__(self, binary, problem):
        self.name = os.path.basename(binary)
        self.proc = subprocess.Popen([binary, "--serve", problem], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def __call__(self, x):
        self.proc.stdin.write(json.dumps(x) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("%s --serve stopped" % self.name)
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ---------------------------------------------------------------------------- broker

class BrokerRun:
    """A hone-broker on an ipc endpoint in a fresh temporary directory (store and logs
    in it), answering before the constructor returns; close() (or the end of a with
    block) ends every process started here and removes the directory."""

    def __init__(self, tools, prefix, dir=None):
        self.tmp = tempfile.mkdtemp(prefix=prefix, dir=dir)
        self.endpoint = "ipc://%s/broker.ipc" % self.tmp
        self.hone = [tools.hone, "--broker", self.endpoint]
        self.procs, self.logs = [], []
        try:
            broker = self.spawn([tools.broker, "--data", os.path.join(self.tmp, "data"), "--bind", self.endpoint,
                                 "--log-level", "warn"], "broker.log")
            self._wait_for(broker)
        except BaseException:
            self.close()
            raise

    def _wait_for(self, broker):
        for _ in range(200):
            probe = subprocess.run(self.hone + ["--timeout", "200", "status", "none"], capture_output=True, text=True)
            if probe.returncode == 0 or "HONE_ENOTFOUND" in probe.stderr:
                return
            if broker.poll() is not None:
                raise RuntimeError("hone-broker exited %d" % broker.returncode)
            time.sleep(0.05)
        raise RuntimeError("hone-broker did not answer on %s" % self.endpoint)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def spawn(self, cmd, log_name):
        """Starts cmd, stdout discarded, stderr to log_name in the directory."""
        log = open(self.path(log_name), "w")
        self.logs.append(log)
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        p.log_path = log.name
        self.procs.append(p)
        return p

    @staticmethod
    def wait_workers(workers, timeout=1800):
        """Waits for every hone-worker; RuntimeError with its log's tail when one fails."""
        for w in workers:
            if w.wait(timeout=timeout) != 0:
                with open(w.log_path) as f:
                    raise RuntimeError("hone-worker exited %d: %s" % (w.returncode, f.read()[-2000:]))

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------- jobs and tables

def run_jobs(jobs, max_workers, noun, every):
    """Runs (name, fn, args) jobs on a thread pool, reporting progress every `every`
    done; returns their results (the lists they return, joined), errors and seconds.
    A failing job does not stop the others."""
    started = time.monotonic()
    results, errors = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = {pool.submit(fn, *a): name for name, fn, a in jobs}
        for done, f in enumerate(concurrent.futures.as_completed(futures), 1):
            try:
                results.extend(f.result())
            except Exception as e:          # keep the others; report at the end
                errors.append("%s: %s" % (futures[f], e))
            if done % every == 0 or done == len(futures):
                print("  %d/%d %s done (%.0f s)" % (done, len(futures), noun, time.monotonic() - started),
                      file=sys.stderr)
    return results, errors, time.monotonic() - started


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def finish(lines, errors, markdown=None):
    """Adds the errors to the report, prints it (and writes it to markdown when given);
    the exit status: 1 when there were errors."""
    if errors:
        lines = lines + ["## Errors", ""] + ["- " + e for e in errors] + [""]
    text = "\n".join(lines)
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")
    return 1 if errors else 0


def quartiles(xs):
    """(q25, median, q75), inclusive method."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def gen_cell(s):
    """The 'ms/candidate median / last' cell of a summary."""
    if s["gen"] is None:
        return "—"
    return "%.3f / %.3f" % (s["gen"], s["gen_last"])
