"""bfloat16 matmuls: what is cast, the NLL of a trained model against float32,
and float32 gradients for the optimiser."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gmn_jax
from gmn_jax import data, likelihood, precision
from conftest import random_params, small_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_only_kernels_are_cast():
  params = gmn_jax.cast_kernels(random_params(small_config()), jnp.bfloat16)
  by_name = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(params):
    by_name.setdefault(path[-1].key, set()).add(leaf.dtype.name)
  assert by_name.pop("v") == by_name.pop("w") == {"bfloat16"}
  assert set().union(*by_name.values()) == {"float32"}  # gains, biases, slopes
  assert precision.kernel_dtype(params) == "bfloat16"
  with pytest.raises(ValueError, match="'float16' is not supported"):
    gmn_jax.cast_kernels(params, jnp.float16)


def test_trained_model_nll_in_bfloat16_within_0_05_nats_of_float32():
  params, config, _ = gmn_jax.load_params(
      os.path.join(ROOT, "pretrained", "gmn_c2.msgpack"))
  x = data.test_episodes(data.load_split("test").images,
                         data.EpisodeSpec(20, 2), 6, 0)
  f32 = gmn_jax.conditional_nll(params, x, config=config, num_samples=50)
  bf16 = gmn_jax.conditional_nll(gmn_jax.cast_kernels(params, jnp.bfloat16),
                                 x, config=config, num_samples=50)
  assert bf16.dtype == jnp.float32
  diff = np.asarray(bf16 - f32)
  assert abs(diff.mean()) < 0.05
  # bfloat16 does change the numbers: this is not float32 in disguise
  assert 1e-3 < np.abs(diff).max() < 1.0


def test_bfloat16_gradients_are_float32_and_agree_with_float32(episode):
  config = small_config()
  params = random_params(config)
  x = jnp.asarray(episode)[None]

  def grads(p):
    loss = lambda q: gmn_jax.training_objective(q, x, jax.random.key(0),
                                                config)[0]
    return jax.grad(lambda q: loss(gmn_jax.cast_kernels(q, p)))(params)

  g32, g16 = grads(jnp.float32), grads(jnp.bfloat16)
  a, b = (np.concatenate([np.ravel(l) for l in jax.tree_util.tree_leaves(g)])
          for g in (g32, g16))
  assert {l.dtype.name for l in jax.tree_util.tree_leaves(g16)} == {"float32"}
  assert np.isfinite(b).all()
  cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
  assert cosine > 0.99 and not np.array_equal(a, b)


def _precisions(fn, *args):
  """The operand precisions of fn's dot products and convolutions as lowered
  for a GPU (none needed): {"DEFAULT": n, "HIGHEST": m}."""
  text = jax.jit(fn).trace(*args).lower(lowering_platforms=("cuda",)).as_text()
  return {p: text.count(p) for p in ("DEFAULT", "HIGHEST")}


def test_float32_multiplies_in_float32_on_a_gpu_and_bfloat16_is_left_alone():
  # XLA's default on a GPU would round float32 operands to TF32
  config = small_config()
  params = random_params(config)
  x = jnp.zeros((2, 6, 784))
  train = jax.value_and_grad(lambda p: likelihood.training_objective(
      p, x, jax.random.key(0), config, 1)[0])
  nll = lambda p: likelihood.batch_conditional_nll(
      p, x, jax.random.split(jax.random.key(0), 2), config=config,
      num_samples=3)
  with jax.default_matmul_precision("default"):  # XLA's, not conftest's
    for fn in (train, nll):
      f32 = _precisions(fn, params)
      assert f32["DEFAULT"] == 0 and f32["HIGHEST"] > 0
      bf16 = _precisions(fn, precision.cast_kernels(params, jnp.bfloat16))
      assert bf16["DEFAULT"] > 0
