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


@pytest.fixture(autouse=True)
def chunked_at_every_size(monkeypatch):
  """The chunked weight gradient, whatever the input's size (the model keeps
  it for inputs of layers.CHUNKED_MIN_SIZE or more): small shapes test it."""
  monkeypatch.setattr(layers, "CHUNKED_MIN_SIZE", 0)


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


def test_weight_gradient_loops_once_over_every_vmapped_image():
  """Under vmap over episodes and samples (as the model runs it) the
  gradient is still XLA's, and the chunked loop runs over all the batch's
  images (B * S * N / chunk steps), not over one episode's chunks batched."""
  p = layers.init_conv(jax.random.key(0), 3, 4, 4)
  b, s, n = 3, 2, 2 * layers.WEIGHT_GRAD_CHUNK
  x = jax.random.normal(jax.random.key(1), (b, s, n, 6, 6, 4))
  nest = lambda conv: lambda p, x: jax.vmap(jax.vmap(
      lambda e: conv(p, e, 1, "SAME")))(x)
  ours, xla = nest(layers.conv), nest(xla_conv)
  assert_trees_close(grads(ours, p, x), grads(xla, p, x))

  def scan_lengths(jaxpr):
    for eqn in jaxpr.eqns:
      if eqn.primitive.name == "scan":
        yield eqn.params["length"]
      for param in eqn.params.values():
        for sub in param if isinstance(param, (list, tuple)) else [param]:
          sub = getattr(sub, "jaxpr", sub)  # a ClosedJaxpr's
          if hasattr(sub, "eqns"):
            yield from scan_lengths(sub)

  jaxpr = jax.make_jaxpr(jax.grad(lambda p: jnp.sum(ours(p, x) ** 2)))(p)
  assert list(scan_lengths(jaxpr.jaxpr)) == [b * s * 2]


def test_split_decoder_input_is_one_layer_with_blockwise_norms():
  """decoder_input="split": z and [r, h] through separately normalised
  matrices; the default layout (the reference's joint matrix) is unchanged."""
  from gmn_jax import decoder, init_params
  from conftest import random_params, small_config
  joint = init_params(jax.random.key(0), small_config())["decoder"]
  assert "seed" in joint and "seed_z" not in joint
  config = small_config(decoder_input="split")
  p = random_params(config)["decoder"]
  latent = config.latent_dim
  assert p["seed_z"]["v"].shape == (latent, 288)
  assert p["seed_readout"]["v"].shape == (config.readout_dim, 288)
  # The same map as one joint layer whose blocks carry their own norms.
  blocks = [d["gain"] * d["v"] / jnp.linalg.norm(d["v"])
            for d in (p["seed_z"], p["seed_readout"])]
  v = jnp.concatenate(blocks)
  as_joint = {**{k: x for k, x in p.items() if not k.startswith("seed_")},
              "seed": {"v": v, "gain": jnp.linalg.norm(v),
                       "b": p["seed_z"]["b"] + p["seed_readout"]["b"]}}
  inputs = jax.random.normal(jax.random.key(1), (3, latent + config.readout_dim))
  np.testing.assert_allclose(decoder.decode(p, inputs),
                             decoder.decode(as_joint, inputs),
                             rtol=1e-4, atol=1e-4)
  with pytest.raises(ValueError, match="decoder_input='both' is unknown"):
    small_config(decoder_input="both")


def test_plain_decoder_input_is_one_unnormalised_linear_layer():
  """decoder_input="plain": [z, r, h] -> seed by w x + b, with no weight
  normalisation (scaling w scales the seed) and no activation."""
  from gmn_jax import decoder
  from conftest import random_params, small_config
  config = small_config(decoder_input="plain")
  p = random_params(config)["decoder"]
  assert set(p) == {"seed_affine", "sections", "logits"}
  inputs = jax.random.normal(jax.random.key(1),
                             (3, config.latent_dim + config.readout_dim))
  seed = inputs @ p["seed_affine"]["w"] + p["seed_affine"]["b"]
  h = seed.reshape(-1, 3, 3, 32)
  for section in p["sections"]:
    h = layers.up_section(section, h)
  expected = layers.conv(p["logits"], h).reshape(3, 784)
  np.testing.assert_allclose(decoder.decode(p, inputs), expected,
                             rtol=1e-5, atol=1e-5)
  doubled = {**p, "seed_affine": {"w": 2 * p["seed_affine"]["w"],
                                  "b": 2 * p["seed_affine"]["b"]}}
  assert not np.allclose(decoder.decode(doubled, inputs),
                         decoder.decode(p, inputs), atol=1e-3)


@pytest.mark.parametrize("decoder_input,blocks",
                         [("split", ("seed_z", "seed_readout")),
                          ("plain", ("seed_affine",))])
def test_ablated_decoder_inputs_train(episode, decoder_input, blocks):
  from gmn_jax import likelihood
  from conftest import random_params, small_config
  config = small_config(decoder_input=decoder_input)
  params = random_params(config)
  grads = jax.grad(lambda p: likelihood.training_objective(
      p, jnp.asarray(episode)[None], jax.random.key(0), config)[0])(params)
  for g in jax.tree_util.tree_leaves(grads):
    assert np.all(np.isfinite(g))
  for block in blocks:
    kernel = grads["decoder"][block]
    assert float(jnp.abs(kernel.get("v", kernel.get("w"))).max()) > 0


def test_only_inputs_of_the_minimum_size_loop(monkeypatch):
  """Below layers.CHUNKED_MIN_SIZE the weight gradient is XLA's own (no loop);
  from it on, the chunked loop's; the gradients agree either way."""
  monkeypatch.setattr(layers, "CHUNKED_MIN_SIZE", 13)
  p = layers.init_conv(jax.random.key(0), 3, 4, 4)
  for size, loops in ((6, False), (13, True)):
    x = jax.random.normal(jax.random.key(size), (3, size, size, 4))
    ours = lambda p, x: layers.conv(p, x, 1, "SAME")
    jaxpr = str(jax.make_jaxpr(jax.grad(lambda p: jnp.sum(ours(p, x) ** 2)))(p))
    assert ("scan[" in jaxpr) == loops
    assert_trees_close(grads(ours, p, x), grads(
        lambda p, x: xla_conv(p, x, 1, "SAME"), p, x))
