r"""The paper's Figure 2: samples given every prefix of a test episode.

  python experiments/sample.py --workdir=~/runs/gmn_c2 --output=results/gmn_c2/samples.png
"""
import os
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flags_common  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import gmn_jax  # noqa: E402
from gmn_jax.config import first_scored_step  # noqa: E402
from gmn_jax.data import EpisodeSpec, test_episodes  # noqa: E402
from gmn_jax.evaluate import figures  # noqa: E402

OUTPUT = flags.DEFINE_string("output", None, "PNG path (default: "
                             "<workdir>/samples.png).")
LENGTH = flags.DEFINE_integer("length", 10, "Context images (rows - 1).")
C_TEST = flags.DEFINE_integer("c_test", 1, "Classes in the context.")
SAMPLES = flags.DEFINE_integer("num_samples", 8, "Samples per row.")
SEED = flags.DEFINE_integer("seed", 0, "Which test episode, and z.")


def main(argv):
  del argv
  params, config, _, _, images = flags_common.model_and_test_images()
  spec = EpisodeSpec(LENGTH.value, C_TEST.value, conditional=True)
  context = test_episodes(images, spec, 1, seed=SEED.value)[0]
  probs = gmn_jax.sample(params, context, jax.random.key(SEED.value),
                         config=config, num_samples=SAMPLES.value)
  out = OUTPUT.value or os.path.join(os.path.expanduser(
      flags_common.WORKDIR.value or "."), "samples.png")
  figures.conditional_sample_grid(
      context.reshape(-1, 28, 28), np.asarray(probs), out,
      first_row=first_scored_step(config, C_TEST.value))
  print(out)


if __name__ == "__main__":
  app.run(main)
