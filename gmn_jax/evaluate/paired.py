"""Paired comparison of two training runs from their logged bounds.

Two runs with the same seed see the same episodes and the same noise at the
same step (episodes.episode_batch and the train step's fold_in(seed, step)),
so the difference of their logged bounds at a step is free of the episodes'
spread, which is much larger than most effects an ablation looks for.
"""
import json

import numpy as np


def read_log(path: str) -> dict:
  """metrics.jsonl -> {step: its record}."""
  with open(path) as f:
    return {r["step"]: r for r in map(json.loads, f)}


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
      row[name] = ((float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))))
                   if len(d) > 1 else None)
    rows.append(row)
  return rows


def markdown(rows: list, first: int, length: int) -> str:
  cell = lambda v: "n/a" if v is None else f"{v[0]:+.2f} ± {v[1]:.2f}"
  lines = [f"| steps | pairs | t = {first} | t = {first + 1}..{length - 1} "
           f"| t = {length - 1} |", "|---|---|---|---|---|"]
  lines += [f"| {r['steps']} | {r['pairs']} | {cell(r['first'])} | "
            f"{cell(r['later'])} | {cell(r['last'])} |" for r in rows]
  return "\n".join(lines)
