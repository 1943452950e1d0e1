"""The lease tooling (benchmarks/accelerator_session.sh, accelerator_unpack.sh),
run here on the CPU with the smoke model: what a scarce accelerator call
relies on must work before the call."""
import json
import os
import subprocess
import sys

import numpy as np

from gmn_jax.data import omniglot
from gmn_jax.evaluate import table1

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def session(out, runs, seconds, *tasks, **env):
  result = subprocess.run(
      ["bash", os.path.join(ROOT, "benchmarks", "accelerator_session.sh"),
       str(out), str(runs), str(seconds), *tasks],
      cwd=ROOT, capture_output=True, text=True, timeout=900,
      env={**os.environ, "PYTHON": sys.executable, "GMN_JAX_COMMIT": "abc1234",
           "EVAL_EPISODES": "2", "EVAL_FLAGS": "--num_samples=2", **env})
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout


def test_a_call_trains_evaluates_and_comes_back(tmp_path):
  runs, out, local = tmp_path / "devrun", tmp_path / "out", tmp_path / "runs"
  (runs / "data").mkdir(parents=True)
  out.mkdir()
  os.symlink(omniglot.default_data_dir(), runs / "data" / "omniglot28")
  log = session(out, runs, 600, "train:smoke", "eval:smoke", "eval:smoke@3",
                "eval:vae", "nonsense")
  assert "train:smoke: rc=0" in log and "eval:smoke: rc=0" in log
  assert "eval:smoke@3: rc=0" in log
  assert "nonsense: unknown task" in log
  # Only a run that trained brings its checkpoint back; an evaluation of
  # pretrained/vae.msgpack brings its table.
  subprocess.run(["bash", os.path.join(ROOT, "benchmarks",
                                       "accelerator_unpack.sh"),
                  str(out), str(tmp_path / "next"), str(local)], check=True,
                 capture_output=True)
  assert sorted(os.listdir(local / "smoke" / "checkpoints")) == ["6"]
  assert not (local / "vae" / "checkpoints").exists()
  vae = table1.read_csv(local / "vae" / "eval" / "table1.csv")
  assert vae[0]["steps"] == "90750" and float(vae[0]["nll"]) > 0
  nlls = np.load(local / "smoke" / "eval" / "nlls_c1.npy", allow_pickle=False)
  assert nlls.shape == (2, 20) and np.isfinite(nlls).all()
  # eval:NAME@S: the same episodes with S samples, beside the first.
  provenance = (local / "smoke" / "eval_s3" / "provenance.json").read_text()
  assert '"num_samples": 3' in provenance
  assert np.load(local / "smoke" / "eval_s3" / "nlls_c1.npy").shape == (2, 20)
  assert "step 6/6" in (local / "smoke" / "train.log").read_text()
  assert '"abc1234"' in (local / "smoke" / "provenance.json").read_text()
  # Staged for the next session's first call: the latest checkpoint only.
  (local / "smoke" / "checkpoints" / "3").mkdir()
  staged = tmp_path / "staged"
  subprocess.run(["bash", os.path.join(ROOT, "benchmarks",
                                       "accelerator_stage.sh"), str(staged),
                  "smoke"], check=True, capture_output=True,
                 env={**os.environ, "LOCAL": str(local)})
  assert os.listdir(staged / "smoke" / "checkpoints") == ["6"]
  assert {"run_config.json", "metrics.jsonl"} <= set(os.listdir(staged / "smoke"))
  assert (staged / "data" / "omniglot28").is_dir()


def test_tasks_without_time_are_skipped(tmp_path):
  (tmp_path / "out").mkdir()
  log = session(tmp_path / "out", tmp_path, 20, "train:smoke", "trace")
  assert "train:smoke: skipped" in log and "trace: skipped" in log
  assert not (tmp_path / "smoke").exists()


def test_a_run_without_a_checkpoint_continues_from_its_unfinished_export(
    tmp_path):
  import gmn_jax
  from conftest import random_params
  runs, out, unfinished = tmp_path / "devrun", tmp_path / "out", tmp_path / "u"
  (runs / "data").mkdir(parents=True)
  out.mkdir()
  os.symlink(omniglot.default_data_dir(), runs / "data" / "omniglot28")
  config = gmn_jax.Config(latent_dim=8, state_dim=16, match_dim=16,
                          num_passes=2)  # experiments/configs/smoke.flags
  gmn_jax.save_params(str(unfinished / "smoke.msgpack"), random_params(config),
                      config, model="smoke", steps=4, commit="abc1234")
  log = session(out, runs, 600, "train:smoke", UNFINISHED=str(unfinished))
  assert "train:smoke: rc=0" in log
  provenance = json.loads((runs / "smoke" / "provenance.json").read_text())
  [segment] = provenance["segments"]
  assert segment["warm_start"] == {"from": str(unfinished / "smoke.msgpack"),
                                   "step": 4}
  assert "step 6/6" in (runs / "smoke" / "train.log").read_text()
