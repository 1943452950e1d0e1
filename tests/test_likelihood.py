"""Properties that pin the maths of the parallel sequential likelihood."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gmn_jax
from gmn_jax import decoder, encoder, layers, likelihood, matching
from gmn_jax import model
from conftest import VARIANTS, random_params, small_config

KEY = jax.random.key(7)


def nll(params, x, config, num_samples=8, key=KEY):
  return np.asarray(gmn_jax.conditional_nll(params, x, config=config, key=key,
                                            num_samples=num_samples))


@pytest.mark.parametrize("name", ["attention", "average"])
def test_causality_future_images_do_not_matter(episode, name):
  config = VARIANTS[name]
  params = random_params(config)
  base = nll(params, episode, config)
  changed = episode.copy()
  changed[3:] = np.roll(changed[3:], 29, axis=-1)
  out = nll(params, changed, config)
  np.testing.assert_allclose(out[:3], base[:3], rtol=1e-5)
  assert np.all(np.abs(out[3:] - base[3:]) > 1e-3)


def test_exchangeability_of_the_conditioning_set(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  base = nll(params, episode, config)
  perm = episode.copy()
  perm[:5] = episode[[3, 0, 4, 2, 1]]
  out = nll(params, perm, config)
  np.testing.assert_allclose(out[5], base[5], rtol=1e-5)


@pytest.mark.parametrize("visible, changed_from", [("always", 0),
                                                   ("empty_set", 1)])
def test_where_the_pseudo_input_is_seen(episode, visible, changed_from):
  """Moving the pseudo-input slots changes t = 0 and, unless only the empty
  set sees them (pseudo_visible="empty_set"), every later t too."""
  config = small_config(pseudo_visible=visible)
  params = random_params(config)
  moved = jax.tree_util.tree_map_with_path(
      lambda path, v: v + 0.5 if "pseudo" in jax.tree_util.keystr(path) else v,
      params)
  delta = np.abs(nll(moved, episode, config) - nll(params, episode, config))
  assert delta[0] > 1e-3
  assert np.all(delta[1:] > 1e-3) == (changed_from == 0)
  if changed_from:
    np.testing.assert_allclose(delta[1:], 0, atol=1e-4)


def test_encoder_ink_inverts_only_what_psi_reads(episode):
  """Config.encoder_ink=0 (the authors' stored arrays): psi reads 1 - x and
  the Bernoulli still scores x; the log weights are those of the same params
  built by hand from psi(1 - x), and differ from encoder_ink=1's."""
  config = VARIANTS["attention"]
  stored = dataclasses.replace(config, encoder_ink=0)
  params = random_params(config)
  x = jnp.asarray(episode)
  feats = encoder.encode(params["encoder"], 1 - x)
  np.testing.assert_allclose(model.features(params, stored, x), feats,
                             rtol=1e-6)
  eps = jax.random.normal(KEY, (3, x.shape[0], config.latent_dim))
  ctx = model.condition(params, config, feats, jnp.arange(x.shape[0]))
  q = model.posterior(params, config, ctx, feats)
  z = q.mean + q.scale * eps
  logits = jax.vmap(lambda zs: model.generator_logits(params, config, ctx,
                                                      zs))(z)
  by_hand = (decoder.bernoulli_log_prob(logits, x) + ctx.prior.log_prob(z)
             - q.log_prob(z))
  np.testing.assert_allclose(likelihood.log_weights(params, stored, x, eps),
                             by_hand, rtol=1e-5, atol=1e-4)
  assert np.abs(nll(params, episode, stored)
                - nll(params, episode, config)).max() > 1e-2
  with pytest.raises(ValueError, match="encoder_ink"):
    dataclasses.replace(config, encoder_ink=2)


def test_vae_ignores_the_conditioning_set(episode):
  config = VARIANTS["vae"]
  params = random_params(config)
  base = nll(params, episode, config)
  other = episode.copy()
  other[:5] = np.roll(other[:5], 29, axis=-1)
  out = nll(params, other, config)
  np.testing.assert_allclose(out[5], base[5], rtol=1e-6)
  # and the attention model does not
  config = VARIANTS["attention"]
  params = random_params(config)
  assert abs(nll(params, other, config)[5] - nll(params, episode, config)[5]) > 1e-2


def test_importance_sampling_bounds_the_elbo(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  w = likelihood.episode_log_weights(params, config, jnp.asarray(episode),
                                     KEY, 16)
  is_nll = likelihood.nll_from_log_weights(w)
  elbo_nll = -jnp.mean(w, axis=0)
  assert np.all(np.asarray(is_nll) <= np.asarray(elbo_nll) + 1e-4)
  assert np.any(np.asarray(elbo_nll - is_nll) > 1e-2)


def test_more_samples_do_not_make_the_estimate_worse(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  x = jnp.asarray(episode)[None]
  keys = jax.random.split(jax.random.key(0), 12)

  def mean_nll(s):
    return np.mean([likelihood.batch_conditional_nll(
        params, x, k[None], config=config, num_samples=s, chunk=s).sum()
                    for k in keys])

  n1, n8, n64 = mean_nll(1), mean_nll(8), mean_nll(64)
  assert n64 <= n8 + 0.05 and n8 <= n1 + 0.05
  assert n64 < n1


def test_chunking_does_not_change_the_samples(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  x = jnp.asarray(episode)
  eps = jax.random.normal(jax.random.fold_in(KEY, 0),
                          (12, x.shape[0], config.latent_dim))
  expected = likelihood.log_weights(params, config, x, eps)
  for chunk in (4, 5, 12, None):  # 5: a partial last chunk
    w = likelihood.episode_log_weights(params, config, x, KEY, 12, chunk=chunk)
    np.testing.assert_allclose(w, expected, rtol=1e-5, atol=1e-4)


# The slow reference: for every t, rebuild the memory from X_<t and run the
# controllers with Python loops and a plain softmax; no mask anywhere.

def _reference_read(p, matcher, query_input, feats, config, passes):
  protos, keys = feats, None
  if config.matching == "attention":
    keys = layers.prelu(p["key"]["alpha"], layers.dense(p["key"]["dense"], feats))
  if config.pseudo_input:
    protos = jnp.concatenate([p["pseudo_prototype"][None], protos])
    if keys is not None:
      keys = jnp.concatenate([p["pseudo_key"][None], keys])
  h = p["h0"]
  if config.matching == "average":
    r = protos.mean(0) if protos.shape[0] else jnp.zeros(protos.shape[1])
    return jnp.concatenate([r, layers.gru(p["gru"], h, r)])
  for _ in range(passes):
    m = p[matcher]
    q = layers.prelu(m["alpha"], layers.dense(m["query"],
                                              jnp.concatenate([h, query_input])))
    s = jnp.minimum(jax.nn.softplus(layers.dense(m["strength"], h)), 10.0)
    if protos.shape[0]:
      r = jax.nn.softmax(s * (keys @ q)) @ protos
    else:
      r = jnp.zeros(protos.shape[1])
    h = layers.gru(p["gru"], h, r)
  return jnp.concatenate([r, h])


def reference_log_weights(params, config, x, eps):
  """x: [T, 784], eps: [S, T, L] -> [S, T], one t at a time."""
  out = []
  for t in range(x.shape[0]):
    f_t = encoder.encode(params["encoder"], x[t:t + 1])[0]
    if config.conditioned:
      feats = encoder.encode(params["encoder"], x[:t]) if t else jnp.zeros((0, 288))
      pr = _reference_read(params["prior_controller"], "prior", jnp.zeros(0),
                           feats, config, config.prior_passes)
      hidden = layers.prelu(params["prior"]["alpha"],
                            layers.dense(params["prior"]["hidden"], pr))
      prior = model._gaussian(layers.dense(params["prior"]["out"], hidden))
      rr = _reference_read(params["controller"], "recognition", f_t, feats,
                           config, config.num_passes)
      q = model._gaussian(layers.dense(params["recognition"],
                                       jnp.concatenate([f_t, rr])))
    else:
      prior = model.Gaussian(jnp.zeros(config.latent_dim), jnp.ones(config.latent_dim))
      q = model._gaussian(layers.dense(params["recognition"], f_t))
    w_t = []
    for e in eps[:, t]:
      z = q.mean + q.scale * e
      dec_in = z
      if config.conditioned:
        gr = _reference_read(params["controller"], "generative", z, feats,
                             config, config.num_passes)
        dec_in = jnp.concatenate([z, gr])
      logits = decoder.decode(params["decoder"], dec_in[None])[0]
      w_t.append(decoder.bernoulli_log_prob(logits, x[t]) + prior.log_prob(z)
                 - q.log_prob(z))
    out.append(jnp.stack(w_t))
  return jnp.stack(out, 1)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_parallel_equals_per_t_reference(episode, name):
  config = VARIANTS[name]
  params = random_params(config)
  x = jnp.asarray(episode[:5])
  eps = jax.random.normal(KEY, (2, 5, config.latent_dim))
  fast = likelihood.log_weights(params, config, x, eps)
  slow = reference_log_weights(params, config, x, eps)
  first = 0 if config.pseudo_input else 1  # no prediction from an empty set
  np.testing.assert_allclose(fast[:, first:], slow[:, first:], rtol=1e-5)


def test_batched_equals_per_episode(test_split):
  from gmn_jax import data
  config = VARIANTS["attention"]
  params = random_params(config)
  xs = data.episode_batch(test_split.images, data.EpisodeSpec(5, 2), 3, 0, 0)
  batched = nll(params, xs, config)
  keys = jax.random.split(KEY, 3)
  for b in range(3):
    np.testing.assert_allclose(batched[b], nll(params, xs[b], config, key=keys[b]),
                               rtol=1e-5)


def test_jit_equals_no_jit(episode):
  config = VARIANTS["attention"]
  params = random_params(config)
  x = jnp.asarray(episode[:4])
  f = lambda p: likelihood.episode_log_weights(p, config, x, KEY, 3)
  with jax.disable_jit():
    slow = f(params)
  np.testing.assert_allclose(jax.jit(f)(params), slow, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_objective_gradients_are_finite(episode, name):
  config = VARIANTS[name]
  params = random_params(config)
  x = jnp.asarray(episode[None, :4])
  first = 0 if config.pseudo_input else 2
  (loss, bound), grads = jax.value_and_grad(
      likelihood.training_objective, has_aux=True)(params, x, KEY, config, first)
  leaves = jax.tree_util.tree_leaves(grads)
  assert all(np.all(np.isfinite(g)) for g in leaves)
  assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0
  np.testing.assert_allclose(loss, -bound[first:].sum(), rtol=1e-6)


def test_default_call_is_reproducible_on_real_data(test_split):
  """The README promise: default model, real episode, [T] finite nats."""
  params = gmn_jax.init_params(jax.random.key(0), gmn_jax.Config())
  x = test_split.images[0, :20].reshape(20, 28, 28)
  a = gmn_jax.conditional_nll(params, x, num_samples=4)
  b = gmn_jax.conditional_nll(params, x, num_samples=4)
  assert a.shape == (20,) and np.all(np.isfinite(a))
  np.testing.assert_array_equal(a, b)
  # an untrained model is near the entropy of ~8%-ink pixels, not a blow-up
  assert 100 < float(jnp.mean(a)) < 784 * np.log(2)
