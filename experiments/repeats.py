r"""An evaluation's per-episode NLLs split by whether x_t repeats an earlier
image of its episode (gmn_jax.evaluate.repeats).

  python experiments/repeats.py \
      --eval_dir=results/ablations/importance_samples/gmn_c2_s1000

The folder is what `experiments/evaluate.py --save_nlls` wrote; its
provenance.json gives the seed, the split and the model's config, from which
the same episodes are drawn again. With --params (the evaluated model's export,
attention models only), also where the shared controller's matchers look at
their last pass (the mean attention a repeat puts on its earlier copies), and
the ELBO's two parts, KL and reconstruction, for repeats and novel images
(one sample of z each, gmn_jax.evaluate.latent), and the attention on the
pseudo-input slot where the model has one.
"""
import functools
import json
import os

import jax
import numpy as np
from absl import app, flags

import gmn_jax
from gmn_jax import model

from gmn_jax.config import Config, first_scored_step
from gmn_jax.data import EpisodeSpec, load_split, test_episodes
from gmn_jax.evaluate import latent, paired, paper, repeats

EVAL_DIR = flags.DEFINE_string("eval_dir", None, "An evaluation folder with "
                               "nlls_c<C>.npy and provenance.json.")
PARAMS = flags.DEFINE_string("params", None, "The evaluated model's params "
                              "export (gmn_jax.save_params), for the attention "
                              "on the copies.")
flags.mark_flag_as_required("eval_dir")

MATCHERS = ("recognition", "generative")


@functools.partial(jax.jit, static_argnums=(1, 3))
def _last_pass(params, config, x, matcher):
  """x: [B, T, 784] -> [B, T, M]; compiled once per (config, matcher)."""
  return jax.vmap(lambda e: model.attention_weights(params, config, e,
                                                    matcher)[-1])(x)


def last_pass_attention(params, config, x: np.ndarray) -> dict:
  """x: [E, T, 784] -> {matcher: [E, T, M]} attention at the last pass."""
  return {m: np.concatenate([np.asarray(_last_pass(params, config,
                                                   x[i:i + 50], m))
                             for i in range(0, len(x), 50)])
          for m in MATCHERS}


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
  params = None
  if PARAMS.value:
    params, params_config, _ = gmn_jax.load_params(PARAMS.value)
    if params_config != config:
      raise app.UsageError(
          f"{PARAMS.value} holds a model of config {params_config}, but "
          f"{EVAL_DIR.value} evaluated {config}: pass the export of the "
          "evaluated model.")
    if config.matching != "attention":
      raise app.UsageError(f"{PARAMS.value} is an {config.matching!r} model, "
                           "which attends to no slot: leave out --params.")
  images = load_split(record.get("split", "test")).images
  rows, weights, kls, reconstructions, on_pseudo = {}, {}, {}, {}, {}
  for c, v in nlls.items():
    spec = EpisodeSpec(v.shape[1], c, conditional=not config.pseudo_input)
    x = test_episodes(images, spec, len(v), record["seed"])
    ts = [t for t in paper.COLUMNS if first_scored_step(config, c) <= t < v.shape[1]]
    copies = repeats.earlier_copies(x)  # [E, T, T]: compared once
    rep = copies.any(-1)
    rows[c] = repeats.split(v, rep, ts)
    if params is not None:
      terms = latent.per_episode_terms(params, config, x, record["seed"])
      kls[c] = repeats.split(terms["kl"].sum(-1), rep, ts)
      reconstructions[c] = repeats.split(-terms["reconstruction"], rep, ts)
      attention = last_pass_attention(params, config, x.astype(np.float32))
      weights[c] = {m: repeats.weight_on_copies(a, copies,
                                                int(config.pseudo_input))
                    for m, a in attention.items()}
      if config.pseudo_input:  # slot 0 (matching.visible_slots)
        on_pseudo[c] = repeats.split(attention["generative"][..., 0], rep, ts)
  episodes = len(next(iter(nlls.values())))
  print(f"{record.get('model', '?')}, {episodes} episodes per C_test, "
        f"{record.get('num_samples', '?')} importance samples:\n")
  print(repeats.markdown(rows, weights or None))
  if kls:
    print("\nThe ELBO's parts (one sample of z per image), nats:\n")
    print(repeats.elbo_markdown(kls, reconstructions))
  if on_pseudo:
    print("\nThe generative matcher's last pass, on the pseudo-input slot:\n")
    print(repeats.pseudo_input_markdown(on_pseudo))


if __name__ == "__main__":
  app.run(main)
