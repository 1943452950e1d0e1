"""The conditional generator p(x | z, X): [z, r, h] -> 28x28 Bernoulli logits."""
import jax
import jax.numpy as jnp

from gmn_jax import layers

# (kernel, block kernel, filters): 3 -> 6 -> 13 -> 28 with stride 2.
SECTIONS = ((2, 2, 32), (3, 3, 16), (4, 3, 16))
_SEED_SHAPE = (3, 3, 32)
INK_LOGIT = -2.4  # log-odds of the ~8% ink of Omniglot pixels.


def init_decoder(key, in_dim: int, split_at: int = 0) -> dict:
  """The generator's params; split_at > 0 reads inputs[:split_at] (z) and
  the rest ([r, h]) through separately normalised matrices (Config's
  decoder_input="split")."""
  k_in, k_out, *k_sections = jax.random.split(key, 2 + len(SECTIONS))
  sections, in_ch = [], _SEED_SHAPE[-1]
  for k, (kernel, block, filters) in zip(k_sections, SECTIONS):
    sections.append(layers.init_residual_section(k, kernel, block, in_ch, filters))
    in_ch = filters
  # Small output weights and the bias at the mean ink rate make every
  # conditional start near the entropy of the data, whatever the read-out.
  logits = layers.init_conv(k_out, 1, in_ch, 1)
  logits = {"w": 0.01 * logits["w"], "b": jnp.full((1,), INK_LOGIT, jnp.float32)}
  if split_at:
    k_z, k_read = jax.random.split(k_in)
    seed = {"seed_z": layers.init_dense(k_z, split_at, 288),
            "seed_readout": layers.init_dense(k_read, in_dim - split_at, 288)}
  else:
    seed = {"seed": layers.init_dense(k_in, in_dim, 288)}
  return {**seed,
          "alpha_seed": layers.init_prelu(288),
          "sections": sections,
          "logits": logits}


def decode(params: dict, inputs: jax.Array) -> jax.Array:
  """inputs: [N, latent + readout] -> [N, 784] Bernoulli logits."""
  if "seed" in params:
    seed = layers.dense(params["seed"], inputs)
  else:  # split: the layout says where z ends
    latent = params["seed_z"]["v"].shape[0]
    seed = (layers.dense(params["seed_z"], inputs[..., :latent])
            + layers.dense(params["seed_readout"], inputs[..., latent:]))
  seed = layers.prelu(params["alpha_seed"], seed)
  h = seed.reshape(-1, *_SEED_SHAPE)
  for section in params["sections"]:
    h = layers.up_section(section, h)
  return layers.conv(params["logits"], h).reshape(h.shape[0], 784)


def bernoulli_log_prob(logits: jax.Array, x: jax.Array) -> jax.Array:
  """logits, x: [..., 784] -> [...] log p(x) in nats."""
  return jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)
