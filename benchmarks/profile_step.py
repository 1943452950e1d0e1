r"""Where the training step's time goes: each part's forward + backward alone.

  python benchmarks/profile_step.py   # prints a table, writes results/profile_<device>.json

The parts run on the shapes of the paper's step (B = 20 episodes of T = 20,
so 400 images through psi and the generator), jitted, compile excluded,
median of 5. "The same, XLA's gradient" is XLA's own backward pass of the
decoder's 28x28 residual conv, beside the project's, to show why
gmn_jax.layers computes the weight gradient itself.
"""
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchmark  # noqa: E402
from gmn_jax import config as config_lib  # noqa: E402
from gmn_jax import decoder, encoder, layers, matching, model  # noqa: E402


def backward(fn, params, x, wrt_input=True):
  """-> a thunk running jitted fn(params, x) forward and backward, with a
  fixed random output gradient: d/dparams, and d/dx unless x is data. (The
  gradient of a plain sum is a constant that XLA simplifies, flattering the
  timing.)"""
  out = jax.eval_shape(fn, params, x)
  g = jax.random.normal(jax.random.key(1), out.shape, out.dtype)

  @jax.jit
  def run(params, x, g):
    grads = jax.vjp(fn, params, x)[1](g)
    return grads if wrt_input else grads[0]

  return lambda: run(params, x, g)


def controllers(cfg):
  """The three controllers' outputs for an episode batch, from features."""
  def fn(params, feats):  # feats: [B, T, 288]
    def episode(f):
      t = f.shape[0]
      ctx = model.condition(params, cfg, f, jnp.arange(t))
      q = model.posterior(params, cfg, ctx, f)
      read = matching.matching_readout(
          params["controller"], "generative", q.mean, ctx.memory, ctx.mask,
          cfg, cfg.num_passes)
      return jnp.concatenate([read, q.scale, ctx.prior.scale], -1)
    return jax.vmap(episode)(feats)
  return fn


def main():
  cfg = config_lib.Config()
  b, t = 20, 20
  n = b * t
  key = jax.random.key(0)
  params = model.init_params(key, cfg)
  x = (jax.random.uniform(key, (n, 784)) < 0.1).astype(jnp.float32)
  feats = jax.random.normal(key, (b, t, config_lib.FEATURE_DIM))
  dec_in = jax.random.normal(key, (n, cfg.latent_dim + cfg.readout_dim))
  h13 = jax.random.normal(key, (n, 13, 13, 16))
  h28 = jax.random.normal(key, (n, 28, 28, 16))
  last = params["decoder"]["sections"][-1]
  xla_conv = lambda p, h: jax.lax.conv_general_dilated(
      h, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  parts = [
      ("psi (encoder)",
       backward(encoder.encode, params["encoder"], x, wrt_input=False)),
      ("controllers (prior, recognition, generative)",
       backward(controllers(cfg), params, feats)),
      ("generator", backward(decoder.decode, params["decoder"], dec_in)),
      ("  its last section (13 -> 28)", backward(layers.up_section, last, h13)),
      ("    transposed conv 13 -> 28", backward(
          lambda p, h: layers.conv_transpose(p, h, 2), last["conv"], h13)),
      ("    3x3 conv at 28x28", backward(layers.conv, last["block"], h28)),
      ("    the same, XLA's gradient", backward(xla_conv, last["block"], h28)),
  ]
  rows = {}
  print(f"| part (B = {b}, T = {t}: {n} images), forward + backward | ms |")
  print("|---|---|")
  for name, thunk in parts:
    rows[name.strip()] = benchmark.timed(thunk, reps=5) * 1000
    print(f"| {name} | {rows[name.strip()]:.1f} |")
  device = jax.devices()[0]
  path = os.path.join(HERE, "results", f"profile_{benchmark.device_name()}.json")
  with open(path, "w") as f:
    json.dump({"device": device.device_kind, "jax_version": jax.__version__,
               "commit": benchmark.commit(), "ms": rows}, f, indent=2)
  benchmark.write_readme()
  print(f"wrote {path} and benchmarks/README.md")


if __name__ == "__main__":
  main()
