"""Paired comparison of two models, on their training logs or test NLLs.

Two runs with the same seed see the same episodes and the same noise at the
same step (episodes.episode_batch and the train step's fold_in(seed, step)),
so the difference of their logged bounds at a step is free of the episodes'
spread, which is much larger than most effects an ablation looks for. Two
evaluations with the same --seed score the same test episodes (saved with
--save_nlls), so the same holds per episode on the test alphabets.
"""
import glob
import json
import os
import re

import numpy as np

from gmn_jax.config import Config


def read_log(path: str) -> dict:
  """metrics.jsonl -> {step: its record}."""
  with open(path) as f:
    return {r["step"]: r for r in map(json.loads, f)}


def mean_and_stderr(d: np.ndarray) -> tuple:
  """[n] paired differences -> (their mean, its standard error)."""
  return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def differences(baseline: dict, run: dict, windows, first: int = 0) -> list:
  """run minus baseline, in nats (-bound, so negative is better), over the
  steps both logged, per window (lo, hi] of steps: dicts with the window,
  the number of pairs and, for t = first, the mean over the later t and
  the last t, the mean difference and its standard error (None for a
  window with fewer than two pairs)."""
  rows = []
  for lo, hi in windows:
    steps = sorted(s for s in run if lo < s <= hi and s in baseline)
    row = {"steps": f"{lo}-{hi}", "pairs": len(steps)}
    for name, pick in (("first", lambda b: b[first]),
                       ("later", lambda b: np.mean(b[first + 1:])),
                       ("last", lambda b: b[-1])):
      d = np.array([np.asarray(pick(baseline[s]["bound"])) -
                    np.asarray(pick(run[s]["bound"])) for s in steps])
      row[name] = mean_and_stderr(d) if len(d) > 1 else None
    rows.append(row)
  return rows


def markdown(rows: list, first: int, length: int) -> str:
  cell = lambda v: "n/a" if v is None else f"{v[0]:+.2f} ± {v[1]:.2f}"
  lines = [f"| steps | pairs | t = {first} | t = {first + 1}..{length - 1} "
           f"| t = {length - 1} |", "|---|---|---|---|---|"]
  lines += [f"| {r['steps']} | {r['pairs']} | {cell(r['first'])} | "
            f"{cell(r['later'])} | {cell(r['last'])} |" for r in rows]
  return "\n".join(lines)


def read_nlls(eval_dir: str) -> dict:
  """{C_test: [episodes, T] nats} from an evaluation's nlls_c<C>.npy files."""
  out = {}
  for path in glob.glob(os.path.join(eval_dir, "nlls_c*.npy")):
    c = re.fullmatch(r"nlls_c(\d+)\.npy", os.path.basename(path))
    if c:
      out[int(c.group(1))] = np.load(path, allow_pickle=False)
  return out


def saved_evaluation(eval_dir: str, config, steps: int) -> tuple:
  """-> (its provenance.json, read_nlls' {C_test: [episodes, T] nats}) of an
  evaluation saved with --save_nlls, checked to be of a model with this
  config and training steps (its params cannot be checked: an evaluation
  records no fingerprint of them); ValueError naming the difference."""
  path = os.path.join(eval_dir, "provenance.json")
  if not os.path.exists(path):
    raise FileNotFoundError(f"{path} is missing: give the output folder of "
                            "an evaluate.py run with --save_nlls.")
  with open(path) as f:
    record = json.load(f)
  nlls = read_nlls(eval_dir)
  if not nlls:
    raise FileNotFoundError(f"{eval_dir} has no nlls_c<C_test>.npy: rerun its "
                            "evaluation with --save_nlls.")
  mine = config.to_dict()
  # Fields added to Config later are absent from older records: their
  # defaults are what those evaluations ran.
  theirs = Config.from_dict(record.get("config", {})).to_dict()
  if mine != theirs or record.get("steps") != steps:
    diff = {k: (theirs[k], v) for k, v in mine.items() if theirs[k] != v}
    raise ValueError(
        f"{eval_dir} is an evaluation of another model: config differs in "
        f"{diff or 'nothing'} (saved, these params), steps "
        f"{record.get('steps')} against {steps}. Retabulate only an evaluation "
        "of these params, or evaluate them anew.")
  return record, nlls


def episode_differences(baseline: dict, run: dict, ts,
                        first=lambda c_test: 0) -> list:
  """run minus baseline per test episode (read_nlls' dicts), for each C_test
  both hold and each t in `ts` from first(C_test) on: dicts of c_test, t,
  episodes, the mean difference and its standard error. Episodes pair up by
  index, so both evaluations must share --seed; the shorter one's episode
  count is used. `first`: the first scored t (config.first_scored_step); a
  conditional model's saved NLLs before it are of predictions it is never
  asked for."""
  rows = []
  for c in sorted(set(baseline) & set(run)):
    n = min(len(baseline[c]), len(run[c]))
    d = run[c][:n] - baseline[c][:n]  # [episodes, T]
    for t in (t for t in ts if t >= first(c)):
      diff, stderr = mean_and_stderr(d[:, t])
      rows.append({"c_test": c, "t": t, "episodes": n, "diff": diff,
                   "stderr": stderr})
  return rows


def split_differences(baseline: dict, run: dict, ts,
                      first=lambda c_test: 0) -> list:
  """run minus baseline for evaluations of different characters (evaluate.py
  --split: test minus train is the generalisation gap), whose episodes do not
  pair: at each t of `ts` from first(C_test) on, the difference of the two
  means ± both standard errors combined, over all of each one's episodes.
  episode_differences' rows; episodes names both counts (run's, baseline's)."""
  rows = []
  for c in sorted(set(baseline) & set(run)):
    for t in (t for t in ts if t >= first(c)):
      (a, se_a), (b, se_b) = (mean_and_stderr(x[c][:, t])
                              for x in (baseline, run))
      rows.append({"c_test": c, "t": t,
                   "episodes": f"{len(run[c])} vs {len(baseline[c])}",
                   "diff": b - a, "stderr": float(np.hypot(se_a, se_b))})
  return rows


def corrected_rows(rows: list, baseline: dict, run: dict,
                   first=lambda c_test: 0) -> list:
  """Table 1 rows (table1.summarize's, or read from its CSV), measured with
  the baseline's estimator, moved by the paired mean of run minus baseline
  (read_nlls' dicts of the same --seed, whose episodes are the first of the
  rows' own): each cell as the run's estimator (say, more importance samples)
  would give it on the rows' episodes. The standard error combines both,
  sqrt(se_rows^2 + se_diff^2), conservatively: the two means share episodes.
  Cells without a paired difference are left out."""
  length = min(a.shape[1] for a in (*baseline.values(), *run.values()))
  diffs = {(d["c_test"], d["t"]): d for d in episode_differences(
      baseline, run, range(length), first)}
  out = []
  for r in rows:
    d = diffs.get((int(r["c_test"]), int(r["t"])))
    if d is None:
      continue
    nll = float(r["nll"]) + d["diff"]
    out.append({**r, "nll": round(nll, 2),
                "stderr": round(float(np.hypot(float(r["stderr"]),
                                               d["stderr"])), 2),
                "diff": "" if r["paper"] == "" else
                round(nll - float(r["paper"]), 2)})
  return out


def episode_markdown(rows: list) -> str:
  ts = sorted({r["t"] for r in rows})
  lines = ["| C_test | episodes | " + " | ".join(f"t = {t}" for t in ts) + " |",
           "|---|---|" + "---|" * len(ts)]
  cell = lambda r: "" if r is None else f"{r['diff']:+.2f} ± {r['stderr']:.2f}"
  for c in sorted({r["c_test"] for r in rows}):
    cells = {r["t"]: r for r in rows if r["c_test"] == c}
    episodes = next(iter(cells.values()))["episodes"]
    lines.append(f"| {c} | {episodes} | "
                 + " | ".join(cell(cells.get(t)) for t in ts) + " |")
  return "\n".join(lines)
