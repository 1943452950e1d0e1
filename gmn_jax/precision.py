"""Mixed precision: bfloat16 matmuls and convolutions, float32 accumulation.

The precision is carried by the params themselves: where a kernel (a dense
layer's `v`, a convolution's `w`) is bfloat16, that layer multiplies bfloat16
inputs by it and accumulates and returns float32. Gains, biases, PReLU slopes,
the attention, softmaxes and log-probabilities stay float32. Because the dtype
is part of the params' abstract value, `jax.jit` compiles each precision
separately; nothing global is read at trace time.

Training keeps float32 params and casts inside the loss, so the optimiser
sees float32 gradients.
"""
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
