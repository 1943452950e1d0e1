"""Flags shared by the entry points: where the data is and where a run lives."""
from absl import flags

from gmn_jax.data import omniglot

DATA_DIR = flags.DEFINE_string(
    "data_dir", None, "Folder with train.npz/test.npz in the authors' format "
    f"(default: ${omniglot.ENV_VAR}, else ../shared/data/omniglot28).")
DATA_SOURCE = flags.DEFINE_enum(
    "data_source", "arrays", ["arrays", "tfds"],
    "arrays: the authors' .npz files in --data_dir; tfds: TensorFlow Datasets "
    "'omniglot', converted once and cached in --data_dir.")
WORKDIR = flags.DEFINE_string("workdir", None, "The run's folder.")


def data_dir() -> str:
  """The folder of the authors' arrays, building it from TFDS if asked."""
  if DATA_SOURCE.value == "tfds":
    from gmn_jax.data import tfds_source
    return tfds_source.prepare(DATA_DIR.value)
  return DATA_DIR.value or omniglot.default_data_dir()
