"""benchmarks/benchmark.py: its FLOP count covers the work XLA's cost
analysis would see once only, in a loop's body."""
import os
import sys

import jax
import jax.numpy as jnp
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "benchmarks"))

import benchmark  # noqa: E402
from gmn_jax import layers  # noqa: E402


def test_every_images_weight_gradient_is_counted():
  """The CPU's chunked weight gradient (a loop over chunks of 2 images)
  counts as XLA's own gradient of the same convolution does, with 25 times
  the images of one chunk; the layers' switch is restored."""
  p = layers.init_conv(jax.random.key(0), 3, 4, 8)
  x = jax.ShapeDtypeStruct((50, 12, 12, 4), jnp.float32)
  grad = jax.jit(jax.grad(lambda p, x: jnp.sum(layers.conv(p, x) ** 2)))
  def plain(p, x):
    y = jax.lax.conv_general_dilated(x, p["w"], (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jnp.sum((y + p["b"]) ** 2)
  counted = benchmark.flops(grad, p, x)
  assert counted == pytest.approx(benchmark.flops(jax.jit(jax.grad(plain)), p, x),
                                  rel=0.01)
  weight_gradient = 2 * 50 * 12 * 12 * 3 * 3 * 4 * 8  # all 25 chunks' dots
  assert counted > 1.5 * weight_gradient  # forward and weight gradient, at least
  assert layers.CHUNKED_WEIGHT_GRADIENT
