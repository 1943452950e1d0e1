"""The data layer: the authors' arrays, TFDS conversion, episodes, errors."""
import io
import os
import zipfile

import numpy as np
import pytest

from gmn_jax import data
from gmn_jax.data import omniglot, tfds_source

RAW_ZIP = os.path.join(omniglot.default_data_dir(), "..", "omniglot_raw",
                       "images_background_small1.zip")


@pytest.fixture(scope="module")
def train_split():
  return data.load_split("train")


def test_splits_have_the_paper_sizes(train_split, test_split):
  assert train_split.images.shape == (964, 20, 784)
  assert test_split.images.shape == (659, 20, 784)
  assert train_split.images.dtype == np.uint8
  assert set(np.unique(train_split.images)) == {0, 1}
  assert 0.05 < train_split.images.mean() < 0.12  # ink = 1 is the minority
  assert train_split.names[0].startswith("images_background/")
  assert test_split.names[0].startswith("images_evaluation/")


def _write(tmp_path, **arrays):
  np.savez(tmp_path / "train.npz", **arrays)
  return str(tmp_path)


def test_missing_folder(tmp_path):
  with pytest.raises(FileNotFoundError, match="does not exist.*GMN_DATA_DIR"):
    data.load_split("train", str(tmp_path / "nowhere"))


def test_missing_file(tmp_path):
  with pytest.raises(FileNotFoundError, match="test.npz' is missing"):
    data.load_split("test", str(tmp_path))


def test_truncated_file(tmp_path, train_split):
  good = _write(tmp_path, a=np.full((20, 784), 255, np.uint8))
  blob = (tmp_path / "train.npz").read_bytes()
  (tmp_path / "train.npz").write_bytes(blob[: len(blob) // 2])
  with pytest.raises(ValueError, match="corrupt or truncated"):
    data.load_split("train", good)


def test_wrong_shape(tmp_path):
  d = _write(tmp_path, a=np.full((20, 28, 28), 255, np.uint8))
  with pytest.raises(ValueError, match="'a' has shape .*expected"):
    data.load_split("train", d)


def test_non_binary(tmp_path):
  d = _write(tmp_path, a=np.full((20, 784), 7, np.uint8))
  with pytest.raises(ValueError, match="not binary"):
    data.load_split("train", d)


def test_short_class(tmp_path):
  d = _write(tmp_path, a=np.full((20, 784), 255, np.uint8),
             b=np.full((19, 784), 255, np.uint8))
  with pytest.raises(ValueError, match="'b' has 19"):
    data.load_split("train", d)


def test_pickled_npz_is_refused(tmp_path):
  np.savez(tmp_path / "train.npz", a=np.array([{"x": 1}], dtype=object))
  with pytest.raises(ValueError):
    data.load_split("train", str(tmp_path))


def test_spec_errors():
  with pytest.raises(ValueError, match="T=0"):
    data.EpisodeSpec(length=0).validate()
  with pytest.raises(ValueError, match="split has only 3 classes"):
    data.EpisodeSpec(num_classes=4).validate(3)
  with pytest.raises(ValueError, match="needs T >= C"):
    data.EpisodeSpec(length=2, num_classes=4, conditional=True).validate()


def test_rotated_classes():
  """Each class turned by 90, 180, 270 degrees becomes a class of its own,
  after the originals; a quarter turn takes (row, col) to (27 - col, row)."""
  x = np.zeros((2, 3, 28, 28), np.uint8)
  x[0, :, 0, 1:5] = 1  # a stroke along the top row, left of centre
  x[1, 1, 20, 3] = 1
  images = x.reshape(2, 3, 784)
  np.testing.assert_array_equal(omniglot.with_rotations(images, 1), images)
  turned = omniglot.with_rotations(images, 4).reshape(8, 3, 28, 28)
  np.testing.assert_array_equal(turned[:2], x)
  assert turned[2, 0, 27 - np.arange(1, 5), 0].all()  # the stroke, a left column
  assert turned[2, 0].sum() == 4
  assert turned[3, 1, 27 - 3, 20] == 1 and turned[3, 1].sum() == 1
  np.testing.assert_array_equal(turned[4:6], x[:, :, ::-1, ::-1])  # 180
  np.testing.assert_array_equal(np.rot90(turned[6:8], 1, (-2, -1)), x)
  assert omniglot.with_rotations(images, 2).shape == (4, 3, 784)
  with pytest.raises(ValueError, match="rotations=5"):
    omniglot.with_rotations(images, 5)


def test_episode_statistics(train_split):
  spec = data.EpisodeSpec(20, 4, conditional=True)
  x, cls = data.episode_batch(train_split.images, spec, 2000, 5, 0, True)
  assert x.shape == (2000, 20, 784)
  for b, t in [(0, 0), (7, 19), (1999, 5)]:  # each image is its class's
    assert (train_split.images[cls[b, t]] == x[b, t]).all(-1).any()
  assert max(len(set(c)) for c in cls) <= 4
  # conditional ordering: the first C images come from C different draws,
  # and every later image belongs to one of them
  for c in cls[:200]:
    assert set(c[4:]) <= set(c[:4])
  # uniform class frequencies: the count of each class over many episodes
  counts = np.bincount(cls[:, :4].ravel(), minlength=964)
  expected = 2000 * 4 / 964
  assert abs(counts.mean() - expected) < 1e-9
  chi2 = ((counts - expected) ** 2 / expected).sum()
  assert chi2 < 964 + 5 * np.sqrt(2 * 964)  # within 5 sigma of a uniform


def test_episodes_are_deterministic_and_batch_independent(test_split):
  spec = data.EpisodeSpec(20, 2)
  a = data.episode_batch(test_split.images, spec, 4, 9, 3)
  np.testing.assert_array_equal(a, data.episode_batch(test_split.images, spec,
                                                      4, 9, 3))
  assert not np.array_equal(a, data.episode_batch(test_split.images, spec, 4,
                                                  9, 4))
  ten = data.test_episodes(test_split.images, spec, 10)
  np.testing.assert_array_equal(ten[:4], data.test_episodes(
      test_split.images, spec, 4))


def _raw_characters(limit_chars):
  """{class name in train.npz: [n, 105, 105] bool} from the small1 zip."""
  from PIL import Image
  out = {}
  with zipfile.ZipFile(RAW_ZIP) as z:
    for name in sorted(z.namelist()):
      if not name.endswith(".png"):
        continue
      _, alphabet, char, _ = name.split("/")
      key = f"images_background/{alphabet}/{char}"
      if key not in out and len(out) >= limit_chars:
        continue
      img = np.asarray(Image.open(io.BytesIO(z.read(name))).convert("L"))
      out.setdefault(key, []).append(img)
  return {k: np.stack(v) for k, v in out.items()}


def test_preprocessing_matches_the_published_arrays(train_split):
  raw = _raw_characters(limit_chars=40)
  index = {n: i for i, n in enumerate(train_split.names)}
  agreements = []
  for key, images in raw.items():
    ours = omniglot.to_28x28_binary(images)  # [n, 784]
    published = train_split.images[index[key]]  # [20, 784]
    agree = (ours[:, None, :] == published[None]).mean(-1).max(1)
    agreements.extend(agree.tolist())
  assert len(agreements) >= 400
  assert np.mean(agreements) >= 0.92, np.mean(agreements)


def test_tfds_path_under_mock_data(tmp_path):
  import tensorflow_datasets as tfds
  raw = _raw_characters(limit_chars=3)
  records = [{"image": np.repeat(img[..., None], 3, -1), "label": label}
             for label, imgs in enumerate(raw.values()) for img in imgs]
  with tfds.testing.mock_data(as_data_source_fn=lambda *a, **k: records):
    folder = tfds_source.prepare(str(tmp_path))
  split = data.load_split("test", folder)
  assert split.images.shape == (3, 20, 784)
  np.testing.assert_array_equal(split.images[0],
                                omniglot.to_28x28_binary(list(raw.values())[0]))
  # the cache is reused: a second prepare does not read TFDS at all
  with tfds.testing.mock_data(as_data_source_fn=lambda *a, **k: []):
    assert tfds_source.prepare(str(tmp_path)) == str(tmp_path)
