"""Bad input at the public boundary raises a ValueError that names it."""
import jax
import numpy as np
import pytest

import gmn_jax
from conftest import VARIANTS, random_params

CONFIG = VARIANTS["vae"]


@pytest.fixture(scope="module")
def params():
  return random_params(CONFIG)


def call(params, x, num_samples=2):
  return gmn_jax.conditional_nll(params, x, config=CONFIG,
                                 num_samples=num_samples)


@pytest.mark.parametrize("shape", [(5, 27, 28), (5, 783), (784,),
                                   (2, 3, 4, 28, 28)])
def test_wrong_shape(params, shape):
  with pytest.raises(ValueError, match="expected one episode"):
    call(params, np.zeros(shape, np.float32))


def test_empty_episode(params):
  with pytest.raises(ValueError, match="at least one image"):
    call(params, np.zeros((0, 28, 28), np.float32))


def test_grey_pixels(params):
  x = np.zeros((3, 784), np.float32)
  x[0, 0] = 0.5
  with pytest.raises(ValueError, match="not binary.*Threshold"):
    call(params, x)


def test_uint8_other_than_0_255(params):
  x = np.zeros((3, 784), np.uint8)
  x[0, 0] = 128
  with pytest.raises(ValueError, match=r"\{0, 255\} uint8"):
    call(params, x)


def test_inverted_images_are_refused(params):
  with pytest.raises(ValueError, match="ink = 1"):
    call(params, np.ones((3, 784), np.float32))


def test_accepted_encodings_agree(params):
  rng = np.random.default_rng(0)
  x = (rng.random((3, 784)) < 0.1)
  ref = call(params, x.astype(np.float32))
  np.testing.assert_array_equal(call(params, x), ref)
  np.testing.assert_array_equal(call(params, x.astype(np.uint8) * 255), ref)
  np.testing.assert_array_equal(call(params, x.reshape(3, 28, 28)), ref)


def test_params_of_another_config(params):
  # The fix is named, for an export too: load_params gives its config.
  with pytest.raises(ValueError, match="do not belong to Config.*missing.*"
                     "gmn_jax.load_params returns"):
    gmn_jax.conditional_nll(params, np.zeros((3, 784), np.float32),
                            config=VARIANTS["attention"])


def test_bad_num_samples(params):
  with pytest.raises(ValueError, match="num_samples"):
    call(params, np.zeros((3, 784), np.float32), num_samples=0)


def test_unknown_matching():
  with pytest.raises(ValueError, match="matching='bogus' is unknown"):
    gmn_jax.Config(matching="bogus")
