"""Params-only export: one msgpack file holding the config and the params.

msgpack holds only numbers, strings and arrays, so loading a stranger's file
can fail but never runs code (unlike pickle). Training checkpoints (params,
optimiser state, step) are Orbax's, in `gmn_jax.train.checkpointing`.
"""
import json
import os

import jax
import numpy as np
from flax import serialization

from gmn_jax import checks, model
from gmn_jax.config import Config

FORMAT = "gmn_jax.params/1"


def save_params(path: str, params: dict, config: Config, **metadata) -> None:
  """Write params and config (and JSON-able metadata) to `path`."""
  checks.check_params(params, config)
  blob = {"format": FORMAT, "config": json.dumps(config.to_dict()),
          "metadata": json.dumps(metadata),
          "params": serialization.to_state_dict(
              jax.tree_util.tree_map(np.asarray, params))}
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(serialization.msgpack_serialize(blob))
  os.replace(tmp, path)


def _read(path: str) -> tuple:
  """-> (blob, config, metadata) of a file written by `save_params`."""
  if not os.path.exists(path):
    raise FileNotFoundError(f"No params file at {path!r}.")
  with open(path, "rb") as f:
    try:
      blob = serialization.msgpack_restore(f.read())
    except Exception as e:  # msgpack raises several types for bad bytes.
      raise ValueError(f"{path!r} is not a gmn_jax params file: {e}") from e
  if not isinstance(blob, dict) or blob.get("format") != FORMAT:
    raise ValueError(f"{path!r} is not a gmn_jax params file (expected format "
                     f"{FORMAT!r}).")
  return (blob, Config.from_dict(json.loads(blob["config"])),
          json.loads(blob["metadata"]))


def read_header(path: str) -> tuple:
  """-> (config, metadata) of a file written by `save_params`, its params
  left unbuilt."""
  return _read(path)[1:]


def load_params(path: str):
  """-> (params, config, metadata) from a file written by `save_params`."""
  blob, config, metadata = _read(path)
  target = jax.eval_shape(lambda: model.init_params(jax.random.key(0), config))
  try:
    params = serialization.from_state_dict(target, blob["params"])
  except (ValueError, KeyError) as e:
    raise ValueError(f"{path!r}: params do not match its config {config}: {e}")
  params = jax.tree_util.tree_map(jax.numpy.asarray, params)
  checks.check_params(params, config)
  return params, config, metadata
