"""The causal mask, the masked softmax and the read-outs."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gmn_jax import matching


def test_visible_slots_with_pseudo_input():
  mask = np.asarray(matching.visible_slots(jnp.arange(4), 5, True))
  # slot 0 is the pseudo-input, slot j + 1 is image j; query t sees j < t.
  expected = np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0],
                       [1, 1, 1, 1, 0]], bool)
  np.testing.assert_array_equal(mask, expected)


def test_pseudo_input_visible_to_the_empty_set_only():
  mask = np.asarray(matching.visible_slots(jnp.arange(4), 5, True,
                                           "empty_set"))
  expected = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0],
                       [0, 1, 1, 1, 0]], bool)
  np.testing.assert_array_equal(mask, expected)


def test_pseudo_visibility_is_checked():
  from gmn_jax.config import Config
  with pytest.raises(ValueError, match="needs a pseudo-input slot"):
    Config(pseudo_input=False, pseudo_visible="empty_set")
  with pytest.raises(ValueError, match="pseudo_visible='never' is unknown"):
    Config(pseudo_visible="never")


def test_visible_slots_without_pseudo_input():
  mask = np.asarray(matching.visible_slots(jnp.arange(3), 3, False))
  np.testing.assert_array_equal(mask, np.tril(np.ones((3, 3), bool), -1))


def test_masked_softmax_matches_softmax_over_visible_slots():
  logits = jax.random.normal(jax.random.key(0), (4, 6)) * 5
  mask = jnp.array([[1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0],
                    [0, 0, 0, 0, 0, 0], [1] * 6], bool)
  a = np.asarray(matching.masked_softmax(logits, mask))
  for i in (0, 1, 3):
    vis = np.asarray(mask[i])
    np.testing.assert_allclose(a[i, vis], jax.nn.softmax(logits[i, vis]),
                               rtol=1e-6)
    assert np.all(a[i, ~vis] == 0)
  np.testing.assert_array_equal(a[2], 0.0)  # nothing visible reads nothing


def test_masked_softmax_gradients_finite_with_large_scale():
  mask = jnp.array([[1, 0, 0], [0, 0, 0]], bool)

  def f(scale):
    return jnp.sum(matching.masked_softmax(scale * jnp.ones((2, 3)), mask) ** 2)

  g = jax.grad(f)(10.0)
  assert np.isfinite(g)


def random_features_and_latents(cfg, n):
  """n random 288-d features and n random z: [n, 288], [n, latent]."""
  from gmn_jax.config import FEATURE_DIM
  k1, k2 = jax.random.split(jax.random.key(1))
  return (jax.random.normal(k1, (n, FEATURE_DIM)),
          jax.random.normal(k2, (n, cfg.latent_dim)))


def generative_readout(controller, cfg, n=6, without_pseudo=False):
  """The generative matcher's read-out of n random queries over a memory of n
  random features, query i seeing the first i (and the pseudo-input only
  where nothing else is visible, if without_pseudo)."""
  feats, z = random_features_and_latents(cfg, n)
  memory = matching.build_memory(controller, feats, cfg)
  mask = matching.visible_slots(jnp.arange(n), memory.prototypes.shape[0],
                                cfg.pseudo_input,
                                "empty_set" if without_pseudo else "always")
  return matching.matching_readout(controller, "generative", z, memory, mask,
                                   cfg, cfg.num_passes)


def test_unrolled_passes_compute_the_rolled_read_out_and_gradient(monkeypatch):
  """The K passes unroll (matching.UNROLL_PASSES); both forms are one
  function, value and gradient."""
  from gmn_jax import model
  from gmn_jax.config import Config
  cfg = Config()
  params = model.init_params(jax.random.key(0), cfg)
  read = lambda p: generative_readout(p["controller"], cfg)

  def value_and_grad(unroll):
    monkeypatch.setattr(matching, "UNROLL_PASSES", unroll)
    out = jax.jit(read)(params)
    grad = jax.jit(jax.grad(lambda p: jnp.sum(read(p) ** 2)))(params)
    return out, grad

  rolled, unrolled = value_and_grad(False), value_and_grad(True)
  assert not np.allclose(rolled[0], 0)
  np.testing.assert_allclose(unrolled[0], rolled[0], rtol=1e-5, atol=1e-6)
  for a, b in zip(jax.tree.leaves(unrolled[1]), jax.tree.leaves(rolled[1])):
    # float32 sums in another order: each leaf to float tolerance as a whole
    assert np.linalg.norm(a - b) <= 1e-5 * np.linalg.norm(b) + 1e-7


def test_cosine_attention_ignores_the_norms_of_keys_and_queries():
  """Config(similarity="cosine") scales cosines, not dot products, by the
  strength: rescaling every key (the key layer's gain) leaves its read-out
  unchanged, and changes the dot-product one."""
  from gmn_jax import model
  from gmn_jax.config import Config

  def read(cfg, key_gain):
    params = model.init_params(jax.random.key(0), cfg)["controller"]
    params = {**params, "key": {**params["key"], "dense": {
        **params["key"]["dense"],
        "gain": key_gain * params["key"]["dense"]["gain"],
        "b": key_gain * params["key"]["dense"]["b"]}}}
    # the pseudo-key does not scale with the key layer: leave it out
    return np.asarray(generative_readout(params, cfg, n=5, without_pseudo=True))

  cosine = Config(similarity="cosine")
  np.testing.assert_allclose(read(cosine, 3.0), read(cosine, 1.0),
                             rtol=1e-4, atol=1e-5)
  dot = Config()
  assert not np.allclose(read(dot, 3.0), read(dot, 1.0), atol=1e-3)
  with pytest.raises(ValueError, match="similarity='euclid' is unknown"):
    Config(similarity="euclid")


def test_unit_rows_norms_and_finite_gradient_at_zero():
  x = jnp.array([[3.0, 4.0], [0.0, 0.0]])
  np.testing.assert_allclose(matching.unit_rows(x), [[0.6, 0.8], [0.0, 0.0]],
                             atol=1e-7)
  g = jax.grad(lambda x: jnp.sum(matching.unit_rows(x)[:, 0]))(x)
  assert np.all(np.isfinite(g))


def test_attention_weights_are_what_the_read_out_reads():
  """matching.attention_weights' last pass, applied to the prototypes, gives
  the read-out r; each row sums to 1 over its visible slots; an average
  model has no weights to give."""
  from gmn_jax import model
  from gmn_jax.config import FEATURE_DIM, Config
  cfg = Config()
  params = model.init_params(jax.random.key(0), cfg)
  controller = params["controller"]
  feats, z = random_features_and_latents(cfg, 6)
  memory = matching.build_memory(controller, feats, cfg)
  mask = matching.visible_slots(jnp.arange(6), 7, True)
  a = matching.attention_weights(controller, "generative", z, memory, mask,
                                 cfg, cfg.num_passes)
  assert a.shape == (cfg.num_passes, 6, 7)
  np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
  assert np.all(np.asarray(a)[:, ~np.asarray(mask)] == 0)
  read = matching.matching_readout(controller, "generative", z, memory, mask,
                                   cfg, cfg.num_passes)
  np.testing.assert_allclose(a[-1] @ memory.prototypes, read[:, :FEATURE_DIM],
                             rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match="no attention"):
    matching.attention_weights(controller, "generative", z, memory, mask,
                               Config(matching="average"), 1)


def test_feature_keys_match_queries_against_the_prototypes():
  """Config(keys="features"): no key layer and no pseudo-key; the first
  pass's attention is the softmax of strength * q . psi over the visible
  prototypes (the pseudo-input's key is its prototype), computed here by
  hand; an unknown kind is refused."""
  from gmn_jax import layers, model
  from gmn_jax.config import FEATURE_DIM, Config
  cfg = Config(keys="features")
  controller = model.init_params(jax.random.key(0), cfg)["controller"]
  assert "key" not in controller and "pseudo_key" not in controller
  assert controller["generative"]["query"]["v"].shape[-1] == FEATURE_DIM
  feats, z = random_features_and_latents(cfg, 5)
  memory = matching.build_memory(controller, feats, cfg)
  mask = matching.visible_slots(jnp.arange(5), 6, True)
  a = matching.attention_weights(controller, "generative", z, memory, mask,
                                 cfg, cfg.num_passes)[0]
  m = controller["generative"]
  h0 = jnp.broadcast_to(controller["h0"], (5, cfg.state_dim))
  q = layers.prelu(m["alpha"], layers.dense(m["query"],
                                            jnp.concatenate([h0, z], -1)))
  strength = jnp.minimum(jax.nn.softplus(layers.dense(m["strength"], h0)),
                         matching.MAX_STRENGTH)
  slots = np.concatenate([np.asarray(controller["pseudo_prototype"])[None],
                          np.asarray(feats)])
  logits = np.asarray(strength * (q @ slots.T))
  for t in range(5):
    visible = logits[t, :t + 1]
    expected = np.exp(visible - visible.max())
    np.testing.assert_allclose(a[t, :t + 1], expected / expected.sum(),
                               rtol=1e-4, atol=1e-6)
    assert np.all(np.asarray(a[t, t + 1:]) == 0)
  with pytest.raises(ValueError, match="keys='raw' is unknown"):
    Config(keys="raw")


@pytest.mark.parametrize("matcher", ["attention", "average"])
def test_gru_reading_its_state_reduces_to_reading_r_when_that_input_is_zero(
    matcher):
  """Config(gru_input="read_and_state"): the GRU reads [r, h]. With the input
  rows of h zeroed it is the "read" model on the rows of r (the weight norm
  is over the inputs, so it is unchanged), for every pass; with them it
  differs. An unknown kind is refused."""
  from gmn_jax import model
  from gmn_jax.config import FEATURE_DIM, Config
  both = Config(matching=matcher, gru_input="read_and_state")
  controller = model.init_params(jax.random.key(0), both)["controller"]
  v = controller["gru"]["x"]["v"]
  assert v.shape == (FEATURE_DIM + both.state_dim, 3 * both.state_dim)
  feats, z = random_features_and_latents(both, 6)
  mask = matching.visible_slots(jnp.arange(6), 7, True)

  def readout(controller, cfg):
    memory = matching.build_memory(controller, feats, cfg)
    return matching.matching_readout(controller, "generative", z, memory, mask,
                                     cfg, cfg.num_passes)

  zeroed = {**controller, "gru": {**controller["gru"], "x": {
      **controller["gru"]["x"], "v": v.at[FEATURE_DIM:].set(0.0)}}}
  read_only = {**controller, "gru": {**controller["gru"], "x": {
      **controller["gru"]["x"], "v": v[:FEATURE_DIM]}}}
  np.testing.assert_allclose(
      readout(zeroed, both),
      readout(read_only, Config(matching=matcher)), rtol=1e-5, atol=1e-6)
  assert not np.allclose(readout(controller, both), readout(zeroed, both),
                         atol=1e-3)
  with pytest.raises(ValueError, match="gru_input='state' is unknown"):
    Config(gru_input="state")
