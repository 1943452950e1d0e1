"""The prior, recognition and likelihood terms of one episode, all t at once.

An episode is T images x_1..x_T. Query i carries a prefix length n_i (the
number of leading images it may condition on): the likelihood uses n = 0..T-1
(x_t given X_<t); sampling uses n = 0..T.

Latent-free work (psi of every image, the memories, the prior and the
recognition read-outs) is done once per episode in `condition`/`posterior`;
only `generator_logits` depends on z, so importance samples reuse the rest.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp

from gmn_jax import decoder, encoder, layers, matching
from gmn_jax.config import FEATURE_DIM, Config

HIDDEN_PRIOR = 200
# Gaussian heads start small, so p(z | X) and q(z | x, X) start near
# N(0, softplus(0)) whatever the read-out: no early KL blow-up.
HEAD_INIT_SCALE = 0.1


def init_params(key: jax.Array, config: Config = Config()) -> dict:
  """The params pytree of `config`'s model (a nested dict of float32 arrays)."""
  ks = jax.random.split(key, 6)
  latent, readout = config.latent_dim, config.readout_dim
  params = {
      "encoder": encoder.init_encoder(ks[0]),
      "decoder": decoder.init_decoder(
          ks[1], latent + readout, config.decoder_input,
          latent if readout else 0),
      "recognition": layers.init_dense(ks[2], FEATURE_DIM + readout, 2 * latent,
                                       HEAD_INIT_SCALE),
  }
  if config.conditioned:
    params["controller"] = matching.init_controller(
        ks[3], config, {"generative": latent, "recognition": FEATURE_DIM})
    params["prior_controller"] = matching.init_controller(
        ks[4], config, {"prior": 0})
    kh, ko = jax.random.split(ks[5])
    params["prior"] = {"hidden": layers.init_dense(kh, readout, HIDDEN_PRIOR),
                       "alpha": layers.init_prelu(HIDDEN_PRIOR),
                       "out": layers.init_dense(ko, HIDDEN_PRIOR, 2 * latent,
                                             HEAD_INIT_SCALE)}
  return params


class Gaussian(NamedTuple):
  mean: jax.Array
  scale: jax.Array

  def log_prob(self, z: jax.Array) -> jax.Array:
    """z: [..., L] -> [...] nats."""
    u = (z - self.mean) / self.scale
    return jnp.sum(-0.5 * u * u - jnp.log(self.scale)
                   - 0.5 * jnp.log(2 * jnp.pi), -1)


def _gaussian(stats: jax.Array) -> Gaussian:
  """[..., 2L] -> N(mu, softplus(clip(pre_sigma, -10, 10)))."""
  mean, pre_scale = jnp.split(stats, 2, -1)
  return Gaussian(mean, jax.nn.softplus(jnp.clip(pre_scale, -10.0, 10.0)))


class Context(NamedTuple):
  """What N queries know of their conditioning sets, before z.

  memory, prior_memory: the two controllers' memories (None for the VAE).
  mask: [N, M] visible slots. prior: p(z | X_<n) with [N, L] mean and scale.
  """
  memory: matching.Memory
  prior_memory: matching.Memory
  mask: jax.Array
  prior: Gaussian


def condition(params: dict, config: Config, feats: jax.Array,
              prefix_lengths: jax.Array) -> Context:
  """feats: [T, 288], prefix_lengths: [N] int -> the context of N queries."""
  n = prefix_lengths.shape[0]
  if not config.conditioned:
    zeros = jnp.zeros((n, config.latent_dim))
    return Context(None, None, None, Gaussian(zeros, jnp.ones_like(zeros)))
  memory = matching.build_memory(params["controller"], feats, config)
  prior_memory = matching.build_memory(params["prior_controller"], feats,
                                       config)
  mask = matching.visible_slots(prefix_lengths, memory.prototypes.shape[0],
                                config.pseudo_input, config.pseudo_visible)
  read = matching.matching_readout(
      params["prior_controller"], "prior", jnp.zeros((n, 0)), prior_memory,
      mask, config, config.prior_passes)
  p = params["prior"]
  hidden = layers.prelu(p["alpha"], layers.dense(p["hidden"], read))
  return Context(memory, prior_memory, mask,
                 _gaussian(layers.dense(p["out"], hidden)))


def posterior(params: dict, config: Config, ctx: Context,
              query_feats: jax.Array) -> Gaussian:
  """q(z | x, X_<n): query_feats [N, 288] -> [N, L] mean and scale."""
  inputs = query_feats
  if config.conditioned:
    read = matching.matching_readout(
        params["controller"], "recognition", query_feats, ctx.memory,
        ctx.mask, config, config.num_passes)
    inputs = jnp.concatenate([query_feats, read], -1)
  return _gaussian(layers.dense(params["recognition"], inputs))


def generator_logits(params: dict, config: Config, ctx: Context,
                     z: jax.Array) -> jax.Array:
  """p(x | z, X_<n): z [N, L] -> [N, 784] Bernoulli logits."""
  inputs = z
  if config.conditioned:
    read = matching.matching_readout(
        params["controller"], "generative", z, ctx.memory, ctx.mask, config,
        config.num_passes)
    inputs = jnp.concatenate([z, read], -1)
  return decoder.decode(params["decoder"], inputs)


def features(params: dict, config: Config, x: jax.Array) -> jax.Array:
  """x: [N, 784] binary, ink = 1 -> [N, 288]: psi(x), in the pixel convention
  of Config.encoder_ink."""
  return encoder.encode(params["encoder"], x if config.encoder_ink else 1 - x)


def attention_weights(params: dict, config: Config, x: jax.Array,
                      matcher: str) -> jax.Array:
  """x: [T, 784] -> [K, T, M]: where the shared controller's "recognition"
  or "generative" matcher looks, in each of its K passes, when x_t is
  scored given X_<t (slot 0 is the pseudo-input where there is one). The
  generative matcher is queried with z = the mean of q(z | x_t, X_<t)."""
  if matcher not in ("recognition", "generative"):
    raise ValueError(f"matcher={matcher!r}; the shared controller's are "
                     "'recognition' and 'generative'.")
  feats = features(params, config, x)
  ctx = condition(params, config, feats, jnp.arange(x.shape[0]))
  query = feats if matcher == "recognition" else \
      posterior(params, config, ctx, feats).mean
  return matching.attention_weights(params["controller"], matcher, query,
                                    ctx.memory, ctx.mask, config,
                                    config.num_passes)
