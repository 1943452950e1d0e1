"""Data parallelism: a Mesh over a "data" axis, the batch sharded, the state
replicated. The same code runs on one CPU, all local GPUs or TPU cores, and
several hosts (after `maybe_initialize_distributed`)."""
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P


def maybe_initialize_distributed() -> None:
  """Join a multi-host job when the usual environment says there is one."""
  if any(v in os.environ for v in ("JAX_COORDINATOR_ADDRESS",
                                   "COORDINATOR_ADDRESS")) or (
      "SLURM_NTASKS" in os.environ and int(os.environ["SLURM_NTASKS"]) > 1):
    jax.distributed.initialize()


def data_mesh(devices=None) -> Mesh:
  return Mesh(np.asarray(devices or jax.devices()), ("data",))


def replicate(tree, mesh: Mesh):
  return jax.device_put(tree, NamedSharding(mesh, P()))


def shard_batch(global_batch: np.ndarray, mesh: Mesh) -> jax.Array:
  """A host's copy of the global batch -> one array sharded over "data"."""
  sharding = NamedSharding(mesh, P("data"))
  return jax.make_array_from_callback(global_batch.shape, sharding,
                                      lambda idx: global_batch[idx])
