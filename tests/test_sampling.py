"""Samples for every prefix of a context (Figure 2)."""
import jax
import numpy as np

import gmn_jax
from conftest import VARIANTS, random_params


def test_samples_cover_every_prefix_and_respect_causality(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  probs = np.asarray(gmn_jax.sample(params, episode, jax.random.key(1),
                                    config=config, num_samples=2))
  assert probs.shape == (2, episode.shape[0] + 1, 28, 28)
  assert probs.min() >= 0 and probs.max() <= 1
  changed = episode.copy()
  changed[2:] = np.roll(changed[2:], 29, axis=-1)
  other = np.asarray(gmn_jax.sample(params, changed, jax.random.key(1),
                                    config=config, num_samples=2))
  np.testing.assert_allclose(other[:, :3], probs[:, :3], rtol=1e-5)  # n <= 2
  assert np.abs(other[:, 3:] - probs[:, 3:]).max() > 1e-4


def test_binary_samples(episode):
  config = VARIANTS["vae"]
  params = random_params(config)
  x = np.asarray(gmn_jax.sample(params, episode, config=config, binary=True))
  assert set(np.unique(x).tolist()) <= {0.0, 1.0}


def test_grid_leaves_rows_before_first_row_without_samples(tmp_path):
  """A conditional model's grid shows no samples before it may predict."""
  from PIL import Image
  from gmn_jax.evaluate import figures
  context = np.ones((3, 28, 28), np.float32)
  samples = np.ones((2, 4, 28, 28), np.float32)
  figures.conditional_sample_grid(context, samples, str(tmp_path / "g.png"),
                                  first_row=2)
  ink = 1.0 - np.asarray(Image.open(tmp_path / "g.png"), np.float32) / 255
  rows = ink.reshape(4, 60, -1)[:, :, 120:].sum((1, 2))  # sample columns
  assert rows[0] == 0 and rows[1] == 0 and rows[2] > 0 and rows[3] > 0
