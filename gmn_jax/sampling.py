"""Samples x ~ p(x | X_<n) for every prefix n = 0..T of a context (Figure 2)."""
import functools
from typing import Optional

import jax
import jax.numpy as jnp

from gmn_jax import checks, model, precision
from gmn_jax.config import Config


@functools.partial(jax.jit, static_argnames=("config", "num_samples"))
@precision.traced_as_stored
def prefix_probabilities(params: dict, x: jax.Array, key: jax.Array, *,
                         config: Config, num_samples: int) -> jax.Array:
  """x: [T, 784] -> [num_samples, T + 1, 784] pixel probabilities.

  Row n conditions on the first n images; z ~ p(z | X_<n).
  """
  t = x.shape[0]
  feats = model.features(params, config, x)
  ctx = model.condition(params, config, feats, jnp.arange(t + 1))

  def one_sample(k):
    eps = jax.random.normal(k, ctx.prior.mean.shape)
    z = ctx.prior.mean + ctx.prior.scale * eps
    return jax.nn.sigmoid(model.generator_logits(params, config, ctx, z))

  return jax.vmap(one_sample)(jax.random.split(key, num_samples))


def sample(params: dict, X_context, key: Optional[jax.Array] = None, *,
           config: Config = Config(), num_samples: int = 1,
           binary: bool = False) -> jax.Array:
  """Draw images given every prefix of one context episode.

  X_context: [T, 28, 28] or [T, 784] binary, ink = 1.
  Returns [num_samples, T + 1, 28, 28]: row n is drawn given the first n
  context images (n = 0 uses only the pseudo-input), as pixel probabilities,
  or as {0, 1} images drawn from them when `binary`. Conditional models
  (pseudo_input=False) give no meaningful row 0.
  """
  checks.check_params(params, config)
  x, batched = checks.as_episodes(X_context, "X_context")
  if batched:
    raise ValueError(f"X_context has shape {tuple(X_context.shape)}: sample "
                     "takes one episode, [T, 28, 28] or [T, 784].")
  key = jax.random.key(0) if key is None else key
  k_z, k_x = jax.random.split(key)
  probs = prefix_probabilities(params, x[0], k_z, config=config,
                               num_samples=num_samples)
  if binary:
    probs = jax.random.bernoulli(k_x, probs).astype(jnp.float32)
  return probs.reshape(num_samples, x.shape[1] + 1, 28, 28)
