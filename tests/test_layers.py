"""The convolutions' hand-written weight gradients equal XLA's own."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gmn_jax import layers

_DIMS = ("NHWC", "HWIO", "NHWC")


def xla_conv(p, x, stride, padding):
  return jax.lax.conv_general_dilated(x, p["w"], (stride, stride), padding,
                                      dimension_numbers=_DIMS) + p["b"]


def xla_conv_transpose(p, x, stride):
  """y[s * i + a] += x[i] @ w[a]: the dilated input with the flipped kernel."""
  k = p["w"].shape[0]
  return jax.lax.conv_general_dilated(
      x, p["w"][::-1, ::-1], (1, 1), [(k - 1, k - 1)] * 2,
      lhs_dilation=(stride, stride), dimension_numbers=_DIMS) + p["b"]


def grads(fn, p, x):
  """Gradients wrt params and input of a loss that weights every output."""
  def loss(p, x):
    y = fn(p, x)
    return jnp.sum(jnp.sin(y) * jnp.arange(y.size).reshape(y.shape) / y.size)
  return jax.jit(jax.grad(loss, argnums=(0, 1)))(p, x)


def assert_trees_close(a, b):
  jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=2e-4,
                                                       atol=2e-4), a, b)


# (batch, size, kernel, in, out, stride, padding): the encoder's and
# decoder's convolutions, an odd batch (a partial gradient chunk) included.
CONVS = [(3, 28, 4, 1, 16, 2, "VALID"), (5, 13, 3, 16, 16, 1, "SAME"),
         (4, 6, 2, 32, 32, 1, "SAME"), (2, 6, 3, 16, 32, 2, "VALID"),
         (3, 7, 1, 16, 8, 1, "VALID")]


@pytest.mark.parametrize("n,size,k,cin,cout,stride,padding", CONVS)
def test_conv_matches_xla(n, size, k, cin, cout, stride, padding):
  kp, kx = jax.random.split(jax.random.key(k * size))
  p = layers.init_conv(kp, k, cin, cout)
  p["b"] = jnp.linspace(-1, 1, cout)
  x = jax.random.normal(kx, (n, size, size, cin))
  ours = lambda p, x: layers.conv(p, x, stride, padding)
  xla = lambda p, x: xla_conv(p, x, stride, padding)
  np.testing.assert_allclose(ours(p, x), xla(p, x), rtol=1e-5, atol=1e-5)
  assert_trees_close(grads(ours, p, x), grads(xla, p, x))


@pytest.mark.parametrize("n,size,k,cin,cout", [(3, 3, 2, 32, 32),
                                               (2, 6, 3, 32, 16),
                                               (5, 13, 4, 16, 16)])
def test_conv_transpose_matches_xla(n, size, k, cin, cout):
  kp, kx = jax.random.split(jax.random.key(k * size))
  p = layers.init_conv(kp, k, cin, cout)
  x = jax.random.normal(kx, (n, size, size, cin))
  ours = lambda p, x: layers.conv_transpose(p, x, 2)
  xla = lambda p, x: xla_conv_transpose(p, x, 2)
  assert ours(p, x).shape == (n, (size - 1) * 2 + k, (size - 1) * 2 + k, cout)
  np.testing.assert_allclose(ours(p, x), xla(p, x), rtol=1e-5, atol=1e-5)
  assert_trees_close(grads(ours, p, x), grads(xla, p, x))


def test_weight_gradient_under_vmap_sums_over_the_batch():
  """The model vmaps the convolutions over episodes: the gradient of a
  shared kernel must be the sum over episodes, as XLA's is."""
  kp, kt, kx = jax.random.split(jax.random.key(0), 3)
  p = {"conv": layers.init_conv(kp, 3, 4, 4),
       "up": layers.init_conv(kt, 3, 4, 4)}
  x = jax.random.normal(kx, (3, 5, 6, 6, 4))

  def net(conv, conv_transpose):
    return lambda p, x: jax.vmap(lambda e: conv_transpose(
        p["up"], conv(p["conv"], e, 1, "SAME"), 2))(x)

  ours = net(layers.conv, layers.conv_transpose)
  xla = net(xla_conv, xla_conv_transpose)
  assert_trees_close(grads(ours, p, x), grads(xla, p, x))
