"""Regenerate results/README.md and results/table1.csv from results/<model>/.

  python experiments/collect_results.py [--results_dir=results]
"""
import os

from absl import app, flags

from gmn_jax.evaluate import results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = flags.DEFINE_string("results_dir", os.path.join(ROOT, "results"),
                              "Folder of per-model results.")


def main(argv):
  del argv
  print(results.write_overview(RESULTS.value))


if __name__ == "__main__":
  app.run(main)
