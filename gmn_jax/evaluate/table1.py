"""Table 1: conditional NLL against the number of conditioning examples."""
import csv
import math
import os

import jax
import numpy as np

from gmn_jax import likelihood
from gmn_jax.config import Config, first_scored_step
from gmn_jax.data import EpisodeSpec, test_episodes
from gmn_jax.evaluate import paper

CSV_FIELDS = ("model", "c_test", "t", "nll", "stderr", "paper", "diff", "steps")


def episode_nlls(params, config: Config, images: np.ndarray, c_test: int,
                 num_episodes: int, num_samples: int, length: int = 20,
                 seed: int = 1234, batch: int = 2, progress=None) -> np.ndarray:
  """-> [num_episodes, T] importance-sampled NLLs on fixed test episodes.

  Episode i and its samples of z depend only on (seed, i): the numbers do not
  change with `batch`. Conditional models get conditional ordering.
  """
  spec = EpisodeSpec(length, c_test, conditional=not config.pseudo_input)
  x = test_episodes(images, spec, num_episodes, seed).astype(np.float32)
  nll = lambda xb, keys: likelihood.batch_conditional_nll(
      params, xb, keys, config=config, num_samples=num_samples)
  return np.concatenate(per_episode(nll, x, seed, batch, progress))


def per_episode(fn, episodes: np.ndarray, seed: int, batch: int,
                progress=None) -> list:
  """fn(x [b, T, 784], keys [b]) over `episodes` [E, T, 784], `batch` at a
  time, episode i with the key fold_in(key(seed), i), so that its result
  does not depend on `batch`. -> fn's results per batch, on the host, in
  order; progress(done, E) after each batch."""
  base = jax.random.key(seed)
  out = []
  for start in range(0, len(episodes), batch):
    idx = np.arange(start, min(start + batch, len(episodes)))
    keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(idx)
    out.append(jax.device_get(fn(episodes[idx], keys)))
    if progress:
      progress(idx[-1] + 1, len(episodes))
  return out


def summarize(model: str, config: Config, c_test: int, nlls: np.ndarray,
              steps: int) -> list:
  """[E, T] -> one row per reported t: the CSV_FIELDS of Table 1."""
  rows = []
  first = first_scored_step(config, c_test)
  for t in range(first, nlls.shape[1]):
    mean = float(nlls[:, t].mean())
    stderr = float(nlls[:, t].std(ddof=1) / math.sqrt(len(nlls))) \
        if len(nlls) > 1 else float("nan")
    ref = paper.paper_value(model, c_test, t)
    rows.append({"model": model, "c_test": c_test, "t": t,
                 "nll": round(mean, 2), "stderr": round(stderr, 2),
                 "paper": "" if ref is None else ref,
                 "diff": "" if ref is None else round(mean - ref, 2),
                 "steps": steps})
  return rows


def episodes_for_stderr(rows: list, num_episodes: int,
                        target: float = 0.3) -> int:
  """Episodes per C_test that would bring every cell's standard error under
  `target`, extrapolated from these rows (the error falls as 1/sqrt(E))."""
  worst = max(float(r["stderr"]) for r in rows)
  return max(num_episodes, math.ceil(num_episodes * (worst / target) ** 2))


def write_csv(path: str, rows: list) -> None:
  with open(path, "w", newline="") as f:
    w = csv.DictWriter(f, CSV_FIELDS)
    w.writeheader()
    w.writerows(rows)


def read_csv(path: str) -> list:
  with open(path) as f:
    return list(csv.DictReader(f))


def markdown(rows: list, header: str) -> str:
  """Table 1's layout: one line per (model, C_test), columns t in COLUMNS;
  each cell `ours ± se (paper, diff)`."""
  lines = [header, "",
           "| model | C_test | steps | " + " | ".join(map(str, paper.COLUMNS))
           + " |", "|---" * (3 + len(paper.COLUMNS)) + "|"]
  keys = sorted({(r["model"], int(r["c_test"])) for r in rows})
  for model, c in keys:
    cells = {int(r["t"]): r for r in rows
             if r["model"] == model and int(r["c_test"]) == c}
    steps = next(iter(cells.values()))["steps"]
    shown = []
    for t in paper.COLUMNS:
      r = cells.get(t)
      if r is None:
        shown.append("")
        continue
      cell = f"{float(r['nll']):.1f} ± {float(r['stderr']):.1f}"
      if r["paper"] != "":
        cell += f" ({float(r['paper']):.1f}, {float(r['diff']):+.1f})"
      shown.append(cell)
    lines.append(f"| {model} | {c} | {steps} | " + " | ".join(shown) + " |")
  lines.append("")
  lines.append("Cells: ours ± standard error (paper, ours - paper), nats.")
  return "\n".join(lines) + "\n"


def plot(rows: list, path: str) -> None:
  """NLL against t for each C_test: ours (with stderr) and the paper's."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  keys = sorted({(r["model"], int(r["c_test"])) for r in rows})
  fig, ax = plt.subplots(figsize=(6, 4))
  for i, (model, c) in enumerate(keys):
    rs = [r for r in rows if r["model"] == model and int(r["c_test"]) == c]
    t = [int(r["t"]) for r in rs]
    y = np.array([float(r["nll"]) for r in rs])
    se = np.array([float(r["stderr"]) for r in rs])
    color = f"C{i}"
    ax.plot(t, y, color=color, label=f"{model}, C_test={c}")
    ax.fill_between(t, y - 2 * se, y + 2 * se, color=color, alpha=0.2)
    ref = [(int(r["t"]), float(r["paper"])) for r in rs if r["paper"] != ""]
    if ref:
      ax.plot(*zip(*ref), "o--", color=color, label=f"paper, C_test={c}")
  ax.set_xlabel("number of conditioning examples t")
  ax.set_ylabel("-log p(x_t | X_<t)  [nats]")
  ax.legend(fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=120)
  plt.close(fig)
