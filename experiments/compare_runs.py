r"""Paired differences of two runs' logged training bounds (gmn_jax.evaluate.paired).

  python experiments/compare_runs.py --baseline=results/gmn_c2/metrics.jsonl \
      --run=~/runs/gmn_c2_cosine_attention/metrics.jsonl --windows=0,1000,2000,5250

Prints, per window of steps, run minus baseline in nats of -bound (negative:
the run is better) at the first scored t, over the later t and at the last,
± the standard error over the logged steps both runs share. Meaningful for two
runs of the same seed, episodes and batch size (an ablation of one flag).
"""
import os

from absl import app, flags

from gmn_jax.evaluate import paired

BASELINE = flags.DEFINE_string("baseline", None, "The baseline's metrics.jsonl.")
RUN = flags.DEFINE_string("run", None, "The compared run's metrics.jsonl.")
WINDOWS = flags.DEFINE_list("windows", ["0", "1000", "2000", "3000", "4000",
                                        "5250"], "Window edges, in steps.")
FIRST = flags.DEFINE_integer("first", 0, "The first scored t (C for "
                             "conditional models).")
flags.mark_flags_as_required(["baseline", "run"])


def main(argv):
  del argv
  base, run = (paired.read_log(os.path.expanduser(p))
               for p in (BASELINE.value, RUN.value))
  if not set(base) & set(run):
    raise app.UsageError("The two logs share no logged step; log both runs at "
                         "steps in common (--log_every).")
  edges = [int(e) for e in WINDOWS.value]
  rows = paired.differences(base, run, list(zip(edges, edges[1:])), FIRST.value)
  length = len(next(iter(run.values()))["bound"])
  print(paired.markdown(rows, FIRST.value, length))


if __name__ == "__main__":
  app.run(main)
