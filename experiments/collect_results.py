"""Regenerate results/README.md and results/table1.csv from results/<model>/,
and pretrained/README.md from the exports in pretrained/.

  python experiments/collect_results.py [--results_dir=results] [--pretrained_dir=pretrained]
"""
import os

from absl import app, flags

from gmn_jax.evaluate import results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = flags.DEFINE_string("results_dir", os.path.join(ROOT, "results"),
                              "Folder of per-model results.")
PRETRAINED = flags.DEFINE_string("pretrained_dir",
                                 os.path.join(ROOT, "pretrained"),
                                 "Folder of params-only exports.")


def main(argv):
  del argv
  print(results.write_overview(RESULTS.value))
  print(results.write_pretrained_index(PRETRAINED.value, RESULTS.value))


if __name__ == "__main__":
  app.run(main)
