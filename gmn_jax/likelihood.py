"""Importance weights of an episode, the training bound, and the
importance-sampled conditional NLL -log p(x_t | X_<t) for all t at once.

For an episode and a sample z_t ~ q(z | x_t, X_<t), the log weight is
  w_t = log p(x_t | z_t, X_<t) + log p(z_t | X_<t) - log q(z_t | x_t, X_<t).
Its mean over samples is the ELBO of x_t; -log mean_s exp(w_t^(s)) is the
importance-sampled NLL, an upper bound that tightens as samples grow.
"""
import functools
from typing import Optional

import jax
import jax.numpy as jnp

from gmn_jax import checks, decoder, model, precision
from gmn_jax.config import Config

DEFAULT_SEED = 0
DEFAULT_NUM_SAMPLES = 100
# Importance samples evaluated together (default_chunk). The accelerator value
# is the former default for every backend, not tuned on a GPU yet.
CPU_CHUNK = 10
ACCELERATOR_CHUNK = 100


def latent_free_terms(params: dict, config: Config, x: jax.Array):
  """x: [T, 784] -> (context of the T queries, q(z_t | x_t, X_<t)): all that
  does not depend on z, computed once per episode."""
  feats = model.features(params, config, x)
  ctx = model.condition(params, config, feats, jnp.arange(x.shape[0]))
  return ctx, model.posterior(params, config, ctx, feats)


def _sample_weights(params, config, x, ctx, q, e):
  """e: [T, L] standard normal -> [T] log weights of one sample of z."""
  z = q.mean + q.scale * e
  logits = model.generator_logits(params, config, ctx, z)
  return (decoder.bernoulli_log_prob(logits, x) + ctx.prior.log_prob(z)
          - q.log_prob(z))


def log_weights(params: dict, config: Config, x: jax.Array,
                eps: jax.Array) -> jax.Array:
  """x: [T, 784] in {0, 1}, eps: [S, T, L] -> [S, T] log weights w_t (nats),
  with z_t = mu_q + sigma_q * eps_t (the reparameterisation)."""
  ctx, q = latent_free_terms(params, config, x)
  return jax.vmap(lambda e: _sample_weights(params, config, x, ctx, q, e))(eps)


def default_chunk() -> int:
  """Importance samples evaluated together on the default backend.

  On CPU the generator's 28x28 activations of a chunk should stay in cache:
  one episode at S = 100 took 0.37 s in chunks of 10 and 0.54 s in one chunk
  of 100 on a 2-core CPU. Accelerators want large batches of work.
  """
  return CPU_CHUNK if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK


@precision.traced_as_stored
def episode_log_weights(params: dict, config: Config, x: jax.Array,
                        key: jax.Array, num_samples: int,
                        chunk: Optional[int] = None) -> jax.Array:
  """x: [T, 784] in {0, 1} -> [num_samples, T] log weights w_t (nats).

  The encoder, memories, prior and recognition model run once; z-dependent
  work runs `chunk` samples at a time (default: `default_chunk()`), so the
  activations' memory is bounded whatever num_samples is. The noise of all
  samples is one draw from fold_in(key, 0), so the estimate does not depend
  on `chunk`.
  """
  t = x.shape[0]
  ctx, q = latent_free_terms(params, config, x)
  # fold_in(key, 0): the draw of earlier versions (chunks of 100, chunk i from
  # fold_in(key, i)) for S <= 100, so results/ stay reproducible.
  eps = jax.random.normal(jax.random.fold_in(key, 0),
                          (num_samples, t, config.latent_dim))
  chunk = default_chunk() if chunk is None else chunk
  weights = lambda e: _sample_weights(params, config, x, ctx, q, e)
  if chunk >= num_samples:  # training: no loop to compile and differentiate
    return jax.vmap(weights)(eps)
  return jax.lax.map(weights, eps, batch_size=chunk)


def nll_from_log_weights(w: jax.Array) -> jax.Array:
  """[..., S, T] log weights -> [..., T] nats: -log mean_s exp(w)."""
  s = w.shape[-2]
  return -(jax.nn.logsumexp(w, axis=-2) - jnp.log(s))


@functools.partial(jax.jit, static_argnames=("config", "num_samples", "chunk"))
def batch_conditional_nll(params: dict, x: jax.Array, keys: jax.Array, *,
                          config: Config, num_samples: int,
                          chunk: Optional[int] = None) -> jax.Array:
  """The unchecked jitted core: x [B, T, 784], keys [B] -> [B, T] nats.

  Episode b uses keys[b], so its estimate does not depend on the batch.
  """
  w = jax.vmap(lambda xb, kb: episode_log_weights(
      params, config, xb, kb, num_samples, chunk))(x, keys)
  return nll_from_log_weights(w)


def conditional_nll(params: dict, X, *, config: Config = Config(),
                    key: Optional[jax.Array] = None,
                    num_samples: int = DEFAULT_NUM_SAMPLES,
                    chunk: Optional[int] = None) -> jax.Array:
  """-log p(x_t | X_<t) for every t of one episode or a batch of episodes.

  X: [T, 28, 28] or [T, 784] (one episode), or [B, T, ...] (a batch), binary
    with ink = 1: {0, 1} floats, bools, or {0, 255} uint8.
  key: PRNG key of the importance samples; None means a fixed default, so the
    same call gives the same numbers. In a batch, episode b uses
    `jax.random.split(key, B)[b]`.
  Returns [T] or [B, T] nats, estimated with `num_samples` samples of z_t.
  Conditional models (pseudo_input=False) are only meaningful from t = C.
  """
  checks.check_params(params, config)
  x, batched = checks.as_episodes(X)
  if num_samples < 1:
    raise ValueError(f"num_samples={num_samples} must be at least 1.")
  key = jax.random.key(DEFAULT_SEED) if key is None else key
  keys = jax.random.split(key, x.shape[0]) if batched else key[None]
  nll = batch_conditional_nll(params, x, keys, config=config,
                              num_samples=num_samples, chunk=chunk)
  return nll if batched else nll[0]


def training_objective(params: dict, x: jax.Array, key: jax.Array,
                       config: Config, first_step: int = 0,
                       num_samples: int = 1):
  """The negative training bound of a batch (pure, jittable, differentiable).

  x: [B, T, 784] binary; each episode gets its own samples of z.
  Returns (loss, bound): loss = -(mean over episodes of sum over
  t >= first_step of the mean w_t), a scalar; bound: [T], the per-t mean w_t
  over the batch (the reference's progress line).
  """
  keys = jax.random.split(key, x.shape[0])
  w = jax.vmap(lambda xb, kb: episode_log_weights(
      params, config, xb, kb, num_samples))(x, keys)  # [B, S, T]
  bound = jnp.mean(w, axis=(0, 1))
  return -jnp.sum(bound[first_step:]), bound
