"""The memory over a conditioning set and the controllers that read it
(Appendix B, "full matching").

A memory holds one slot per conditioning image (its prototype psi(x) and key
g(x)), after an optional learned pseudo-input slot. Every query carries the
number of images it may see: a query for x_t sees the first t images and the
pseudo-input, which is what makes all T conditionals of an episode computable
at once.

A controller is a GRU with a learned initial state h_0. With attention it runs
K passes: query f(h, .), strength from h, softmax over the visible slots,
read-out r = sum_j a_j psi_j, h <- GRU(h, r). Its output is [r_K, h_{K+1}].
"""
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp

from gmn_jax import layers
from gmn_jax.config import FEATURE_DIM, Config

MAX_STRENGTH = 10.0  # The reference clips the inverse temperature to (0, 10].
# Whether the K passes are unrolled (lax.scan's unroll). Unrolled, the train
# step took 3.65 ms against 4.33 ms rolled on an H100 (the rolled loop adds
# ~190 small kernels per step that store each pass for the backward pass;
# benchmarks/results/trace_nvidia_h100_80gb_hbm3.json) and 0.969x the rolled
# time on 2 CPU cores (trace_cpu.json), compiling as fast, with the likelihood
# evaluation unchanged (0.997x, S = 1000). Benchmarks switch it to compare;
# XLA's cost analysis counts a rolled loop's body once, not K times.
UNROLL_PASSES = True


class Memory(NamedTuple):
  """prototypes: [M, 288]; keys: [M, Config.key_dim] (None for "average";
  the prototypes themselves for Config.keys="features")."""
  prototypes: jax.Array
  keys: Optional[jax.Array]


def init_controller(key, config: Config, query_dims: dict) -> dict:
  """A controller; `query_dims` names its matchers and their query inputs.

  The shared controller has matchers "generative" (query input z) and
  "recognition" (query input psi(x)); the prior's has "prior" (h alone).
  """
  k_gru, k_h0, k_key, k_pk, k_pp, *k_match = jax.random.split(
      key, 5 + len(query_dims))
  s, m = config.state_dim, config.key_dim
  gru_in = FEATURE_DIM + (s if config.gru_input == "read_and_state" else 0)
  p = {"gru": layers.init_gru(k_gru, gru_in, s),
       "h0": 0.1 * jax.random.normal(k_h0, (s,))}
  if config.pseudo_input:
    p["pseudo_prototype"] = 0.1 * jax.random.normal(k_pp, (FEATURE_DIM,))
  if config.matching == "attention":
    if config.keys == "learned":
      p["key"] = {"dense": layers.init_dense(k_key, FEATURE_DIM, m),
                  "alpha": layers.init_prelu(m)}
      if config.pseudo_input:
        p["pseudo_key"] = 0.1 * jax.random.normal(k_pk, (m,))
    for k, (name, q_dim) in zip(k_match, sorted(query_dims.items())):
      kq, ks = jax.random.split(k)
      p[name] = {"query": layers.init_dense(kq, s + q_dim, m),
                 "alpha": layers.init_prelu(m),
                 "strength": layers.init_dense(ks, s, 1)}
  return p


def build_memory(p: dict, feats: jax.Array, config: Config) -> Memory:
  """feats: [T, 288] -> a memory of M = T (+1 with the pseudo-input) slots."""
  attention = config.matching == "attention"
  protos, keys = feats, None
  if attention and config.keys == "learned":
    keys = layers.prelu(p["key"]["alpha"], layers.dense(p["key"]["dense"], feats))
  if config.pseudo_input:
    protos = jnp.concatenate([p["pseudo_prototype"][None], protos])
    if keys is not None:
      keys = jnp.concatenate([p["pseudo_key"][None], keys])
  if attention and config.keys == "features":
    keys = protos
  return Memory(protos, keys)


def visible_slots(prefix_lengths: jax.Array, num_slots: int,
                  pseudo_input: bool,
                  pseudo_visible: str = "always") -> jax.Array:
  """The causal mask: [N] prefix lengths -> [N, M] bool.

  Query i sees image slots j < prefix_lengths[i], and the pseudo-input
  (slot 0, where there is one): always, or with pseudo_visible="empty_set"
  only where it sees no image.
  """
  offset = int(pseudo_input)
  image_index = jnp.arange(num_slots) - offset
  mask = image_index[None, :] < prefix_lengths[:, None]
  if pseudo_input and pseudo_visible == "empty_set":
    mask = mask.at[:, 0].set(prefix_lengths == 0)
  return mask


def masked_softmax(logits: jax.Array, mask: jax.Array) -> jax.Array:
  """Softmax over the last axis restricted to `mask`; all-masked rows give 0.

  The mask is applied to the already-scaled logits with a finite fill, so
  neither the values nor the gradients ever see inf - inf.
  """
  logits = jnp.where(mask, logits, -1e30)
  shifted = logits - jax.lax.stop_gradient(jnp.max(logits, -1, keepdims=True))
  e = jnp.where(mask, jnp.exp(shifted), 0.0)
  return e / jnp.maximum(jnp.sum(e, -1, keepdims=True), 1e-30)


def unit_rows(x: jax.Array) -> jax.Array:
  """[..., D] -> the rows scaled to unit norm; zero rows stay zero, with
  finite gradients (the norm's own gradient is 0/0 at zero)."""
  return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x, -1, keepdims=True),
                                       1e-24))


def update_state(p: dict, h: jax.Array, r: jax.Array,
                 config: Config) -> jax.Array:
  """The controller's GRU step after a read: h [N, S], r [N, 288] -> [N, S]
  (Config.gru_input: what the GRU reads besides its state)."""
  state_too = config.gru_input == "read_and_state"
  x = jnp.concatenate([r, h], -1) if state_too else r
  return layers.gru(p["gru"], h, x)


def _attention_passes(p: dict, matcher: dict, query_input: jax.Array,
                      memory: Memory, mask: jax.Array, num_passes: int,
                      config: Config, keep_attention: bool = False):
  """query_input: [N, Q], mask: [N, M] -> (h [N, S] after the last update,
  the last read-out r [N, 288], each pass's attention [K, N, M] where
  keep_attention, else None)."""
  h0 = jnp.broadcast_to(p["h0"], (mask.shape[0], p["h0"].shape[0]))
  cosine = config.similarity == "cosine"
  keys = unit_rows(memory.keys) if cosine else memory.keys

  def one_pass(carry, _):
    h, _ = carry
    q = layers.prelu(matcher["alpha"], layers.dense(
        matcher["query"], jnp.concatenate([h, query_input], -1)))
    strength = jnp.minimum(
        jax.nn.softplus(layers.dense(matcher["strength"], h)), MAX_STRENGTH)
    a = masked_softmax(strength * ((unit_rows(q) if cosine else q) @ keys.T),
                       mask)
    r = a @ memory.prototypes
    return (update_state(p, h, r, config), r), (a if keep_attention else None)

  r0 = jnp.zeros((mask.shape[0], memory.prototypes.shape[-1]))
  (h, r), attention = jax.lax.scan(one_pass, (h0, r0), None,
                                   length=num_passes, unroll=UNROLL_PASSES)
  return h, r, attention


def _attention_read(p: dict, matcher: dict, query_input: jax.Array,
                    memory: Memory, mask: jax.Array, num_passes: int,
                    config: Config):
  """query_input: [N, Q], mask: [N, M] -> [N, 288 + state]."""
  h, r, _ = _attention_passes(p, matcher, query_input, memory, mask,
                              num_passes, config)
  return jnp.concatenate([r, h], -1)


def attention_weights(p: dict, matcher: str, query_input: jax.Array,
                      memory: Memory, mask: jax.Array, config: Config,
                      num_passes: int) -> jax.Array:
  """Where controller `p`'s matcher looks in each pass: [N, Q], [N, M] ->
  [K, N, M] attention weights (each row sums to 1 over its visible slots)."""
  if config.matching != "attention":
    raise ValueError(f"{config.matching!r} matching has no attention "
                     "weights; only matching='attention' does.")
  return _attention_passes(p, p[matcher], query_input, memory, mask,
                           num_passes, config, keep_attention=True)[2]


def _average_read(p: dict, memory: Memory, mask: jax.Array, config: Config):
  """mask: [N, M] -> [N, 288 + state]: the mean visible prototype, one update."""
  w = mask.astype(memory.prototypes.dtype)
  r = (w @ memory.prototypes) / jnp.maximum(w.sum(-1, keepdims=True), 1.0)
  h0 = jnp.broadcast_to(p["h0"], (mask.shape[0], p["h0"].shape[0]))
  return jnp.concatenate([r, update_state(p, h0, r, config)], -1)


def matching_readout(p: dict, matcher: str, query_input: jax.Array,
                     memory: Memory, mask: jax.Array, config: Config,
                     num_passes: int) -> jax.Array:
  """What controller `p` reads for each query: [N, Q], [N, M] -> [N, 288 + S].

  With "average" matching the read-out ignores the query.
  """
  if config.matching == "average":
    return _average_read(p, memory, mask, config)
  return _attention_read(p, p[matcher], query_input, memory, mask, num_passes,
                         config)
