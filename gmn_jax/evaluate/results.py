"""results/README.md and results/table1.csv from the per-run results.

Each results/<model>/ holds what `experiments/evaluate.py` wrote (table1.csv,
classification.json, provenance.json) and the training run's provenance
(training.json). This module joins them, checks the paper's qualitative
claims on the joined table, and writes the overview; and the index of the
params-only exports in pretrained/.
"""
import glob
import json
import os
import re

import numpy as np

from gmn_jax import checkpoints
from gmn_jax.config import Config, first_scored_step
from gmn_jax.evaluate import latent, paired, paper, table1
from gmn_jax.train.run_config import OBJECTIVE_FIELDS, RunConfig


EARLIER = "earlier"  # results/<model>/earlier/<steps>/: evaluations kept
# from before the model trained on, for comparisons at equal steps
UNFINISHED = "unfinished"  # pretrained/unfinished/<run>.msgpack: the latest
# params of a run whose schedule has not ended, so that a new machine (whose
# ~/runs is empty) continues it instead of starting again


def load_rows(results_dir: str, folder: str = "*") -> list:
  """The rows of every results/<folder>/table1.csv, in path order."""
  paths = glob.glob(os.path.join(results_dir, folder, "table1.csv"))
  return [row for path in sorted(paths) for row in table1.read_csv(path)]


def load_earlier_rows(results_dir: str) -> list:
  return load_rows(results_dir, os.path.join("*", EARLIER, "*"))


def _steps(row):
  return int(row["steps"]) if row.get("steps") not in (None, "") else None


def _model_steps(rows, model):
  """The training steps of `model`'s first row."""
  return _steps(next(r for r in rows if r["model"] == model))


def _nll(rows, model, c, t, steps="any"):
  for r in rows:
    if (r["model"] == model and int(r["c_test"]) == c and int(r["t"]) == t
        and steps in ("any", _steps(r))):
      return float(r["nll"])
  return None


# The paper's pairs of an attention model and its average twin (same C_train
# and training episodes), compared at the C_test both were trained on.
ATTENTION_VS_AVERAGE = (("gmn_c2", "avg_c2", 2),
                        ("gmn_c2_conditional", "avg_c2_conditional", 2))


def attention_average_pairs(models) -> list:
  """ATTENTION_VS_AVERAGE, and for each variant <row>_<change> of a pair's
  model among `models`, the pair with the same change on both sides
  (gmn_c2_conditional_rotations -> avg_c2_conditional_rotations): a variant
  is compared with the twin trained as it was, not with the paper's row."""
  pairs = list(ATTENTION_VS_AVERAGE)
  for model in sorted(models):
    row = paper.paper_row(model)
    for att, avg, c in ATTENTION_VS_AVERAGE:
      if model != row and row in (att, avg):
        change = model[len(row):]
        if (att + change, avg + change, c) not in pairs:
          pairs.append((att + change, avg + change, c))
  return pairs


def qualitative_claims(rows: list, earlier: list = (),
                       paired_nlls=None, train_nlls=None) -> list:
  """The paper's claims, checked on the table: (claim, holds), where holds is
  None when the table lacks a row the claim needs. Two models are compared at
  equal training steps only, with `earlier` evaluations (load_earlier_rows)
  standing in for a model that has trained on since. paired_nlls(model, c):
  its per-episode NLLs at C_test = c ([episodes, T] nats, the first of every
  model's test episodes, e.g. saved_nlls'), or None; where both of a failed
  attention-vs-average comparison's models have them, the claim also gives
  attention minus average per episode at each t it fails, so that a failure
  the episodes' spread could explain reads apart from a real one.
  train_nlls(model, c): the same on episodes of the training characters
  (train_split_nlls), or None; where both models have them, a failed claim
  also says how the two compare on the characters they trained on."""
  out = []
  for model in sorted({r["model"] for r in rows}):
    cs = sorted({int(r["c_test"]) for r in rows if r["model"] == model})
    if model == "vae":
      continue
    for c in cs:
      a, b = _nll(rows, model, c, max(c, 1)), _nll(rows, model, c, 19)
      if a is not None and b is not None:
        out.append((f"{model}, C_test={c}: NLL falls from t={max(c, 1)} to "
                    f"t=19 ({a:.1f} -> {b:.1f})", b < a))
    if 1 in cs and 4 in cs:
      drop = {c: _nll(rows, model, c, 4) - _nll(rows, model, c, 19)
              for c in (1, 4)}
      out.append((f"{model}: falls more steeply for C_test=1 than 4 (t=4->19:"
                  f" {drop[1]:.1f} vs {drop[4]:.1f} nats)", drop[1] > drop[4]))
  for att, avg, c in attention_average_pairs({r["model"] for r in rows}):
    claim = f"attention ({att}) beats average ({avg}) at t>=5, C_test={c}"
    missing = [m for m in (att, avg) if _nll(rows, m, c, 5) is None]
    if missing:
      out.append((f"{claim}: untested, no results for {', '.join(missing)} "
                  "yet", None))
      continue
    steps = _model_steps(rows, avg)
    pool = rows + list(earlier)
    if _nll(pool, att, c, 5, steps) is None:
      shown = _model_steps(rows, att)
      out.append((f"{claim}: untested, {att} has {shown} training steps and "
                  f"{avg} {steps}, and no evaluation of {att} at {steps} steps "
                  "is kept", None))
      continue
    at = "" if steps is None else f" (both at {steps} training steps)"
    pairs = {t: (_nll(pool, att, c, t, steps), _nll(rows, avg, c, t))
             for t in range(5, 20)}
    fails = {t: p for t, p in pairs.items() if not p[0] < p[1]}
    if fails:  # where, and by how much
      at += "; not at " + ", ".join(f"t={t} ({a:.1f} vs {b:.1f})"
                                    for t, (a, b) in fails.items())
      # Saved NLLs are of each model's Table 1 checkpoint: of no use where
      # an earlier evaluation stood in for the attention model.
      same = _model_steps(rows, att) == steps
      for source, where in ((paired_nlls, "test episodes"),
                            (train_nlls, "episodes of the training characters")):
        nlls = [source(m, c) if source and same else None for m in (avg, att)]
        if all(n is not None for n in nlls):
          at += "; " + _paired_verdict(paired.episode_differences(
              {c: nlls[0]}, {c: nlls[1]}, fails), where)
    out.append((claim + at, not fails))
  return out


def _paired_verdict(diffs: list, where: str = "test episodes") -> str:
  """episode_differences' rows (attention minus average) on the first of
  `where` -> where the difference is beyond 2 standard errors either way,
  and where within."""
  cell = lambda d: f"t={d['t']} {d['diff']:+.2f} ± {d['stderr']:.2f}"
  text = (f"paired on the first {diffs[0]['episodes']} {where}, "
          "attention minus average: " + ", ".join(map(cell, diffs)))
  verdict = lambda d: ("worse beyond 2 standard errors"
                       if d["diff"] > 2 * d["stderr"] else
                       "better beyond 2 standard errors"
                       if d["diff"] < -2 * d["stderr"] else "within noise")
  ts = {}  # verdict -> its t, in the order first met
  for d in diffs:
    ts.setdefault(verdict(d), []).append(str(d["t"]))
  parts = [f"{v} at t={', '.join(t)}" for v, t in ts.items()]
  return f"{text} ({'; '.join(parts)})"


# Pairs of evaluations of each model on the first of Table 1's test episodes
# with its own and with more importance samples of z (the importance_samples
# ablation): <folder>/<model>_s<S>.
IMPORTANCE_SAMPLES = os.path.join("ablations", "importance_samples")
MORE_SAMPLES = 1000


def _row_evaluation(results_dir: str, model: str, folder_of):
  """-> (provenance.json, {C_test: [episodes, T] nats}) of the --save_nlls
  evaluation in results_dir/folder_of(model's Table 1 provenance), checked
  to be of its Table 1 checkpoint (config, steps) and seed; None where there
  is none; ValueError naming a mismatch."""
  table = _json(os.path.join(results_dir, model, "provenance.json"))
  if not table:
    return None
  folder = os.path.join(results_dir, folder_of(table))
  if not os.path.isdir(folder):
    return None
  try:  # the same model: its config too (two 90,750-step gmn_c2 existed)
    record, nlls = paired.saved_evaluation(
        folder, Config.from_dict(table["config"]), table.get("steps"))
  except ValueError as e:
    raise ValueError(f"{model}'s Table 1 and {folder}: {e}")
  if record.get("seed") != table.get("seed"):
    raise ValueError(
        f"{folder} must evaluate {model}'s Table 1 checkpoint with seed "
        f"{table.get('seed')}, as Table 1 did; it has seed "
        f"{record.get('seed')}: rerun it as its README says.")
  return record, nlls


def saved_nlls(results_dir: str, model: str, samples: int = None):
  """_row_evaluation of `model`'s IMPORTANCE_SAMPLES evaluation on its test
  episodes at `samples` importance samples (None: as many as its Table 1
  took)."""
  return _row_evaluation(results_dir, model, lambda table: os.path.join(
      IMPORTANCE_SAMPLES,
      f"{model}_s{samples or table.get('num_samples')}"))


# Each model's Table 1 params on episodes of its training characters
# (evaluate.py --split=train): <folder>/<model>.
TRAIN_SPLIT = os.path.join("ablations", "train_split")


def train_split_nlls(results_dir: str, model: str):
  """_row_evaluation of `model`'s TRAIN_SPLIT evaluation, checked to be of
  the training characters."""
  found = _row_evaluation(results_dir, model,
                          lambda table: os.path.join(TRAIN_SPLIT, model))
  if found and found[0].get("split") != "train":
    raise ValueError(f"{os.path.join(results_dir, TRAIN_SPLIT, model)} must "
                     "be an evaluate.py --split=train evaluation; it has "
                     f"split {found[0].get('split', 'test')}.")
  return found


def more_samples_rows(results_dir: str, rows: list,
                      samples: int = MORE_SAMPLES) -> list:
  """Table 1's rows as `samples` importance samples would give them
  (paired.corrected_rows), for each model whose Table 1 estimator and
  `samples` were both evaluated, on the same seed, in IMPORTANCE_SAMPLES."""
  out = []
  for model in sorted({r["model"] for r in rows}):
    pair = [saved_nlls(results_dir, model, s) for s in (None, samples)]
    if None in pair:
      continue
    (record, base_nlls), (_, run_nlls) = pair
    config = Config.from_dict(record["config"])  # checked to be Table 1's
    out += paired.corrected_rows(
        [r for r in rows if r["model"] == model], base_nlls, run_nlls,
        first=lambda c: first_scored_step(config, c))
  return out


def _claim_nlls(find):
  """qualitative_claims' paired_nlls or train_nlls from find(model), a
  _row_evaluation."""
  def nlls(model, c):
    found = find(model)
    return None if found is None else found[1].get(c)
  return nlls


def claim_lines(claims: list) -> list:
  """qualitative_claims' (claim, holds) as a markdown checklist."""
  return [f"- [{'?' if holds is None else 'x' if holds else ' '}] {claim}"
          for claim, holds in claims]


TOLERANCE = 1.5  # nats from the paper: the project's reproduction target


def paper_agreement(rows: list, tolerance: float = TOLERANCE) -> list:
  """One line per model with paper numbers: how many listed cells lie within
  `tolerance` of the paper, how many more are within it up to twice their
  standard error (the evaluation cannot tell them from the target), and the
  largest gap."""
  out = []
  for model in sorted({r["model"] for r in rows}):
    cells = [r for r in rows if r["model"] == model and r["paper"] != ""
             and int(r["t"]) in paper.COLUMNS]
    if not cells:
      continue
    gap = lambda r: abs(float(r["diff"]))
    within = sum(gap(r) <= tolerance for r in cells)
    noise = sum(tolerance < gap(r) <= tolerance + 2 * float(r["stderr"])
                for r in cells)
    worst = max(cells, key=gap)
    out.append(
        f"{model}: {within} of {len(cells)} cells within {tolerance} nats of "
        f"the paper; {noise} more within {tolerance} nats + 2 standard errors;"
        f" {len(cells) - within - noise} beyond. Largest gap "
        f"{float(worst['diff']):+.1f} (C_test={worst['c_test']}, "
        f"t={worst['t']}).")
  return out


def change_since_earlier(rows: list, earlier: list) -> list:
  """One line per model with an earlier evaluation at fewer steps: the mean
  and the largest change of its cells since the latest such evaluation."""
  out = []
  for model in sorted({r["model"] for r in rows}):
    steps = _model_steps(rows, model)
    before = {_steps(r) for r in earlier if r["model"] == model}
    before = max((s for s in before if s is not None and s < steps),
                 default=None)
    if before is None:
      continue
    change = [float(r["nll"]) - old for r in rows if r["model"] == model
              for old in [_nll(earlier, model, int(r["c_test"]), int(r["t"]),
                               before)] if old is not None]
    out.append(f"{model}: since its evaluation at {before} steps, its "
               f"{len(change)} cells changed by {np.mean(change):+.2f} nats on "
               f"average (from {min(change):+.1f} to {max(change):+.1f}).")
  return out


def bound_split(rows: list, latents: dict) -> list:
  """Markdown lines: each model's ELBO split (`latents`: model -> what
  experiments/latent.py wrote) beside its Table 1 NLL at the same steps, at
  the first reported t and t = 19 of each C_test."""
  lines = ["| model | C_test | t | -ELBO | KL | reconstruction NLL | NLL "
           "(Table 1) | recovered by importance sampling | prior entropy | "
           "units in use |", "|---|---|---|---|---|---|---|---|---|---|"]
  for model, lat in sorted(latents.items()):
    for c in sorted({r["c_test"] for r in lat["rows"]}):
      ts = [r["t"] for r in lat["rows"] if r["c_test"] == c]
      first = min((t for t in ts if _nll(rows, model, c, t) is not None),
                  default=min(ts))
      for r in lat["rows"]:
        if r["c_test"] != c or r["t"] not in (first, max(ts)):
          continue
        nll = _nll(rows, model, c, r["t"], lat["steps"])
        gain = "n/a" if nll is None else f"{r['neg_elbo'] - nll:.1f}"
        lines.append(
            f"| {model} | {c} | {r['t']} | {r['neg_elbo']:.1f} | {r['kl']:.1f}"
            f" | {r['neg_reconstruction']:.1f} | "
            f"{'n/a' if nll is None else f'{nll:.1f}'} | {gain} | "
            f"{r['prior_entropy']:.1f} | {r['active_units']} |")
  return lines


def config_changes(config: dict, run: dict = None) -> str:
  """A recorded model Config, and the run's OBJECTIVE_FIELDS (`run`: a
  recorded RunConfig, or None), as their fields that differ from the
  defaults (fields a record predates read as their defaults): how the rows
  differ."""
  changed = {k: v for k, v in Config.from_dict(config).to_dict().items()
             if v != getattr(Config(), k)}
  default_run = RunConfig().to_dict()
  run = {**default_run, **(run or {})}
  changed.update({k: run[k] for k in OBJECTIVE_FIELDS
                  if run[k] != default_run[k]})
  return ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


def write_overview(results_dir: str) -> str:
  rows, earlier = load_rows(results_dir), load_earlier_rows(results_dir)
  table1.write_csv(os.path.join(results_dir, "table1.csv"), rows)
  lines = ["# Results: the paper's Table 1 reproduced by this project", "",
           "Generated by `python experiments/collect_results.py` from "
           "`results/<model>/`; every number comes from `experiments/"
           "evaluate.py` on a checkpoint this project trained. The paper "
           "trained each model for ~90k steps. Runs that test hypotheses "
           "about the gaps to the paper: `ablations/README.md`. Each cell is "
           "an importance-sampled estimate, an upper bound in expectation "
           "that tightens with more samples of z; what more samples take "
           "off: `ablations/README.md`, \"importance_samples\". A row named "
           "<row>_<change> (avg_c1_rotations) is a variant of the paper's "
           "<row>, beside that row's numbers; the Runs table names its "
           "change.", ""]
  lines.append(table1.markdown(rows, "## Conditional NLL (nats)"))
  lines += ["## Runs", "", "| model | Config, where not the default | steps | "
            "trained on: steps, wall time | evaluated on | eval episodes x "
            "samples | eval commit |", "|---|---|---|---|---|---|---|"]
  for model in sorted({r["model"] for r in rows}):
    d = os.path.join(results_dir, model)
    ev = _json(os.path.join(d, "provenance.json"))
    training = _json(os.path.join(d, "training.json"))
    trained = _trained_on(training.get("segments", []))
    commit = re.sub(r"^([0-9a-f]{7})[0-9a-f]+", r"\1", str(ev.get("commit", "?")))
    lines.append(
        f"| {model} | "
        f"{config_changes(ev.get('config', {}), training.get('run_config'))} | "
        f"{ev.get('steps', '?')} | {trained} | "
        f"{ev.get('device', '?')} | {ev.get('num_episodes', '?')} x "
        f"{ev.get('num_samples', '?')} | {commit} |")
  lines += ["", "## Status of each row", ""]
  trained = sorted({r["model"] for r in rows})
  for model in trained:
    lines.append(f"- {model}: {_status(os.path.join(results_dir, model))}")
  for model in sorted(set(paper.TABLE1) - set(trained)):
    lines.append(f"- {model}: "
                 f"{_unevaluated_status(os.path.join(results_dir, model))}")
  lines += ["", "## Distance to the paper", ""]
  lines += [f"- {line}" for line in paper_agreement(rows)
            + change_since_earlier(rows, earlier)]
  lines += ["", "## The paper's qualitative claims, on this table", ""]
  lines += claim_lines(qualitative_claims(
      rows, earlier, _claim_nlls(lambda m: saved_nlls(results_dir, m)),
      _claim_nlls(lambda m: train_split_nlls(results_dir, m))))
  tighter = more_samples_rows(results_dir, rows)
  if tighter:
    table1.write_csv(os.path.join(results_dir,
                                  f"table1_s{MORE_SAMPLES}.csv"), tighter)
    lines += ["", table1.markdown(
        tighter, f"## At {MORE_SAMPLES} importance samples").rstrip(), "",
        f"Table 1's cells moved by the paired mean of (S = {MORE_SAMPLES}) "
        "minus (Table 1's S) per test episode, on the first of Table 1's "
        f"episodes (`{IMPORTANCE_SAMPLES}/<model>_s<S>`, whose README has "
        "the runs); ± combines both standard errors. A tighter estimate of "
        "each NLL than Table 1's, by 1-2 nats for every model alike; the "
        "paper does not say how many samples its numbers took. Also in "
        f"`table1_s{MORE_SAMPLES}.csv`.", ""]
    lines += [f"- {line}" for line in paper_agreement(tighter)]
    lines += claim_lines(qualitative_claims(
        tighter, paired_nlls=_claim_nlls(
            lambda m: saved_nlls(results_dir, m, MORE_SAMPLES))))
  latents = {m: _json(os.path.join(results_dir, m, "latent.json"))
             for m in trained
             if os.path.exists(os.path.join(results_dir, m, "latent.json"))}
  if latents:
    counts = sorted({lat["num_episodes"] for lat in latents.values()})
    n = counts[0] if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    lines += ["", "## Where the bound goes", "",
              "Each conditional's ELBO split into KL(q || p) and the "
              "reconstruction NLL, on the first "
              f"{n} of Table 1's test episodes with one sample of z "
              "each (`experiments/latent.py`), beside Table 1's "
              "importance-sampled NLL (on all of its episodes, of which these "
              "are the first): their difference is what importance sampling "
              "recovers, up to the standard error of the smaller set. Units "
              f"in use: latent dimensions whose mean KL exceeds "
              f"{latent.ACTIVE_KL} nats.", ""]
    lines += bound_split(rows, latents)
    gaps = [line for m in sorted(latents)
            for line in [train_test_gap(os.path.join(results_dir, m),
                                        latents[m])] if line]
    if gaps:
      lines += ["", "Training against test: the training bound (-ELBO, the "
                "mean of the last 20 logged batches of training episodes) "
                "beside the same bound on test episodes of the training "
                "run's C (the split above), at the first scored t and over "
                "the later ones. Test alphabets differ from training ones, so "
                "every model loses some nats; conditioning that only "
                "recognises training characters loses more at t >= 1.", "",
                "| model | C | t | training -ELBO | test -ELBO | gap |",
                "|---|---|---|---|---|---|"] + gaps
  lines += ["", "## Few-shot classification by likelihood (test alphabets)",
            "", "| model | N-way | k-shot | accuracy | 95% CI | tasks | "
            "evaluated on, commit |", "|---|---|---|---|---|---|---|"]
  for model in sorted({r["model"] for r in rows}):
    ev = _json(os.path.join(results_dir, model, "provenance.json"), {})
    # A Table 1 rerun without classification points to the evaluation whose
    # classification.json it kept.
    source = ev.get("classification", ev)
    for c in _json(os.path.join(results_dir, model, "classification.json"),
                   []):
      lines.append(f"| {model} | {c['ways']} | {c['shots']} | "
                   f"{c['accuracy']:.3f} | ± {c['ci95']:.3f} | {c['tasks']} | "
                   f"{source.get('device', '?')}, {source.get('commit', '?')} |")
  return _write_lines(os.path.join(results_dir, "README.md"), lines)


def _write_lines(path: str, lines: list) -> str:
  with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
  return path


def write_pretrained_index(pretrained_dir: str, results_dir: str) -> str:
  """pretrained_dir/README.md: each params-only export (<row>.msgpack), what
  its file records (the run it came from, steps, commit, config) and where
  its row's results are. Returns the path."""
  lines = ["# Pretrained models", "",
           "Generated by `python experiments/collect_results.py`. Params-only "
           "exports, one per row of `results/README.md`, named after the row; "
           "each file holds its config and where it came from (trained as: "
           "the run's name). Load one with `params, config, meta = "
           "gmn_jax.load_params(\"pretrained/gmn_c2.msgpack\")`, then "
           "`gmn_jax.conditional_nll(params, X, config=config)` or "
           "`gmn_jax.sample(...)`; continue training one with "
           "`experiments/train.py --init_params=...`.", "",
           "| file | trained as | steps | commit | config, where not the "
           "default | results |", "|---|---|---|---|---|---|"]
  for path in sorted(glob.glob(os.path.join(pretrained_dir, "*.msgpack"))):
    config, meta = checkpoints.read_header(path)
    row = os.path.basename(path)[:-len(".msgpack")]
    where = os.path.join(results_dir, row)
    link = (f"[{row}]({os.path.relpath(where, pretrained_dir)}/)"
            if os.path.isdir(where) else "none")
    # The objective's fields (class_rotations, ...) are the run's, not the file's.
    run = _json(os.path.join(where, "run_config.json"))
    lines.append(f"| `{os.path.basename(path)}` | {meta.get('model', '?')} | "
                 f"{meta.get('steps', '?')} | {meta.get('commit', '?')} | "
                 f"{config_changes(config.to_dict(), run)} | {link} |")
  return _write_lines(os.path.join(pretrained_dir, "README.md"),
                      lines + unfinished_runs(pretrained_dir))


def unfinished_runs(pretrained_dir: str) -> list:
  """Markdown lines: pretrained_dir/unfinished/<run>.msgpack, each with its
  steps and the command that continues it; [] where there are none."""
  paths = sorted(glob.glob(os.path.join(pretrained_dir, UNFINISHED, "*.msgpack")))
  if not paths:
    return []
  lines = ["", "## Unfinished runs", "",
           "The latest params of runs whose schedule has not ended, committed "
           "when their machine stopped so that the next one continues them "
           "(Adam's moments restart); not models to use. Copy the run's "
           "`training.json` and `metrics.jsonl` from its results folder into "
           "the workdir first (as `provenance.json` and `metrics.jsonl`), so "
           "that its history continues; a lease's `train:<run>` starts from "
           "the file by itself.", "",
           "| file | steps | commit | continue with |", "|---|---|---|---|"]
  for path in paths:
    _, meta = checkpoints.read_header(path)
    run = os.path.basename(path)[:-len(".msgpack")]
    lines.append(
        f"| `{UNFINISHED}/{run}.msgpack` | {meta.get('steps', '?')} | "
        f"{meta.get('commit', '?')} | `python experiments/train.py "
        f"--flagfile=experiments/configs/{run}.flags --workdir=~/runs/{run} "
        f"--init_params=pretrained/{UNFINISHED}/{run}.msgpack` |")
  return lines


def train_test_gap(model_dir: str, lat: dict) -> str:
  """Markdown rows: the run's final training bound against its test -ELBO
  (`lat`, what experiments/latent.py wrote) at C_test = C_train, at the
  first scored t and averaged over the later ones; "" without its logs."""
  run = _json(os.path.join(model_dir, "run_config.json"))
  log = _training_log(model_dir)[-20:]
  if not run or not log:
    return ""
  config = Config.from_dict(run["model"])
  c = run["episodes"]["num_classes"]
  if not config.conditioned:  # any test episodes will do
    c = min(r["c_test"] for r in lat["rows"])
  first = first_scored_step(config, c)
  test = {r["t"]: r["neg_elbo"] for r in lat["rows"] if r["c_test"] == c}
  if not test:
    return ""
  train = -np.mean([r["bound"] for r in log], axis=0)  # [T of training]
  later = [t for t in sorted(test) if first < t < len(train)]
  cells = [(str(first), train[first], test[first]),
           (f"{first + 1}-{later[-1]}", train[later].mean(),
            np.mean([test[t] for t in later]))]
  return "\n".join(f"| {os.path.basename(model_dir)} | {c} | {t} | {a:.1f} | "
                   f"{b:.1f} | {b - a:+.1f} |" for t, a, b in cells)


def training_by_device(segments: list) -> dict:
  """{device: (steps, wall seconds)} over a run's provenance segments, in
  order of first use; a segment's steps run from the previous segment's end
  (or its warm start)."""
  out, previous = {}, 0
  for seg in segments:
    start = seg.get("warm_start", {}).get("step", previous)
    steps, wall = out.get(seg["device"], (0, 0.0))
    out[seg["device"]] = (steps + seg["end_step"] - start, wall + seg["wall_s"])
    previous = seg["end_step"]
  return out


def _trained_on(segments: list) -> str:
  """"cpu: 4150 steps, 38 min; ..." from a run's provenance segments."""
  return "; ".join(f"{dev}: {n} steps, {_hours(s)}"
                   for dev, (n, s) in training_by_device(segments).items())


def _hours(seconds: float) -> str:
  return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _status(model_dir: str) -> str:
  """Steps against the paper's schedule, and the training bound's trend (from
  the run's metrics.jsonl)."""
  from gmn_jax.train.run_config import PAPER_STEPS
  steps = _json(os.path.join(model_dir, "provenance.json")).get("steps", 0)
  text = _progress(steps)
  text += ": finished." if steps >= PAPER_STEPS else ": not converged; a " \
      "checkpoint, not yet a reproduction."
  segments = _json(os.path.join(model_dir, "training.json")).get("segments", [])
  warm = [s["warm_start"]["step"] for s in segments if "warm_start" in s]
  if warm:
    text += (" Continued on a new machine from its params export at step "
             f"{', '.join(map(str, warm))}, with Adam's moments reset.")
  return text + _trend(model_dir)


def _unevaluated_status(model_dir: str) -> str:
  """A row without a Table 1: the steps its run has trained (from its
  training.json, where a partial run left one) and its bound's trend."""
  model = os.path.basename(model_dir)
  segments = _json(os.path.join(model_dir, "training.json")).get("segments", [])
  if not segments:
    return (f"not trained yet (0 steps; its flagfile is "
            f"experiments/configs/{model}.flags): no numbers to show.")
  return (_progress(segments[-1]["end_step"], _trained_on(segments))
          + ", not evaluated yet: no numbers in the table." + _trend(model_dir))


def _progress(steps: int, detail: str = "") -> str:
  """"4150 of 90750 steps (4.6%[; detail])": against the paper's schedule."""
  from gmn_jax.train.run_config import PAPER_STEPS
  detail = f"; {detail}" if detail else ""
  return f"{steps} of {PAPER_STEPS} steps ({steps / PAPER_STEPS:.1%}{detail})"


def _trend(model_dir: str) -> str:
  """" " + bound_trend of the run's log; "" without one."""
  log = _training_log(model_dir)
  return " " + bound_trend(log) if log else ""


def _training_log(model_dir: str) -> list:
  """The run's metrics.jsonl records in step order; [] without one."""
  path = os.path.join(model_dir, "metrics.jsonl")
  return list(paired.read_log(path).values()) if os.path.exists(path) else []


def bound_trend(log: list, window: int = 20) -> str:
  """The training bound's last two windows of `window` logged batches (a log
  line holds one batch, so runs logged every 25 or every 250 steps read
  alike): their means, and "falling" only when the drop is over twice its
  standard error."""
  if len(log) < 2 * window:
    return ""
  before = np.array([r["nats_per_image"] for r in log[-2 * window:-window]])
  recent = np.array([r["nats_per_image"] for r in log[-window:]])
  drop = before.mean() - recent.mean()
  se = np.sqrt((before.var(ddof=1) + recent.var(ddof=1)) / window)
  return (f"Training bound {before.mean():.1f} -> {recent.mean():.1f} "
          f"nats/image (± {se:.1f}; means of {window} logged batches each, "
          f"steps {log[-2 * window]['step']}-{log[-1]['step']}): "
          + ("still falling." if drop > 2 * se else "flat within noise."))


def _json(path, default=None):
  if not os.path.exists(path):
    return {} if default is None else default
  with open(path) as f:
    return json.load(f)
