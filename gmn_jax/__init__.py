"""gmn-jax: Generative Matching Networks (Bartunov & Vetrov) in JAX.

    params = gmn_jax.init_params(jax.random.key(0), gmn_jax.Config())
    nll = gmn_jax.conditional_nll(params, X)   # X: [T, 28, 28] binary, ink = 1
"""
from gmn_jax.checkpoints import load_params, save_params
from gmn_jax.config import Config
from gmn_jax.likelihood import conditional_nll, episode_log_weights, training_objective
from gmn_jax.model import init_params
from gmn_jax.precision import cast_kernels
from gmn_jax.sampling import sample

__all__ = ["Config", "init_params", "cast_kernels", "conditional_nll",
           "episode_log_weights", "training_objective", "sample",
           "load_params", "save_params"]
