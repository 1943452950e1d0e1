"""Paired comparison of two runs' logged bounds."""
import json
import os
import subprocess
import sys

import numpy as np

from gmn_jax.evaluate import paired

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_log(path, bounds):
  with open(path, "w") as f:
    for step, b in bounds.items():
      f.write(json.dumps({"step": step, "bound": list(b)}) + "\n")


def test_differences_cancel_what_both_runs_share(tmp_path):
  """A shared per-step spread (the episodes) cancels; a constant shift of the
  run is measured exactly, with zero standard error."""
  rng = np.random.default_rng(0)
  shared = {s: -100 + 10 * rng.normal(size=5) for s in range(25, 1001, 25)}
  base = {s: b for s, b in shared.items()}
  run = {s: b + np.array([2.0, 1.0, 1.0, 1.0, 0.5]) for s, b in shared.items()
         if s % 50 == 0}  # logged half as often: only shared steps pair up
  rows = paired.differences(
      {s: {"bound": b} for s, b in base.items()},
      {s: {"bound": b} for s, b in run.items()}, [(0, 500), (500, 1000)])
  assert [r["pairs"] for r in rows] == [10, 10]
  for r in rows:  # -bound of the run is lower: negative differences
    np.testing.assert_allclose(r["first"], (-2.0, 0.0), atol=1e-9)
    np.testing.assert_allclose(r["later"], (-0.875, 0.0), atol=1e-9)
    np.testing.assert_allclose(r["last"], (-0.5, 0.0), atol=1e-9)
  write_log(tmp_path / "a.jsonl", base)
  write_log(tmp_path / "b.jsonl", run)
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a.jsonl'}", f"--run={tmp_path / 'b.jsonl'}",
       "--windows=0,500,1000,2000"], capture_output=True, text=True, check=True)
  assert "| 0-500 | 10 | -2.00 ± 0.00 | -0.88 ± 0.00 | -0.50 ± 0.00 |" in out.stdout
  assert "| 1000-2000 | 0 | n/a | n/a | n/a |" in out.stdout


def test_episode_differences_cancel_the_episodes(tmp_path):
  """Per test episode: the episodes' spread cancels, a shift of the run at
  one t is measured exactly; only C_test values both evaluations hold pair."""
  rng = np.random.default_rng(1)
  shared = 90 + 10 * rng.normal(size=(50, 20))
  shift = np.zeros(20)
  shift[0] = -2.0
  for name, nlls in (("a", {1: shared, 2: shared}),
                     ("b", {1: shared + shift, 4: shared})):
    (tmp_path / name).mkdir()
    for c, v in nlls.items():
      np.save(tmp_path / name / f"nlls_c{c}.npy", v)
  rows = paired.episode_differences(paired.read_nlls(str(tmp_path / "a")),
                                    paired.read_nlls(str(tmp_path / "b")),
                                    [0, 19])
  assert [(r["c_test"], r["t"]) for r in rows] == [(1, 0), (1, 19)]
  np.testing.assert_allclose([(r["diff"], r["stderr"]) for r in rows],
                             [(-2.0, 0.0), (0.0, 0.0)], atol=1e-9)
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a'}", f"--run={tmp_path / 'b'}"],
      capture_output=True, text=True, check=True)
  assert "| 1 | 50 | -2.00 ± 0.00 | +0.00 ± 0.00 |" in out.stdout
  bad = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a'}", f"--run={tmp_path / 'a' / 'nlls_c1.npy'}"],
      capture_output=True, text=True)
  assert bad.returncode != 0 and "not one of each" in bad.stderr
  # A conditional model is scored from t = C_test, as in Table 1.
  scored = paired.episode_differences(
      paired.read_nlls(str(tmp_path / "a")), paired.read_nlls(str(tmp_path / "b")),
      [0, 1, 19], first=lambda c: c)
  assert [(r["c_test"], r["t"]) for r in scored] == [(1, 1), (1, 19)]
  (tmp_path / "b" / "provenance.json").write_text(
      json.dumps({"seed": 1234, "config": {"pseudo_input": False}}))
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a'}", f"--run={tmp_path / 'b'}"],
      capture_output=True, text=True, check=True)
  assert ("| C_test | episodes | t = 1 | t = 2 |" in out.stdout
          and "| 1 | 50 | +0.00 ± 0.00 |" in out.stdout)
  for name, seed in (("a", 1234), ("b", 7)):
    (tmp_path / name / "provenance.json").write_text(json.dumps({"seed": seed}))
  bad = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a'}", f"--run={tmp_path / 'b'}"],
      capture_output=True, text=True)
  assert bad.returncode != 0 and "the same --seed" in bad.stderr


def test_evaluations_of_two_splits_are_compared_unpaired(tmp_path):
  """A model on the test characters against the training ones (its
  generalisation gap) shares no episode: the means' difference, with both
  standard errors, not a difference per episode index; --table, which needs
  pairs, is refused, and the seeds need not match."""
  train = np.tile(np.array([[70.0], [72.0], [74.0], [76.0]]), (1, 20))
  test = np.full((6, 20), 90.0)
  test[::2] += 3.0  # a spread of its own: pairing by index would cancel none
  for name, nlls, record in (("train", train, {"seed": 1, "split": "train"}),
                             ("test", test, {"seed": 2})):  # no split: test
    (tmp_path / name).mkdir()
    np.save(tmp_path / name / "nlls_c1.npy", nlls)
    (tmp_path / name / "provenance.json").write_text(json.dumps(record))
  rows = paired.split_differences({1: train}, {1: test}, [0, 19])
  se = np.hypot(np.std([70, 72, 74, 76], ddof=1) / 2,
                np.std([93, 90] * 3, ddof=1) / np.sqrt(6))
  np.testing.assert_allclose([(r["diff"], r["stderr"]) for r in rows],
                             [(91.5 - 73.0, se)] * 2)
  assert rows[0]["episodes"] == "6 vs 4"
  command = [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
             f"--baseline={tmp_path / 'train'}", f"--run={tmp_path / 'test'}"]
  out = subprocess.run(command, capture_output=True, text=True, check=True)
  assert "Unpaired (test minus train characters" in out.stdout
  assert f"| 1 | 6 vs 4 | +18.50 ± {se:.2f} |" in out.stdout
  bad = subprocess.run(command + [f"--table={tmp_path / 'table1.csv'}"],
                       capture_output=True, text=True)
  assert bad.returncode != 0 and "compare two evaluations of one --split" in bad.stderr


def test_episode_markdown_leaves_unscored_cells_blank():
  rows = [{"c_test": 1, "t": 1, "episodes": 5, "diff": 1.0, "stderr": 0.1},
          {"c_test": 2, "t": 2, "episodes": 5, "diff": 2.0, "stderr": 0.2}]
  lines = paired.episode_markdown(rows).splitlines()
  assert lines[0] == "| C_test | episodes | t = 1 | t = 2 |"
  assert lines[2:] == ["| 1 | 5 | +1.00 ± 0.10 |  |",
                       "| 2 | 5 |  | +2.00 ± 0.20 |"]


def test_corrected_rows_move_each_cell_by_the_paired_shift():
  """Table 1 rows on E episodes, moved by run - baseline on their first n:
  on the same episodes the result is the run's own mean; cells the run does
  not score are left out; the paper's difference follows the new value."""
  from gmn_jax.config import Config
  from gmn_jax.evaluate import table1
  rng = np.random.default_rng(2)
  nlls = 90 + 10 * rng.normal(size=(400, 20))
  tighter = nlls[:100] - 1.5 + 0.3 * rng.normal(size=(100, 20))
  conditional = Config(pseudo_input=False)
  rows = table1.summarize("gmn_c2_conditional", conditional, 2, nlls, 7)
  out = paired.corrected_rows(rows, {2: nlls[:100]}, {2: tighter},
                              first=lambda c: c)
  assert [r["t"] for r in out] == list(range(2, 20))
  shift = (tighter - nlls[:100]).mean(0)
  np.testing.assert_allclose([r["nll"] for r in out],
                             nlls.mean(0)[2:] + shift[2:], atol=0.011)  # rounded twice
  assert all(r["stderr"] >= float(s["stderr"]) for r, s in zip(out, rows))
  listed = [r for r in out if r["paper"] != ""]
  assert len(listed) == 6
  np.testing.assert_allclose([r["diff"] for r in listed],
                             [r["nll"] - r["paper"] for r in listed], atol=0.01)
  # Rows measured on exactly the paired episodes become the run's means.
  same = table1.summarize("gmn_c2_conditional", conditional, 2, nlls[:100], 7)
  np.testing.assert_allclose(
      [r["nll"] for r in paired.corrected_rows(same, {2: nlls[:100]},
                                               {2: tighter})],
      tighter.mean(0)[2:], atol=0.011)
  assert paired.corrected_rows(rows, {1: nlls}, {1: tighter}) == []


def test_compare_runs_moves_a_table_by_the_paired_differences(tmp_path):
  """--table: the baseline's Table 1 rows moved by run - baseline per
  episode, named after the run, with the paper's numbers and the agreement
  count; a table the evaluations do not pair is refused."""
  from gmn_jax.config import Config
  from gmn_jax.evaluate import table1
  rng = np.random.default_rng(3)
  nlls = 80 + 10 * rng.normal(size=(60, 20))
  (tmp_path / "a").mkdir()
  (tmp_path / "b").mkdir()
  np.save(tmp_path / "a" / "nlls_c1.npy", nlls[:30])
  np.save(tmp_path / "b" / "nlls_c1.npy", nlls[:30] - 2.0)
  (tmp_path / "b" / "provenance.json").write_text(
      json.dumps({"seed": 1234, "model": "plain"}))
  rows = table1.summarize("gmn_c2", Config(), 1, nlls, 5)
  table1.write_csv(tmp_path / "table1.csv", rows)
  run = lambda table: subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "compare_runs.py"),
       f"--baseline={tmp_path / 'a'}", f"--run={tmp_path / 'b'}",
       f"--table={table}"], capture_output=True, text=True)
  out = run(tmp_path / "table1.csv")
  assert out.returncode == 0, out.stderr
  moved = nlls.mean(0)[0] - 2.0
  line = next(l for l in out.stdout.splitlines() if l.startswith("| plain | 1 "))
  assert f"{moved:.1f} ± " in line and f"(89.7, {moved - 89.7:+.1f})" in line
  assert "plain: " in out.stdout and "of 8 cells within 1.5 nats" in out.stdout
  table1.write_csv(tmp_path / "c4.csv", table1.summarize("gmn_c2", Config(), 4,
                                                         nlls, 5))
  bad = run(tmp_path / "c4.csv")
  assert bad.returncode != 0 and "that the two evaluations pair" in bad.stderr
  # A table of several models: only the baseline's (its provenance) moves.
  (tmp_path / "a" / "provenance.json").write_text(
      json.dumps({"seed": 1234, "model": "gmn_c2"}))
  table1.write_csv(tmp_path / "all.csv", rows + table1.summarize(
      "vae", Config(matching="none"), 1, nlls + 9.0, 5))
  out = run(tmp_path / "all.csv")
  assert out.returncode == 0, out.stderr
  assert out.stdout.count("| plain | 1 ") == 1 and f"{moved:.1f} ± " in out.stdout


def test_a_saved_evaluation_is_read_only_for_its_own_model(tmp_path):
  """--nlls_from and Table 1's S = 1000 pairs: a folder of NLLs is taken only
  for params with its config and steps; a record from before a Config field
  existed compares as that field's default."""
  import pytest
  from gmn_jax.config import Config
  nlls = np.arange(40.0).reshape(2, 20)
  np.save(tmp_path / "nlls_c1.npy", nlls)
  old = Config().to_dict()
  del old["keys"]  # recorded before Config.keys existed
  (tmp_path / "provenance.json").write_text(
      json.dumps({"config": old, "steps": 5}))
  record, read = paired.saved_evaluation(str(tmp_path), Config(), 5)
  np.testing.assert_array_equal(read[1], nlls)
  with pytest.raises(ValueError, match="steps 5 against 6"):
    paired.saved_evaluation(str(tmp_path), Config(), 6)
  with pytest.raises(ValueError, match=r"'decoder_input': \('joint', 'plain'\)"):
    paired.saved_evaluation(str(tmp_path), Config(decoder_input="plain"), 5)
  (tmp_path / "nlls_c1.npy").unlink()
  with pytest.raises(FileNotFoundError, match="--save_nlls"):
    paired.saved_evaluation(str(tmp_path), Config(), 5)
