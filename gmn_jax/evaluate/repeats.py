"""Table 1's NLLs split by whether x_t repeats an earlier image of its episode.

Episodes draw their drawings with replacement (REFERENCE.md), so at C_test = 1
about 62% of the x_19 are exact copies of an earlier element. A model that can
point at a memory slot pays for those only the cost of copying it, so a cell's
mean mixes two very different costs, in proportions set by t and C_test.
"""
import numpy as np

from gmn_jax.evaluate import paired


def earlier_copies(x: np.ndarray) -> np.ndarray:
  """x: [E, T, D] -> [E, T, T] bool: x[e, s] with s < t is a copy of x[e, t]."""
  same = np.all(x[:, :, None, :] == x[:, None, :, :], axis=-1)
  return np.tril(same, k=-1)


def repeated(x: np.ndarray) -> np.ndarray:
  """x: [E, T, D] -> [E, T] bool: x[e, t] equals some x[e, s] with s < t."""
  return earlier_copies(x).any(-1)


def weight_on_copies(attention: np.ndarray, copies: np.ndarray,
                     offset: int) -> np.ndarray:
  """attention: [E, T, M] (query x_t over the memory's slots, image s in slot
  s + offset), copies: earlier_copies' [E, T, T] -> [E, T]: the attention x_t
  puts on the earlier copies of itself; NaN where x_t repeats no earlier
  image."""
  t = copies.shape[1]
  w = (attention[..., offset:offset + t] * copies).sum(-1)
  return np.where(copies.any(-1), w, np.nan)


def _cell(v, digits: int = 1) -> str:
  """(mean, standard error) or None -> a table cell."""
  return "n/a" if v is None else f"{v[0]:.{digits}f} ± {v[1]:.{digits}f}"


def split(nlls: np.ndarray, repeats: np.ndarray, ts) -> list:
  """nlls, repeats: [E, T] -> per t in ts, a dict of t, the share of repeats
  and (mean, standard error) of the NLL over repeats, novel images and all;
  None where a group has fewer than two episodes."""
  group = lambda v: paired.mean_and_stderr(v) if len(v) > 1 else None
  return [{"t": t, "share": float(repeats[:, t].mean()),
           "repeat": group(nlls[repeats[:, t], t]),
           "novel": group(nlls[~repeats[:, t], t]),
           "all": group(nlls[:, t])} for t in ts]


def markdown(rows_by_c_test: dict, weights_by_c_test: dict = None) -> str:
  """{C_test: split(...)} -> one table, a line per (C_test, t); with
  {C_test: {matcher: weight_on_copies(...)}}, a column per matcher: the mean
  over repeats of the attention on their copies."""
  matchers = sorted({m for w in (weights_by_c_test or {}).values() for m in w})
  lines = ["| C_test | t | share of repeats | NLL of repeats | NLL of novel "
           "images | NLL of all |" + "".join(
               f" {m} attention on the copies |" for m in matchers),
           "|---|---|---|---|---|---|" + "---|" * len(matchers)]
  for c, rows in sorted(rows_by_c_test.items()):
    for r in rows:
      w = [weights_by_c_test[c][m][:, r["t"]] for m in matchers]
      lines.append(
          f"| {c} | {r['t']} | {r['share']:.2f} | {_cell(r['repeat'])} | "
          f"{_cell(r['novel'])} | {_cell(r['all'])} |" + "".join(
              " n/a |" if np.isnan(v).all() else f" {np.nanmean(v):.2f} |"
              for v in w))
  return "\n".join(lines)


def _groups_markdown(columns: dict, digits: int = 1) -> str:
  """{name: {C_test: split(...)}} -> one table, a line per (C_test, t): each
  name's repeats, then each name's novel images."""
  names = list(columns)
  lines = ["| C_test | t |" + "".join(f" {n} of repeats |" for n in names)
           + "".join(f" {n} of novel images |" for n in names),
           "|---|---|" + "---|" * 2 * len(names)]
  first = columns[names[0]]
  for c in sorted(first):
    for i, r in enumerate(first[c]):
      rows = [columns[n][c][i] for n in names]
      lines.append(f"| {c} | {r['t']} |" + "".join(
          f" {_cell(row[group], digits)} |"
          for group in ("repeat", "novel") for row in rows))
  return "\n".join(lines)


def elbo_markdown(kl_by_c_test: dict, reconstruction_by_c_test: dict) -> str:
  """{C_test: split(KL [E, T], ...)} and {C_test: split(-log p(x | z) [E, T],
  ...)} -> one table: the two parts of the ELBO of repeats and of novel
  images, a line per (C_test, t)."""
  return _groups_markdown({"KL": kl_by_c_test,
                           "reconstruction": reconstruction_by_c_test})


def pseudo_input_markdown(rows_by_c_test: dict) -> str:
  """{C_test: split(attention on the pseudo-input [E, T], ...)} -> one table:
  how much of its attention x_t puts on the pseudo-input slot when it repeats
  an earlier image and when it is novel, a line per (C_test, t)."""
  return _groups_markdown({"attention on the pseudo-input": rows_by_c_test},
                          digits=2)
