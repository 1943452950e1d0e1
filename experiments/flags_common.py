"""Flags shared by the entry points: where the data is and where a run lives."""
from absl import flags

from gmn_jax import precision
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

PARAMS = flags.DEFINE_string(
    "params", None, "A params file of gmn_jax.save_params (e.g. pretrained/"
    "gmn_c2.msgpack), instead of --workdir's latest checkpoint.")
MATMUL_DTYPE = flags.DEFINE_enum(
    "matmul_dtype", "float32", list(precision.MATMUL_DTYPES), "Train or evaluate "
    "with the inputs of the matmuls and convolutions in this dtype; params "
    "and accumulation stay float32 (gmn_jax.precision).")
MODEL_NAME = flags.DEFINE_string(
    "model_name", None, "Row name in the tables (a flagfile's name, e.g. "
    "gmn_c2); default: the workdir's or params file's base name.")


def define_split():
  """The --split flag of the entry points that score episodes."""
  return flags.DEFINE_enum(
      "split", "test", ["test", "train"], "Whose characters the episodes "
      "draw: test (the paper's Table 1) or train, the characters the model "
      "was trained on, which measures its generalisation gap.")


def load_model():
  """-> (params, model config, training steps, model name)."""
  import os
  import gmn_jax
  from gmn_jax.train import checkpointing
  if PARAMS.value:
    params, config, meta = gmn_jax.load_params(PARAMS.value)
    steps = meta.get("steps", 0)
    source = PARAMS.value
  elif WORKDIR.value:
    params, run, steps = checkpointing.restore_params(
        os.path.expanduser(WORKDIR.value))
    config = run.model
    source = WORKDIR.value
  else:
    raise ValueError("Give --workdir (a training run) or --params (a file).")
  name = MODEL_NAME.value or os.path.splitext(
      os.path.basename(os.path.normpath(source)))[0]
  return params, config, int(steps), name


def model_and_test_images(split: str = "test"):
  """-> (params, config, steps, name, the images of `split`: the test
  alphabets unless asked), or a UsageError that says what is missing."""
  from absl import app
  from gmn_jax.data import load_split
  try:
    params, config, steps, name = load_model()
    return params, config, steps, name, load_split(split, data_dir()).images
  except (ValueError, FileNotFoundError) as e:
    raise app.UsageError(str(e))
