"""benchmarks/profile_step.py's reading of a Perfetto trace (which events are
device kernels, their busy time and their kinds) and its bounds on the step."""
import gzip
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import benchmark  # noqa: E402
import profile_step  # noqa: E402


def test_kernel_summary_of_a_small_trace(tmp_path):
  meta = [{"ph": "M", "name": "process_name", "pid": 1,
           "args": {"name": "/device:GPU:0"}},
          {"ph": "M", "name": "process_name", "pid": 2,
           "args": {"name": "/host:CPU"}},
          {"ph": "M", "name": "thread_name", "pid": 1, "tid": 7,
           "args": {"name": "Stream #14(Compute)"}},
          {"ph": "M", "name": "thread_name", "pid": 1, "tid": 8,
           "args": {"name": "XLA Ops"}}]
  kernel = lambda name, ts, dur, tid=7, pid=1: {
      "ph": "X", "pid": pid, "tid": tid, "name": name, "ts": ts, "dur": dur}
  events = meta + [
      kernel("loop_add_fusion", 0, 10), kernel("gemm_fusion_dot_3", 5, 10),
      kernel("sm90_xmma_fprop_implicit_gemm_cudnn", 30, 20),
      kernel("memcpy32_post", 60, 2), kernel("gemm_fusion_dot_12", 70, 5),
      kernel("loop_add_fusion", 0, 10, tid=8),  # the op view repeats kernels
      kernel("PjitFunction(step)", 0, 100, tid=3, pid=2)]  # host, not device
  path = tmp_path / "trace.json.gz"
  with gzip.open(path, "wt") as f:
    json.dump({"traceEvents": events}, f)
  s = profile_step.kernel_summary(str(path), steps=2)
  assert s["kernels_per_step"] == 2.5  # 5 stream kernels over 2 steps
  # busy: [0, 15] + [30, 50] + [60, 62] + [70, 75] = 42 us over 2 steps
  assert abs(s["busy_ms_per_step"] - 0.021) < 1e-9
  assert s["by_kind"]["convolution (cuDNN)"]["per_step"] == 0.5
  assert s["by_kind"]["matmul"]["ms_per_step"] == 0.0075
  assert list(s["by_kind"])[0] == "convolution (cuDNN)"  # longest first
  assert s["events_per_thread"] == {"Stream #14(Compute)": 5, "XLA Ops": 1}
  # gemm_fusion_dot_3 and _12 are one family of 2 kernels, 15 us, per 2 steps
  assert s["top_families"][1] == {"name": "gemm_fusion_dot", "per_step": 1.0,
                                  "ms_per_step": 0.0075}


def test_a_trace_without_a_device_has_no_summary(tmp_path):
  path = tmp_path / "trace.json.gz"
  with gzip.open(path, "wt") as f:
    json.dump([{"ph": "X", "pid": 2, "tid": 1, "name": "x", "ts": 0,
                "dur": 1}], f)
  assert profile_step.kernel_summary(str(path), steps=1) == {}


def test_interleaved_timing_measures_each_variant_and_alternates(monkeypatch):
  """Variants are timed in turns whose order flips every block, so a drift
  of the machine's speed hits all alike; the ratio of a variant twice as
  slow is 2."""
  calls = []
  clock = {"now": 0.0}
  monkeypatch.setattr(profile_step.time, "perf_counter", lambda: clock["now"])

  def variant(name, seconds):
    def step(state, batch):
      calls.append(name)
      clock["now"] += seconds
      return state + 1, 0.0
    return step

  variants = {"a": (variant("a", 0.01), 0, 1.0),
              "b": (variant("b", 0.02), 0, 2.0)}
  out = profile_step.interleaved_ms(variants, batches=[None], blocks=3, steps=2)
  np.testing.assert_allclose([out["a"][0], *out["a"][1]], [10.0] * 4)
  np.testing.assert_allclose([out["b"][0], *out["b"][1]], [20.0] * 4)
  blocks = ["".join(calls[i:i + 4:2]) for i in range(0, len(calls), 4)]
  assert blocks == ["ba", "ab", "ba", "ab"]  # a warm-up block, then 3
  assert variants["a"][1] == 8  # the state threads through every call
  from benchmark import trace_section
  text = trace_section({"device": "cpu", "commit": "abc", "traced": "b",
                        "a": {"wall_ms_per_step": 10.0, "ratio_to_first": 1.0},
                        "b": {"wall_ms_per_step": 20.0, "ratio_to_first": 2.0}})
  assert "a 10.00 (x1.000), b 20.00 (x2.000)." in text
  families = [{"name": f"k{i}", "per_step": 1.0, "ms_per_step": 0.5 - i / 100}
              for i in range(10)]
  text = trace_section({"device": "gpu", "commit": "abc", "traced": "a",
                        "a": {"wall_ms_per_step": 10.0, "kernels_per_step": 3,
                              "busy_ms_per_step": 8.0, "by_kind": {},
                              "top_families": families}})
  assert "| `k0` | 1 | 0.500 |" in text and "| `k7` | 1 | 0.430 |" in text
  assert "`k8`" not in text  # the 8 longest


HLO = """HloModule jit_step
ENTRY %main {
  %p = f32[4]{0} parameter(0)
  %copy_bitcast_fusion.4 = f32[20,144]{1,0} fusion(%p), kind=kLoop, metadata={op_name="jit(step)/transpose"}
  %ynn_fusion.3 = f32[144,16]{1,0} fusion(%p), kind=kCustom
  ROOT %while.7 = (s32[], f32[4]{0}) while(%p), condition=%c, body=%b
}
"""


def test_op_summary_of_a_small_cpu_trace(tmp_path):
  """HLO instructions are read from the module's text; the trace's events
  named as instructions count, per step, by instruction and by kind;
  control flow and other events (the executor, Python) do not."""
  instructions = profile_step.hlo_instructions(HLO)
  assert instructions["copy_bitcast_fusion.4"] == ("f32[20,144]{1,0}",
                                                    "jit(step)/transpose")
  assert instructions["ynn_fusion.3"] == ("f32[144,16]{1,0}", "")
  op = lambda name, dur, tid=1: {"ph": "X", "pid": 1, "tid": tid,
                                 "name": name, "ts": 0, "dur": dur}
  events = [op("copy_bitcast_fusion.4", 3000), op("copy_bitcast_fusion.4", 1000,
                                                  tid=2),
            op("ynn_fusion.3", 2000), op("ThunkExecutor::Execute", 9000),
            op("while.7", 8000)]  # its body's ops count, not the loop
  path = tmp_path / "trace.json.gz"
  with gzip.open(path, "wt") as f:
    json.dump({"traceEvents": events}, f)
  s = profile_step.op_summary(str(path), steps=2, instructions=instructions)
  assert s["ops_ms_per_step"] == 3.0  # 6 ms of ops over 2 steps
  assert s["by_kind"] == {"copy_bitcast_fusion": 2.0, "ynn_fusion": 1.0}
  first = s["top_ops"][0]
  assert (first["name"], first["per_step"], first["shape"]) == (
      "copy_bitcast_fusion.4", 1.0, "f32[20,144]{1,0}")


def test_every_convolution_of_the_step_as_im2col_matmuls():
  convs = profile_step.conv_shapes(batch=2, length=3)
  # psi and the generator: 3 residual sections of 3 convolutions, and the
  # generator's 1x1 logits.
  assert [c["part"] for c in convs] == ["psi"] * 9 + ["generator"] * 10
  first = profile_step.conv_matmuls(convs[0])  # psi: 4x4, stride 2, 28 -> 13
  assert first["forward"] == (6 * 13 * 13, 16, 16)
  assert first["weight gradient"] == (16, 6 * 13 * 13, 16)
  # its input gradient: per input pixel (4 per output pixel), 2 x 2 taps of
  # the 16-channel output gradient, back to 1 channel
  assert first["input gradient"] == (6 * 13 * 13 * 4, 64, 1)
  # The generator's 13 -> 28 transposed conv: a 2x2 conv of the padded
  # 15x15 input to 4 output phases of 16 channels.
  last_up = [c for c in convs if c["w"][:3] == (2, 2, 16)][-1]
  assert profile_step.conv_matmuls(last_up)["input gradient"] == (
      6 * 14 * 14, 256, 16)
  assert profile_step.matmul_bound([(4e9, 1.0), (2e9, 2.0)]) == 2.0


def test_products_are_timed_as_copies_in_one_call():
  # Each copy its own operands and its own product; as many copies as fit
  # max_bytes (operands and result: 4 * (6*3 + 3*2 + 6*2) = 144 bytes each).
  fn, a, b = profile_step.product_copies(6, 3, 2, copies=8, max_bytes=500)
  assert len(a) == len(b) == 3
  out = fn(a, b)
  for i, o in enumerate(out):
    np.testing.assert_allclose(o, np.full((6, 2), 3.0 * (1 + i)))
  assert len(profile_step.product_copies(6, 3, 2, copies=8)[1]) == 8
  assert len(profile_step.product_copies(6, 3, 2, max_bytes=1)[1]) == 1


def test_the_step_bound_leaves_only_convolutions_and_controllers():
  # 20 GFLOP in 60 ms of ideal convolutions and 40 ms of controllers.
  assert profile_step.step_bound(20.0, 0.06, 0.04) == pytest.approx(200.0)
  record = {"device": "cpu", "commit": "abc", "matmul_ceiling_gflops_per_s": 400.0,
            "bound_gflops_per_s": 160.0,
            "products": [{"part": "psi", "product": "forward", "gflop": 1.0,
                          "ms": 10.0}]}
  assert "would reach" not in benchmark.shapes_section(record)  # older runs
  record.update(step={"gflop": 20.0, "step_s": 0.2, "gflops_per_s": 100.0},
                controllers_ms=40.0, step_bound_gflops_per_s=200.0)
  text = benchmark.shapes_section(record)
  assert "20.0 GFLOP in 200 ms, 25% of the ceiling" in text
  assert "(40 ms)" in text and "would reach **50%**" in text
