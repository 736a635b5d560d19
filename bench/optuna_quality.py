#!/usr/bin/python3
"""Optuna's TPE sampler on hone's quality-benchmark problems.

    /usr/bin/python3 bench/optuna_quality.py --bench build/bench/hone-bench-quality \\
        --problem branin --seeds 0,1,2 [--budget N] [--multivariate]

The problem (its Ax parameters, budget, optimum and constraints) comes from
`hone-bench-quality --describe`, and every point is scored by `hone-bench-quality
--serve`, so Optuna and hone are measured on the very same code. Prints one JSON line per
seed, in the format of hone-bench-quality's runs (bench/README.md).

Search space, as Ax means it: a float range is suggest_float (log=True for "scaling":
"log"; step for "step_size"), an int range suggest_int, a choice suggest_categorical.
Constraints: TPESampler(constraints_func=...) with the constraint's lhs - rhs. A
sampled point that violates it is rejected: it does not count against the budget and
is never the best (as with random search in hone-bench-quality), but it is told to the
study as a COMPLETE trial carrying its violation, so that TPE ranks it below every
feasible trial (Optuna sorts infeasible trials by violation and ignores their value).
Plain rejection (telling it FAIL, which TPE ignores) does not work: independent TPE
samples each coordinate from its own marginal and kept proposing the same infeasible
corner thousands of times in a row.

Uses Debian's python3-optuna (apt-get install python3-optuna).
"""
import argparse
import json
import sys
import time

from bench_common import Server, describe, import_optuna, parse_seeds


class Problem:
    """The problem as hone-bench-quality describes it, scored by its --serve process."""

    def __init__(self, bench, name):
        self.desc = describe(bench, name)
        self.server = Server(bench, name)

    def evaluate(self, params):
        reply = self.server(params)
        return reply["value"], reply["feasible"], reply["violation"]

    def close(self):
        self.server.close()


def suggest(trial, param):
    name = param["name"]
    if "values" in param:
        return trial.suggest_categorical(name, param["values"])
    lo, hi = param["bounds"]
    log = param.get("scaling") == "log"
    step = param.get("step_size")
    if param.get("parameter_type") == "int":
        return trial.suggest_int(name, int(lo), int(hi), step=int(step or 1), log=log)
    return trial.suggest_float(name, float(lo), float(hi), step=step, log=log)


def run(optuna, problem, seed, budget, multivariate):
    constrained = bool(problem.desc["parameter_constraints"])
    constraints_func = (lambda t: (t.user_attrs["violation"],)) if constrained else None
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate,
                                         constraints_func=constraints_func)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    best, values, gen_ms = [], [], []
    best_y, best_params = float("inf"), None
    rejected, pending_ms = 0, 0.0
    while len(values) < budget:
        t0 = time.perf_counter()
        trial = study.ask()
        params = {p["name"]: suggest(trial, p) for p in problem.desc["parameters"]}
        pending_ms += (time.perf_counter() - t0) * 1000.0
        y, feasible, violation = problem.evaluate(params)
        if constrained:
            trial.set_user_attr("violation", violation)
        study.tell(trial, y)
        if not feasible:
            rejected += 1
            if rejected > 100 * budget:
                raise RuntimeError("no feasible point in %d tries" % rejected)
            continue
        if y < best_y:
            best_y, best_params = y, params
        values.append(y)
        best.append(best_y)
        gen_ms.append(pending_ms)
        pending_ms = 0.0
    line = {
        "problem": problem.desc["problem"],
        "method": "optuna/tpe_multivariate" if multivariate else "optuna/tpe",
        "seed": seed,
        "budget": budget,
        "optimum": problem.desc["optimum"],
        "optuna_version": optuna.__version__,
        "best": best,
        "values": values,
        "gen_ms": gen_ms,
        "gen_ms_total": sum(gen_ms),
        "best_params": best_params,
    }
    if constrained:
        line.update({"constraint_handling": "constraints_func", "rejected": rejected, "violations": 0})
    return line


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", required=True, help="path of hone-bench-quality")
    ap.add_argument("--problem", required=True)
    ap.add_argument("--seeds", default="0", help="e.g. 0-9 or 1,4,7")
    ap.add_argument("--budget", type=int, default=0, help="default: the problem's")
    ap.add_argument("--multivariate", action="store_true", help="TPESampler(multivariate=True)")
    args = ap.parse_args()

    optuna = import_optuna()
    problem = Problem(args.bench, args.problem)
    try:
        budget = args.budget or problem.desc["budget"]
        for seed in parse_seeds(args.seeds, count=False):
            print(json.dumps(run(optuna, problem, seed, budget, args.multivariate)), flush=True)
    finally:
        problem.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
