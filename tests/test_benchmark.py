"""benchmarks/benchmark.py: its FLOP count covers the work XLA's cost
analysis would see once only, in a loop's body."""
import json
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
  """The CPU's chunked weight gradient (a loop over chunks of images)
  counts as XLA's own gradient of the same convolution does, with 5 times
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
  weight_gradient = 2 * 50 * 12 * 12 * 3 * 3 * 4 * 8  # all 5 chunks' dots
  assert counted > 1.5 * weight_gradient  # forward and weight gradient, at least
  assert layers.CHUNKED_WEIGHT_GRADIENT


def test_a_runs_uncounted_evaluation_flops_are_counted_later(tmp_path):
  """--count_flops fills an evaluation row's NaN count from this host's
  lowering and rederives its GFLOP/s from the time measured there; the
  counted rows, a summary field and the counting host are recorded, and a
  row counted by its run is left as it was."""
  row = lambda s, gflop: {"num_samples": s, "matmul_dtype": "float32",
                          "s": 0.5, "samples_per_s": s / 0.5, "gflop": gflop,
                          "gflops_per_s": gflop / 0.5}
  result = {"train": [], "eval": [row(10, float("nan")), row(1000, 7.0)],
            "sequential": None, "matmul_ceiling_gflops_per_s": 100.0,
            "bfloat16": {"matmul_ceiling_gflops_per_s": 400.0}}
  path = tmp_path / "gpu.json"
  path.write_text(json.dumps(result))
  out = benchmark.count_missing_flops(str(path))
  assert json.loads(path.read_text()) == out
  counted = benchmark.eval_flops(10) / 1e9
  assert counted > 0
  assert out["eval"][0]["gflop"] == pytest.approx(counted)
  assert out["eval"][0]["gflops_per_s"] == pytest.approx(counted / 0.5)
  assert out["eval"][1] == row(1000, 7.0)
  assert out["eval_gflops_per_s"] == pytest.approx(14.0)  # the S = 1000 row
  assert out["flops_counted_later"]["rows"] == ["eval S = 10 float32"]
  assert out["flops_counted_later"]["jax_version"] == jax.__version__


def test_short_calls_are_timed_back_to_back():
  # A call far shorter than min_rep_s is repeated within each repetition and
  # its time divided out; without min_rep_s each repetition is one call.
  calls = []

  def fn(x):
    calls.append(1)
    return x + 1

  x = jnp.zeros(3)
  per_call = benchmark.timed(fn, x, reps=3, min_rep_s=0.01)
  assert len(calls) > 2 + 3 * 10  # warm-up, sizing call, 3 reps of many
  assert per_call < 0.01 / 10
  calls.clear()
  benchmark.timed(fn, x, reps=3)
  assert len(calls) == 1 + 3
