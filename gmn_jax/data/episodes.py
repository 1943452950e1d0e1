"""Episodes ("datasets" X of T images) as in REFERENCE.md.

An episode draws C classes uniformly from the split (with replacement, as in
the reference); each of its T elements picks one of those C classes and one of
that class's drawings uniformly. With `conditional` ordering the first C
elements are one drawing of each of the C classes, in order.

Batches are a pure function of (seed, index): `episode_batch(..., seed, step)`
gives the same batch on every machine, so a resumed run needs only its step,
and test episode i is the same whatever the batch size.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class EpisodeSpec:
  """T images per episode from up to C classes."""
  length: int = 20
  num_classes: int = 2
  conditional: bool = False

  def validate(self, split_classes: int = None) -> "EpisodeSpec":
    if self.length < 1:
      raise ValueError(f"episode length T={self.length}; expected T >= 1.")
    if self.num_classes < 1:
      raise ValueError(f"C={self.num_classes} classes per episode; expected "
                       "C >= 1.")
    if self.conditional and self.num_classes > self.length:
      raise ValueError(f"conditional ordering puts one image of each of the "
                       f"C={self.num_classes} classes first, which needs "
                       f"T >= C, but T={self.length}.")
    if split_classes is not None and self.num_classes > split_classes:
      raise ValueError(f"C={self.num_classes} classes per episode but the "
                       f"split has only {split_classes} classes.")
    return self


def _indices(rng: np.random.Generator, spec: EpisodeSpec, batch: int,
             num_classes: int, num_drawings: int):
  """-> (class index, drawing index), each [batch, T] int."""
  classes = rng.integers(0, num_classes, (batch, spec.num_classes))
  which = rng.integers(0, spec.num_classes, (batch, spec.length))
  if spec.conditional:
    which[:, :spec.num_classes] = np.arange(spec.num_classes)
  drawings = rng.integers(0, num_drawings, (batch, spec.length))
  return np.take_along_axis(classes, which, 1), drawings


def episode_batch(images: np.ndarray, spec: EpisodeSpec, batch: int,
                  seed: int, step: int, return_classes: bool = False):
  """images: [classes, drawings, 784] -> [batch, T, 784] (same dtype).

  Batch `step` of the stream `seed`; deterministic on every machine.
  """
  rng = np.random.default_rng([seed, step])
  cls, drw = _indices(rng, spec, batch, images.shape[0], images.shape[1])
  x = images[cls, drw]
  return (x, cls) if return_classes else x


def test_episodes(images: np.ndarray, spec: EpisodeSpec, num_episodes: int,
                  seed: int = 1234, return_classes: bool = False):
  """A fixed evaluation set: [num_episodes, T, 784]; episode i depends only on
  (seed, i), not on how many are drawn or how they are batched."""
  spec.validate(images.shape[0])
  out = [episode_batch(images, spec, 1, seed, i, True)
         for i in range(num_episodes)]
  x = np.concatenate([o[0] for o in out])
  cls = np.concatenate([o[1] for o in out])
  return (x, cls) if return_classes else x
