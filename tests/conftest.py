"""Shared fixtures: small models (the paper's conv stacks, narrow matchers) and
real Omniglot episodes from ../shared/data."""
import os

import tempfile

# One persistent compilation cache for the whole session, shared with the
# subprocesses that tests start: each distinct computation compiles once.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "gmn_jax_test_cache"))

import jax
import numpy as np
import pytest

import gmn_jax
from gmn_jax import data

jax.config.update("jax_default_matmul_precision", "highest")

SMALL = dict(latent_dim=6, state_dim=12, match_dim=10, num_passes=2)


def small_config(**kw) -> gmn_jax.Config:
  return gmn_jax.Config(**{**SMALL, **kw})


VARIANTS = {
    "attention": small_config(),
    "attention_conditional": small_config(pseudo_input=False),
    "average": small_config(matching="average"),
    "vae": small_config(matching="none"),
}


@pytest.fixture(scope="session")
def test_split():
  return data.load_split("test")


@pytest.fixture(scope="session")
def episode(test_split):
  """[T=6, 784] float32 {0, 1}: a real two-class test episode."""
  x = data.episode_batch(test_split.images, data.EpisodeSpec(6, 2, True), 1,
                         seed=3, step=0)[0]
  return x.astype(np.float32)


def random_params(config, seed=0):
  """Init params with every array perturbed, so no symmetry hides a bug."""
  params = gmn_jax.init_params(jax.random.key(seed), config)
  leaves, tree = jax.tree_util.tree_flatten(params)
  keys = jax.random.split(jax.random.key(seed + 100), len(leaves))
  leaves = [l + 0.05 * jax.random.normal(k, l.shape) for l, k in zip(leaves, keys)]
  return jax.tree_util.tree_unflatten(tree, leaves)
