"""Checks at the public boundary: they run on shapes, dtypes and (for concrete
arrays) values outside jit, so the jitted paths carry no cost.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gmn_jax.config import NUM_PIXELS, Config

_EXPECTED_PIXELS = ("binary images with ink = 1: {0, 1} floats, bools, or "
                    "{0, 255} uint8")


def as_episodes(X, name: str = "X"):
  """[T, 28, 28] | [T, 784] | [B, T, 28, 28] | [B, T, 784] binary
  -> ([B, T, 784] float32 in {0, 1}, whether X was a batch)."""
  shape = tuple(np.shape(X))
  if len(shape) == 4 and shape[-2:] == (28, 28):
    batched = True
  elif len(shape) == 3 and shape[-1] == NUM_PIXELS:
    batched = True
  elif len(shape) == 3 and shape[-2:] == (28, 28):
    batched = False
  elif len(shape) == 2 and shape[-1] == NUM_PIXELS:
    batched = False
  else:
    raise ValueError(
        f"{name} has shape {shape}; expected one episode [T, 28, 28] or "
        f"[T, 784], or a batch [B, T, 28, 28] or [B, T, 784].")
  b, t = (shape[0], shape[1]) if batched else (1, shape[0])
  if b == 0 or t == 0:
    raise ValueError(f"{name} has shape {shape}: an episode needs at least one "
                     "image (T >= 1) and a batch at least one episode.")
  dtype = np.dtype(X.dtype) if hasattr(X, "dtype") else np.asarray(X).dtype
  if isinstance(X, jax.core.Tracer):
    # Inside a transformation only the dtype can be checked.
    scale = 255.0 if dtype == np.uint8 else 1.0
    return jnp.reshape(X, (b, t, NUM_PIXELS)).astype(jnp.float32) / scale, batched
  x = np.asarray(X)
  values = np.unique(x)
  if dtype == np.bool_:
    x = x.astype(np.float32)
  elif np.issubdtype(dtype, np.integer):
    if set(values.tolist()) <= {0, 255}:
      x = (x // 255).astype(np.float32)
    elif set(values.tolist()) <= {0, 1}:
      x = x.astype(np.float32)
    else:
      raise ValueError(f"{name} ({dtype}) has values {values[:8].tolist()}...; "
                       f"expected {_EXPECTED_PIXELS}.")
  elif np.issubdtype(dtype, np.floating):
    if not set(values.tolist()) <= {0.0, 1.0}:
      raise ValueError(
          f"{name} ({dtype}) is not binary: it has values "
          f"{values[:8].tolist()}{'...' if len(values) > 8 else ''}; expected "
          f"{_EXPECTED_PIXELS}. Threshold grey images first (x > 0.5).")
  else:
    raise ValueError(f"{name} has dtype {dtype}; expected {_EXPECTED_PIXELS}.")
  x = x.reshape(b, t, NUM_PIXELS).astype(np.float32)
  if x.mean() > 0.5:
    raise ValueError(
        f"{name} is {x.mean():.0%} ones, which looks like background = 1 (as "
        "in the authors' stored arrays); gmn_jax expects ink = 1 and "
        f"background = 0: pass 1 - {name} (gmn_jax.data loads it this way).")
  return jnp.asarray(x), batched


@functools.lru_cache(maxsize=None)
def _expected_shapes(config: Config) -> dict:
  from gmn_jax import model  # model imports checks' users; avoid a cycle.
  shapes = jax.eval_shape(lambda: model.init_params(jax.random.key(0), config))
  return _shapes_by_path(shapes)


def _shapes_by_path(tree) -> dict:
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {jax.tree_util.keystr(path): tuple(np.shape(leaf))
          for path, leaf in leaves}


def check_params(params, config: Config) -> None:
  """Raise ValueError naming the differences if `params` is not `config`'s."""
  if not isinstance(config, Config):
    raise ValueError(f"config must be a gmn_jax.Config, got {type(config)}.")
  expected = _expected_shapes(config)
  got = _shapes_by_path(params)
  if got == expected:
    return
  problems = [f"missing {k}" for k in expected if k not in got]
  problems += [f"unexpected {k}" for k in got if k not in expected]
  problems += [f"{k} has shape {got[k]}, expected {expected[k]}"
               for k in expected if k in got and got[k] != expected[k]]
  more = f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""
  raise ValueError(
      f"params do not belong to {config}: " + "; ".join(problems[:6]) + more +
      ". Pass the config the params were made with: init_params(key, config)'s, "
      "the one gmn_jax.load_params returns with an export's params, or the one "
      "saved beside a checkpoint.")
