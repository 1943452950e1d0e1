"""Params-only export: exact round trip, and a stranger's file is refused."""
import jax
import numpy as np
import pytest

import gmn_jax
from gmn_jax import checkpoints
from conftest import VARIANTS, random_params


def test_round_trip(tmp_path):
  config = VARIANTS["attention"]
  params = random_params(config)
  path = str(tmp_path / "p.msgpack")
  gmn_jax.save_params(path, params, config, step=12)
  loaded, loaded_config, meta = gmn_jax.load_params(path)
  assert loaded_config == config and meta == {"step": 12}
  # The header alone reads the same, params unbuilt.
  assert checkpoints.read_header(path) == (config, {"step": 12})
  for a, b in zip(jax.tree_util.tree_leaves(params),
                  jax.tree_util.tree_leaves(loaded)):
    np.testing.assert_array_equal(a, b)


def test_garbage_file_is_an_error(tmp_path):
  path = tmp_path / "bad.msgpack"
  path.write_bytes(b"\x93not a params file at all")
  with pytest.raises(ValueError, match="not a gmn_jax params file"):
    gmn_jax.load_params(str(path))


def test_missing_file(tmp_path):
  for read in (gmn_jax.load_params, checkpoints.read_header):
    with pytest.raises(FileNotFoundError, match="No params file"):
      read(str(tmp_path / "nope.msgpack"))
