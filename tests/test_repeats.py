"""Splitting NLLs by whether x_t repeats an earlier image of its episode."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gmn_jax.config import Config
from gmn_jax import data
from gmn_jax.evaluate import repeats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_repeated_marks_exact_copies_of_earlier_images_only():
  a, b, c = (np.full(4, v) for v in (0, 1, 2))
  x = np.stack([np.stack([a, b, a, c, b, b]), np.stack([a, a, a, a, a, a])])
  np.testing.assert_array_equal(repeats.repeated(x), [
      [False, False, True, False, True, True],
      [False, True, True, True, True, True]])


def test_split_averages_each_group_apart():
  nlls = np.array([[90.0, 30.0], [80.0, 80.0], [70.0, 28.0], [60.0, 82.0]])
  rep = np.array([[False, True], [False, False], [False, True], [False, False]])
  rows = repeats.split(nlls, rep, [0, 1])
  assert rows[0]["share"] == 0.0 and rows[0]["repeat"] is None
  assert rows[1]["share"] == 0.5
  np.testing.assert_allclose([rows[1]["repeat"][0], rows[1]["novel"][0],
                              rows[1]["all"][0]], [29.0, 81.0, 55.0])
  assert "| 1 | 1 | 0.50 | 29.0 ± 1.0 | 81.0 ± 1.0 | 55.0 ± 15.0 |" in \
      repeats.markdown({1: rows})


@pytest.mark.parametrize("split", ["test", "train"])
def test_the_script_draws_the_evaluations_episodes_again(tmp_path, split):
  """Episodes come back from the recorded seed and split: an NLL of 0 planted
  on every repeat and 100 elsewhere splits cleanly; a conditional model from
  t = C."""
  spec = data.EpisodeSpec(20, 2, conditional=True)
  x = data.test_episodes(data.load_split(split).images, spec, 30, seed=7)
  rep = repeats.repeated(x)
  np.save(tmp_path / "nlls_c2.npy", np.where(rep, 0.0, 100.0))
  (tmp_path / "provenance.json").write_text(json.dumps(
      {"model": "m", "seed": 7, "split": split,
       "config": Config(pseudo_input=False).to_dict()}))
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "repeats.py"),
       f"--eval_dir={tmp_path}"], capture_output=True, text=True, check=True)
  lines = [l for l in out.stdout.splitlines() if l.startswith("| 2 |")]
  assert [l.split(" | ")[1] for l in lines] == ["2", "3", "4", "5", "10", "19"]
  row = next(l for l in lines if l.startswith("| 2 | 19 |"))
  assert f"| {rep[:, 19].mean():.2f} | 0.0 ± 0.0 | 100.0 ± 0.0 |" in row


def test_weight_on_copies_sums_the_attention_on_earlier_copies_only():
  a, b = np.zeros(4), np.ones(4)
  x = np.stack([np.stack([a, b, a, a])])  # x_2 and x_3 repeat x_0
  attention = np.zeros((1, 4, 5))  # slot 0: a pseudo-input
  attention[0, 2] = [0.1, 0.6, 0.3, 0.0, 0.0]
  attention[0, 3] = [0.0, 0.2, 0.1, 0.5, 0.2]  # the copies: slots 1 and 3
  w = repeats.weight_on_copies(attention, repeats.earlier_copies(x), offset=1)
  np.testing.assert_allclose(w[0, 2:], [0.6, 0.7])
  assert np.isnan(w[0, :2]).all()


def test_the_script_reads_attention_from_the_evaluated_models_params(tmp_path):
  """--params: the attention columns, from the export of the model the
  folder evaluated, and an error naming the mismatch otherwise."""
  import gmn_jax
  from conftest import small_config
  import jax
  config = small_config()
  gmn_jax.save_params(str(tmp_path / "p.msgpack"),
                      gmn_jax.init_params(jax.random.key(0), config), config)
  np.save(tmp_path / "nlls_c1.npy", np.full((4, 20), 90.0))
  (tmp_path / "provenance.json").write_text(json.dumps(
      {"model": "m", "seed": 3, "config": config.to_dict()}))
  script = [sys.executable, os.path.join(ROOT, "experiments", "repeats.py"),
            f"--eval_dir={tmp_path}", f"--params={tmp_path / 'p.msgpack'}"]
  out = subprocess.run(script, capture_output=True, text=True, check=True)
  assert "generative attention on the copies" in out.stdout
  assert "| C_test | t | KL of repeats | reconstruction of repeats |" in out.stdout
  pseudo = [l for l in out.stdout.split("pseudo-input slot:")[1].splitlines()
            if l.startswith("| 1 | ")]
  assert [l.split(" | ")[1] for l in pseudo] == ["0", "1", "2", "3", "4", "5",
                                                 "10", "19"]
  assert pseudo[0].startswith("| 1 | 0 | n/a | 1.00 ± 0.00 |")  # t = 0: all
  (tmp_path / "provenance.json").write_text(json.dumps(
      {"model": "m", "seed": 3, "config": Config().to_dict()}))
  bad = subprocess.run(script, capture_output=True, text=True)
  assert bad.returncode != 0 and "pass the export of the evaluated" in bad.stderr


def test_elbo_markdown_puts_each_part_of_each_group_in_its_column():
  rep = np.array([[False, True], [False, False], [False, True]])
  kl = repeats.split(np.array([[30.0, 10.0], [30.0, 40.0], [30.0, 12.0]]),
                     rep, [1])
  rec = repeats.split(np.array([[60.0, 20.0], [60.0, 70.0], [60.0, 24.0]]),
                      rep, [1])
  line = repeats.elbo_markdown({1: kl}, {1: rec}).splitlines()[2]
  assert line == "| 1 | 1 | 11.0 ± 1.0 | 22.0 ± 2.0 | n/a | n/a |"


def test_pseudo_input_markdown_gives_each_group_its_attention():
  rep = np.array([[False, True], [False, False], [False, True]])
  on_slot = np.array([[1.0, 0.02], [1.0, 0.6], [1.0, 0.04]])
  line = repeats.pseudo_input_markdown(
      {2: repeats.split(on_slot, rep, [1])}).splitlines()[2]
  assert line == "| 2 | 1 | 0.03 ± 0.01 | n/a |"
