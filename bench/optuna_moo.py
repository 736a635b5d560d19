#!/usr/bin/python3
"""Optuna's samplers on the several-goals problems (bench/moo.py, issue 6).

    /usr/bin/python3 bench/optuna_moo.py --eval build/bench/hone-eval \\
        --hv build/bench/hone-bench-hv --problem branincurrin --seeds 0-4 \\
        --budget 30 --sampler nsga2|nsga2_pop10|tpe|tpe_multivariate

The problem (parameters, metrics, objectives, outcome constraints) comes from
`hone-bench-hv --describe`, and every point is evaluated by one `hone-eval --serve`
process, so Optuna is measured on the same C code as random search and hone. Prints one
JSON line per seed: the point and the reading of every trial in order, and the time
Optuna took to produce each; bench/moo.py scores them with hone-bench-hv.

Samplers (each seeded, one study per seed):
  nsga2             NSGAIISampler() with its defaults: Optuna 3.x's default sampler for
                    multi-objective studies. Its population is 50, and its first
                    generation is drawn at random, so at these budgets (30 and 50
                    trials) it IS random search (with Optuna's RNG).
  nsga2_pop10       NSGAIISampler(population_size=10): 3 to 5 generations within the
                    budget, the evolutionary sampler given a chance.
  tpe               TPESampler(): multi-objective TPE (MOTPE) with several objectives,
                    Optuna's default sampler with one; 10 random startup trials.
  tpe_multivariate  TPESampler(multivariate=True).
Every objective is minimized (study directions "minimize"). An outcome constraint
("disc <= 50") goes to the sampler's constraints_func as value - bound (<= 0 feasible);
an infeasible trial is evaluated and counts against the budget, as it would for any
black-box constraint. Uses Debian's python3-optuna (apt-get install python3-optuna).
"""
import argparse
import json
import re
import sys
import time

from bench_common import Server, describe, import_optuna, parse_seeds


class Evaluator(Server):
    """One `hone-eval --serve PROBLEM` process: a point in, its reading out (an error
    reading raises)."""

    def __call__(self, x):
        reading = super().__call__(x)
        if "error" in reading:
            raise RuntimeError("hone-eval: %s" % reading["error"])
        return reading


def parse_constraint(text):
    """'disc <= 50' -> ('disc', 50.0): the only form the problems use."""
    m = re.fullmatch(r"\s*(\w+)\s*<=\s*([-+0-9.eE]+)\s*", text)
    if not m:
        raise ValueError("unsupported outcome constraint %r" % text)
    return m.group(1), float(m.group(2))


def make_sampler(optuna, name, seed, constraints_func):
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints_func)
    if name == "nsga2_pop10":
        return optuna.samplers.NSGAIISampler(population_size=10, seed=seed, constraints_func=constraints_func)
    if name in ("tpe", "tpe_multivariate"):
        return optuna.samplers.TPESampler(seed=seed, multivariate=name == "tpe_multivariate",
                                          constraints_func=constraints_func)
    raise ValueError("unknown sampler %r" % name)


def run(optuna, desc, evaluate, sampler_name, seed, budget):
    objectives = desc["objectives"]
    constraints = [parse_constraint(c) for c in desc["outcome_constraints"]]
    constraints_func = (lambda t: t.user_attrs["constraints"]) if constraints else None
    sampler = make_sampler(optuna, sampler_name, seed, constraints_func)
    if len(objectives) == 1:
        study = optuna.create_study(direction="minimize", sampler=sampler)
    else:
        study = optuna.create_study(directions=["minimize"] * len(objectives), sampler=sampler)
    params, readings, gen_ms = [], [], []
    for _ in range(budget):
        t0 = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(p["name"], p["bounds"][0], p["bounds"][1]) for p in desc["parameters"]]
        gen_ms.append((time.perf_counter() - t0) * 1000.0)
        reading = evaluate(x)
        if constraints:
            trial.set_user_attr("constraints", [reading[name] - bound for name, bound in constraints])
        values = [reading[name] for name in objectives]
        study.tell(trial, values[0] if len(values) == 1 else values)
        params.append(x)
        readings.append(reading)
    return {
        "problem": desc["problem"],
        "method": "optuna/" + sampler_name,
        "seed": seed,
        "budget": budget,
        "optuna_version": optuna.__version__,
        "sampler": type(sampler).__name__,
        "params": params,
        "readings": readings,
        "gen_ms": gen_ms,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", required=True, help="path of hone-eval")
    ap.add_argument("--hv", required=True, help="path of hone-bench-hv (for --describe)")
    ap.add_argument("--problem", required=True)
    ap.add_argument("--seeds", default="0", help="e.g. 0-9 or 1,4,7")
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--sampler", default="nsga2", choices=["nsga2", "nsga2_pop10", "tpe", "tpe_multivariate"])
    args = ap.parse_args()

    optuna = import_optuna()

    desc = describe(args.hv, args.problem)
    evaluate = Evaluator(args.eval, args.problem)
    try:
        for seed in parse_seeds(args.seeds, count=False):
            print(json.dumps(run(optuna, desc, evaluate, args.sampler, seed, args.budget)), flush=True)
    finally:
        evaluate.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
