"""Omniglot from TensorFlow Datasets, converted once to the authors' format.

`prepare()` reads TFDS 'omniglot' through `tfds.data_source` (random access,
no tf.data pipeline), turns every 105x105 drawing into a 28x28 binary image
with ink = 1 (`omniglot.to_28x28_binary`), and writes train.npz / test.npz in
the authors' format to a cache folder, which `omniglot.load_split` then
reads. TFDS needs TensorFlow only to build the dataset the first time
(download and prepare); the conversion itself does not.
"""
import os
from collections import defaultdict

import numpy as np

from gmn_jax.data import omniglot

DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "gmn_jax",
                             "omniglot28_tfds")
_TFDS_SPLITS = {"train": "train", "test": "test"}  # background, evaluation


def convert(records) -> tuple:
  """TFDS omniglot records (dicts with 'image' [105, 105, 3], 'label')
  -> (images [classes, drawings, 784] {0, 1} ink = 1, class names)."""
  by_label = defaultdict(list)
  for r in records:
    by_label[int(r["label"])].append(np.asarray(r["image"]))
  labels = sorted(by_label)
  counts = {len(by_label[l]) for l in labels}
  if len(counts) != 1:
    raise ValueError(f"TFDS omniglot classes have {sorted(counts)} drawings; "
                     "expected the same number (20) in every class.")
  images = np.stack([omniglot.to_28x28_binary(np.stack(by_label[l]))
                     for l in labels])
  return images, tuple(f"tfds_label_{l:04d}" for l in labels)


def prepare(cache_dir: str = None, tfds_data_dir: str = None) -> str:
  """Make sure `cache_dir` holds train.npz and test.npz; returns it."""
  cache_dir = cache_dir or DEFAULT_CACHE
  import tensorflow_datasets as tfds
  for split, tfds_split in _TFDS_SPLITS.items():
    if os.path.exists(os.path.join(cache_dir, f"{split}.npz")):
      continue
    source = tfds.data_source("omniglot", split=tfds_split,
                              data_dir=tfds_data_dir)
    images, names = convert(source[i] for i in range(len(source)))
    omniglot.save_split(split, cache_dir, images, names)
  return cache_dir
