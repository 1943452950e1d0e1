"""The conditional generator p(x | z, X): [z, r, h] -> 28x28 Bernoulli logits."""
import jax
import jax.numpy as jnp

from gmn_jax import layers

# (kernel, block kernel, filters): 3 -> 6 -> 13 -> 28 with stride 2.
SECTIONS = ((2, 2, 32), (3, 3, 16), (4, 3, 16))
_SEED_SHAPE = (3, 3, 32)
INK_LOGIT = -2.4  # log-odds of the ~8% ink of Omniglot pixels.


def init_decoder(key, in_dim: int, input_layer: str = "joint",
                 latent_dim: int = 0) -> dict:
  """The generator's params. input_layer (Config.decoder_input) is how it
  reads its input [z, r, h]: "joint", one weight-normalised matrix and a
  PReLU; "split", z (the first latent_dim inputs) and [r, h] through matrices
  normalised apart, summed, and a PReLU; "plain", one affine map with no
  normalisation and no activation."""
  k_in, k_out, *k_sections = jax.random.split(key, 2 + len(SECTIONS))
  sections, in_ch = [], _SEED_SHAPE[-1]
  for k, (kernel, block, filters) in zip(k_sections, SECTIONS):
    sections.append(layers.init_residual_section(k, kernel, block, in_ch, filters))
    in_ch = filters
  # Small output weights and the bias at the mean ink rate make every
  # conditional start near the entropy of the data, whatever the read-out.
  logits = layers.init_conv(k_out, 1, in_ch, 1)
  logits = {"w": 0.01 * logits["w"], "b": jnp.full((1,), INK_LOGIT, jnp.float32)}
  seed_dim = 288
  if input_layer == "plain":
    seed = {"seed_affine": layers.init_affine(k_in, in_dim, seed_dim)}
  elif input_layer == "split" and latent_dim:
    k_z, k_read = jax.random.split(k_in)
    seed = {"seed_z": layers.init_dense(k_z, latent_dim, seed_dim),
            "seed_readout": layers.init_dense(k_read, in_dim - latent_dim,
                                              seed_dim),
            "alpha_seed": layers.init_prelu(seed_dim)}
  else:
    seed = {"seed": layers.init_dense(k_in, in_dim, seed_dim),
            "alpha_seed": layers.init_prelu(seed_dim)}
  return {**seed, "sections": sections, "logits": logits}


def decode(params: dict, inputs: jax.Array) -> jax.Array:
  """inputs: [N, latent + readout] -> [N, 784] Bernoulli logits."""
  if "seed_affine" in params:
    seed = layers.affine(params["seed_affine"], inputs)
  else:
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
