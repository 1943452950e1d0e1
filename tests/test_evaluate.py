"""Evaluation: Table 1, classification, sample grids and the results overview,
on a tiny model trained for a few steps."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gmn_jax import data
from gmn_jax.evaluate import classification, results, table1
from gmn_jax.train import RunConfig, train
from conftest import VARIANTS, random_params, small_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, test_split):
  d = tmp_path_factory.mktemp("run")
  run = RunConfig(model=small_config(), episodes=data.EpisodeSpec(4, 2),
                  batch_size=4, num_steps=2, checkpoint_every=2, log_every=1)
  train(run, str(d), images=test_split.images[:30])
  return d


def run_script(name, *args):
  out = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", name),
                        *args], capture_output=True, text=True, timeout=900)
  assert out.returncode == 0, out.stderr[-3000:]
  return out


def test_evaluate_sample_and_collect(workdir, tmp_path):
  out = tmp_path / "results" / "gmn_c2"
  run_script("evaluate.py", f"--workdir={workdir}", f"--output_dir={out}",
             "--model_name=gmn_c2", "--c_test=1,4", "--num_episodes=3",
             "--num_samples=2", "--num_tasks=2", "--save_nlls")
  rows = table1.read_csv(out / "table1.csv")
  nlls = np.load(out / "nlls_c4.npy", allow_pickle=False)  # [episodes, T]
  assert nlls.shape == (3, 20)
  np.testing.assert_allclose(
      [float(r["nll"]) for r in rows if r["c_test"] == "4"], nlls.mean(0),
      atol=6e-3)  # the CSV rounds to 0.01
  assert [int(r["t"]) for r in rows if r["c_test"] == "1"] == list(range(20))
  r = next(r for r in rows if r["c_test"] == "4" and r["t"] == "19")
  assert float(r["paper"]) == 73.7
  assert np.isclose(float(r["diff"]), float(r["nll"]) - 73.7, atol=0.02)
  assert int(r["steps"]) == 2
  md = (out / "table1.md").read_text()
  assert "3 test episodes per C_test" in md and "under 0.3 nats" in md
  assert (out / "nll_vs_t.png").stat().st_size > 1000
  cls = json.loads((out / "classification.json").read_text())
  assert {(c["ways"], c["shots"]) for c in cls} == {(5, 1), (5, 5), (20, 1),
                                                    (20, 5)}
  # The same NLLs filed under another name: nothing recomputed, the
  # provenance keeps where they were computed.
  renamed = tmp_path / "renamed"
  run_script("evaluate.py", f"--workdir={workdir}", f"--output_dir={renamed}",
             "--model_name=renamed", f"--nlls_from={out}", "--num_tasks=0",
             "--num_episodes=3")  # the saved evaluation's: allowed
  for flag, says in (("--num_samples=5", "evaluated num_samples=2"),
                     ("--c_test=2,4", "evaluated c_test=[1, 4]")):
    refused = subprocess.run(
        [sys.executable, os.path.join(ROOT, "experiments", "evaluate.py"),
         f"--workdir={workdir}", f"--output_dir={tmp_path / 'refused'}",
         f"--nlls_from={out}", flag],
        capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and says in refused.stderr
  picked = tmp_path / "picked"  # one C_test of the saved two
  run_script("evaluate.py", f"--workdir={workdir}", f"--output_dir={picked}",
             "--model_name=gmn_c2", f"--nlls_from={out}", "--num_tasks=0",
             "--c_test=4")
  assert [(r["c_test"], r["t"], r["nll"], r["paper"])
          for r in table1.read_csv(picked / "table1.csv")] == \
      [(r["c_test"], r["t"], r["nll"], r["paper"]) for r in rows
       if r["c_test"] == "4"]
  picked_record = json.loads((picked / "provenance.json").read_text())
  assert picked_record["c_test"] == [4]
  # its wall times are the saved evaluation's, which covered both C_tests
  assert picked_record["wall_s_c_test"] == [1, 4]
  assert not (picked / "nlls_c1.npy").exists()
  again = table1.read_csv(renamed / "table1.csv")
  assert [(r["c_test"], r["t"], r["nll"]) for r in again] == \
      [(r["c_test"], r["t"], r["nll"]) for r in rows]
  assert {r["model"] for r in again} == {"renamed"} and \
      {r["paper"] for r in again} == {""}
  first = json.loads((out / "provenance.json").read_text())
  record = json.loads((renamed / "provenance.json").read_text())
  assert record["nlls_from"]["model"] == "gmn_c2"
  assert "wall_s_c_test" not in record  # all of them: nothing to say
  assert {k: record[k] for k in ("num_episodes", "nll_wall_s", "date")} == \
      {k: first[k] for k in ("num_episodes", "nll_wall_s", "date")}
  assert "3 test episodes per C_test" in (renamed / "table1.md").read_text()
  train_out = tmp_path / "train_split"
  run_script("evaluate.py", f"--workdir={workdir}", f"--output_dir={train_out}",
             "--split=train", "--c_test=1", "--num_episodes=3",
             "--num_samples=2", "--num_tasks=0", "--save_nlls")
  assert "3 train episodes per C_test" in (train_out / "table1.md").read_text()
  assert json.loads((train_out / "provenance.json").read_text())["split"] == \
      "train"
  assert not np.allclose(np.load(train_out / "nlls_c1.npy"),
                         np.load(out / "nlls_c1.npy"), atol=0.1)
  run_script("sample.py", f"--workdir={workdir}", f"--output={out}/s.png",
             "--length=4", "--num_samples=3")
  from PIL import Image
  assert Image.open(out / "s.png").size == (5 * 30 * 2, 5 * 30 * 2)
  run_script("export.py", f"--workdir={workdir}", f"--output={out}/p.msgpack")
  import gmn_jax
  _, config, meta = gmn_jax.load_params(str(out / "p.msgpack"))
  assert config == small_config() and meta["steps"] == 2
  run_script("latent.py", f"--workdir={workdir}", f"--output={out}/latent.json",
             "--model_name=gmn_c2", "--c_test=1,2,4", "--num_episodes=2")
  lat = json.loads((out / "latent.json").read_text())
  assert [(r["c_test"], r["t"]) for r in lat["rows"]] == [
      (c, t) for c in (1, 2, 4) for t in range(20)] and lat["steps"] == 2
  run_script("latent.py", f"--workdir={workdir}", f"--output={out}/lt.json",
             "--split=train", "--c_test=1", "--num_episodes=2")
  lat_train = json.loads((out / "lt.json").read_text())
  assert (lat["split"], lat_train["split"]) == ("test", "train")
  assert lat_train["rows"][1]["neg_elbo"] != pytest.approx(
      lat["rows"][1]["neg_elbo"], abs=0.1)  # other characters
  shutil.copy(workdir / "provenance.json", out / "training.json")
  for name in ("metrics.jsonl", "run_config.json"):
    shutil.copy(workdir / name, out / name)
  readme = results.write_overview(str(tmp_path / "results"))
  text = open(readme).read()
  split = [l for l in text.splitlines() if l.startswith("| gmn_c2 | 4 | ")]
  assert [l.split(" | ")[2] for l in split[-2:]] == ["0", "19"]
  r0 = next(r for r in lat["rows"] if (r["c_test"], r["t"]) == (4, 0))
  nll0 = next(float(r["nll"]) for r in rows
              if (r["c_test"], r["t"]) == ("4", "0"))
  assert float(split[-2].split(" | ")[7]) == pytest.approx(
      r0["neg_elbo"] - nll0, abs=0.06)  # recovered by importance sampling
  assert "| gmn_c2 | 4 | 2 |" in text and "C_test=1: NLL falls" in text
  # Training (C = 2, T = 4 here) against test: t = 0, then t = 1-3.
  log = [json.loads(l) for l in open(workdir / "metrics.jsonl")]
  gap = [l for l in text.splitlines() if l.startswith("| gmn_c2 | 2 | 0 |")][-1]
  test0 = next(r["neg_elbo"] for r in lat["rows"] if (r["c_test"], r["t"]) == (2, 0))
  assert float(gap.split(" | ")[3]) == pytest.approx(
      -np.mean([l["bound"][0] for l in log[-20:]]), abs=0.06)
  assert float(gap.split(" | ")[4]) == pytest.approx(test0, abs=0.06)
  assert "| gmn_c2 | 2 | 1-3 |" in text
  assert "- avg_c2: not trained yet (0 steps" in text
  # A run trained part way and not evaluated: its steps, not "0 steps".
  partial = tmp_path / "results" / "avg_c1_conditional"
  partial.mkdir()
  shutil.copy(workdir / "provenance.json", partial / "training.json")
  partial_text = open(results.write_overview(str(tmp_path / "results"))).read()
  assert ("- avg_c1_conditional: 2 of 90750 steps (0.0%; cpu: 2 steps, "
          in partial_text and "not evaluated yet" in partial_text)
  assert "| avg_c1_conditional |" not in partial_text
  shutil.rmtree(partial)
  assert "- [?] attention (gmn_c2) beats average (avg_c2)" in text
  merged = table1.read_csv(tmp_path / "results" / "table1.csv")
  assert list(merged[0]) == list(table1.CSV_FIELDS) and len(merged) == 40
  ev = json.loads((out / "provenance.json").read_text())
  assert "| gmn_c2 | 20 | 5 | " in text and f"| cpu, {ev['commit']} |" in text
  # A Table 1 rerun that kept an earlier evaluation's classification names it.
  ev["classification"] = {"device": "another device", "commit": "abc1234"}
  (out / "provenance.json").write_text(json.dumps(ev))
  text = open(results.write_overview(str(tmp_path / "results"))).read()
  assert "| another device, abc1234 |" in text


def test_episodes_for_a_target_stderr():
  rows = [{"stderr": 1.2}, {"stderr": 0.6}]
  assert table1.episodes_for_stderr(rows, 1000) == 16000  # (1.2 / 0.3)^2
  assert table1.episodes_for_stderr([{"stderr": 0.1}], 1000) == 1000


def test_conditional_rows_start_at_c():
  nlls = np.random.default_rng(0).normal(80, 5, (10, 20))
  rows = table1.summarize("gmn_c2_conditional", VARIANTS["attention_conditional"],
                          4, nlls, 7)
  assert rows[0]["t"] == 4 and rows[0]["paper"] == 86.8
  assert np.isclose(rows[0]["stderr"], nlls[:, 4].std(ddof=1) / np.sqrt(10),
                    atol=0.01)


def test_a_variant_is_compared_with_the_paper_row_it_is_named_after():
  from gmn_jax.evaluate import paper
  assert paper.paper_value("avg_c1_rotations", 1, 19) == 79.7
  # the longest row: not avg_c1's numbers
  assert paper.paper_value("avg_c1_conditional_rotations", 1, 19) == 80.7
  assert paper.c_tests("avg_c1_rotations") == (1,)
  assert paper.c_tests("gmn_c2_conditional_rotations") == (1, 2, 4)
  assert paper.paper_row("avg_c10") is None  # a prefix must end at "_"
  assert paper.paper_value("avg_c10", 1, 19) is None
  assert paper.c_tests("avg_c10") == (1, 2, 4)


def test_evaluation_does_not_depend_on_batch(test_split):
  config = VARIANTS["vae"]
  params = random_params(config)
  a = table1.episode_nlls(params, config, test_split.images, 2, 3, 2, length=4,
                          batch=2)
  b = table1.episode_nlls(params, config, test_split.images, 2, 3, 2, length=4,
                          batch=3)
  np.testing.assert_allclose(a, b, rtol=1e-5)


def test_few_shot_tasks_are_well_formed(test_split):
  eps, labels = classification.tasks(test_split.images, 5, 2, 20)
  assert eps.shape == (20, 5, 3, 784)
  for i in range(20):
    query = eps[i, 0, -1]
    assert all((eps[i, c, -1] == query).all() for c in range(5))
    true_support = eps[i, labels[i], :2]
    assert not any((s == query).all() for s in true_support)


def test_claims_are_checked_on_the_table():
  rows = []
  for c, slope in ((1, 2.0), (4, 0.5)):
    for t in range(20):
      rows.append({"model": "gmn_c2", "c_test": c, "t": t,
                   "nll": 90 - slope * t})
  claims = dict(results.qualitative_claims(rows))
  assert len(claims) == 5
  untested = [c for c, holds in claims.items() if holds is None]
  assert untested == [
      "attention (gmn_c2) beats average (avg_c2) at t>=5, C_test=2: untested, "
      "no results for gmn_c2, avg_c2 yet",
      "attention (gmn_c2_conditional) beats average (avg_c2_conditional) at "
      "t>=5, C_test=2: untested, no results for gmn_c2_conditional, "
      "avg_c2_conditional yet"]
  assert all(h for h in claims.values() if h is not None)
  # with an average model that is better at t = 5 and 19 only, the claim
  # fails and says where
  rows += [{"model": "avg_c2", "c_test": 2, "t": t,
            "nll": 70.0 if t in (5, 19) else 90.0} for t in range(20)]
  rows += [{"model": "gmn_c2", "c_test": 2, "t": t, "nll": 80.0}
           for t in range(20)]
  (text, holds), = [c for c in results.qualitative_claims(rows)
                    if c[0].startswith("attention (gmn_c2) ")]
  assert holds is False and text.endswith(
      "; not at t=5 (80.0 vs 70.0), t=19 (80.0 vs 70.0)")
  # the conditional pair is decided on its own rows
  rows += [{"model": m, "c_test": 2, "t": t, "nll": nll}
           for m, nll in (("gmn_c2_conditional", 70.0),
                          ("avg_c2_conditional", 80.0)) for t in range(2, 20)]
  claims = dict(results.qualitative_claims(rows))
  assert claims["attention (gmn_c2_conditional) beats average "
                "(avg_c2_conditional) at t>=5, C_test=2"] is True


def test_a_variant_is_compared_with_its_twin_trained_as_it_was():
  def row(model, nll):
    return [{"model": model, "c_test": 2, "t": t, "nll": nll}
            for t in range(2, 20)]
  claim = ("attention (gmn_c2_conditional_rotations) beats average "
           "(avg_c2_conditional_rotations) at t>=5, C_test=2")
  # the paper's average row, worse than the variant, does not stand in
  rows = row("gmn_c2_conditional_rotations", 70.0) + row(
      "avg_c2_conditional", 80.0)
  claims = dict(results.qualitative_claims(rows))
  assert claims[claim + ": untested, no results for "
                "avg_c2_conditional_rotations yet"] is None
  claims = dict(results.qualitative_claims(
      rows + row("avg_c2_conditional_rotations", 65.0)))
  assert claims[claim + "; not at " + ", ".join(
      f"t={t} (70.0 vs 65.0)" for t in range(5, 20))] is False
  # a variant of a row in no pair adds none
  assert results.attention_average_pairs({"avg_c1_rotations"}) == list(
      results.ATTENTION_VS_AVERAGE)


def test_attention_and_average_are_compared_at_equal_steps():
  def evaluation(model, steps, nll):
    return [{"model": model, "c_test": 2, "t": t, "nll": nll, "steps": steps}
            for t in range(20)]
  claim = "attention (gmn_c2) beats average (avg_c2) at t>=5, C_test=2"
  rows = evaluation("gmn_c2", 9000, 60.0) + evaluation("avg_c2", 1000, 70.0)
  (text, holds), = [c for c in results.qualitative_claims(rows)
                    if c[0].startswith(claim)]
  assert holds is None and "no evaluation of gmn_c2 at 1000 steps" in text
  # an earlier evaluation of the attention model at the average's steps
  # decides, not the better later one
  for earlier_nll, expected in ((75.0, False), (65.0, True)):
    (text, holds), = [c for c in results.qualitative_claims(
        rows, evaluation("gmn_c2", 1000, earlier_nll)) if c[0].startswith(claim)]
    assert holds is expected and "both at 1000 training steps" in text


def test_a_failed_comparison_is_tested_per_episode_where_nlls_are_saved():
  """Where both models' per-episode NLLs are at hand, a failure at a t is
  called real only beyond 2 standard errors of the paired difference."""
  rng = np.random.default_rng(0)
  episodes = 90 + 10 * rng.normal(size=(400, 20))  # spread shared by both
  avg = episodes + rng.normal(0, 1, episodes.shape)
  att = episodes + rng.normal(0, 1, episodes.shape)
  att[:, 5] += 1.0  # worse, by far more than 2 standard errors (~0.07)
  att[:, 6:] -= 1.0  # better from t = 6 on, except at t = 7 in the table
  def rows(model, nlls, steps=9000, off_at_7=0.0):
    return [{"model": model, "c_test": 2, "t": t, "steps": steps,
             "nll": float(nlls[:, t].mean()) + (off_at_7 if t == 7 else 0)}
            for t in range(20)]
  # As if the table's attention row were on other episodes, 2 nats worse
  # at t = 7 than on the paired ones.
  table = rows("gmn_c2", att, off_at_7=2.0) + rows("avg_c2", avg)
  claim = "attention (gmn_c2) beats average (avg_c2) at t>=5, C_test=2"
  saved = {"gmn_c2": att, "avg_c2": avg}
  (text, holds), = [c for c in results.qualitative_claims(
      table, paired_nlls=lambda m, c: saved[m]) if c[0].startswith(claim)]
  assert holds is False
  assert "paired on the first 400 test episodes, attention minus average: " \
         "t=5 +1.0" in text
  assert text.endswith("(worse beyond 2 standard errors at t=5; better beyond "
                       "2 standard errors at t=7)")
  # The same models on their training characters: their own pairing, said
  # apart from the test episodes'.
  trained = {"gmn_c2": att[:100] - 3.0, "avg_c2": att[:100]}
  (text, holds), = [c for c in results.qualitative_claims(
      table, paired_nlls=lambda m, c: saved[m],
      train_nlls=lambda m, c: trained[m]) if c[0].startswith(claim)]
  assert holds is False and text.endswith(
      "2 standard errors at t=7); paired on the first 100 episodes of the "
      "training characters, attention minus average: t=5 -3.00 ± 0.00, t=7 "
      "-3.00 ± 0.00 (better beyond 2 standard errors at t=5, 7)")
  # Saved NLLs are of the current checkpoints: not used where an earlier
  # evaluation of the attention model stands in at the average's steps.
  table = rows("gmn_c2", att - 50, steps=20000) + rows("avg_c2", avg)
  (text, _), = [c for c in results.qualitative_claims(
      table, rows("gmn_c2", att), paired_nlls=lambda m, c: saved[m])
      if c[0].startswith(claim)]
  assert "not at t=5" in text and "paired" not in text


def test_train_split_nlls_are_only_of_the_rows_checkpoint_and_characters(
    tmp_path):
  """ablations/train_split/<model> counts for a row's claims only as an
  evaluation of its Table 1 params (config, steps, seed) on the training
  characters."""
  from gmn_jax.config import Config
  table = {"config": Config().to_dict(), "steps": 9000, "seed": 1234}
  (tmp_path / "gmn_c2").mkdir()
  (tmp_path / "gmn_c2" / "provenance.json").write_text(json.dumps(table))
  folder = tmp_path / results.TRAIN_SPLIT / "gmn_c2"
  assert results.train_split_nlls(str(tmp_path), "gmn_c2") is None
  folder.mkdir(parents=True)
  np.save(folder / "nlls_c2.npy", np.full((3, 20), 70.0))
  for record, error in (({**table, "split": "train"}, None),
                        ({**table, "split": "test"}, "--split=train"),
                        (table, "--split=train"),  # older: test characters
                        ({**table, "split": "train", "seed": 7}, "seed"),
                        ({**table, "split": "train", "steps": 10}, "steps")):
    (folder / "provenance.json").write_text(json.dumps(record))
    if error is None:
      _, nlls = results.train_split_nlls(str(tmp_path), "gmn_c2")
      assert nlls[2].shape == (3, 20)
    else:
      with pytest.raises(ValueError, match=error):
        results.train_split_nlls(str(tmp_path), "gmn_c2")


def test_distance_to_the_paper_counts_cells_within_the_tolerance_and_noise():
  # (t, diff, stderr): within 1.5; 1.5 < 2.0 <= 1.5 + 2 * 0.3; beyond 1.5 +
  # 2 * 0.3; t = 6 is not a column of the paper's table
  cells = ((0, -1.4, 0.3), (1, 2.0, 0.3), (2, -2.5, 0.3), (6, 9.0, 0.3))
  rows = [{"model": "gmn_c2", "c_test": 1, "t": t, "diff": d, "stderr": se,
           "paper": 80.0} for t, d, se in cells]
  rows.append({"model": "vae", "c_test": 1, "t": 1, "diff": "", "stderr": 1,
               "paper": ""})
  assert results.paper_agreement(rows) == [
      "gmn_c2: 1 of 3 cells within 1.5 nats of the paper; 1 more within 1.5 "
      "nats + 2 standard errors; 1 beyond. Largest gap -2.5 (C_test=1, t=2)."]


def test_change_since_the_latest_earlier_evaluation():
  def evaluation(steps, nll):
    return [{"model": "gmn_c2", "c_test": 1, "t": t, "nll": nll + t,
             "steps": steps} for t in range(3)]
  rows = evaluation(900, 70.0)
  earlier = evaluation(100, 90.0) + evaluation(500, 71.0) + evaluation(950, 0)
  assert results.change_since_earlier(rows, earlier) == [
      "gmn_c2: since its evaluation at 500 steps, its 3 cells changed by "
      "-1.00 nats on average (from -1.0 to -1.0)."]
  assert results.change_since_earlier(rows, evaluation(950, 0)) == []


def test_training_steps_and_time_are_summed_per_device():
  segments = [
      {"device": "cpu", "end_step": 100, "wall_s": 50.0},
      {"device": "cpu", "end_step": 150, "wall_s": 25.0},
      # continued from an export at 120 after the checkpoint at 150 was lost
      {"device": "cpu", "end_step": 200, "wall_s": 40.0,
       "warm_start": {"step": 120}},
      {"device": "NVIDIA H200", "end_step": 1200, "wall_s": 5.0}]
  assert results.training_by_device(segments) == {
      "cpu": (100 + 50 + 80, 115.0), "NVIDIA H200": (1000, 5.0)}


def test_bound_trend_separates_a_fall_from_noise():
  rng = np.random.default_rng(0)
  def log(means):
    return [{"step": 250 * (i + 1), "nats_per_image": m + rng.normal(0, 4)}
            for i, m in enumerate(means)]
  assert results.bound_trend(log([90] * 20 + [80] * 20)).endswith(
      "still falling.")
  assert results.bound_trend(log([85] * 40)).endswith("flat within noise.")
  assert "steps 250-10000" in results.bound_trend(log([85] * 40))
  assert results.bound_trend(log([85] * 39)) == ""


def test_bound_split_without_a_table_row_shows_na():
  lat = {"steps": 5, "rows": [
      {"c_test": 2, "t": t, "neg_elbo": 90.0, "kl": 40.0,
       "neg_reconstruction": 50.0, "prior_entropy": 60.0, "active_units": 7}
      for t in range(20)]}
  lines = results.bound_split([], {"avg_c2": lat})
  assert [l.split(" | ")[2] for l in lines[2:]] == ["0", "19"]
  assert all(l.split(" | ")[6:8] == ["n/a", "n/a"] for l in lines[2:])
  table = [{"model": "avg_c2", "c_test": "2", "t": str(t), "nll": "82.5",
            "steps": "5"} for t in range(2, 20)]
  lines = results.bound_split(table, {"avg_c2": lat})
  assert [l.split(" | ")[2] for l in lines[2:]] == ["2", "19"]
  assert lines[2].split(" | ")[7] == "7.5"  # 90.0 - 82.5


def test_more_samples_rows_pair_table1_with_its_importance_samples_runs(
    tmp_path):
  """results/README's tighter table comes from the importance_samples
  ablation's pairs, and only from pairs of Table 1's checkpoint and seed."""
  from gmn_jax.config import Config
  rng = np.random.default_rng(3)
  nlls = 90 + 10 * rng.normal(size=(300, 20))
  record = {"config": Config().to_dict(), "seed": 1234, "steps": 90750}
  rows = table1.summarize("gmn_c2", Config(), 1, nlls, 90750)
  folder = tmp_path / "gmn_c2"
  folder.mkdir()
  (folder / "provenance.json").write_text(json.dumps(
      {**record, "num_samples": 100}))
  assert results.more_samples_rows(str(tmp_path), rows) == []
  for s, v in ((100, nlls[:50]), (1000, nlls[:50] - 2.0)):
    d = tmp_path / results.IMPORTANCE_SAMPLES / f"gmn_c2_s{s}"
    d.mkdir(parents=True)
    np.save(d / "nlls_c1.npy", v)
    (d / "provenance.json").write_text(json.dumps({**record, "num_samples": s}))
  out = results.more_samples_rows(str(tmp_path), rows)
  np.testing.assert_allclose([r["nll"] for r in out],
                             [float(r["nll"]) - 2.0 for r in rows], atol=1e-9)
  (d / "provenance.json").write_text(json.dumps(
      {**record, "num_samples": 1000, "seed": 7}))
  with pytest.raises(ValueError, match="seed 1234"):
    results.more_samples_rows(str(tmp_path), rows)
  # Another model with the same steps (gmn_c2 before and after its decoder
  # input changed) is refused too.
  (d / "provenance.json").write_text(json.dumps(
      {**record, "num_samples": 1000, "config": Config(
          decoder_input="plain").to_dict()}))
  with pytest.raises(ValueError, match="decoder_input"):
    results.more_samples_rows(str(tmp_path), rows)


def test_runs_table_names_each_rows_config_where_not_the_default():
  from gmn_jax.config import Config
  old = Config().to_dict()
  del old["keys"]  # a record from before Config.keys
  assert results.config_changes(old) == "defaults"
  assert results.config_changes(Config(
      matching="average", decoder_input="plain").to_dict()) == \
      "matching=average, decoder_input=plain"
  # and the run's data and objective, where a row was trained on other ones
  run = RunConfig(class_rotations=4).to_dict()
  assert results.config_changes(old, run) == "class_rotations=4"
  del run["class_rotations"]  # a record from before RunConfig.class_rotations
  assert results.config_changes(old, run) == "defaults"


def test_pretrained_index_names_each_exports_run_and_its_rows_results(tmp_path):
  import gmn_jax
  pretrained, results_dir = tmp_path / "pretrained", tmp_path / "results"
  config = VARIANTS["average"]
  for row in ("avg_c1_rotations", "orphan"):
    gmn_jax.save_params(str(pretrained / f"{row}.msgpack"),
                        random_params(config), config, model=f"{row}_run",
                        steps=90750, commit="abc1234")
  (results_dir / "avg_c1_rotations").mkdir(parents=True)
  (results_dir / "avg_c1_rotations" / "run_config.json").write_text(
      json.dumps(RunConfig(class_rotations=4).to_dict()))
  text = open(results.write_pretrained_index(str(pretrained),
                                             str(results_dir))).read()
  changes = results.config_changes(config.to_dict())
  assert (f"| `avg_c1_rotations.msgpack` | avg_c1_rotations_run | 90750 | "
          f"abc1234 | {changes}, class_rotations=4 | "
          "[avg_c1_rotations](../results/avg_c1_rotations/) |") in text
  # an export without a results folder keeps the file's own config
  assert f"| `orphan.msgpack` | orphan_run | 90750 | abc1234 | {changes} | none |" in text
  assert "Unfinished runs" not in text


def test_pretrained_index_lists_unfinished_runs_apart_with_how_to_continue(
    tmp_path):
  import gmn_jax
  config = VARIANTS["attention"]
  gmn_jax.save_params(str(tmp_path / "gmn_c2.msgpack"), random_params(config),
                      config, model="gmn_c2", steps=90750, commit="abc1234")
  gmn_jax.save_params(str(tmp_path / "unfinished" / "gmn_c2_seed1.msgpack"),
                      random_params(config), config, model="gmn_c2_seed1",
                      steps=26000, commit="def5678")
  text = open(results.write_pretrained_index(str(tmp_path),
                                             str(tmp_path / "results"))).read()
  rows, unfinished = text.split("## Unfinished runs")
  assert "`gmn_c2.msgpack` | gmn_c2 | 90750" in rows
  assert "seed1" not in rows  # not offered as a model to use
  assert ("| `unfinished/gmn_c2_seed1.msgpack` | 26000 | def5678 | `python "
          "experiments/train.py --flagfile=experiments/configs/gmn_c2_seed1.flags "
          "--workdir=~/runs/gmn_c2_seed1 "
          "--init_params=pretrained/unfinished/gmn_c2_seed1.msgpack` |") in unfinished
