r"""Where each conditional's bound goes (KL, reconstruction, prior entropy,
latent units in use) on Table 1's test episodes, or with --split=train on
episodes of the characters the model trained on: which part of the bound
its generalisation gap is in.

  python experiments/latent.py --workdir=~/runs/gmn_c2 \
      --output=results/gmn_c2/latent.json
"""
import json
import os
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flags_common  # noqa: E402

from gmn_jax.config import first_scored_step  # noqa: E402
from gmn_jax.data import EpisodeSpec, test_episodes  # noqa: E402
from gmn_jax.evaluate import latent, paper  # noqa: E402
from gmn_jax.train.loop import git_commit  # noqa: E402

C_TEST = flags.DEFINE_list("c_test", None, "C_test values (default: the "
                           "paper's for this model, else 1,2,4).")
EPISODES = flags.DEFINE_integer("num_episodes", 1000, "Test episodes per "
                                "C_test: the first of Table 1's.")
SEED = flags.DEFINE_integer("seed", 1234, "Seed of the test episodes, as in "
                            "experiments/evaluate.py.")
SPLIT = flags_common.define_split()
OUTPUT = flags.DEFINE_string("output", None, "JSON path (default: "
                             "<workdir>/eval/latent.json).")


def main(argv):
  del argv
  params, config, steps, name, images = flags_common.model_and_test_images(
      SPLIT.value)
  c_tests = ([int(c) for c in C_TEST.value] if C_TEST.value
             else list(paper.c_tests(name)))
  rows = []
  for c in c_tests:
    spec = EpisodeSpec(20, c, conditional=not config.pseudo_input)
    episodes = test_episodes(images, spec, EPISODES.value, SEED.value)
    rows += [{"model": name, "c_test": c, **r} for r in latent.summarize(
        params, config, episodes, seed=SEED.value,
        first=first_scored_step(config, c))]
  out = OUTPUT.value or os.path.join(os.path.expanduser(
      flags_common.WORKDIR.value or "."), "eval", "latent.json")
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(out, "w") as f:
    json.dump({"model": name, "steps": steps, "commit": git_commit(),
               "num_episodes": EPISODES.value, "seed": SEED.value,
               "split": SPLIT.value, "rows": rows}, f, indent=2)
  for r in rows:
    if r["t"] in (0, 1, 5, 19):
      print(f"{name} C_test={r['c_test']} t={r['t']}: -ELBO {r['neg_elbo']:.1f}"
            f" = KL {r['kl']:.1f} + reconstruction NLL "
            f"{r['neg_reconstruction']:.1f};"
            f" prior entropy {r['prior_entropy']:.1f}, "
            f"{r['active_units']} units in use")
  print(out)


if __name__ == "__main__":
  app.run(main)
