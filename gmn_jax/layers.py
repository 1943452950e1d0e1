"""Small pure building blocks: each `init_*` returns a dict of arrays, each
apply function takes that dict first.

Images are NHWC. Initialisation follows the reference: He-normal weights,
weight-normalised dense matrices with a learned scalar gain, PReLU slopes near 0.
"""

import functools

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
  """x: [..., in] -> [..., out] float32; weight = gain * v / ||v||, normalised
  in float32 and multiplied in v's dtype (gmn_jax.precision)."""
  v = p["v"].astype(jnp.float32)
  w = (v * (p["gain"] / jnp.linalg.norm(v))).astype(p["v"].dtype)
  return jnp.dot(x.astype(w.dtype), w,
                 preferred_element_type=jnp.float32) + p["b"]


def init_affine(key, in_dim: int, out_dim: int) -> dict:
  """A plain affine map (no weight normalisation), He-normal for a linear
  output: std sqrt(1 / in_dim)."""
  w = jax.random.normal(key, (in_dim, out_dim), jnp.float32) / jnp.sqrt(
      max(in_dim, 1))
  return {"w": w, "b": jnp.zeros((out_dim,))}


def affine(p: dict, x: jax.Array) -> jax.Array:
  """x: [..., in] -> [..., out] float32, multiplied in w's dtype."""
  return jnp.dot(x.astype(p["w"].dtype), p["w"],
                 preferred_element_type=jnp.float32) + p["b"]


def init_prelu(dim: int) -> jax.Array:
  return jnp.full((dim,), PRELU_INIT, jnp.float32)


def prelu(alpha: jax.Array, x: jax.Array) -> jax.Array:
  """Parametric ReLU with one slope per channel (the last axis).

  max(x, 0) + alpha * min(x, 0) rather than a `where`: the same values, and
  XLA:CPU computes the slopes' gradient 3x faster (at x = 0 exactly the
  gradient is the mean of the two sides' instead of the right side's).
  """
  return jnp.maximum(x, 0.0) + alpha * jnp.minimum(x, 0.0)


def init_conv(key, kernel: int, in_ch: int, out_ch: int) -> dict:
  fan_in = kernel * kernel * in_ch
  return {"w": _he_normal(key, (kernel, kernel, in_ch, out_ch), fan_in),
          "b": jnp.zeros((out_ch,))}


_DIMS = ("NHWC", "HWIO", "NHWC")
# Images per step of the weight-gradient loop. Half an episode: a B = 20
# training step on 2 cores took 0.85x the time of chunks of 2 (each loop step
# has a fixed cost), and chunks of 5 or 20 were no faster.
WEIGHT_GRAD_CHUNK = 10


def _lax_conv(x, w, stride: int, padding: tuple):
  """In w's dtype, accumulated and returned in float32 (gmn_jax.precision)."""
  return jax.lax.conv_general_dilated(x.astype(w.dtype), w, (stride, stride),
                                      padding, dimension_numbers=_DIMS,
                                      preferred_element_type=jnp.float32)


def _taps(x, kernel, stride, out_size):
  """The patches of x under a kernel: [n, H, W, C] -> [n * out^2, k * k * C],
  tap (i, j) sampled with `stride`; what the kernel's tap (i, j) multiplies."""
  n, c = x.shape[0], x.shape[-1]
  span = stride * (out_size - 1) + 1
  cols = [jax.lax.slice(x, (0, i, j, 0), (n, i + span, j + span, c),
                        (1, stride, stride, 1))
          for i in range(kernel) for j in range(kernel)]
  return jnp.concatenate(cols, -1).reshape(-1, kernel * kernel * c)


def _weight_gradient(x, g, kernel, stride, dtype):
  """sum over images of patches(x)^T @ g, multiplied in `dtype` and summed in
  float32; x: [N, H, W, C] padded, g: [N, H', W', F] -> [k * k * C, F]."""
  grouped = _grouped_weight_gradient(kernel, stride)
  return grouped(x.astype(dtype)[None], g.astype(dtype)[None])[0]


@functools.lru_cache(maxsize=None)
def _grouped_weight_gradient(kernel: int, stride: int):
  """-> f(x [G, N, H, W, C], g [G, N, H', W', F]) -> [G, k * k * C, F]: each
  group's weight gradient, WEIGHT_GRAD_CHUNK images at a time in one loop
  over every group's images.

  Under vmap (the model maps episodes and samples of z) the batch axes become
  more groups of the same loop. vmap's own rule would instead run the loop
  over one episode's chunks, each step batched over every episode, with the
  patches transposed between the batch's layouts: that took a B = 20 training
  step 1.18x the time of this one (chunks of 10 both ways, 2 cores).
  """
  @jax.custom_batching.custom_vmap
  def grouped(x, g):
    chunk = WEIGHT_GRAD_CHUNK  # read when traced, not when first cached
    groups = x.shape[0]
    pad = -x.shape[1] % chunk  # zero images add nothing; no chunk spans groups
    x, g = (jnp.pad(v, [(0, 0), (0, pad)] + [(0, 0)] * 3).reshape(
        -1, chunk, *v.shape[2:]) for v in (x, g))

    def chunk_gradient(_, xg):
      xc, gc = xg
      patches = _taps(xc, kernel, stride, gc.shape[2])
      return None, jnp.dot(patches.T, gc.reshape(-1, gc.shape[-1]),
                           preferred_element_type=jnp.float32)

    per_chunk = jax.lax.scan(chunk_gradient, None, (x, g))[1]
    return per_chunk.reshape(groups, -1, *per_chunk.shape[1:]).sum(1)

  @grouped.def_vmap
  def batched(axis_size, in_batched, x, g):
    x, g = (v if b else jnp.broadcast_to(v, (axis_size, *v.shape))
            for v, b in zip((x, g), in_batched))
    out = grouped(x.reshape(-1, *x.shape[2:]), g.reshape(-1, *g.shape[2:]))
    return out.reshape(axis_size, -1, *out.shape[1:]), True

  return grouped


# XLA:CPU computes a convolution's weight gradient as a convolution with a
# 28x28 "kernel", 10-15x slower than the forward pass here (benchmarks/
# README.md). On CPU this convolution keeps XLA's forward and input gradient
# and computes the weight gradient as patches @ output-gradient, in
# chunks of images; other platforms (whose libraries have fast
# weight gradients, and for which a loop of 40 small chunks would be 40
# launches) keep XLA's. Same mathematics; tests/test_layers.py checks both
# gradients against XLA's.
_cpu_conv = jax.custom_vjp(_lax_conv, nondiff_argnums=(2, 3))


def _conv_fwd(x, w, stride, padding):
  return _lax_conv(x, w, stride, padding), (x, w)


def _conv_bwd(stride, padding, res, g):
  x, w = res
  _, grad_x = jax.vjp(lambda x: _lax_conv(x, w, stride, padding), x)
  x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
  grad_w = _weight_gradient(x, g, w.shape[0], stride, w.dtype)
  return grad_x(g)[0], grad_w.reshape(w.shape).astype(w.dtype)


_cpu_conv.defvjp(_conv_fwd, _conv_bwd)


# False: XLA's own weight gradient on every platform, the same mathematics.
# benchmarks/benchmark.py counts FLOPs so: XLA's cost analysis counts a
# loop's body once, 1 of the chunked gradient's 40 chunks at B = 20.
CHUNKED_WEIGHT_GRADIENT = True
# Inputs narrower than this keep XLA's weight gradient on CPU too: at 6x6 and
# 3x3 the loop's fixed cost per step outweighs what it saves. A B = 20
# training step took 0.979x the time of the loop everywhere (2 cores, 10
# interleaved blocks, each one faster).
CHUNKED_MIN_SIZE = 13


def _conv(x, w, stride: int, padding: tuple):
  """_lax_conv, with the chunked weight gradient where it runs on CPU."""
  if not CHUNKED_WEIGHT_GRADIENT or x.shape[-3] < CHUNKED_MIN_SIZE:
    return _lax_conv(x, w, stride, padding)
  return jax.lax.platform_dependent(
      x, w, cpu=lambda x, w: _cpu_conv(x, w, stride, padding),
      default=lambda x, w: _lax_conv(x, w, stride, padding))


def conv(p: dict, x: jax.Array, stride: int = 1, padding: str = "SAME"):
  """x: [N, H, W, C_in] -> [N, H', W', C_out]."""
  k = p["w"].shape[0]
  if padding == "SAME":  # XLA's SAME: the extra row of an even kernel after
    pads = ((k - 1) // 2, k // 2)
  else:
    pads = (0, 0)
  return _conv(x, p["w"], stride, (pads, pads)) + p["b"]


def conv_transpose(p: dict, x: jax.Array, stride: int) -> jax.Array:
  """VALID transposed convolution: [N, H, W, C] -> [N, (H-1)s+k, (W-1)s+k, F],
  y[s*i + a] += x[i] @ w[a] (the kernel `w` indexed by output offset).

  Computed as one stride-1 convolution per output phase r = a mod s, all
  phases stacked as output channels ("sub-pixel" convolution), then
  interleaved: no multiplications by the zeros of a dilated input.
  """
  w = p["w"]
  k, _, c, f = w.shape
  taps = -(-k // stride)  # input pixels that reach one output pixel, per axis
  w = jnp.pad(w, ((0, taps * stride - k),) * 2 + ((0, 0),) * 2)
  # [a = s*p + r] -> [p', r] with p' = taps-1-p: cross-correlation order.
  w = w.reshape(taps, stride, taps, stride, c, f)[::-1, :, ::-1]
  w = w.transpose(0, 2, 4, 1, 3, 5).reshape(taps, taps, c, stride ** 2 * f)
  # Padded here, not by the convolution: XLA:CPU's input gradient of a
  # convolution with this "full" padding is 6x slower than of a VALID one.
  full = jnp.pad(x, ((0, 0), (taps - 1, taps - 1), (taps - 1, taps - 1), (0, 0)))
  y = _conv(full, w, 1, ((0, 0), (0, 0)))  # [N, H', W', s*s*F]
  n, h, wd, _ = y.shape
  y = y.reshape(n, h, wd, stride, stride, f).transpose(0, 1, 3, 2, 4, 5)
  y = y.reshape(n, h * stride, wd * stride, f)
  size = (x.shape[1] - 1) * stride + k
  return y[:, :size, :size] + p["b"]


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
  out = y + avg_pool(1x1 conv(x)) with the section's kernel and stride,
  computed as 1x1 conv(avg_pool(x)): both are linear, and pooling the narrower
  input is cheaper (the first section's input has one channel).
  """
  k = p["conv"]["w"].shape[0]
  h = prelu(p["alpha_conv"], conv(p["conv"], x, stride, "VALID"))
  y = prelu(p["alpha_block"], h + conv(p["block"], h))
  return y + conv(p["shortcut"], avg_pool(x, k, stride))


def up_section(p: dict, x: jax.Array, stride: int = 2) -> jax.Array:
  """Generator section: [N, H, W, C] -> [N, (H-1)s+k, ..., F].

  The mirror of `down_section`: a VALID transposed conv, the SAME residual
  conv, and a shortcut of a 1x1 conv and a bilinear resize.
  """
  h = prelu(p["alpha_conv"], conv_transpose(p["conv"], x, stride))
  y = prelu(p["alpha_block"], h + conv(p["block"], h))
  return y + resize_bilinear(conv(p["shortcut"], x), h.shape[1])
