"""Omniglot at 28x28 (ink = 1) and the episodes the paper trains and tests on."""
from gmn_jax.data.episodes import EpisodeSpec, episode_batch, test_episodes
from gmn_jax.data.omniglot import Split, default_data_dir, load_split

__all__ = ["EpisodeSpec", "episode_batch", "test_episodes", "Split",
           "default_data_dir", "load_split"]
