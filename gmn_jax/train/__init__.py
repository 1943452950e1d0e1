"""Training: the run config, the jitted step, Orbax checkpoints, data
parallelism and the loop that ties them together."""
from gmn_jax.train.loop import train
from gmn_jax.train.run_config import RunConfig

__all__ = ["RunConfig", "train"]
