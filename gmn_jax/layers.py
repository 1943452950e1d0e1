"""Small pure building blocks: each `init_*` returns a dict of arrays, each
apply function takes that dict first.

Images are NHWC. Initialisation follows the reference: He-normal weights,
weight-normalised dense matrices with a learned scalar gain, PReLU slopes near 0.
"""
import jax
import jax.numpy as jnp

PRELU_INIT = 0.01  # "PReLU slopes start near 0".


def _he_normal(key, shape, fan_in):
  return jax.random.normal(key, shape, jnp.float32) * jnp.sqrt(2.0 / fan_in)


def init_dense(key, in_dim: int, out_dim: int, scale: float = 1.0) -> dict:
  """A weight-normalised affine map; the gain starts at `scale` times the
  He-normal norm."""
  v = _he_normal(key, (in_dim, out_dim), max(in_dim, 1))
  return {"v": v, "gain": scale * jnp.linalg.norm(v),
          "b": jnp.zeros((out_dim,))}


def dense(p: dict, x: jax.Array) -> jax.Array:
  """x: [..., in] -> [..., out]; weight = gain * v / ||v||."""
  w = p["v"] * (p["gain"] / jnp.linalg.norm(p["v"]))
  return x @ w + p["b"]


def init_prelu(dim: int) -> jax.Array:
  return jnp.full((dim,), PRELU_INIT, jnp.float32)


def prelu(alpha: jax.Array, x: jax.Array) -> jax.Array:
  """Parametric ReLU with one slope per channel (the last axis)."""
  return jnp.where(x >= 0, x, alpha * x)


def init_conv(key, kernel: int, in_ch: int, out_ch: int) -> dict:
  fan_in = kernel * kernel * in_ch
  return {"w": _he_normal(key, (kernel, kernel, in_ch, out_ch), fan_in),
          "b": jnp.zeros((out_ch,))}


_DIMS = ("NHWC", "HWIO", "NHWC")


def conv(p: dict, x: jax.Array, stride: int = 1, padding: str = "SAME"):
  """x: [N, H, W, C_in] -> [N, H', W', C_out]."""
  y = jax.lax.conv_general_dilated(
      x, p["w"], (stride, stride), padding, dimension_numbers=_DIMS)
  return y + p["b"]


def conv_transpose(p: dict, x: jax.Array, stride: int) -> jax.Array:
  """VALID transposed convolution: [N, H, W, C] -> [N, (H-1)s+k, (W-1)s+k, F].

  Written as the stride-1 convolution of the stride-dilated input with the
  flipped kernel (what a transposed conv is), which XLA:CPU runs faster than
  its own transposed-conv path.
  """
  k = p["w"].shape[0]
  y = jax.lax.conv_general_dilated(
      x, p["w"][::-1, ::-1], (1, 1), [(k - 1, k - 1)] * 2,
      lhs_dilation=(stride, stride), dimension_numbers=_DIMS)
  return y + p["b"]


def avg_pool(x: jax.Array, window: int, stride: int) -> jax.Array:
  """VALID average pooling: [N, H, W, C] -> [N, H', W', C]."""
  total = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, window, window, 1),
                                (1, stride, stride, 1), "VALID")
  return total / (window * window)


def resize_bilinear(x: jax.Array, size: int) -> jax.Array:
  """[N, H, W, C] -> [N, size, size, C]."""
  n, _, _, c = x.shape
  return jax.image.resize(x, (n, size, size, c), "bilinear")


def init_gru(key, in_dim: int, state_dim: int) -> dict:
  """A GRU cell; the input and state maps of the three gates are fused."""
  kx, kh = jax.random.split(key)
  return {"x": init_dense(kx, in_dim, 3 * state_dim),
          "h": init_dense(kh, state_dim, 3 * state_dim),
          "alpha": init_prelu(state_dim)}


def gru(p: dict, h: jax.Array, x: jax.Array) -> jax.Array:
  """h: [..., S], x: [..., I] -> [..., S]; the candidate uses PReLU."""
  gx = dense(p["x"], x)
  gh = dense(p["h"], h)
  s = h.shape[-1]
  reset = jax.nn.sigmoid(gx[..., :s] + gh[..., :s])
  update = jax.nn.sigmoid(gx[..., s:2 * s] + gh[..., s:2 * s])
  candidate = prelu(p["alpha"], gx[..., 2 * s:] + reset * gh[..., 2 * s:])
  return update * h + (1.0 - update) * candidate


def init_residual_section(key, kernel: int, block_kernel: int, in_ch: int,
                          filters: int) -> dict:
  """Params of one residual section (Appendix C), used down or up."""
  k1, k2, k3 = jax.random.split(key, 3)
  return {"conv": init_conv(k1, kernel, in_ch, filters),
          "block": init_conv(k2, block_kernel, filters, filters),
          "shortcut": init_conv(k3, 1, in_ch, filters),
          "alpha_conv": init_prelu(filters),
          "alpha_block": init_prelu(filters)}


def down_section(p: dict, x: jax.Array, stride: int = 2) -> jax.Array:
  """Encoder section: [N, H, W, C] -> [N, (H-k)//s+1, ..., F].

  h = PReLU(VALID strided conv(x)); y = PReLU(h + SAME conv(h));
  out = y + avg_pool(1x1 conv(x)) with the section's kernel and stride.
  """
  k = p["conv"]["w"].shape[0]
  h = prelu(p["alpha_conv"], conv(p["conv"], x, stride, "VALID"))
  y = prelu(p["alpha_block"], h + conv(p["block"], h))
  return y + avg_pool(conv(p["shortcut"], x), k, stride)


def up_section(p: dict, x: jax.Array, stride: int = 2) -> jax.Array:
  """Generator section: [N, H, W, C] -> [N, (H-1)s+k, ..., F].

  The mirror of `down_section`: a VALID transposed conv, the SAME residual
  conv, and a shortcut of a 1x1 conv and a bilinear resize.
  """
  h = prelu(p["alpha_conv"], conv_transpose(p["conv"], x, stride))
  y = prelu(p["alpha_block"], h + conv(p["block"], h))
  return y + resize_bilinear(conv(p["shortcut"], x), h.shape[1])
