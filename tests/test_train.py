"""Training: exact resume, config guard, flag errors, data parallelism."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gmn_jax import data, save_params
from gmn_jax.train import RunConfig, train
from gmn_jax.train import checkpointing
from conftest import small_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = RunConfig(model=small_config(), episodes=data.EpisodeSpec(4, 2),
                batch_size=4, num_steps=4, checkpoint_every=2, log_every=1,
                learning_rates=(1e-3, 1e-4))


@pytest.fixture(scope="module")
def images(test_split):
  return test_split.images[:30]


def leaves(state):
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(state["params"])]


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, images):
  whole = train(RUN, str(tmp_path / "a"), images=images)
  train(RUN, str(tmp_path / "b"), images=images, stop_after=1)
  part = train(RUN, str(tmp_path / "b"), images=images, stop_after=2)
  assert int(part["step"]) == 3
  resumed = train(RUN, str(tmp_path / "b"), images=images)
  assert int(resumed["step"]) == int(whole["step"]) == 4
  for a, b in zip(leaves(whole), leaves(resumed)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
  # logs and provenance are written
  lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
  assert [json.loads(l)["step"] for l in lines] == [1, 2, 3, 4]
  prov = json.loads((tmp_path / "b" / "provenance.json").read_text())
  assert prov["steps"] == 4 and len(prov["segments"]) == 3
  assert {s["float32_matmuls"] for s in prov["segments"]} == {"full"}
  params, run, step = checkpointing.restore_params(str(tmp_path / "b"))
  assert step == 4 and run == RUN


def test_a_checkpoint_with_adams_moments_per_parameter_resumes_exactly(
    tmp_path, images, monkeypatch):
  """Checkpoints saved before Adam ran over one flat vector hold its moments
  per parameter: restored, flattened in the same order, they continue the
  run as the flat optimizer would have from the start (Adam is elementwise)."""
  from gmn_jax.train import step as train_step
  whole = train(RUN, str(tmp_path / "a"), images=images)
  train_step.make_train_step.cache_clear()  # compiled with the flat Adam
  with monkeypatch.context() as m:
    m.setattr(train_step.optax, "flatten", lambda tx: tx)  # the old layout
    old = train(RUN, str(tmp_path / "b"), images=images, stop_after=2)
    assert isinstance(old["opt_state"][0].mu, dict)
  train_step.make_train_step.cache_clear()
  params, _, step = checkpointing.restore_params(str(tmp_path / "b"))
  assert step == 2
  resumed = train(RUN, str(tmp_path / "b"), images=images)
  assert int(resumed["step"]) == 4 and resumed["opt_state"][0].mu.ndim == 1
  for a, b in zip(leaves(whole), leaves(resumed)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_resume_with_another_model_config_is_refused(tmp_path, images):
  train(RUN, str(tmp_path), images=images, stop_after=1)
  other = RunConfig(**{**RUN.__dict__, "model": small_config(num_passes=3)})
  with pytest.raises(ValueError, match="num_passes: checkpoint 2 != now 3"):
    train(other, str(tmp_path), images=images)


def test_warm_start_from_an_export_continues_its_params_and_step(tmp_path,
                                                                 images):
  first = train(RUN, str(tmp_path / "a"), images=images, stop_after=2)
  export = str(tmp_path / "a.msgpack")
  save_params(export, first["params"], RUN.model, steps=2)
  # step 0 of a new workdir is the export itself
  start = train(RUN, str(tmp_path / "b"), images=images, stop_after=0,
                init_params=export)
  assert int(start["step"]) == 2
  for a, b in zip(leaves(first), leaves(start)):
    np.testing.assert_array_equal(a, b)
  # it then trains on from step 2 (fresh Adam moments: not the same run)
  done = train(RUN, str(tmp_path / "b"), images=images, init_params=export)
  assert int(done["step"]) == 4
  assert any(np.abs(a - b).max() > 0 for a, b in zip(leaves(start),
                                                     leaves(done)))
  prov = json.loads((tmp_path / "b" / "provenance.json").read_text())
  assert prov["segments"][0]["warm_start"] == {"from": export, "step": 2}
  assert "warm_start" not in prov["segments"][1]  # resumed from a checkpoint
  other = RunConfig(**{**RUN.__dict__, "model": small_config(num_passes=3)})
  with pytest.raises(ValueError, match="num_passes: file 2 != flags 3"):
    train(other, str(tmp_path / "c"), images=images, init_params=export)


@pytest.mark.parametrize("change, message", [
    (dict(model=small_config(pseudo_input=False)), "--conditional_ordering"),
    (dict(batch_size=0), "--batch_size=0"),
    (dict(episodes=data.EpisodeSpec(2, 3, True)), "T >= C"),
    (dict(episodes=data.EpisodeSpec(4, 31)), "only 30 classes"),
    (dict(score_from=4), r"--score_from=4 must lie in \[0, 4\)"),
    (dict(model=small_config(pseudo_input=False),
          episodes=data.EpisodeSpec(4, 2, True), score_from=1),
     r"--score_from=1 must lie in \[2, 4\)"),
])
def test_inconsistent_runs_fail_before_compiling(tmp_path, images, change,
                                                 message):
  with pytest.raises(ValueError, match=message):
    train(RunConfig(**{**RUN.__dict__, **change}), str(tmp_path),
          images=images)


def test_score_from_drops_the_earlier_conditionals_from_the_loss(tmp_path,
                                                                  images):
  """Same init, data and key: the same bounds, but the loss sums t >= 2."""
  logged = []
  for name, score_from in (("all", None), ("late", 2)):
    run = RunConfig(**{**RUN.__dict__, "score_from": score_from})
    train(run, str(tmp_path / name), images=images, stop_after=1)
    logged.append(json.loads(
        (tmp_path / name / "metrics.jsonl").read_text().splitlines()[0]))
  every, late = logged
  np.testing.assert_allclose(every["bound"], late["bound"], rtol=1e-5)
  bound = np.array(late["bound"])
  np.testing.assert_allclose(every["loss"], -bound.sum(), rtol=1e-4)
  np.testing.assert_allclose(late["loss"], -bound[2:].sum(), rtol=1e-4)
  assert late["nats_per_image"] == pytest.approx(-bound[2:].mean(), rel=1e-4)


def test_unwritable_workdir(tmp_path, images):
  blocker = tmp_path / "file"
  blocker.write_text("")
  with pytest.raises(ValueError, match="--workdir=.* is not writable"):
    train(RUN, str(blocker / "sub"), images=images)


def test_smoke_flagfile_trains_and_resumes(tmp_path):
  cmd = [sys.executable, os.path.join(ROOT, "experiments", "train.py"),
         "--flagfile=" + os.path.join(ROOT, "experiments", "configs",
                                      "smoke.flags"),
         f"--workdir={tmp_path}"]
  out = subprocess.run(cmd + ["--stop_after=3"], capture_output=True,
                       text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  assert "Resumed" in out.stderr
  steps = [json.loads(l)["step"] for l in
           (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert steps[-1] == 6
  assert os.listdir(tmp_path / "tensorboard")
  # Both segments ran restarted with huge pages where they can help, and
  # say so (gmn_jax.host_memory).
  from gmn_jax import host_memory
  applies = host_memory.huge_page_tunables(
      {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}) is not None
  segments = json.loads((tmp_path / "provenance.json").read_text())["segments"]
  assert len(segments) == 2
  assert all((host_memory.TUNABLE in s["glibc_tunables"].split(":")) == applies
             for s in segments)


def test_bad_flag_is_reported_by_name(tmp_path):
  cmd = [sys.executable, os.path.join(ROOT, "experiments", "train.py"),
         "--flagfile=" + os.path.join(ROOT, "experiments", "configs",
                                      "smoke.flags"),
         f"--workdir={tmp_path}", "--matching=bogus"]
  out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert out.returncode != 0
  assert "matching='bogus' is unknown" in out.stderr


FOUR_DEVICES = r"""
import jax, numpy as np
from gmn_jax import data, save_params
from gmn_jax.train import RunConfig, parallel, step as train_step
from conftest import small_config
assert jax.device_count() == 4, jax.devices()
run = RunConfig(model=small_config(), episodes=data.EpisodeSpec(4, 2),
                batch_size=8, num_steps=2)
images = data.load_split("test").images[:30]
out = {}
for n in (1, 4):
  mesh = parallel.data_mesh(jax.devices()[:n])
  state = parallel.replicate(train_step.init_state(run), mesh)
  fn = train_step.make_train_step(run, mesh)
  for s in range(2):
    x = parallel.shard_batch(data.episode_batch(images, run.episodes, 8, 0, s), mesh)
    state, m = fn(state, x)
  out[n] = (float(m["loss"]), [np.asarray(l) for l in jax.tree_util.tree_leaves(state["params"])])
np.testing.assert_allclose(out[1][0], out[4][0], rtol=1e-5)
for a, b in zip(out[1][1], out[4][1]):
  np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
print("OK", out[1][0], out[4][0])
"""


def test_four_devices_equal_one(tmp_path):
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "tests")]))
  out = subprocess.run([sys.executable, "-c", FOUR_DEVICES], env=env,
                       capture_output=True, text=True, timeout=900)
  assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


def test_a_run_saved_before_a_config_field_existed_resumes(tmp_path, images):
  """Fields added later take their defaults, which keep the old behaviour;
  a saved value that differs from the flags is still refused."""
  train(RUN, str(tmp_path), images=images, stop_after=1)
  path = tmp_path / checkpointing.CONFIG_FILE
  saved = json.loads(path.read_text())
  del saved["model"]["decoder_input"]  # as written before the fields existed
  del saved["model"]["encoder_ink"]
  del saved["score_from"]
  del saved["l2_penalty"]
  del saved["class_rotations"]
  path.write_text(json.dumps(saved))
  assert int(train(RUN, str(tmp_path), images=images, stop_after=1)["step"]) == 2
  split = RunConfig(**{**RUN.__dict__,
                       "model": small_config(decoder_input="split")})
  with pytest.raises(ValueError, match="decoder_input: checkpoint 'joint' != "
                     "now 'split'"):
    train(split, str(tmp_path), images=images)
  later = RunConfig(**{**RUN.__dict__, "score_from": 1})
  with pytest.raises(ValueError, match="score_from: checkpoint None != now 1"):
    train(later, str(tmp_path), images=images)
  decayed = RunConfig(**{**RUN.__dict__, "l2_penalty": 0.5})
  with pytest.raises(ValueError, match="l2_penalty: checkpoint 0.0 != now 0.5"):
    train(decayed, str(tmp_path), images=images)
  rotated = RunConfig(**{**RUN.__dict__, "class_rotations": 4})
  with pytest.raises(ValueError, match="class_rotations: checkpoint 1 != now 4"):
    train(rotated, str(tmp_path), images=images)


def test_class_rotations_train_on_the_turned_classes_too(tmp_path, images,
                                                         monkeypatch):
  """--class_rotations=k: episodes are drawn from the k turns of every
  training class; values outside 1..4 are refused before any work."""
  from gmn_jax.train import loop
  seen = []
  real = loop.episodes.episode_batch
  monkeypatch.setattr(loop.episodes, "episode_batch",
                      lambda imgs, *a: seen.append(imgs) or real(imgs, *a))
  run = RunConfig(**{**RUN.__dict__, "class_rotations": 2})
  train(run, str(tmp_path), images=images, stop_after=1)
  np.testing.assert_array_equal(seen[0], data.omniglot.with_rotations(images, 2))
  assert seen[0].shape[0] == 2 * images.shape[0]
  with pytest.raises(ValueError, match="--class_rotations=0"):
    RunConfig(**{**RUN.__dict__, "class_rotations": 0}).validate()


def test_l2_penalty_is_added_to_the_loss_and_moves_the_update(images):
  """--l2_penalty=c: the step's loss is the plain one plus c * sum(p^2) of
  the params it started from, its update differs, and c < 0 is refused."""
  from gmn_jax.train import step as train_step
  from gmn_jax.train.parallel import data_mesh
  x = data.episode_batch(images, RUN.episodes, RUN.batch_size, RUN.seed, 0)
  out = {}
  for c in (0.0, 0.25):
    run = RunConfig(**{**RUN.__dict__, "l2_penalty": c})
    fn = train_step.make_train_step(run, data_mesh(jax.devices()[:1]))
    state, m = fn(train_step.init_state(run), x)
    out[c] = (float(m["loss"]), leaves(state))
  start = leaves(train_step.init_state(RUN))
  penalty = 0.25 * sum(float((p.astype(np.float64) ** 2).sum()) for p in start)
  assert out[0.25][0] == pytest.approx(out[0.0][0] + penalty, rel=1e-5)
  assert any(np.abs(a - b).max() > 0 for a, b in zip(out[0.0][1], out[0.25][1]))
  with pytest.raises(ValueError, match="--l2_penalty=-1"):
    RunConfig(**{**RUN.__dict__, "l2_penalty": -1.0}).validate()


def test_commit_is_the_copiers_where_set(monkeypatch):
  from gmn_jax.train import loop
  monkeypatch.delenv(loop.COMMIT_ENV_VAR, raising=False)
  here = loop.git_commit()
  assert here != "abc1234"
  monkeypatch.setenv(loop.COMMIT_ENV_VAR, "abc1234")
  assert loop.git_commit() == "abc1234"
