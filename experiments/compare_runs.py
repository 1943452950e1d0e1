r"""Paired differences of two models (gmn_jax.evaluate.paired): of two runs'
logged training bounds, or of two evaluations' test NLLs per episode.

  python experiments/compare_runs.py --baseline=results/gmn_c2/metrics.jsonl \
      --run=~/runs/gmn_c2_cosine_attention/metrics.jsonl --windows=0,1000,2000,5250
  python experiments/compare_runs.py --baseline=~/runs/a/eval --run=~/runs/b/eval

Logs (two metrics.jsonl): per window of steps, run minus baseline in nats of
-bound (negative: the run is better) at the first scored t, over the later t
and at the last, ± the standard error over the logged steps both runs share;
meaningful for two runs of the same seed, episodes and batch size (an ablation
of one flag). Evaluations (two folders that `experiments/evaluate.py
--save_nlls` wrote, with the same --seed): run minus baseline per test episode
at Table 1's t, for each C_test both hold, ± the standard error over episodes;
from t = C_test where either model is conditional (its provenance.json says
pseudo_input false), as in Table 1. With --table (the baseline model's
table1.csv, on episodes whose first are these), also that table's cells as
the run would give them: each moved by its paired difference, with the
paper's numbers and how many cells lie within 1.5 nats of them. Two
evaluations of different --split (a model on the test characters against the
training ones: its generalisation gap) share no episode: then the difference
of their means, unpaired.
"""
import json
import os

from absl import app, flags

from gmn_jax.config import Config, first_scored_step
from gmn_jax.evaluate import paired, paper, results, table1

BASELINE = flags.DEFINE_string("baseline", None, "The baseline's metrics.jsonl, "
                               "or its evaluation folder.")
RUN = flags.DEFINE_string("run", None, "The compared run's metrics.jsonl, or "
                          "its evaluation folder.")
WINDOWS = flags.DEFINE_list("windows", ["0", "1000", "2000", "3000", "4000",
                                        "5250"], "Window edges, in steps.")
FIRST = flags.DEFINE_integer("first", 0, "The first scored t (C for "
                             "conditional models).")
TABLE = flags.DEFINE_string("table", None, "With two evaluations: the "
                            "baseline's Table 1 CSV, to move by the paired "
                            "differences.")
flags.mark_flags_as_required(["baseline", "run"])


def _provenance(eval_dir: str) -> dict:
  """What an evaluation recorded (its seed, the model's config); {} if none."""
  path = os.path.join(eval_dir, "provenance.json")
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f)


def compare_evaluations(baseline: str, run: str) -> str:
  records = [_provenance(d) for d in (baseline, run)]
  # Older evaluations predate --split and scored the test characters.
  splits = [r.get("split", "test") for r in records]
  seeds = [r.get("seed") for r in records]
  if splits[0] != splits[1]:
    if TABLE.value:
      raise app.UsageError(
          f"--table moves cells by paired differences, and {baseline} "
          f"({splits[0]} characters) and {run} ({splits[1]}) share no "
          "episode: compare two evaluations of one --split.")
  elif None not in seeds and seeds[0] != seeds[1]:
    raise app.UsageError(
        f"{baseline} scored the test episodes of --seed={seeds[0]} and {run} "
        f"those of --seed={seeds[1]}: episodes pair up only under one seed; "
        "evaluate both with the same --seed.")
  base, other = paired.read_nlls(baseline), paired.read_nlls(run)
  if not set(base) & set(other):
    raise app.UsageError(
        f"No C_test has per-episode NLLs in both {baseline} ({sorted(base)}) "
        f"and {run} ({sorted(other)}): evaluate both with --save_nlls and "
        "the same --seed.")
  configs = [Config.from_dict(r["config"]) for r in records if "config" in r]
  first = lambda c: max((first_scored_step(cfg, c) for cfg in configs),
                        default=0)
  if splits[0] != splits[1]:
    return (f"Unpaired ({splits[1]} minus {splits[0]} characters, different "
            "episodes):\n\n" + paired.episode_markdown(
                paired.split_differences(base, other, paper.COLUMNS, first)))
  out = paired.episode_markdown(paired.episode_differences(
      base, other, paper.COLUMNS, first=first))
  if TABLE.value:
    out += "\n\n" + moved_table(os.path.expanduser(TABLE.value), base, other,
                                first, records[0].get("model"),
                                records[1].get("model", "run"))
  return out


def moved_table(path: str, base: dict, other: dict, first, baseline_model,
                model: str) -> str:
  """The baseline model's rows of the Table 1 CSV at `path`, each cell moved
  by run minus baseline, named `model`."""
  rows = table1.read_csv(path)
  if len({r["model"] for r in rows}) > 1 or baseline_model:
    rows = [r for r in rows if r["model"] == baseline_model]
  rows = [{**r, "model": model} for r in paired.corrected_rows(
      rows, base, other, first)]
  if not rows:
    raise app.UsageError(
        f"{path} has no cell of the baseline's model ({baseline_model}) that "
        "the two evaluations pair.")
  return (table1.markdown(rows, f"{model}, moved onto the episodes of {path} "
                                "(± combines both standard errors):")
          + "\n".join(results.paper_agreement(rows)))


def compare_logs(baseline: str, run: str) -> str:
  base, other = paired.read_log(baseline), paired.read_log(run)
  if not set(base) & set(other):
    raise app.UsageError("The two logs share no logged step; log both runs at "
                         "steps in common (--log_every).")
  edges = [int(e) for e in WINDOWS.value]
  rows = paired.differences(base, other, list(zip(edges, edges[1:])),
                            FIRST.value)
  length = len(next(iter(other.values()))["bound"])
  return paired.markdown(rows, FIRST.value, length)


def main(argv):
  del argv
  baseline, run = (os.path.expanduser(p) for p in (BASELINE.value, RUN.value))
  folders = [os.path.isdir(p) for p in (baseline, run)]
  if folders[0] != folders[1]:
    raise app.UsageError("Compare two metrics.jsonl logs or two evaluation "
                         "folders, not one of each.")
  print((compare_evaluations if folders[0] else compare_logs)(baseline, run))


if __name__ == "__main__":
  app.run(main)
