r"""An evaluation's per-episode NLLs split by whether x_t repeats an earlier
image of its episode (gmn_jax.evaluate.repeats).

  python experiments/repeats.py \
      --eval_dir=results/ablations/importance_samples/gmn_c2_s1000

The folder is what `experiments/evaluate.py --save_nlls` wrote; its
provenance.json gives the seed and the model's config, from which the same
test episodes are drawn again.
"""
import json
import os

from absl import app, flags

from gmn_jax.config import Config, first_scored_step
from gmn_jax.data import EpisodeSpec, load_split, test_episodes
from gmn_jax.evaluate import paired, paper, repeats

EVAL_DIR = flags.DEFINE_string("eval_dir", None, "An evaluation folder with "
                               "nlls_c<C>.npy and provenance.json.")
flags.mark_flag_as_required("eval_dir")


def main(argv):
  del argv
  path = os.path.join(EVAL_DIR.value, "provenance.json")
  if not os.path.exists(path):
    raise app.UsageError(f"{path} is missing: point --eval_dir at a folder "
                         "that experiments/evaluate.py --save_nlls wrote.")
  with open(path) as f:
    record = json.load(f)
  nlls = paired.read_nlls(EVAL_DIR.value)
  if not nlls:
    raise app.UsageError(f"No nlls_c<C>.npy in {EVAL_DIR.value}: evaluate "
                         "with --save_nlls.")
  config = Config.from_dict(record["config"])
  images = load_split("test").images
  rows = {}
  for c, v in nlls.items():
    spec = EpisodeSpec(v.shape[1], c, conditional=not config.pseudo_input)
    x = test_episodes(images, spec, len(v), record["seed"])
    ts = [t for t in paper.COLUMNS if first_scored_step(config, c) <= t < v.shape[1]]
    rows[c] = repeats.split(v, repeats.repeated(x), ts)
  episodes = len(next(iter(nlls.values())))
  print(f"{record.get('model', '?')}, {episodes} episodes per C_test, "
        f"{record.get('num_samples', '?')} importance samples:\n")
  print(repeats.markdown(rows))


if __name__ == "__main__":
  app.run(main)
