"""benchmarks/profile_step.py's reading of a Perfetto trace: which events are
device kernels, their busy time and their kinds."""
import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

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
      kernel("memcpy32_post", 60, 2),
      kernel("loop_add_fusion", 0, 10, tid=8),  # the op view repeats kernels
      kernel("PjitFunction(step)", 0, 100, tid=3, pid=2)]  # host, not device
  path = tmp_path / "trace.json.gz"
  with gzip.open(path, "wt") as f:
    json.dump({"traceEvents": events}, f)
  s = profile_step.kernel_summary(str(path), steps=2)
  assert s["kernels_per_step"] == 2  # 4 stream kernels over 2 steps
  # busy: [0, 15] + [30, 50] + [60, 62] = 37 us over 2 steps
  assert abs(s["busy_ms_per_step"] - 0.0185) < 1e-9
  assert s["by_kind"]["convolution (cuDNN)"]["per_step"] == 0.5
  assert s["by_kind"]["matmul"]["ms_per_step"] == 0.005
  assert list(s["by_kind"])[0] == "convolution (cuDNN)"  # longest first
  assert s["events_per_thread"] == {"Stream #14(Compute)": 4, "XLA Ops": 1}


def test_a_trace_without_a_device_has_no_summary(tmp_path):
  path = tmp_path / "trace.json.gz"
  with gzip.open(path, "wt") as f:
    json.dump([{"ph": "X", "pid": 2, "tid": 1, "name": "x", "ts": 0,
                "dur": 1}], f)
  assert profile_step.kernel_summary(str(path), steps=1) == {}
