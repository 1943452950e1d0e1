"""Where the bound goes: KL, reconstruction, prior entropy, units in use."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gmn_jax import likelihood, model
from gmn_jax.config import first_scored_step
from gmn_jax.evaluate import latent
from conftest import VARIANTS, random_params


def test_kl_is_the_expected_log_ratio():
  k1, k2, k3, k4, k5 = jax.random.split(jax.random.key(0), 5)
  q = model.Gaussian(jax.random.normal(k1, (5,)),
                     jnp.exp(0.3 * jax.random.normal(k2, (5,))))
  p = model.Gaussian(jax.random.normal(k3, (5,)),
                     jnp.exp(0.3 * jax.random.normal(k4, (5,))))
  z = q.mean + q.scale * jax.random.normal(k5, (200_000, 5))
  log_ratio = q.log_prob(z) - p.log_prob(z)
  assert float(latent.gaussian_kl(q, p).sum()) == pytest.approx(
      float(log_ratio.mean()), abs=4 * float(log_ratio.std()) / np.sqrt(2e5))
  np.testing.assert_allclose(latent.gaussian_kl(q, q), 0.0, atol=1e-6)
  # One dimension by hand: KL(N(1, 2^2) || N(0, 1)) = log(1/2) + 5/2 - 1/2.
  one = latent.gaussian_kl(model.Gaussian(jnp.ones(1), 2 * jnp.ones(1)),
                           model.Gaussian(jnp.zeros(1), jnp.ones(1)))
  assert float(one[0]) == pytest.approx(np.log(0.5) + 2.0, abs=1e-6)


@pytest.mark.parametrize("variant", ["attention", "vae"])
def test_elbo_split_matches_the_mean_log_weight(variant, episode):
  """reconstruction - KL and the mean importance weight estimate one ELBO."""
  config = VARIANTS[variant]
  params = random_params(config)
  keys = jax.random.split(jax.random.key(1), 400)
  terms = jax.vmap(lambda k: latent.episode_terms(
      params, config, jnp.asarray(episode), k))(keys)
  split = terms["reconstruction"] - terms["kl"].sum(-1)  # [400, T]
  w = likelihood.episode_log_weights(params, config, jnp.asarray(episode),
                                     jax.random.key(2), 400)  # [400, T]
  se = np.sqrt(split.var(0) / 400 + w.var(0) / 400)
  assert np.all(np.abs(split.mean(0) - w.mean(0)) < 5 * se + 1e-3)


def test_summary_of_the_vae_prior_and_units(test_split):
  config = VARIANTS["vae"]
  episodes = np.asarray(test_split.images[:3, :4].reshape(3, 4, -1))
  rows = latent.summarize(random_params(config), config, episodes, batch=2)
  assert [r["t"] for r in rows] == [0, 1, 2, 3]
  for r in rows:  # a standard normal prior, whatever the data
    assert r["prior_entropy"] == pytest.approx(
        config.latent_dim * 0.5 * np.log(2 * np.pi * np.e), rel=1e-5)
    assert r["neg_elbo"] == pytest.approx(r["kl"] + r["neg_reconstruction"],
                                          rel=1e-5)
    assert 0 <= r["active_units"] <= config.latent_dim and r["kl"] > 0
  same = latent.summarize(random_params(config), config, episodes, batch=3)
  for a, b in zip(same, rows):  # episode i's z depends on (seed, i) alone
    assert a == pytest.approx(b, rel=1e-5)


def test_summary_of_a_conditional_model_starts_at_c(test_split):
  """A conditional model never predicts with fewer than C examples: no rows
  for t < C, and the rows kept are those of the full summary."""
  config = VARIANTS["attention_conditional"]
  params = random_params(config)
  episodes = np.asarray(test_split.images[:2, :5].reshape(2, 5, -1))
  every = latent.summarize(params, config, episodes, batch=2)
  scored = latent.summarize(params, config, episodes, batch=2,
                            first=first_scored_step(config, 2))
  assert [r["t"] for r in scored] == [2, 3, 4]
  for a, b in zip(scored, every[2:]):
    assert a == pytest.approx(b, rel=1e-5)
  with pytest.raises(ValueError, match="first=5"):
    latent.summarize(params, config, episodes, first=5)


def test_summary_rejects_bad_episodes(test_split):
  config = VARIANTS["vae"]
  params = random_params(config)
  episodes = np.asarray(test_split.images[:2, :4].reshape(2, 4, -1), np.float32)
  with pytest.raises(ValueError, match="not binary"):
    latent.summarize(params, config, episodes * 0.5)
  with pytest.raises(ValueError, match="one episode"):
    latent.summarize(params, config, episodes[0])
  with pytest.raises(ValueError, match="background = 1"):
    latent.summarize(params, config, 1 - episodes)
