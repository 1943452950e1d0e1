"""Few-shot classification by likelihood: a query goes to the class whose
conditioning set gives it the highest conditional likelihood."""
import math

import jax
import numpy as np

from gmn_jax import likelihood
from gmn_jax.config import Config


def tasks(images: np.ndarray, ways: int, shots: int, num_tasks: int,
          seed: int = 99):
  """-> (episodes [tasks, ways, shots + 1, 784], labels [tasks]).

  Episode (i, c) is k support drawings of candidate class c followed by the
  task's query, a different drawing of the true class labels[i].
  """
  rng = np.random.default_rng(seed)
  n_classes, n_drawings = images.shape[:2]
  episodes = np.empty((num_tasks, ways, shots + 1, images.shape[-1]),
                      images.dtype)
  labels = rng.integers(0, ways, num_tasks)
  for i in range(num_tasks):
    classes = rng.choice(n_classes, ways, replace=False)
    for c, cls in enumerate(classes):
      drawings = rng.choice(n_drawings, shots + 1, replace=False)
      episodes[i, c, :shots] = images[cls, drawings[:shots]]
      if c == labels[i]:
        query = images[cls, drawings[shots]]
    episodes[i, :, shots] = query
  return episodes, labels


def accuracy(params, config: Config, images: np.ndarray, ways: int,
             shots: int, num_tasks: int, num_samples: int = 20,
             seed: int = 99, batch: int = 8) -> dict:
  """N-way k-shot accuracy with a 95% normal-approximation interval."""
  eps, labels = tasks(images, ways, shots, num_tasks, seed)
  flat = eps.reshape(-1, shots + 1, eps.shape[-1]).astype(np.float32)
  key = jax.random.key(seed)
  nll = []
  for s in range(0, len(flat), batch):
    idx = np.arange(s, min(s + batch, len(flat)))
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)
    nll.append(np.asarray(likelihood.batch_conditional_nll(
        params, flat[idx], keys, config=config, num_samples=num_samples))[:, -1])
  scores = np.concatenate(nll).reshape(num_tasks, ways)
  correct = scores.argmin(1) == labels
  acc = float(correct.mean())
  half = 1.96 * math.sqrt(max(acc * (1 - acc), 1e-12) / num_tasks)
  return {"ways": ways, "shots": shots, "tasks": num_tasks,
          "num_samples": num_samples, "accuracy": round(acc, 4),
          "ci95": round(half, 4)}
