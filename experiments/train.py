r"""Train a GMN (or the VAE baseline) of the paper's Table 1.

  python experiments/train.py --flagfile=experiments/configs/gmn_c2.flags \
      --workdir=~/runs/gmn_c2

Re-running the same command resumes from the workdir's latest checkpoint.
"""
import os
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flags_common  # noqa: E402  (the experiments folder is not a package)

from gmn_jax import host_memory  # noqa: E402
from gmn_jax.config import (DECODER_INPUTS, GRU_INPUTS, KEY_KINDS,  # noqa: E402
                             PSEUDO_VISIBILITIES, SIMILARITIES, Config)
from gmn_jax.data.episodes import EpisodeSpec  # noqa: E402
from gmn_jax.train import RunConfig, train  # noqa: E402
from gmn_jax.train import run_config as rc  # noqa: E402

_D = Config()
MATCHING = flags.DEFINE_string("matching", _D.matching,
                               "attention | average | none (VAE).")
PSEUDO = flags.DEFINE_bool("pseudo_input", _D.pseudo_input,
                           "False gives the paper's conditional models.")
LATENT = flags.DEFINE_integer("latent_dim", _D.latent_dim, "Size of z.")
STATE = flags.DEFINE_integer("state_dim", _D.state_dim, "Controller state.")
MATCH = flags.DEFINE_integer("match_dim", _D.match_dim, "Matching space.")
PASSES = flags.DEFINE_integer("num_passes", _D.num_passes, "K.")
PRIOR_PASSES = flags.DEFINE_integer("prior_passes", _D.prior_passes,
                                    "K of the prior's controller.")
DECODER_INPUT = flags.DEFINE_enum(
    "decoder_input", _D.decoder_input, list(DECODER_INPUTS), "How the "
    "generator's first layer reads [z, r, h] (gmn_jax.Config; split and "
    "plain are ablations).")
SIMILARITY = flags.DEFINE_enum(
    "similarity", _D.similarity, list(SIMILARITIES), "What attention scales "
    "by its strength: dot products or cosines (gmn_jax.Config; cosine is an "
    "ablation).")
PSEUDO_VISIBLE = flags.DEFINE_enum(
    "pseudo_visible", _D.pseudo_visible, list(PSEUDO_VISIBILITIES), "Which "
    "queries see the pseudo-input (gmn_jax.Config; empty_set, t = 0 only, is "
    "an ablation).")
KEYS = flags.DEFINE_enum(
    "keys", _D.keys, list(KEY_KINDS), "What queries are matched against: "
    "learned keys or the 288-d features themselves (gmn_jax.Config; features "
    "is an ablation).")
GRU_INPUT = flags.DEFINE_enum(
    "gru_input", _D.gru_input, list(GRU_INPUTS), "What the controller's GRU "
    "reads after each pass: r, or [r, h] (gmn_jax.Config; read_and_state is "
    "an ablation).")
ENCODER_INK = flags.DEFINE_enum(
    "encoder_ink", str(_D.encoder_ink), ["1", "0"], "The value of ink in the "
    "images the encoder reads: 1, or 0 as the authors' stored arrays "
    "(Config.encoder_ink).")
L2_PENALTY = flags.DEFINE_float(
    "l2_penalty", 0.0, "An ablation: this times the sum of every parameter's "
    "square is added to the loss (the authors' code's --l2; the paper: 0).")
CLASS_ROTATIONS = flags.DEFINE_integer(
    "class_rotations", 1, "An ablation: train on each class and its turns by "
    "90, 180, 270 degrees as new classes, this many in all (1: the paper's "
    "data; evaluation never rotates).")
LENGTH = flags.DEFINE_integer("episode_length", 20, "T.")
CLASSES = flags.DEFINE_integer("num_classes", 2, "C_train.")
ORDERING = flags.DEFINE_bool("conditional_ordering", False,
                             "First C elements one of each class.")
BATCH = flags.DEFINE_integer("batch_size", 20, "Episodes per step.")
STEPS = flags.DEFINE_integer("num_steps", rc.PAPER_STEPS, "Schedule length.")
RATES = flags.DEFINE_list("learning_rates",
                          [str(r) for r in rc.PAPER_LEARNING_RATES],
                          "Adam rates over equal parts of the schedule.")
SEED = flags.DEFINE_integer("seed", 0, "Init, data and sampling seed.")
CKPT = flags.DEFINE_integer("checkpoint_every", 500, "Steps between saves.")
KEEP = flags.DEFINE_integer("keep_checkpoints", 3, "Checkpoints kept.")
LOG = flags.DEFINE_integer("log_every", 50, "Steps between log lines.")
STOP_AFTER = flags.DEFINE_integer(
    "stop_after", None, "End this invocation after that many steps (the "
    "schedule still spans --num_steps); resume later with the same command.")

SCORE_FROM = flags.DEFINE_integer(
    "score_from", None, "Ablations only: the first t in the objective "
    "(default: 0, or C for --pseudo_input=false).")

INIT_PARAMS = flags.DEFINE_string(
    "init_params", None, "Start a new workdir from a params export (e.g. "
    "pretrained/gmn_c2.msgpack) at its step, with Adam's moments reset; "
    "ignored once the workdir has a checkpoint.")


def run_config() -> RunConfig:
  try:
    rates = tuple(float(r) for r in RATES.value)
  except ValueError as e:
    raise app.UsageError(f"--learning_rates={RATES.value}: {e}")
  return RunConfig(
      model=Config(matching=MATCHING.value, pseudo_input=PSEUDO.value,
                   latent_dim=LATENT.value, state_dim=STATE.value,
                   match_dim=MATCH.value, num_passes=PASSES.value,
                   prior_passes=PRIOR_PASSES.value,
                   decoder_input=DECODER_INPUT.value,
                   similarity=SIMILARITY.value,
                   pseudo_visible=PSEUDO_VISIBLE.value, keys=KEYS.value,
                   gru_input=GRU_INPUT.value,
                   encoder_ink=int(ENCODER_INK.value)),
      episodes=EpisodeSpec(LENGTH.value, CLASSES.value, ORDERING.value),
      batch_size=BATCH.value, num_steps=STEPS.value, learning_rates=rates,
      seed=SEED.value, matmul_dtype=flags_common.MATMUL_DTYPE.value,
      checkpoint_every=CKPT.value, keep_checkpoints=KEEP.value,
      log_every=LOG.value, score_from=SCORE_FROM.value,
      l2_penalty=L2_PENALTY.value, class_rotations=CLASS_ROTATIONS.value)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags_common.WORKDIR.value:
    raise app.UsageError("--workdir is required.")
  host_memory.restart_with_huge_pages()  # the step's buffers, faulted in 2 MB at a time
  try:
    run = run_config()
    train(run, os.path.expanduser(flags_common.WORKDIR.value),
          data_dir=flags_common.data_dir(), stop_after=STOP_AFTER.value,
          init_params=INIT_PARAMS.value)
  except (ValueError, FileNotFoundError) as e:
    raise app.UsageError(str(e))


if __name__ == "__main__":
  app.run(main)
