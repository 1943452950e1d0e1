"""benchmarks/xla_flags.py: each flag set against the default of its round."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "benchmarks"))

import xla_flags  # noqa: E402


def test_xla_flags_ratios_cancel_the_machines_drift():
  # The machine runs at half speed in round 1: each flag set's ratio to the
  # default of its own round is unchanged; a run that failed stays nan.
  ms = {"": [100.0, 200.0], "--a": [110.0, 220.0], "--b": [90.0, 180.0],
        "--bad": [float("nan"), float("nan")]}
  r = xla_flags.ratios_to_default(ms)
  assert r[""] == 1.0
  np.testing.assert_allclose([r["--a"], r["--b"]], [1.1, 0.9])
  assert np.isnan(r["--bad"])


def test_some_sets_run_after_the_default_and_a_cut_run_keeps_its_rows():
  sets = xla_flags.settings(gpu=True)
  assert xla_flags.chosen(sets, None) == sets
  assert xla_flags.chosen(sets, [5, 4, 4]) == (sets[0], sets[4], sets[5])
  with pytest.raises(SystemExit, match="no setting \\[7\\]; this device has 0..6"):
    xla_flags.chosen(sets, [4, 7])
  # Round 1 cut after the default: the others' ratios are of round 0.
  r = xla_flags.ratios_to_default({"": [100.0, 200.0], "--a": [110.0]})
  assert r["--a"] == pytest.approx(1.1)


def test_results_record_the_commit_read_before_the_file_is_truncated(
    tmp_path, monkeypatch):
  """Opening a tracked results file empties it, which git sees as a change:
  the commit must be read first or every rerun records "-dirty"."""
  import benchmark
  path = tmp_path / "result.json"
  path.write_text('{"old": 1}')
  seen = []
  monkeypatch.setattr(benchmark, "git_commit",
                      lambda: seen.append(path.read_text()) or "abc1234")
  benchmark.write_result(str(path), {"ms": 2.0})
  assert seen == ['{"old": 1}']
  assert json.loads(path.read_text()) == {"ms": 2.0, "commit": "abc1234"}


def test_every_gpu_flag_set_is_known_to_this_jaxlib():
  # A lease has minutes: a flag XLA does not know (it aborts at start-up)
  # must fail here first. XLA parses every backend's flags on any backend.
  sets = xla_flags.settings(gpu=True)
  assert sets[0][1] == "" and all(not env for _, _, env, _ in sets)
  for _, flags, _, _ in sets[1:]:
    out = subprocess.run(
        [sys.executable, "-c", "import jax; jax.numpy.ones(1).block_until_ready()"],
        env={**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, (flags, out.stderr[-300:])
  # On a CPU the host's malloc is one more setting.
  assert len(xla_flags.settings(gpu=False)) == (
      len(xla_flags.XLA_FLAG_SETS) + len(xla_flags.HOST_SETTINGS))


def test_a_run_cut_short_has_written_the_settings_it_measured(
    tmp_path, monkeypatch):
  # A lease's time runs out during the second setting: the first is filed.
  (tmp_path / "results").mkdir()
  monkeypatch.setattr(xla_flags, "HERE", str(tmp_path))
  calls = []

  def measure(flags, env, blocks, steps):
    calls.append(flags)
    if len(calls) > 1:
      raise KeyboardInterrupt  # as the lease's timeout stops it
    return {"ms_per_step": 5.0, "device": "dev", "jax_version": "0.0"}

  monkeypatch.setattr(xla_flags, "measure", measure)
  monkeypatch.setattr(sys, "argv", ["xla_flags.py", "--rounds=1", "--sets=2"])
  with pytest.raises(KeyboardInterrupt):
    xla_flags.main()
  import benchmark
  path = tmp_path / "results" / f"xla_flags_{benchmark.device_name()}.json"
  written = json.loads(path.read_text())
  assert [r["setting"] for r in written["flag_sets"]] == ["(none)"]
  assert written["flag_sets"][0]["ms_per_step"] == [5.0]
  assert calls[1] == xla_flags.settings(gpu=False)[2][1]
