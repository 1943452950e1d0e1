"""The training loop: data, jitted step, logs, checkpoints, and a clean stop."""
import json
import os
import signal
import subprocess
import time

import jax
import numpy as np
from absl import logging

from gmn_jax.checkpoints import load_params
from gmn_jax.data import episodes, omniglot
from gmn_jax.train import checkpointing, parallel
from gmn_jax.train import step as train_step
from gmn_jax.train.run_config import RunConfig, differences


def check_workdir(workdir: str) -> None:
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, ".write_probe")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise ValueError(f"--workdir={workdir!r} is not writable: {e}") from e


COMMIT_ENV_VAR = "GMN_JAX_COMMIT"


def git_commit() -> str:
  """$GMN_JAX_COMMIT where its copier set it (a copy on a remote accelerator
  may carry a stale .git: one read the commit before the copied one), else
  the checkout's short commit, "-dirty" if tracked files changed, else
  "unknown"."""
  if os.environ.get(COMMIT_ENV_VAR):
    return os.environ[COMMIT_ENV_VAR]
  here = os.path.dirname(os.path.abspath(__file__))
  def git(*args):
    return subprocess.run(["git", *args], cwd=here, capture_output=True,
                          text=True, timeout=10, check=True).stdout.strip()
  try:
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else "")
  except (OSError, subprocess.SubprocessError):  # incl. a failing git
    return "unknown"


class _StopRequest:
  """Turns SIGINT/SIGTERM into a flag the loop checks after each step."""

  def __init__(self):
    self.requested = False
    self._previous = {}

  def __enter__(self):
    for sig in (signal.SIGINT, signal.SIGTERM):
      try:
        self._previous[sig] = signal.signal(sig, self._handle)
      except ValueError:  # not the main thread: no handlers, no clean stop
        pass
    return self

  def _handle(self, signum, frame):
    logging.warning("Signal %d: saving a checkpoint, then stopping.", signum)
    self.requested = True

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


class _Logs:
  """metrics.jsonl, TensorBoard events and the console progress line."""

  def __init__(self, workdir: str, run: RunConfig):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.first = run.first_scored()
    self.total = run.num_steps
    try:
      from tensorboardX import SummaryWriter
      self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))
    except ImportError:
      self.tb = None

  def write(self, step: int, metrics: dict, steps_per_s: float):
    bound = np.asarray(metrics["bound"], np.float64)
    record = {"step": step, "loss": float(metrics["loss"]),
              "nats_per_image": float(-bound[self.first:].mean()),
              "grad_norm": float(metrics["grad_norm"]),
              "bound": [round(float(b), 3) for b in bound],
              "steps_per_s": steps_per_s, "time": time.time()}
    with open(self.path, "a") as f:
      f.write(json.dumps(record) + "\n")
    if self.tb is not None:
      self.tb.add_scalar("loss", record["loss"], step)
      self.tb.add_scalar("nats_per_image", record["nats_per_image"], step)
      for t, b in enumerate(bound):
        self.tb.add_scalar(f"bound/t{t:02d}", b, step)
      self.tb.flush()
    eta = (self.total - step) / max(steps_per_s, 1e-9)
    shown = " ".join(f"{-b:.1f}" for b in bound[self.first:])
    logging.info("step %d/%d  %.2f steps/s  ETA %s  loss %.1f  -bound[t>=%d] %s",
                 step, self.total, steps_per_s, _duration(eta), record["loss"],
                 self.first, shown)


def _duration(seconds: float) -> str:
  m, s = divmod(int(seconds), 60)
  h, m = divmod(m, 60)
  return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _update_provenance(workdir: str, run: RunConfig, step: int,
                       wall_s: float, commit: str, **extra) -> None:
  path = os.path.join(workdir, "provenance.json")
  prov = {}
  if os.path.exists(path):
    with open(path) as f:
      prov = json.load(f)
  prov.setdefault("segments", [])
  prov["segments"].append({
      "commit": commit, "device": jax.devices()[0].device_kind,
      "platform": jax.default_backend(), "num_devices": jax.device_count(),
      "jax_version": jax.__version__, "end_step": step,
      "wall_s": round(wall_s, 1), "ended": time.strftime("%Y-%m-%dT%H:%M:%S"),
      # Segments without this field ran on code whose float32 matmuls XLA
      # rounded to TF32 on GPUs (gmn_jax.precision.traced_as_stored).
      "float32_matmuls": "full",
      # Its speed depends on them (gmn_jax.host_memory); "" where unset.
      "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""), **extra})
  prov["steps"] = step
  prov["wall_s_total"] = round(sum(s["wall_s"] for s in prov["segments"]), 1)
  prov["run_config"] = run.to_dict()
  with open(path, "w") as f:
    json.dump(prov, f, indent=2)


def warm_start(run: RunConfig, path: str) -> dict:
  """A train state from a params-only export (`gmn_jax.save_params`): its
  params at its step, with fresh Adam moments (the export holds none), so the
  run continues the schedule but does not resume it bit for bit."""
  params, config, metadata = load_params(path)
  diff = differences({"model": config.to_dict()},
                     {"model": run.model.to_dict()}, names=("file", "flags"))
  if diff:
    raise ValueError(f"--init_params={path!r} is another model:\n  " +
                     "\n  ".join(diff) +
                     "\nUse the flagfile of the model it was trained with.")
  return train_step.init_state(run, params, int(metadata.get("steps", 0)))


def train(run: RunConfig, workdir: str, data_dir: str = None,
          images: np.ndarray = None, stop_after: int = None,
          init_params: str = None) -> dict:
  """Train (or resume) `run` in `workdir`; returns the final state.

  images: the training split [classes, drawings, 784] {0, 1}; read from
    `data_dir` when None. stop_after: end this invocation after that many
    steps (the schedule still spans run.num_steps), as an interruption would.
    init_params: a params export to start from when the workdir has no
    checkpoint yet (see `warm_start`); a checkpoint always wins.
  Everything that can be wrong with the flags fails here before compiling.
  """
  parallel.maybe_initialize_distributed()
  run.validate(jax.device_count())
  check_workdir(workdir)
  if images is None:
    images = omniglot.load_split("train", data_dir).images
  images = omniglot.with_rotations(images, run.class_rotations)
  run.episodes.validate(images.shape[0])
  checkpointing.check_or_write_config(workdir, run)

  mesh = parallel.data_mesh()
  mngr = checkpointing.manager(workdir, run)
  fresh = mngr.latest_step() is None
  state = parallel.replicate(warm_start(run, init_params) if fresh and init_params
                             else train_step.init_state(run), mesh)
  if not fresh:
    state = checkpointing.restore_latest(mngr, state)
    logging.info("Resumed %s at step %d.", workdir, int(state["step"]))
  elif init_params:
    logging.info("Started %s from %s at step %d (Adam's moments reset).",
                 workdir, init_params, int(state["step"]))
  step_fn = train_step.make_train_step(run, mesh)
  logs = _Logs(workdir, run)

  start = int(jax.device_get(state["step"]))
  end = run.num_steps if stop_after is None else min(run.num_steps,
                                                      start + stop_after)
  commit = git_commit()  # the code this invocation runs, read before it may change
  t_start = t_log = time.time()
  last_logged = start
  with _StopRequest() as stop:
    for s in range(start, end):
      x = episodes.episode_batch(images, run.episodes, run.batch_size,
                                 run.seed, s)
      state, metrics = step_fn(state, parallel.shard_batch(x, mesh))
      done = s + 1
      if done % run.log_every == 0 or done == end or stop.requested:
        metrics = jax.device_get(metrics)
        now = time.time()
        logs.write(done, metrics, (done - last_logged) / (now - t_log))
        t_log, last_logged = now, done
      if done % run.checkpoint_every == 0:
        checkpointing.save(mngr, state)
      if stop.requested:
        break
    checkpointing.save(mngr, state, force=True)
    mngr.wait_until_finished()
  _update_provenance(workdir, run, int(jax.device_get(state["step"])),
                     time.time() - t_start, commit,
                     **({"warm_start": {"from": init_params, "step": start}}
                        if fresh and init_params else {}))
  return state
