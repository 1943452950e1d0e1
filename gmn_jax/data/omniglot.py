"""Omniglot 28x28 from the authors' arrays or from TensorFlow Datasets.

Convention: images are uint8 {0, 1} with ink = 1 (the authors store ink = 0,
background = 255; the Bernoulli NLL is the same either way). A split is one
in-memory array [classes, drawings, 784], so sampling is pure indexing.

The authors' format, which the TFDS path also writes as its cache: a folder
with train.npz and test.npz, one key per class (sorted for a fixed order),
each a uint8 [20, 784] array of {0, 255} with 255 = background.
"""
import os
import zipfile
from typing import NamedTuple

import numpy as np

from gmn_jax.config import IMAGE_SHAPE, NUM_PIXELS

SPLITS = ("train", "test")
ENV_VAR = "GMN_DATA_DIR"


class Split(NamedTuple):
  """images: [classes, drawings, 784] uint8 {0, 1}, ink = 1; names: [classes]."""
  images: np.ndarray
  names: tuple

  @property
  def num_classes(self) -> int:
    return self.images.shape[0]


def default_data_dir() -> str:
  """$GMN_DATA_DIR, else ../shared/data/omniglot28 beside this checkout."""
  if os.environ.get(ENV_VAR):
    return os.environ[ENV_VAR]
  here = os.path.dirname(os.path.abspath(__file__))
  return os.path.normpath(os.path.join(here, "..", "..", "..", "shared",
                                       "data", "omniglot28"))


def load_split(split: str, data_dir: str = None) -> Split:
  """Read `split` ("train" = background, "test" = evaluation) from the
  authors' arrays in `data_dir` (default: `default_data_dir()`)."""
  if split not in SPLITS:
    raise ValueError(f"split={split!r}; expected one of {SPLITS}.")
  data_dir = data_dir or default_data_dir()
  if not os.path.isdir(data_dir):
    raise FileNotFoundError(
        f"Omniglot folder {data_dir!r} does not exist. Point --data_dir or "
        f"${ENV_VAR} at a folder with train.npz and test.npz (the authors' "
        "arrays), or use the TFDS source (gmn_jax.data.tfds_source).")
  path = os.path.join(data_dir, f"{split}.npz")
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"{path!r} is missing: the Omniglot folder needs train.npz and "
        "test.npz in the authors' format.")
  try:
    with np.load(path, allow_pickle=False) as archive:
      names = tuple(sorted(archive.files))
      arrays = [archive[name] for name in names]
  except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
    raise ValueError(f"{path!r} is not a readable .npz file (corrupt or "
                     f"truncated?): {e}") from e
  return Split(_validate(path, names, arrays), names)


def _validate(path, names, arrays) -> np.ndarray:
  if not names:
    raise ValueError(f"{path!r} holds no classes.")
  for name, a in zip(names, arrays):
    if a.ndim != 2 or a.shape[1] != NUM_PIXELS:
      raise ValueError(f"{path!r}: class {name!r} has shape {a.shape}; "
                       f"expected [drawings, {NUM_PIXELS}] (flattened 28x28).")
  counts = {a.shape[0] for a in arrays}
  if len(counts) != 1:
    short = min(zip(names, arrays), key=lambda na: na[1].shape[0])
    raise ValueError(
        f"{path!r}: classes have different numbers of drawings {sorted(counts)}"
        f"; e.g. {short[0]!r} has {short[1].shape[0]}. Every class needs the "
        "same number (20 in Omniglot).")
  images = np.stack(arrays)
  values = np.unique(images)
  if not set(values.tolist()) <= {0, 255}:
    raise ValueError(f"{path!r}: pixel values {values[:8].tolist()} are not "
                     "binary; expected uint8 {0, 255} with 255 = background.")
  return (images == 0).astype(np.uint8)  # ink = 1


def with_rotations(images: np.ndarray, rotations: int) -> np.ndarray:
  """[classes, drawings, 784] -> [rotations * classes, drawings, 784]: the
  classes, then each class turned by 90, 180, 270 degrees (counter-clockwise)
  as a class of its own; `rotations` versions of every class in all (1: the
  classes unchanged, 4: every right angle).

  The few-shot literature's Omniglot augmentation (Santoro et al., 2016;
  Vinyals et al., 2016); the authors' development code trained on augmented
  arrays (sbos/gmn: `train_small_aug10.npz`), the paper names none.
  """
  if not 1 <= rotations <= 4:
    raise ValueError(f"rotations={rotations}; expected 1 (none) to 4 (every "
                     "right angle).")
  square = images.reshape(*images.shape[:-1], *IMAGE_SHAPE)
  turned = [np.rot90(square, k, axes=(-2, -1)) for k in range(rotations)]
  return np.concatenate(turned).reshape(-1, *images.shape[1:])


def save_split(split: str, data_dir: str, images: np.ndarray, names) -> str:
  """Write images [classes, drawings, 784] {0, 1} (ink = 1) in the authors'
  format; returns the path."""
  os.makedirs(data_dir, exist_ok=True)
  path = os.path.join(data_dir, f"{split}.npz")
  stored = np.where(images.astype(bool), 0, 255).astype(np.uint8)
  tmp = path + ".tmp.npz"
  np.savez(tmp, **dict(zip(names, stored)))
  os.replace(tmp, path)
  return path


def to_28x28_binary(images) -> np.ndarray:
  """Original drawings [N, 105, 105] or [N, 105, 105, C] (white background,
  any numeric range) -> [N, 784] uint8 {0, 1} with ink = 1.

  Bilinear downsampling (antialiased, so every source pixel counts) and a
  0.5 threshold on the ink fraction.
  """
  from PIL import Image
  x = np.asarray(images)
  if x.ndim == 4:
    x = x[..., 0]
  if x.ndim != 3:
    raise ValueError(f"images have shape {x.shape}; expected [N, H, W(, C)].")
  peak = 1.0 if x.dtype == bool or x.max() <= 1 else 255.0
  ink = 1.0 - x.astype(np.float32) / peak
  small = np.stack([np.asarray(Image.fromarray(im).resize(
      (28, 28), Image.Resampling.BILINEAR)) for im in ink])
  return (small > 0.5).astype(np.uint8).reshape(len(x), NUM_PIXELS)
