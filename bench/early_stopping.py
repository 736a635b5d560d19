#!/usr/bin/python3
"""hone's early-stopping benchmark (issue 5): steps saved against quality kept.

    /usr/bin/python3 bench/early_stopping.py [--build DIR] [--seeds N|LIST] [--budget N]
                                             [--workers 8] [--epoch-ms 20] [--dim 3]
                                             [--modes off,percentile,percentile-late]
                                             [--percentile P] [--min-progression N] [--out FILE]

For every seed and mode, one experiment through a real hone-broker (ipc endpoint in a
temporary directory, store on disk) with --workers hone-workers. Each trial is a
training run of the learning-curve family of bench/functions.h ("curve": 50 epochs, a
loss that decays from 2.0 to final(x) at a speed set by x0, noise sigma 0.01), played by
`hone-eval curve` printing one reading a line, --epoch-ms apart. The modes:

  off          no early stopping: every trial trains its 50 epochs
  percentile   the config's "early_stopping" block, Ax's percentile strategy (below):
               the broker decides on every reading, the worker's program gets SIGTERM
  percentile-late   the same with min_progression doubled (10 epochs of 50)
  threshold    Ax's threshold strategy, stopping a curve still above --threshold

Both modes optimize with hone's default generation strategy ("fast": Sobol, then GP
BO, early-stopped trials contributing their latest reading) and the same seeds.

Scored per run:
  steps   the epochs actually trained, summed over trials (a trial's largest step)
  best    the noise-free final(x) of the best COMPLETED trial: the model one would ship
          (an early-stopped trial never finished training, so it cannot be shipped)
Reported: medians over seeds; "saved" = 1 - median steps(mode) / median steps(off);
"best gap" = (median best(mode) - median best(off)) / range of final over the cube
(range: hone-eval's documented [0.1, 0.1 + sum max(c_i, 1 - c_i)^2]).
Issue 5's target: at least 40 % of the steps saved, best gap at most 2 % of the range.

Prints a markdown table (bench/README.md) and writes every run as a JSON line to --out
(default BUILD/bench/early-stopping-results.jsonl).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench_common import ROOT, BrokerRun, BuildTools, parse_seeds

HORIZON = 50                # HONE_BENCH_CURVE_HORIZON (bench/functions.h)

# Ax's PercentileEarlyStoppingStrategy arguments, with hone's choices where Ax has no
# default that fits a 50-epoch curve: the median rule (Ax's default percentile), no
# decision before epoch 5 of 50 (a tenth of training), and at least 5 curves to compare
# against. Mode "percentile-late" waits twice as long (epoch 10, a fifth of training),
# the cautious setting: fewer steps saved, fewer slow starters lost.
PERCENTILE = {"type": "percentile", "percentile_threshold": 50, "min_progression": 5,
              "min_curves": 5}


class Tools(BuildTools):
    def __init__(self, build):
        super().__init__(build)
        BuildTools.require("early_stopping.py", [self.eval, self.broker, self.hone, self.worker])


def config_for(args, mode, seed):
    config = {
        "name": "curve",
        "parameters": [{"name": "x%d" % i, "type": "range", "bounds": [0.0, 1.0]} for i in range(args.dim)],
        "objective": "-loss",
        "generation_strategy": {"method": "fast", "initialization_random_seed": seed},
        "max_trials": args.budget,
        "leases": {"heartbeat_ms": 200, "liveness": 5},
    }
    if mode in ("percentile", "percentile-late"):
        config["early_stopping"] = dict(PERCENTILE, percentile_threshold=args.percentile,
                                        min_progression=args.min_progression * (2 if mode == "percentile-late" else 1))
    elif mode == "threshold":
        config["early_stopping"] = {"type": "threshold", "metric_threshold": args.threshold,
                                    "min_progression": args.min_progression}
    return config


def final_value(tools, x):
    out = subprocess.run([tools.eval, "--final", "curve"] + ["%.17g" % v for v in x],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["final"]


def worst_final(dim):
    """The top of final's range over the cube (functions.h: 0.1 + sum max(c_i, 1 - c_i)^2)."""
    c = [(i + 1) / (dim + 1) for i in range(dim)]
    return 0.1 + sum(max(ci, 1 - ci) ** 2 for ci in c)


def run_one(tools, args, mode, seed):
    with BrokerRun(tools, "hone-es-", dir=args.data_root) as run:
        hone = run.hone
        config_path = run.path("config.json")
        with open(config_path, "w") as f:
            json.dump(config_for(args, mode, seed), f)
        subprocess.run(hone + ["create", config_path], check=True, capture_output=True, text=True)
        started = time.monotonic()
        workers = []
        for k in range(args.workers):
            cmd = [tools.worker, "--broker", run.endpoint, "--experiment", "curve", "--name", "es-%d" % k]
            if mode != "off":
                cmd += ["--stop-grace", "5"]     # a stopped program gets SIGTERM, then SIGKILL after 5 s
            cmd += ["--", tools.eval, "--epoch-ms", str(args.epoch_ms), "--seed", str(seed),
                   "curve"] + ["{x%d}" % i for i in range(args.dim)]
            workers.append(run.spawn(cmd, "worker-%d.log" % k))
        run.wait_workers(workers)
        wall = time.monotonic() - started
        out = subprocess.run(hone + ["--json", "trials", "curve"], check=True, capture_output=True, text=True)
        trials = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    steps, best, counts = 0, float("inf"), {}
    for t in trials:
        counts[t["status"]] = counts.get(t["status"], 0) + 1
        steps += int(t.get("progression", 0))
        if t["status"] == "COMPLETED":
            best = min(best, final_value(tools, [t["params"]["x%d" % i] for i in range(args.dim)]))
    return {"mode": mode, "seed": seed, "trials": len(trials), "statuses": counts, "steps": steps,
            "best_final": best, "wall_s": wall, "workers": args.workers, "budget": args.budget,
            "epoch_ms": args.epoch_ms, "dim": args.dim}


def table(results, modes, args):
    span = worst_final(args.dim) - 0.1
    by = {m: [r for r in results if r["mode"] == m] for m in modes}
    base = by.get("off")
    base_steps = statistics.median(r["steps"] for r in base) if base else None
    base_best = statistics.median(r["best_final"] for r in base) if base else None
    print("| mode | runs | median steps | steps saved | median best final | best gap (% of range) "
          "| early-stopped trials (median) | median wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for m in modes:
        rs = by[m]
        if not rs:
            continue
        steps = statistics.median(r["steps"] for r in rs)
        best = statistics.median(r["best_final"] for r in rs)
        stopped = statistics.median(r["statuses"].get("EARLY_STOPPED", 0) for r in rs)
        saved = "%.1f %%" % (100 * (1 - steps / base_steps)) if base_steps else "n/a"
        gap = "%+.2f %%" % (100 * (best - base_best) / span) if base_best is not None else "n/a"
        print("| %s | %d | %d | %s | %.4f | %s | %g | %.1f |" % (m, len(rs), steps, saved, best, gap, stopped,
                                                                statistics.median(r["wall_s"] for r in rs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seeds", default="10", help="N (0..N-1) or a list (default 10)")
    ap.add_argument("--budget", type=int, default=48, help="trials per run (default 48)")
    ap.add_argument("--workers", type=int, default=8, help="hone-workers per run (default 8)")
    ap.add_argument("--epoch-ms", type=int, default=20, help="time one epoch takes (default 20)")
    ap.add_argument("--dim", type=int, default=3, help="parameters of the curve family (default 3)")
    ap.add_argument("--threshold", type=float, default=0.6, help="threshold mode's metric_threshold")
    ap.add_argument("--percentile", type=float, default=PERCENTILE["percentile_threshold"],
                    help="percentile mode's percentile_threshold (default %(default)s)")
    ap.add_argument("--min-progression", type=int, default=PERCENTILE["min_progression"],
                    help="the strategies' min_progression (default %(default)s)")
    ap.add_argument("--modes", default="off,percentile,percentile-late")
    ap.add_argument("--data-root", default=None, help="parent of the temporary store directories")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    tools = Tools(args.build)
    modes = args.modes.split(",")
    out_path = args.out or os.path.join(args.build, "bench", "early-stopping-results.jsonl")
    results = []
    with open(out_path, "w") as out:
        for seed in parse_seeds(args.seeds):
            for mode in modes:      # modes side by side for each seed: the same machine load
                r = run_one(tools, args, mode, seed)
                results.append(r)
                out.write(json.dumps(r) + "\n")
                out.flush()
                print("seed %d %-10s steps %4d best %.4f stopped %d (%.1f s)"
                      % (seed, mode, r["steps"], r["best_final"], r["statuses"].get("EARLY_STOPPED", 0),
                         r["wall_s"]), file=sys.stderr)
    print("Early stopping: %d workers, %d trials a run, %d epochs of %d ms a trial, d = %d, seeds %s.\n"
          % (args.workers, args.budget, HORIZON, args.epoch_ms, args.dim, args.seeds))
    table(results, modes, args)


if __name__ == "__main__":
    main()
