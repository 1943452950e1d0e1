"""Table 1's NLLs split by whether x_t repeats an earlier image of its episode.

Episodes draw their drawings with replacement (REFERENCE.md), so at C_test = 1
about 62% of the x_19 are exact copies of an earlier element. A model that can
point at a memory slot pays for those only the cost of copying it, so a cell's
mean mixes two very different costs, in proportions set by t and C_test.
"""
import numpy as np

from gmn_jax.evaluate import paired


def repeated(x: np.ndarray) -> np.ndarray:
  """x: [E, T, D] -> [E, T] bool: x[e, t] equals some x[e, s] with s < t."""
  same = np.all(x[:, :, None, :] == x[:, None, :, :], axis=-1)  # [E, T, T]
  return np.tril(same, k=-1).any(-1)


def split(nlls: np.ndarray, repeats: np.ndarray, ts) -> list:
  """nlls, repeats: [E, T] -> per t in ts, a dict of t, the share of repeats
  and (mean, standard error) of the NLL over repeats, novel images and all;
  None where a group has fewer than two episodes."""
  group = lambda v: paired.mean_and_stderr(v) if len(v) > 1 else None
  return [{"t": t, "share": float(repeats[:, t].mean()),
           "repeat": group(nlls[repeats[:, t], t]),
           "novel": group(nlls[~repeats[:, t], t]),
           "all": group(nlls[:, t])} for t in ts]


def markdown(rows_by_c_test: dict) -> str:
  """{C_test: split(...)} -> one table, a line per (C_test, t)."""
  cell = lambda v: "n/a" if v is None else f"{v[0]:.1f} ± {v[1]:.1f}"
  lines = ["| C_test | t | share of repeats | NLL of repeats | NLL of novel "
           "images | NLL of all |", "|---|---|---|---|---|---|"]
  for c, rows in sorted(rows_by_c_test.items()):
    lines += [f"| {c} | {r['t']} | {r['share']:.2f} | {cell(r['repeat'])} | "
              f"{cell(r['novel'])} | {cell(r['all'])} |" for r in rows]
  return "\n".join(lines)
