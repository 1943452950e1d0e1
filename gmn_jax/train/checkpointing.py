"""Orbax checkpoints of a run: the train state and the run config.

The data stream and the samples of z are functions of (seed, step), so the
state's step is the whole RNG state and resuming is exact.
"""
import json
import os

import jax
import optax
import orbax.checkpoint as ocp
from jax.flatten_util import ravel_pytree

from gmn_jax.config import Config
from gmn_jax.train.run_config import OBJECTIVE_FIELDS, RunConfig, differences

CONFIG_FILE = "run_config.json"


def manager(workdir: str, run: RunConfig) -> ocp.CheckpointManager:
  options = ocp.CheckpointManagerOptions(max_to_keep=run.keep_checkpoints,
                                         create=True)
  # The handler named, so that item_metadata can read a checkpoint this
  # manager has not written (restore).
  return ocp.CheckpointManager(os.path.join(os.path.abspath(workdir),
                                            "checkpoints"), options=options,
                               item_handlers=ocp.StandardCheckpointHandler())


def check_or_write_config(workdir: str, run: RunConfig) -> None:
  """Refuse a workdir whose saved model or episode config differs from `run`.

  Schedule fields (steps, rates, logging) may change between restarts.
  """
  path = os.path.join(workdir, CONFIG_FILE)
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    now = run.to_dict()
    # Fields added since the run started take their defaults, which keep the
    # old behaviour; a field this version does not know is an error.
    saved = {**RunConfig().to_dict(), **saved}
    saved["model"] = Config.from_dict(saved["model"]).to_dict()
    defining = ("model", "episodes", "seed", "batch_size") + OBJECTIVE_FIELDS
    diff = differences({k: saved[k] for k in defining},
                       {k: now[k] for k in defining})
    if diff:
      raise ValueError(
          f"{workdir!r} holds a run with another config; refusing to resume "
          "from it:\n  " + "\n  ".join(diff) +
          "\nUse a new --workdir, or the flags of that run.")
  with open(path, "w") as f:
    f.write(run.to_json())


def load_run_config(workdir: str) -> RunConfig:
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise FileNotFoundError(f"{path!r} is missing: {workdir!r} is not a "
                            "training workdir of experiments/train.py.")
  with open(path) as f:
    return RunConfig.from_dict(json.load(f))


def save(mngr: ocp.CheckpointManager, state: dict, force: bool = False):
  step = int(jax.device_get(state["step"]))
  if mngr.latest_step() == step:
    return
  mngr.save(step, args=ocp.args.StandardSave(state), force=force)


def restore(mngr: ocp.CheckpointManager, step: int, abstract_state: dict):
  """-> the state saved at `step`, placed like `abstract_state`. A state
  saved with Adam's moments per parameter (before Adam ran over one flat
  vector, gmn_jax.train.step.make_optimizer) is restored in that layout and
  its moments flattened in the same order: the run resumes exactly."""
  saved = mngr.item_metadata(step).tree["opt_state"]
  if len(jax.tree.leaves(saved)) == len(jax.tree.leaves(
      abstract_state["opt_state"])):
    return mngr.restore(step, args=ocp.args.StandardRestore(abstract_state))
  state = mngr.restore(step, args=ocp.args.StandardRestore(
      _with_moments(abstract_state, lambda _: abstract_state["params"])))
  state = _with_moments(state, lambda tree: ravel_pytree(tree)[0])
  place = lambda x, like: (x if getattr(like, "sharding", None) is None
                           else jax.device_put(x, like.sharding))
  return jax.tree.map(place, state, abstract_state)


def _with_moments(state: dict, moments) -> dict:
  """`state` with each Adam moment (mu, nu) replaced by moments(it)."""
  adam = lambda s: isinstance(s, optax.ScaleByAdamState)
  return {**state, "opt_state": jax.tree.map(
      lambda s: s._replace(mu=moments(s.mu), nu=moments(s.nu)) if adam(s)
      else s, state["opt_state"], is_leaf=adam)}


def restore_latest(mngr: ocp.CheckpointManager, abstract_state: dict):
  """-> the latest saved state (placed like `abstract_state`), or None."""
  step = mngr.latest_step()
  if step is None:
    return None
  return restore(mngr, step, abstract_state)


def restore_params(workdir: str, step: int = None):
  """-> (params, run config, step) of a workdir's latest (or given) step."""
  from gmn_jax.train import step as train_step  # avoid an import cycle
  run = load_run_config(workdir)
  mngr = manager(workdir, run)
  step = mngr.latest_step() if step is None else step
  if step is None:
    raise FileNotFoundError(f"No checkpoint in {workdir!r}/checkpoints.")
  abstract = jax.eval_shape(lambda: train_step.init_state(run))
  return restore(mngr, step, abstract)["params"], run, step
