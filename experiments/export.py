r"""Export a run's latest params (params only, with config and provenance).

  python experiments/export.py --workdir=~/runs/gmn_c2 --output=pretrained/gmn_c2.msgpack
"""
import os
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flags_common  # noqa: E402

import gmn_jax  # noqa: E402
from gmn_jax.train.loop import git_commit  # noqa: E402

OUTPUT = flags.DEFINE_string("output", None, "The .msgpack file to write.")


def main(argv):
  del argv
  if not OUTPUT.value:
    raise app.UsageError("--output is required.")
  try:
    params, config, steps, name = flags_common.load_model()
  except (ValueError, FileNotFoundError) as e:
    raise app.UsageError(str(e))
  gmn_jax.save_params(OUTPUT.value, params, config, model=name, steps=steps,
                      commit=git_commit())
  mb = os.path.getsize(OUTPUT.value) / 2 ** 20
  print(f"{OUTPUT.value}: {name} at step {steps}, {mb:.1f} MB")


if __name__ == "__main__":
  app.run(main)
