#!/usr/bin/python3
"""hone's several-goals benchmark (issue 6): hypervolume and best feasible value
against random search and Optuna, side by side, from one driver.

    /usr/bin/python3 bench/moo.py [--build DIR] [--seeds N|LIST] [--problems a,b]
                                  [--methods a,b] [--jobs 2] [--out FILE] [--markdown FILE]
    /usr/bin/python3 bench/moo.py [--build DIR] --check

Problems (bench/functions.h; budgets from issue 6):
  branincurrin   2 objectives in [0, 1]^2, 30 trials, reference point (18, 6)
  dtlz2          3 objectives in [0, 1]^6, 50 trials, reference point (1.1, 1.1, 1.1)
  branin_disc    Branin subject to disc = (x1 - 2.5)^2 + (x2 - 7.5)^2 <= 50, 30 trials
Methods, each run once per problem x seed with the same budget:
  hone/fast           hone-bench-quality --problem P --method fast --seed S --budget N,
  hone/random_search  ... --method random_search (not run by default): hone's rows, run
                      when hone-bench-quality lists the problem (`--list`); "not
                      available yet" otherwise. The interface is in bench/README.md
                      ("Several goals"). Issue 6's target is checked for hone/fast:
                      a better median regret than every other method on every problem.
  random              uniform points on the box from Python's random.Random(seed)
  optuna/nsga2        optuna_moo.py: NSGAIISampler() (Optuna's multi-objective default)
  optuna/nsga2_pop10  NSGAIISampler(population_size=10)
  optuna/tpe          TPESampler() (multi-objective TPE; constraints_func when constrained)
  optuna/tpe_multivariate  TPESampler(multivariate=True)
Every point of every method is evaluated by `hone-eval --serve` and every run is scored
by `hone-bench-hv` (core/pareto.h's exact hypervolume), so all are measured by the same
C code. Prints markdown tables (bench/README.md explains the columns) and writes every
run, with its scores, as one JSON line to --out (default BUILD/bench/moo-results.jsonl).

--check verifies the pieces instead: the problems at known points (Branin's minima, the
DTLZ2 front on the unit sphere, the disc) against an independent Python transcription,
and hone-bench-hv against brute-force hypervolumes (inclusion-exclusion; a
coordinate-grid count) on small random sets.
"""
import argparse
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

from bench_common import (ROOT, BuildTools, Server, default_build, describe, finish, find_optuna_python,
                          gen_cell, one_blas_thread, parse_seeds, quartiles, run_jobs, run_lines, write_jsonl)

BUDGETS = {"branincurrin": 30, "dtlz2": 50, "branin_disc": 30}
DEFAULT_METHODS = ["hone/fast", "random", "optuna/nsga2", "optuna/nsga2_pop10", "optuna/tpe",
                   "optuna/tpe_multivariate"]
ALL_METHODS = ["hone/fast", "hone/random_search", "random", "optuna/nsga2", "optuna/nsga2_pop10", "optuna/tpe",
               "optuna/tpe_multivariate"]
OPTUNA_CHUNK = 5            # seeds per Optuna process (its import takes ~1 s)
# Regrets below this count as it: DTLZ2's max hypervolume and Branin's optimum are known
# to ~15 digits, BraninCurrin's max hypervolume to ~1e-4 (functions.h).
REGRET_FLOOR = {"branincurrin": 1e-4}
REGRET_FLOOR_DEFAULT = 1e-12
NOT_AVAILABLE = "not available yet"


class Tools(BuildTools):
    def __init__(self, build, hone_bench=None):
        super().__init__(build)
        self.hone_bench = hone_bench or self.bench
        self.optuna_script = os.path.join(ROOT, "bench", "optuna_moo.py")
        self._hone_problems = None

    def check(self):
        BuildTools.require("moo.py", [self.eval, self.hv])

    def describe(self, problem):
        return describe(self.hv, problem)

    def hone_problems(self):
        """The problems hone-bench-quality can run (empty when it is not built)."""
        if self._hone_problems is None:       # asked once, before the runs start
            names = set()
            if os.access(self.hone_bench, os.X_OK):
                p = subprocess.run([self.hone_bench, "--list"], capture_output=True, text=True)
                if p.returncode == 0:
                    names = set(p.stdout.split())
            self._hone_problems = names
        return self._hone_problems


class Evaluator(Server):
    """One `hone-eval --serve PROBLEM` process: a point in, its reading out."""

    def __init__(self, tools, problem):
        super().__init__(tools.eval, problem)


# ---------------------------------------------------------------------------- runs

def run_random(tools, desc, seeds, budget):
    """Uniform random points on the box, one random.Random(seed) per run."""
    evaluate = Evaluator(tools, desc["problem"])
    runs = []
    try:
        for seed in seeds:
            rng = random.Random(seed)
            params, readings, gen_ms = [], [], []
            for _ in range(budget):
                t0 = time.perf_counter()
                x = [lo + (hi - lo) * rng.random() for lo, hi in (p["bounds"] for p in desc["parameters"])]
                gen_ms.append((time.perf_counter() - t0) * 1000.0)
                reading = evaluate(x)
                if "error" in reading:
                    raise RuntimeError("hone-eval: %s" % reading["error"])
                params.append(x)
                readings.append(reading)
            runs.append({"problem": desc["problem"], "method": "random", "seed": seed, "budget": budget,
                         "params": params, "readings": readings, "gen_ms": gen_ms})
    finally:
        evaluate.close()
    return runs


def run_optuna(tools, python, desc, method, seeds, budget):
    return run_lines([python, tools.optuna_script, "--eval", tools.eval, "--hv", tools.hv, "--problem",
                      desc["problem"], "--seeds", ",".join(map(str, seeds)), "--budget", str(budget),
                      "--sampler", method.split("/", 1)[1]])


def run_hone(tools, desc, method, seed, budget):
    """hone's run through hone-bench-quality (the interface in bench/README.md); its points
    are evaluated again here by hone-eval, like everyone else's."""
    problem = desc["problem"]
    base = {"problem": problem, "method": method, "seed": seed, "budget": budget}
    if problem not in tools.hone_problems():
        return [dict(base, unsupported=NOT_AVAILABLE)]
    lines = run_lines([tools.hone_bench, "--problem", problem, "--method", method.split("/", 1)[1], "--seed",
                       str(seed), "--budget", str(budget)])
    if len(lines) != 1:
        raise RuntimeError("hone-bench-quality printed %d lines, expected 1" % len(lines))
    line = lines[0]
    if "unsupported" in line:
        return [dict(base, unsupported=line["unsupported"])]
    names = [p["name"] for p in desc["parameters"]]
    params = [[p[n] for n in names] if isinstance(p, dict) else list(p) for p in line["params"]]
    evaluate = Evaluator(tools, problem)
    try:
        readings = [evaluate(x) for x in params]
    finally:
        evaluate.close()
    mismatches = 0
    for ours, theirs in zip(readings, line.get("readings", [])):
        for k in desc["metrics"]:
            if k in theirs and not math.isclose(ours.get(k, math.nan), theirs[k], rel_tol=1e-9, abs_tol=1e-12):
                mismatches += 1
    run = dict(base, params=params, readings=readings, gen_ms=line.get("gen_ms", []))
    for key in ("hone_method", "note", "stopped"):
        if line.get(key):
            run[key] = line[key]
    if mismatches:
        run["reading_mismatches"] = mismatches
    return [run]


def score(tools, problem, runs):
    """Adds each run's per-trial scores from one hone-bench-hv process."""
    scored = [r for r in runs if "readings" in r and r["readings"]]
    if not scored:
        return
    text = "\n\n".join("\n".join(json.dumps(x) for x in r["readings"]) for r in scored) + "\n"
    p = subprocess.run([tools.hv, problem], input=text, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("hone-bench-hv %s: %s" % (problem, p.stderr.strip()))
    out = [json.loads(line) for line in p.stdout.splitlines()]
    at = 0
    for r in scored:
        n = len(r["readings"])
        mine, at = out[at:at + n], at + n
        r["feasible"] = [o["feasible"] for o in mine]
        if "hv" in mine[0]:
            r["hv"] = [o["hv"] for o in mine]
            r["front"] = [o["front"] for o in mine]
        else:
            r["best"] = [o["best"] for o in mine]
    if at != len(out):
        raise RuntimeError("hone-bench-hv %s: %d lines for %d trials" % (problem, len(out), at))


# ---------------------------------------------------------------------------- tables

def fmt(x, digits=6):
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "—"
    return "%.*g" % (digits, x)


def regret_at(run, desc, n):
    """log10 regret after the first n trials: of the hypervolume, or of the best feasible
    value (nan before the first feasible trial)."""
    floor = REGRET_FLOOR.get(desc["problem"], REGRET_FLOOR_DEFAULT)
    k = min(n, len(run["feasible"])) - 1
    if "hv" in run:
        return math.log10(max(desc["max_hv"] - run["hv"][k], floor))
    best = run["best"][k]
    return math.nan if best is None else math.log10(max(best - desc["optimum"], floor))


def median_nan_last(xs):
    """Median with nan (no feasible point yet) ranked worst."""
    ys = sorted(xs, key=lambda v: (math.isnan(v), v))
    k = len(ys)
    mid = ys[(k - 1) // 2], ys[k // 2]
    if any(math.isnan(v) for v in mid):
        return math.nan
    return (mid[0] + mid[1]) / 2.0


def summarize(runs, desc, budget):
    half = budget // 2
    multi = "max_hv" in desc
    if multi:
        final = [r["hv"][-1] for r in runs]
    else:
        final = [r["best"][-1] if r["best"][-1] is not None else math.inf for r in runs]
    q25, med, q75 = quartiles(final)
    gen = [g for r in runs for g in r.get("gen_ms", [])]
    last = [r["gen_ms"][-1] for r in runs if r.get("gen_ms")]
    return {
        "n": len(runs), "median": med, "q25": q25, "q75": q75,
        "reg_half": median_nan_last([regret_at(r, desc, half) for r in runs]),
        "reg_full": median_nan_last([regret_at(r, desc, budget) for r in runs]),
        "front": statistics.median(r["front"][-1] for r in runs) if multi else None,
        "feasible": statistics.median(sum(r["feasible"]) for r in runs),
        "gen": statistics.median(gen) if gen else None,
        "gen_last": statistics.median(last) if last else None,
        "short": sum(len(r["feasible"]) < budget for r in runs),
        "no_feasible": sum(1 for f in final if math.isinf(f)),
    }


def tables(results, problems, methods, descs):
    by = {}
    for r in results:
        by.setdefault((r["problem"], r["method"]), []).append(r)
    overview, out = [], []
    for p in problems:
        d, budget = descs[p], BUDGETS[p]
        half = budget // 2
        multi = "max_hv" in d
        if multi:
            out += ["### %s (%d objectives in %d d, %d trials; reference point (%s); max hypervolume %s)" % (
                p, len(d["objectives"]), d["dim"], budget, ", ".join(fmt(v) for v in d["ref_point"]),
                fmt(d["max_hv"])), "",
                "| method | runs | median hypervolume | q25 – q75 | median log10 HV regret @%d | @%d "
                "| front size (median) | ms/candidate median / last |" % (half, budget),
                "|---|---|---|---|---|---|---|---|"]
        else:
            out += ["### %s (%d trials; %s subject to %s; optimum %s)" % (
                p, budget, d["objectives"][0], ", ".join(d["outcome_constraints"]), fmt(d["optimum"])), "",
                "| method | runs | median best feasible | q25 – q75 | median log10 regret @%d | @%d "
                "| feasible trials (median) | ms/candidate median / last |" % (half, budget),
                "|---|---|---|---|---|---|---|---|"]
        notes, ov = [], [p]
        for m in methods:
            runs = by.get((p, m), [])
            unsupported = [r for r in runs if "unsupported" in r]
            if unsupported:
                out.append("| %s | — | %s | — | — | — | — | — |" % (m, unsupported[0]["unsupported"]))
                ov.append(NOT_AVAILABLE if unsupported[0]["unsupported"] == NOT_AVAILABLE else "unsupported")
                continue
            if not runs:
                out.append("| %s | 0 | — | — | — | — | — | — |" % m)
                ov.append("—")
                continue
            s = summarize(runs, d, budget)
            extra = fmt(s["front"], 3) if multi else "%s / %d" % (fmt(s["feasible"], 3), budget)
            out.append("| %s | %d | %s | %s – %s | %.2f | %.2f | %s | %s |" % (
                m, s["n"], fmt(s["median"]), fmt(s["q25"]), fmt(s["q75"]), s["reg_half"], s["reg_full"], extra,
                gen_cell(s)))
            ov.append("%.2f" % s["reg_full"])
            if s["short"]:
                notes.append("%s: %d runs stopped before the budget" % (m, s["short"]))
            if s["no_feasible"]:
                notes.append("%s: %d runs found no feasible point" % (m, s["no_feasible"]))
            mism = sum(r.get("reading_mismatches", 0) for r in runs)
            if mism:
                notes.append("%s: %d readings differ from hone-eval's (the table uses hone-eval's)" % (m, mism))
            for n in sorted({r["note"] for r in runs if r.get("note")}):
                notes.append("%s ran as %s: %s" % (m, runs[0].get("hone_method", "?"), n))
        overview.append(ov)
        out.append("")
        out += ["- " + n for n in notes]
        if notes:
            out.append("")
    head = ["## Overview: median log10 regret at the full budget (lower is better)", "",
            "Hypervolume regret log10(max HV − HV) for the multi-objective problems; log10(best feasible − "
            "optimum) for branin_disc.", "",
            "| problem | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    head += ["| " + " | ".join(row) + " |" for row in overview]
    head += target_lines(overview, methods)
    return head + ["", "## Per problem", ""] + out


def target_lines(overview, methods):
    """Issue 6's target: hone's median better than every peer's on every problem."""
    lines = []
    for h in [m for m in methods if m == "hone/fast"]:
        hi = methods.index(h) + 1
        peers = [i + 1 for i, m in enumerate(methods) if not m.startswith("hone/")]
        verdicts = []
        for row in overview:
            try:
                mine = float(row[hi])
                theirs = [float(row[i]) for i in peers if row[i] not in ("—", "unsupported", NOT_AVAILABLE)]
            except ValueError:
                verdicts.append("%s: %s" % (row[0], row[hi]))
                continue
            if math.isnan(mine) or not theirs:
                verdicts.append("%s: —" % row[0])
                continue
            best = min(theirs)
            verdicts.append("%s: %s (%.2f against the best peer's %.2f)" % (
                row[0], "met" if mine < best else "NOT met", mine, best))
        lines += ["", "Target (issue 6), %s better than every peer: %s." % (h, "; ".join(verdicts))]
    return lines


# ---------------------------------------------------------------------------- --check

def py_branin(a, b):
    return ((b - 5.1 * a * a / (4 * math.pi ** 2) + 5 * a / math.pi - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10)


def py_problem(problem, x):
    """Independent transcription of BoTorch's definitions (functions.h)."""
    if problem == "branincurrin":
        f = 1.0 if x[1] == 0 else 1 - math.exp(-1 / (2 * x[1]))
        c = f * (2300 * x[0] ** 3 + 1900 * x[0] ** 2 + 2092 * x[0] + 60) / (
            100 * x[0] ** 3 + 500 * x[0] ** 2 + 4 * x[0] + 20)
        return {"branin": py_branin(15 * x[0] - 5, 15 * x[1]), "currin": c}
    if problem == "dtlz2":
        g = sum((v - 0.5) ** 2 for v in x[2:])
        h = [v * math.pi / 2 for v in x]
        return {"f1": (1 + g) * math.cos(h[0]) * math.cos(h[1]), "f2": (1 + g) * math.cos(h[0]) * math.sin(h[1]),
                "f3": (1 + g) * math.sin(h[0])}
    return {"branin": py_branin(x[0], x[1]), "disc": (x[0] - 2.5) ** 2 + (x[1] - 7.5) ** 2}


def hv_inclusion_exclusion(points, ref):
    """Exact hypervolume (minimization) of at most ~12 points: sum over subsets."""
    pts = [p for p in points if all(v < r for v, r in zip(p, ref))]
    total = 0.0
    for k in range(1, len(pts) + 1):
        for sub in itertools.combinations(pts, k):
            vol = 1.0
            for j, r in enumerate(ref):
                vol *= r - max(p[j] for p in sub)
            total += vol if k % 2 else -vol
    return total


def hv_grid(points, ref):
    """Exact hypervolume by counting the cells of the grid of all coordinates."""
    pts = [p for p in points if all(v < r for v, r in zip(p, ref))]
    m = len(ref)
    axes = [sorted({p[j] for p in pts} | {ref[j]}) for j in range(m)]
    total = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        lo = [axes[j][cell[j]] for j in range(m)]
        if any(all(p[j] <= lo[j] for j in range(m)) for p in pts):
            vol = 1.0
            for j in range(m):
                vol *= axes[j][cell[j] + 1] - lo[j]
            total += vol
    return total


def front_size(points, ref):
    pts = sorted({tuple(p) for p in points if all(v < r for v, r in zip(p, ref))})
    return sum(1 for p in pts if not any(q != p and all(a <= b for a, b in zip(q, p)) for q in pts))


def run_check(tools):
    failures = []

    def check(ok, what):
        print("%s  %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    def close(a, b, tol=1e-12):
        return abs(a - b) <= tol * max(1.0, abs(b))

    # Problems at known points, and against the Python transcription.
    opt = 0.397887357729739
    minima = [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)]
    ev = Evaluator(tools, "branincurrin")
    for a, b in minima:
        r = ev([(a + 5) / 15, b / 15])
        check(close(r["branin"], opt, 1e-6), "branincurrin: Branin minimum (%g, %g) -> %.12g" % (a, b, r["branin"]))
    r = ev([0.0, 0.0])
    check(close(r["currin"], 3.0), "branincurrin: currin(0, 0) = 60/20 = 3 (x2 = 0: factor 1) -> %.17g" % r["currin"])
    r = ev([1.0, 1.0])
    want = (1 - math.exp(-0.5)) * 6352 / 624
    check(close(r["currin"], want), "branincurrin: currin(1, 1) = (1 - e^-0.5) 6352/624 = %.12g -> %.12g" % (
        want, r["currin"]))
    rng = random.Random(1)
    worst = 0.0
    for _ in range(200):
        x = [rng.random(), rng.random()]
        got, want = ev(x), py_problem("branincurrin", x)
        worst = max(worst, max(abs(got[k] - want[k]) / max(1, abs(want[k])) for k in want))
    check(worst < 1e-12, "branincurrin: 200 random points match the Python transcription (max rel diff %.1e)" % worst)
    ev.close()

    ev = Evaluator(tools, "dtlz2")
    worst_sphere = worst = 0.0
    for _ in range(200):
        x = [rng.random(), rng.random()] + [0.5] * 4
        r = ev(x)
        worst_sphere = max(worst_sphere, abs(r["f1"] ** 2 + r["f2"] ** 2 + r["f3"] ** 2 - 1))
        x = [rng.random() for _ in range(6)]
        got, want = ev(x), py_problem("dtlz2", x)
        g = sum((v - 0.5) ** 2 for v in x[2:])
        worst = max(worst, max(abs(got[k] - want[k]) for k in want),
                    abs(math.sqrt(sum(got[k] ** 2 for k in got)) - (1 + g)))
    check(worst_sphere < 1e-14, "dtlz2: x3..x6 = 0.5 gives f1^2 + f2^2 + f3^2 = 1 (200 points, max |diff| %.1e)"
          % worst_sphere)
    check(worst < 1e-14, "dtlz2: 200 random points match the transcription, and |f| = 1 + g (max diff %.1e)"
          % worst)
    r = ev([0, 0, 0.5, 0.5, 0.5, 0.5])
    check(close(r["f1"], 1) and abs(r["f2"]) < 1e-15 and abs(r["f3"]) < 1e-15, "dtlz2: x = 0 (x3.. = 0.5) -> (1, 0, 0)")
    ev.close()

    ev = Evaluator(tools, "branin_disc")
    feas = []
    for a, b in minima:
        r = ev([a, b])
        feas.append(r["disc"] <= 50)
        check(close(r["disc"], (a - 2.5) ** 2 + (b - 7.5) ** 2), "branin_disc: disc at (%g, %g) = %.4f" % (
            a, b, r["disc"]))
    check(feas == [False, True, False], "branin_disc: only Branin's minimum (pi, 2.275) is feasible")
    inside = sum(ev([rng.uniform(-5, 10), rng.uniform(0, 15)])["disc"] <= 50 for _ in range(20000)) / 20000
    check(abs(inside - math.pi * 50 / 225) < 0.01, "branin_disc: feasible fraction %.3f (pi 50/225 = %.3f)" % (
        inside, math.pi * 50 / 225))
    r = ev([11, 0])
    check("error" in r, "hone-eval --serve refuses a point outside the box: %s" % r.get("error"))
    ev.close()

    # hone-bench-hv against brute force.
    def hv_stream(problem, runs):
        text = "\n\n".join("\n".join(json.dumps(x) for x in run) for run in runs) + "\n"
        p = subprocess.run([tools.hv, problem], input=text, capture_output=True, text=True, check=True)
        return [json.loads(line) for line in p.stdout.splitlines()]

    for problem, names, ref, scale in (("branincurrin", ["branin", "currin"], [18.0, 6.0], [22.0, 7.5]),
                                       ("dtlz2", ["f1", "f2", "f3"], [1.1, 1.1, 1.1], [1.4, 1.4, 1.4])):
        runs, expect = [], []
        for n in (1, 3, 6, 9, 12) * 8:
            pts = []
            for _ in range(n):
                if pts and rng.random() < 0.15:
                    p = list(rng.choice(pts))              # a duplicate
                elif rng.random() < 0.1:
                    p = [ref[j] if j == 0 else rng.uniform(0, ref[j]) for j in range(len(ref))]   # on ref
                else:
                    p = [round(rng.uniform(0, s), 2) for s in scale]   # ties and points beyond ref
                pts.append(p)
            runs.append([dict(zip(names, p)) for p in pts])
            expect.append([(hv_inclusion_exclusion(pts[:k], ref), front_size(pts[:k], ref))
                           for k in range(1, n + 1)])
        out, at, worst, fronts = hv_stream(problem, runs), 0, 0.0, True
        for e in expect:
            for hv, fr in e:
                worst = max(worst, abs(out[at]["hv"] - hv))
                fronts &= out[at]["front"] == fr
                at += 1
        check(worst < 1e-9, "hone-bench-hv %s: %d prefixes of %d random sets (n <= 12, duplicates, ties, "
              "points on and beyond ref) equal inclusion-exclusion (max |diff| %.1e)" % (
                  problem, at, len(runs), worst))
        check(fronts, "hone-bench-hv %s: front sizes equal the brute-force count" % problem)
        big = [[round(rng.uniform(0, s), 3) for s in scale] for _ in range(40)]
        got = hv_stream(problem, [[dict(zip(names, p)) for p in big]])[-1]["hv"]
        want = hv_grid(big, ref)
        check(abs(got - want) < 1e-9, "hone-bench-hv %s: 40 points, coordinate-grid count %.12g -> %.12g" % (
            problem, want, got))

    # Feasibility and best-feasible bookkeeping.
    out = hv_stream("branin_disc", [[{"branin": 5.0, "disc": 60.0}, {"branin": 7.0, "disc": 50.0},
                                     {"error": "x"}, {"branin": 1.0, "disc": 51.0}, {"branin": 6.0, "disc": 1.0}]])
    check([o["best"] for o in out] == [None, 7.0, 7.0, 7.0, 6.0] and
          [o["feasible"] for o in out] == [False, True, False, False, True],
          "hone-bench-hv branin_disc: best feasible value (disc <= 50, bound included; errors infeasible)")
    out = hv_stream("branincurrin", [[{"branin": 1.0, "currin": 1.0, "feasible": False}, {"branin": 17.0,
                                                                                         "currin": 5.0}]])
    check(out[0]["hv"] == 0 and abs(out[1]["hv"] - 1.0) < 1e-15, "hone-bench-hv: \"feasible\": false adds no volume")
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--build", default=default_build(),
                    help="build directory (default $HONE_BUILD, else ROOT/build)")
    ap.add_argument("--seeds", default="10", help="a count (10: seeds 0-9, the default) or a list (0-4,7)")
    ap.add_argument("--problems", default=",".join(BUDGETS), help="comma-separated, from: " + ", ".join(BUDGETS))
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS), help="from: " + ", ".join(ALL_METHODS))
    ap.add_argument("--hone-bench", help="hone's runner (default BUILD/bench/hone-bench-quality)")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    ap.add_argument("--out", help="raw JSON lines (default BUILD/bench/moo-results.jsonl)")
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--check", action="store_true", help="verify the problems and the scorer, then exit")
    args = ap.parse_args()

    one_blas_thread()
    build = os.path.abspath(args.build)
    tools = Tools(build, args.hone_bench)
    tools.check()
    if args.check:
        return run_check(tools)
    seeds = parse_seeds(args.seeds)
    problems = args.problems.split(",")
    methods = args.methods.split(",")
    for p in problems:
        if p not in BUDGETS:
            sys.exit("moo.py: unknown problem %r (known: %s)" % (p, ", ".join(BUDGETS)))
    for m in methods:
        if m not in ALL_METHODS:
            sys.exit("moo.py: unknown method %r (known: %s)" % (m, ", ".join(ALL_METHODS)))
    descs = {p: tools.describe(p) for p in problems}
    python = None
    if any(m.startswith("optuna/") for m in methods):
        python = find_optuna_python()
        if not python:
            sys.exit("moo.py: Optuna is not installed: apt-get install -y python3-optuna "
                     "(or leave it out with --methods)")

    tools.hone_problems()
    jobs = []      # the longest (Optuna) first, so that both slots stay busy to the end
    for m in methods:
        if m.startswith("optuna/"):
            for p in problems:
                for i in range(0, len(seeds), OPTUNA_CHUNK):
                    chunk = seeds[i:i + OPTUNA_CHUNK]
                    jobs.append(("%s %s seeds %s" % (m, p, chunk), run_optuna,
                                 (tools, python, descs[p], m, chunk, BUDGETS[p])))
    for m in methods:
        if m.startswith("hone/"):
            for p in problems:
                for s in seeds:
                    jobs.append(("%s %s seed %d" % (m, p, s), run_hone, (tools, descs[p], m, s, BUDGETS[p])))
    if "random" in methods:
        for p in problems:
            jobs.append(("random %s" % p, run_random, (tools, descs[p], seeds, BUDGETS[p])))

    print("moo.py: %d jobs (%d seeds, problems %s), %d at a time" % (len(jobs), len(seeds), ",".join(problems),
                                                                     args.jobs), file=sys.stderr)
    results, errors, elapsed = run_jobs(jobs, args.jobs, "jobs", 10)
    for p in problems:
        try:
            score(tools, p, [r for r in results if r["problem"] == p])
        except Exception as e:
            errors.append("scoring %s: %s" % (p, e))
            results = [r for r in results if r["problem"] != p]

    results.sort(key=lambda r: (r["problem"], r["method"], r["seed"]))
    out_path = args.out or os.path.join(build, "bench", "moo-results.jsonl")
    write_jsonl(out_path, results)
    versions = sorted({r["optuna_version"] for r in results if "optuna_version" in r})
    lines = ["# hone several-goals benchmark", "",
             "%d seeds (%s); methods %s%s; %.0f s on %d jobs; raw runs: %s" % (
                 len(seeds), ",".join(map(str, seeds)), ", ".join(methods),
                 " (Optuna %s)" % ", ".join(versions) if versions else "", elapsed, args.jobs, out_path), ""]
    lines += tables(results, problems, methods, descs)
    return finish(lines, errors, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
