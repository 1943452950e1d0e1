"""The causal mask, the masked softmax and the read-outs."""
import jax
import jax.numpy as jnp
import numpy as np

from gmn_jax import matching


def test_visible_slots_with_pseudo_input():
  mask = np.asarray(matching.visible_slots(jnp.arange(4), 5, True))
  # slot 0 is the pseudo-input, slot j + 1 is image j; query t sees j < t.
  expected = np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0],
                       [1, 1, 1, 1, 0]], bool)
  np.testing.assert_array_equal(mask, expected)


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
