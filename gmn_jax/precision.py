"""Mixed precision: bfloat16 matmuls and convolutions, float32 accumulation.

The precision is carried by the params themselves: where a kernel (a dense
layer's `v`, a convolution's `w`) is bfloat16, that layer multiplies bfloat16
inputs by it and accumulates and returns float32. Gains, biases, PReLU slopes,
the attention, softmaxes and log-probabilities stay float32. Because the dtype
is part of the params' abstract value, `jax.jit` compiles each precision
separately; nothing global is read at trace time.

Training keeps float32 params and casts inside the loss, so the optimiser
sees float32 gradients.

float32 kernels multiply in full float32 on every backend (`traced_as_stored`):
XLA's default on recent NVIDIA GPUs rounds float32 operands to TF32 (10
mantissa bits), so a "float32" run on a GPU would otherwise differ in
precision from the same run on a CPU.
"""
import contextlib
import functools

import jax
import jax.numpy as jnp

MATMUL_DTYPES = ("float32", "bfloat16")
KERNEL_NAMES = ("v", "w")


def cast_kernels(params, dtype) -> dict:
  """The params with every kernel (dense `v`, conv `w`) cast to `dtype`."""
  dtype = jnp.dtype(dtype)
  if dtype.name not in MATMUL_DTYPES:
    raise ValueError(f"matmul dtype {dtype.name!r} is not supported; "
                     f"expected one of {MATMUL_DTYPES}.")

  def cast(path, leaf):
    name = getattr(path[-1], "key", None)
    return leaf.astype(dtype) if name in KERNEL_NAMES else leaf

  return jax.tree_util.tree_map_with_path(cast, params)


def kernel_dtype(params) -> str:
  """The dtype name of the params' kernels ("float32" or "bfloat16")."""
  names = {leaf.dtype.name for path, leaf in
           jax.tree_util.tree_leaves_with_path(params)
           if getattr(path[-1], "key", None) in KERNEL_NAMES}
  if len(names) != 1:
    raise ValueError(f"params mix kernel dtypes {sorted(names)}; cast them "
                     "with gmn_jax.precision.cast_kernels.")
  return names.pop()


def traced_as_stored(fn):
  """Decorates fn(params, ...): traced with every matmul and convolution in
  full float32 where the params' kernels are float32 (also those of the
  attention, the gradients and anything else the function computes); with
  bfloat16 kernels, XLA's default. The precision is fixed when the function
  is traced, so it holds under any `jax.jit`, `vmap` or `grad` around it."""
  @functools.wraps(fn)
  def traced(params, *args, **kwargs):
    full = kernel_dtype(params) == "float32"
    with (jax.default_matmul_precision("float32") if full
          else contextlib.nullcontext()):
      return fn(params, *args, **kwargs)
  return traced
