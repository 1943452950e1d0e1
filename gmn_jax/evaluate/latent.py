"""Where each conditional's bound goes: KL(q || p), reconstruction, the
prior's entropy and the latent units in use, for every t of an episode.

The ELBO of x_t is E_q[log p(x_t | z, X_<t)] - KL(q(z | x_t, X_<t) || p(z | X_<t));
importance sampling (gmn_jax.likelihood) tightens it into Table 1's NLL.
Set beside the NLL, the split says whether a model's gap is in its fit (the
ELBO) or in what importance sampling recovers of the marginal likelihood.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gmn_jax import checks, decoder, likelihood, model, precision
from gmn_jax.config import Config
from gmn_jax.evaluate import table1

# A latent unit is in use where its KL, averaged over test episodes, exceeds
# this (nats); unused units sit at the prior, with KL ~ 0.
ACTIVE_KL = 0.01


def gaussian_kl(q: model.Gaussian, p: model.Gaussian) -> jax.Array:
  """KL(q || p) of diagonal Gaussians per dimension: [..., L] nats."""
  return (jnp.log(p.scale / q.scale)
          + (q.scale ** 2 + (q.mean - p.mean) ** 2) / (2 * p.scale ** 2) - 0.5)


def gaussian_entropy(p: model.Gaussian) -> jax.Array:
  """[..., L] -> [...] nats."""
  return jnp.sum(0.5 * jnp.log(2 * jnp.pi * jnp.e) + jnp.log(p.scale), -1)


def episode_terms(params: dict, config: Config, x: jax.Array,
                  key: jax.Array) -> dict:
  """x: [T, 784] binary -> kl [T, L], reconstruction [T] (one sample of z_t
  per t, nats), prior_entropy [T]."""
  ctx, q = likelihood.latent_free_terms(params, config, x)
  z = q.mean + q.scale * jax.random.normal(key, q.mean.shape)
  logits = model.generator_logits(params, config, ctx, z)
  return {"kl": gaussian_kl(q, ctx.prior),
          "reconstruction": decoder.bernoulli_log_prob(logits, x),
          "prior_entropy": gaussian_entropy(ctx.prior)}


@functools.partial(jax.jit, static_argnames="config")
@precision.traced_as_stored
def _batch_terms(params, x, keys, *, config):
  return jax.vmap(lambda xb, kb: episode_terms(params, config, xb, kb))(x, keys)


def per_episode_terms(params: dict, config: Config, episodes: np.ndarray,
                      seed: int = 1234, batch: int = 8) -> dict:
  """episodes: [E, T, 784] or [E, T, 28, 28] binary, ink = 1 -> kl [E, T, L],
  reconstruction [E, T] and prior_entropy [E, T] (episode_terms of each);
  episode i's sample of z depends only on (seed, i), as in Table 1."""
  checks.check_params(params, config)
  episodes, batched = checks.as_episodes(episodes, "episodes")
  if not batched:
    raise ValueError(f"episodes has shape {episodes.shape[1:]}, one episode; "
                     "expected a batch [E, T, 784]: pass episodes[None].")
  parts = table1.per_episode(
      functools.partial(_batch_terms, params, config=config), episodes, seed,
      batch)
  return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarize(params: dict, config: Config, episodes: np.ndarray,
              seed: int = 1234, batch: int = 8, first: int = 0) -> list:
  """episodes: [E, T, 784] or [E, T, 28, 28] binary, ink = 1 -> one dict per
  t >= first: the means over episodes of kl, neg_reconstruction, neg_elbo
  (nats) and prior_entropy, and active_units.

  `first`: gmn_jax.config.first_scored_step(config, C) for the episodes'
  C, so a conditional model, which never predicts with fewer than C
  examples, gets no rows for t < C (as in Table 1).
  """
  length = checks.as_episodes(episodes, "episodes")[0].shape[1]
  if not 0 <= first < length:
    raise ValueError(f"first={first} scored t, but episodes have T={length}: "
                     "expected 0 <= first < T.")
  terms = per_episode_terms(params, config, episodes, seed, batch)
  kl_per_unit = terms["kl"].mean(0)  # [T, L]
  kl = terms["kl"].sum(-1)  # [E, T]
  return [{"t": t,
           "kl": float(kl[:, t].mean()),
           "neg_reconstruction": float(-terms["reconstruction"][:, t].mean()),
           "neg_elbo": float((kl[:, t] - terms["reconstruction"][:, t]).mean()),
           "prior_entropy": float(terms["prior_entropy"][:, t].mean()),
           "active_units": int((kl_per_unit[t] > ACTIVE_KL).sum())}
          for t in range(first, kl.shape[1])]
