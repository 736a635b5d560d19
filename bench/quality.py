#!/usr/bin/python3
"""hone's optimization-quality benchmark: one driver for hone, random search and Optuna.

    /usr/bin/python3 bench/quality.py [--build DIR] [--seeds N|LIST] [--quick]
                                      [--problems a,b] [--methods a,b] [--jobs 2]
                                      [--no-async | --async-only] [--out FILE]

Sequential runs, for every problem x seed, with the same budget:
  hone/fast            hone-bench-quality --method fast (hone in-process, one trial at a time)
  hone/fast-rbf        the same with Ax's RBF kernel instead of hone's default Matern-5/2
  hone/fast-logei      the same with analytic LogEI throughout (pending points as kriging believers)
  hone/fast-qlognei    the same with MC qLogNEI throughout (Ax's acquisition)
  hone/fast-nowarp     the same without output warping (Ax's transforms only)
  hone/fast-prefetch   (async runs only) the broker keeps 4 candidates generated ahead
  hone/random_search   hone-bench-quality --method random_search
  optuna/tpe           optuna_quality.py (Optuna's TPESampler, seeded)
  optuna/tpe_multivariate   the same with TPESampler(multivariate=True)
Async runs (Branin and Hartmann6 by default): a real hone-broker on an ipc endpoint in
a temporary directory, the experiment made with `hone create`, 4 hone-workers running
hone-eval (each evaluation made to take --async-delay-ms), and the trials read back
with `hone --json trials`: best-after-N in trial order, against the sequential runs.

Prints markdown tables (bench/README.md explains every column) and writes every run as
one JSON line to --out (default BUILD/bench/quality-results.jsonl). At most --jobs runs
go at once (default 2).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

from bench_common import (ROOT, BrokerRun, BuildTools, default_build, describe, finish, find_optuna_python,
                          gen_cell, one_blas_thread, parse_seeds, quartiles, run_jobs, run_lines, write_jsonl)

SEQ_METHODS = ["hone/fast", "hone/fast-rbf", "hone/fast-logei", "hone/fast-qlognei", "hone/fast-nowarp", "hone/random_search", "optuna/tpe", "optuna/tpe_multivariate"]
ALL_METHODS = SEQ_METHODS
REGRET_FLOOR = 1e-12        # the optima are known to about 15 digits
OPTUNA_CHUNK = 5            # seeds per Optuna process (its import takes ~1 s)


class Tools(BuildTools):
    def __init__(self, build):
        super().__init__(build)
        self.optuna_script = os.path.join(ROOT, "bench", "optuna_quality.py")

    def check(self, need_async):
        BuildTools.require("quality.py", [self.bench] + ([self.eval, self.broker, self.hone, self.worker]
                                                         if need_async else []))

    def describe(self, problem):
        return describe(self.bench, problem)


def run_hone(tools, problem, method, seed):
    return run_lines([tools.bench, "--problem", problem, "--method", method.split("/", 1)[1], "--seed", str(seed)])


def run_optuna(tools, python, problem, method, seeds):
    cmd = [python, tools.optuna_script, "--bench", tools.bench, "--problem", problem,
           "--seeds", ",".join(map(str, seeds))]
    if method == "optuna/tpe_multivariate":
        cmd.append("--multivariate")
    return run_lines(cmd)


def run_async(tools, desc, method, seed, workers, delay_ms):
    """One experiment through a real broker with `workers` hone-workers."""
    problem = desc["problem"]
    with BrokerRun(tools, "hone-quality-") as run:
        hone = run.hone
        config = subprocess.run([tools.bench, "--config", problem, "--method", method.split("/", 1)[1],
                                 "--seed", str(seed)], check=True, capture_output=True, text=True).stdout
        config_path = run.path("config.json")
        with open(config_path, "w") as f:
            f.write(config)
        created = subprocess.run(hone + ["create", config_path], capture_output=True, text=True)
        if created.returncode != 0:
            if "not supported" in created.stderr:
                return [{"problem": problem, "method": "%s async%d" % (method, workers), "seed": seed,
                         "budget": desc["budget"], "unsupported": created.stderr.strip()}]
            raise RuntimeError("hone create: %s" % created.stderr.strip())
        started = time.monotonic()
        workers_p = []
        for k in range(workers):
            cmd = [tools.worker, "--broker", run.endpoint, "--experiment", problem, "--name", "bench-%d" % k, "--",
                   tools.eval, "--metric", problem, "--delay-ms", str(delay_ms), desc["function"]]
            workers_p.append(run.spawn(cmd + desc["eval_args"], "worker-%d.log" % k))
        run.wait_workers(workers_p)
        wall = time.monotonic() - started
        out = subprocess.run(hone + ["--json", "trials", problem], check=True, capture_output=True, text=True)
        trials = sorted((json.loads(line) for line in out.stdout.splitlines() if line.strip()),
                        key=lambda t: t["trial"])
    values, best, best_y = [], [], math.inf
    for t in trials:
        if t["status"] == "COMPLETED" and problem in t.get("metrics", {}):
            y = t["metrics"][problem][0]
            best_y = min(best_y, y)
            values.append(y)
            best.append(best_y)
    return [{
        "problem": problem, "method": "%s async%d" % (method, workers), "seed": seed,
        "budget": desc["budget"], "optimum": desc["optimum"], "best": best, "values": values,
        "workers": workers, "delay_ms": delay_ms, "wall_s": wall,
        "failed": sum(t["status"] == "FAILED" for t in trials),
    }]


# ---------------------------------------------------------------------------- tables

def log_regret(value, optimum):
    return math.log10(max(value - optimum, REGRET_FLOOR))


def best_at(run, n):
    b = run["best"]
    return b[min(n, len(b)) - 1] if b else math.nan


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return "%.6g" % x


def summarize(runs, budget, optimum):
    """Columns of one table row from the runs of one method on one problem."""
    half = budget // 2
    final = [best_at(r, budget) for r in runs]
    q25, med, q75 = quartiles(final)
    reg_half = statistics.median(log_regret(best_at(r, half), optimum) for r in runs)
    reg_full = statistics.median(log_regret(best_at(r, budget), optimum) for r in runs)
    gen = [g for r in runs for g in r.get("gen_ms", [])]
    last = [r["gen_ms"][-1] for r in runs if r.get("gen_ms")]
    short = sum(len(r["best"]) < budget for r in runs)
    return {"n": len(runs), "median": med, "q25": q25, "q75": q75, "reg_half": reg_half, "reg_full": reg_full,
            "gen": statistics.median(gen) if gen else None, "gen_last": statistics.median(last) if last else None,
            "short": short, "rejected": [r["rejected"] for r in runs if "rejected" in r],
            "violations": sum(r.get("violations", 0) for r in runs),
            "wall": statistics.median(r["wall_s"] for r in runs) if all("wall_s" in r for r in runs) else None,
            "failed": sum(r.get("failed", 0) for r in runs)}


def sequential_tables(results, problems, methods, descs):
    out = []
    by = {}
    for r in results:
        by.setdefault((r["problem"], r["method"]), []).append(r)
    overview = []
    for p in problems:
        d = descs[p]
        budget, half = d["budget"], d["budget"] // 2
        title = "### %s (%d trials; optimum %s" % (p, budget, fmt(d["optimum"]))
        if d["parameter_constraints"]:
            title += "; constraint %s" % ", ".join(d["parameter_constraints"])
        out += [title + ")", "",
                "| method | runs | median best | q25 – q75 | median log10 regret @%d | @%d | gen ms/trial median / last |"
                % (half, budget), "|---|---|---|---|---|---|---|"]
        notes = []
        ov = [p]
        for m in methods:
            runs = by.get((p, m), [])
            unsupported = [r for r in runs if "unsupported" in r]
            if unsupported:
                out.append("| %s | — | unsupported | — | — | — | — |" % m)
                notes.append("%s: unsupported: %s" % (m, unsupported[0]["unsupported"]))
                ov.append("unsupported")
                continue
            if not runs:
                out.append("| %s | 0 | — | — | — | — | — |" % m)
                ov.append("—")
                continue
            s = summarize(runs, budget, d["optimum"])
            out.append("| %s | %d | %s | %s – %s | %.2f | %.2f | %s |" % (
                m, s["n"], fmt(s["median"]), fmt(s["q25"]), fmt(s["q75"]), s["reg_half"], s["reg_full"],
                gen_cell(s)))
            ov.append("%.2f" % s["reg_full"])
            if s["short"]:
                notes.append("%s: %d runs stopped before the budget" % (m, s["short"]))
            if s["rejected"]:
                handling = sorted({r.get("constraint_handling", "?") for r in runs})
                notes.append("%s: constraint by %s; %.1f infeasible points rejected per run (median)%s" % (
                    m, "/".join(handling), statistics.median(s["rejected"]),
                    "; %d constraint VIOLATIONS by hone" % s["violations"] if s["violations"] else ""))
            hone_notes = sorted({r["note"] for r in runs if r.get("note")})
            for n in hone_notes:
                notes.append("%s ran as %s: %s" % (m, runs[0].get("hone_method", "?"), n))
        overview.append(ov)
        out.append("")
        out += ["- " + n for n in notes]
        if notes:
            out.append("")
    head = ["## Overview: median log10 regret at the full budget (lower is better)", "",
            "| problem | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    head += ["| " + " | ".join(row) + " |" for row in overview]
    return head + ["", "## Per problem", ""] + out


def async_tables(results, problems, methods, workers, descs):
    out = []
    by = {}
    for r in results:
        by.setdefault((r["problem"], r["method"]), []).append(r)
    for p in problems:
        d = descs[p]
        budget, half = d["budget"], d["budget"] // 2
        out += ["### %s (%d trials)" % (p, budget), "",
                "| mode | runs | median best | q25 – q75 | median log10 regret @%d | @%d | wall s (median) |"
                % (half, budget), "|---|---|---|---|---|---|---|"]
        for m in methods:
            for label in (m, "%s async%d" % (m, workers)):
                runs = by.get((p, label), [])
                if not runs:
                    continue
                mode = label if label != m else "%s sequential" % m
                unsupported = [r for r in runs if "unsupported" in r]
                if unsupported:
                    out.append("| %s | — | unsupported: %s | | | | |" % (mode, unsupported[0]["unsupported"]))
                    continue
                s = summarize(runs, budget, d["optimum"])
                out.append("| %s | %d | %s | %s – %s | %.2f | %.2f | %s |" % (
                    mode, s["n"], fmt(s["median"]), fmt(s["q25"]), fmt(s["q75"]), s["reg_half"], s["reg_full"],
                    "%.1f" % s["wall"] if s["wall"] is not None else "—"))
                if s["failed"] or s["short"]:
                    out.append("|  ↳ %d FAILED trials, %d runs short of the budget | | | | | | |"
                               % (s["failed"], s["short"]))
        out.append("")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--build", default=default_build(),
                    help="build directory (default $HONE_BUILD, else ROOT/build)")
    ap.add_argument("--seeds", default="10", help="a count (10: seeds 0-9, the default) or a list (0-4,7)")
    ap.add_argument("--quick", action="store_true", help="3 seeds")
    ap.add_argument("--problems", help="comma-separated (default: all; see hone-bench-quality --list)")
    ap.add_argument("--methods", default=",".join(SEQ_METHODS), help="from: " + ", ".join(ALL_METHODS))
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    ap.add_argument("--no-async", action="store_true", help="skip the broker runs")
    ap.add_argument("--async-only", action="store_true", help="only the broker runs (and sequential hone)")
    ap.add_argument("--async-problems", default="branin,hartmann6")
    ap.add_argument("--async-methods", default="hone/fast,hone/random_search")
    ap.add_argument("--async-workers", type=int, default=4)
    ap.add_argument("--async-delay-ms", type=int, default=100, help="time each evaluation takes (default 100)")
    ap.add_argument("--out", help="raw JSON lines (default BUILD/bench/quality-results.jsonl)")
    ap.add_argument("--markdown", help="also write the tables to this file")
    args = ap.parse_args()

    one_blas_thread()
    build = os.path.abspath(args.build)
    tools = Tools(build)
    seeds = [0, 1, 2] if args.quick else parse_seeds(args.seeds)
    methods = args.methods.split(",")
    for m in methods:
        if m not in ALL_METHODS:
            sys.exit("quality.py: unknown method %r (known: %s)" % (m, ", ".join(ALL_METHODS)))
    do_async = not args.no_async
    tools.check(do_async)
    known = subprocess.run([tools.bench, "--list"], check=True, capture_output=True, text=True).stdout.split()
    problems = args.problems.split(",") if args.problems else known
    for p in problems:
        if p not in known:
            sys.exit("quality.py: unknown problem %r (known: %s)" % (p, ", ".join(known)))
    descs = {p: tools.describe(p) for p in known}
    async_problems = [p for p in args.async_problems.split(",") if p in problems] if do_async else []
    async_methods = args.async_methods.split(",")
    if args.async_only:
        methods = [m for m in methods if m.startswith("hone/")]
        problems = async_problems
    python = None
    if any(m.startswith("optuna/") for m in methods):
        python = find_optuna_python()
        if not python:
            sys.exit("quality.py: Optuna is not installed: apt-get install -y python3-optuna "
                     "(or leave it out with --methods)")

    # The longest runs (Optuna) first, so that the two slots stay busy to the end.
    jobs = []
    for m in methods:
        if m.startswith("optuna/"):
            for p in problems:
                for i in range(0, len(seeds), OPTUNA_CHUNK):
                    jobs.append(("%s %s seeds %s" % (m, p, seeds[i:i + OPTUNA_CHUNK]), run_optuna,
                                 (tools, python, p, m, seeds[i:i + OPTUNA_CHUNK])))
    for p in async_problems:
        for m in async_methods:
            for s in seeds:
                jobs.append(("%s async %s seed %d" % (m, p, s), run_async,
                             (tools, descs[p], m, s, args.async_workers, args.async_delay_ms)))
    seq_needed = set(methods) | set(async_methods if async_problems else [])
    for m in [m for m in ALL_METHODS if m in seq_needed and m.startswith("hone/")]:
        for p in problems if m in methods else async_problems:
            for s in seeds:
                jobs.append(("%s %s seed %d" % (m, p, s), run_hone, (tools, p, m, s)))

    print("quality.py: %d runs (%d seeds, problems %s), %d at a time" % (
        len(jobs), len(seeds), ",".join(problems), args.jobs), file=sys.stderr)
    results, errors, elapsed = run_jobs(jobs, args.jobs, "runs", 20)

    results.sort(key=lambda r: (r["problem"], r["method"], r["seed"]))
    out_path = args.out or os.path.join(build, "bench", "quality-results.jsonl")
    write_jsonl(out_path, results)

    lines = ["# hone quality benchmark", "",
             "%d seeds (%s); %s; %.0f s on %d jobs; raw runs: %s" % (
                 len(seeds), ",".join(map(str, seeds)),
                 ", ".join(m + (" (%s)" % (r0["optuna_version"]) if m.startswith("optuna/") and r0 else "")
                           for m in methods
                           for r0 in [next((r for r in results if r["method"] == m and "optuna_version" in r),
                                           None)]),
                 elapsed, args.jobs, out_path), ""]
    if not args.async_only:
        lines += sequential_tables(results, problems, methods, descs)
    if async_problems:
        lines += ["## Sequential against %d asynchronous workers through the broker" % args.async_workers, "",
                  "Each evaluation takes %d ms (hone-eval --delay-ms); trials in the order they were generated."
                  % args.async_delay_ms, ""]
        lines += async_tables(results, async_problems, async_methods, args.async_workers, descs)
    return finish(lines, errors, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
