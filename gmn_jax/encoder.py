"""psi: the feature encoder, 28x28 binary image -> 288 features (Appendix C).

psi's output is both the prototype of a conditioning image and the input of
the keys g and of the recognition query f_R.
"""
import jax
import jax.numpy as jnp

from gmn_jax import layers

# (kernel, block kernel, filters): 28 -> 13 -> 6 -> 3 with stride 2.
SECTIONS = ((4, 3, 16), (3, 3, 32), (2, 2, 32))


def init_encoder(key) -> list:
  keys = jax.random.split(key, len(SECTIONS))
  in_ch, params = 1, []
  for k, (kernel, block, filters) in zip(keys, SECTIONS):
    params.append(layers.init_residual_section(k, kernel, block, in_ch, filters))
    in_ch = filters
  return params


def encode(params: list, x: jax.Array) -> jax.Array:
  """x: [N, 784] in {0, 1} (ink = 1) -> [N, 288] features."""
  h = x.reshape(-1, 28, 28, 1)
  for section in params:
    h = layers.down_section(section, h)
  return h.reshape(h.shape[0], -1)
