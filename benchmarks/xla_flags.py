r"""Does XLA's own configuration, or the host's malloc, speed up the
training step? Each setting runs in its own process (XLA reads XLA_FLAGS, and
glibc its tunables, once, at start-up), in rounds; each setting's step time is
compared with the default's of the same round, so a drift of the machine's
speed between rounds cancels. The default is train.py's: XLA's defaults, and
transparent huge pages for malloc (gmn_jax.host_memory).

  python benchmarks/xla_flags.py            # writes results/xla_flags_<device>.json
  python benchmarks/xla_flags.py --rounds=1
  python benchmarks/xla_flags.py --sets=4,5   # the default and sets 4 and 5

The step is the paper's (B = 20, T = 20, K = 4), pipelined as training runs
it: the median over blocks of steps (5 on a CPU, 50 on a GPU), after a
warm-up block. On a machine with nvidia-smi the flag sets are XLA:GPU's.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# (flags, what they switch) for XLA:CPU; the first is the default.
XLA_FLAG_SETS = (
    ("", "XLA's defaults, huge pages for malloc (gmn_jax.host_memory)"),
    ("--xla_cpu_use_onednn=true", "oneDNN for dots and convolutions"),
    ("--xla_cpu_experimental_onednn_custom_call=true", "oneDNN custom calls"),
    ("--xla_cpu_use_xnnpack=true", "XNNPACK"),
    ("--xla_cpu_experimental_xnn_fusion_type=individual_convolution,"
     "individual_dot", "XNNPACK for each dot and convolution"),
    ("--xla_cpu_experimental_ynn_fusion_type=individual_convolution,"
     "individual_dot", "YNNPACK for each dot and convolution"),
    ("--xla_cpu_experimental_xnn_graph_fusion_mode="
     "XNN_GRAPH_FUSION_MODE_GREEDY", "XNNPACK subgraphs, greedy"),
    ("--xla_cpu_prefer_vector_width=512", "512-bit vectors (AVX-512)"),
    ("--xla_cpu_enable_concurrency_optimized_scheduler=true",
     "the concurrency-optimised scheduler"),
)
# The same for XLA:GPU. On an H100 the B = 20 step ran ~1400 kernels of ~3 us
# each (results/trace_nvidia_h100_80gb_hbm3.json): launches and small dots.
XLA_GPU_FLAG_SETS = (
    ("", "XLA's defaults"),
    ("--xla_gpu_enable_command_buffer=",
     "no CUDA graphs: every kernel launched on its own"),
    ("--xla_gpu_graph_min_graph_size=1", "CUDA graphs of any size"),
    ("--xla_gpu_enable_triton_gemm=false", "cuBLAS, not Triton, for the dots"),
    ("--xla_gpu_exhaustive_tiling_search=true",
     "Triton's dot tilings searched exhaustively"),
    ("--xla_gpu_cudnn_gemm_fusion_level=2", "cuDNN for dot fusions"),
    ("--xla_gpu_enable_latency_hiding_scheduler=true",
     "the latency-hiding scheduler"),
)
# (environment, what it switches) for the host's malloc, with XLA's defaults.
HOST_SETTINGS = (
    ({"GMN_JAX_SYSTEM_MALLOC": "1"},
     "glibc's default malloc: 4 KB pages, faulted in at every step"),
)


def settings(gpu: bool) -> tuple:
  """(name, XLA_FLAGS, environment, what) of each setting; the first is the
  default. The host's malloc is a setting on a CPU only."""
  if gpu:
    return tuple((flags or "(none)", flags, {}, what)
                 for flags, what in XLA_GPU_FLAG_SETS)
  return tuple((flags or "(none)", flags, {}, what)
               for flags, what in XLA_FLAG_SETS) + tuple(
      (" ".join(f"{k}={v}" for k, v in env.items()), "", env, what)
      for env, what in HOST_SETTINGS)


def child(blocks: int, steps: int) -> None:
  """Times the step under this process's XLA_FLAGS and environment; prints
  one JSON line."""
  sys.path.insert(0, HERE)
  import jax
  import profile_step
  from gmn_jax import data, host_memory
  host_memory.restart_with_huge_pages()  # as train.py runs
  from gmn_jax.train import RunConfig, parallel
  from gmn_jax.train import step as train_step

  run = RunConfig()
  mesh = parallel.data_mesh()
  images = data.load_split("train").images
  batch = parallel.shard_batch(data.episode_batch(
      images, run.episodes, run.batch_size, run.seed, 0), mesh)
  state = parallel.replicate(train_step.init_state(run), mesh)
  t = time.perf_counter()
  fn = train_step.make_train_step(run, mesh).lower(state, batch).compile()
  compile_s = time.perf_counter() - t
  (ms, _), = profile_step.interleaved_ms({"step": (fn, state, compile_s)},
                                         [batch], blocks, steps).values()
  print(json.dumps({"ms_per_step": ms,
                    "compile_s": compile_s,
                    "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
                    "device": jax.devices()[0].device_kind,
                    "jax_version": jax.__version__}))


def measure(flags: str, env: dict, blocks: int, steps: int) -> dict:
  env = {**os.environ, "XLA_FLAGS": flags, **env}
  out = subprocess.run(
      [sys.executable, __file__, "--child", f"--blocks={blocks}",
       f"--steps={steps}"], env=env, capture_output=True, text=True)
  if out.returncode:  # e.g. a flag this jaxlib does not know: say which
    last = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]
    return {"error": last[:300]}
  return json.loads(out.stdout.strip().splitlines()[-1])


def ratios_to_default(ms: dict) -> dict:
  """{setting: [ms per round]} -> {setting: median over rounds of its time /
  the default's (the first setting) in the same round}; a failed run (nan)
  gives nan. A setting may lack the last round (measured so far)."""
  base = np.array(next(iter(ms.values())))
  return {name: float(np.median(np.array(times) / base[:len(times)]))
          for name, times in ms.items()}


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--rounds", type=int, default=2)
  p.add_argument("--blocks", type=int, default=4)
  p.add_argument("--steps", type=int, default=None)
  p.add_argument("--sets", type=lambda v: [int(i) for i in v.split(",")],
                 help="which settings, by their index in the device's list "
                 "(0, the default, always runs first); default all")
  p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
  args = p.parse_args()
  # Decided without importing jax here: the children need the GPU's memory.
  gpu = shutil.which("nvidia-smi") is not None
  steps = args.steps or (50 if gpu else 5)
  if args.child:
    return child(args.blocks, steps)
  sys.path.insert(0, HERE)
  import benchmark

  setting_list = chosen(settings(gpu), args.sets)
  ms, info = {}, {}
  path = os.path.join(HERE, "results",
                      f"xla_flags_{benchmark.device_name()}.json")
  for r in range(args.rounds):
    for name, flags, env, _ in setting_list:
      result = measure(flags, env, args.blocks, steps)
      ms.setdefault(name, []).append(result.get("ms_per_step", float("nan")))
      info.setdefault(name, result)
      print(f"round {r}: {name}: "
            f"{result.get('ms_per_step', result.get('error'))}", flush=True)
      # After every setting: a run cut short (a lease's time) keeps its rows.
      rows = write(path, setting_list, ms, info, args, steps)
  print("\n| setting | what | ms per step | x default |\n|---|---|---|---|")
  for row in rows:
    print(f"| `{row['setting']}` | {row['what']} | "
          f"{np.median(row['ms_per_step']):.0f} | {row['ratio_to_default']:.3f} |")
  benchmark.write_readme()
  print(f"wrote {path} and benchmarks/README.md")


def chosen(setting_list: tuple, sets: list = None) -> tuple:
  """The settings at the indices `sets` (None: all), the default first."""
  if sets is None:
    return setting_list
  bad = [i for i in sets if not 0 <= i < len(setting_list)]
  if bad:
    raise SystemExit(f"--sets={','.join(map(str, sets))}: no setting {bad}; "
                     f"this device has 0..{len(setting_list) - 1}.")
  return tuple(setting_list[i] for i in [0] + sorted(set(sets) - {0}))


def write(path: str, setting_list: tuple, ms: dict, info: dict, args,
          steps: int) -> list:
  """Writes the settings measured so far (`ms`: {name: [ms per round]}) to
  path; -> their rows."""
  import benchmark  # as main: jax imported, no backend started
  ratio = ratios_to_default(ms)
  rows = [{"setting": name, "flags": flags, "env": env, "what": what,
           "ms_per_step": ms[name], "ratio_to_default": ratio[name],
           "glibc_tunables": info[name].get("glibc_tunables"),
           **({"error": info[name]["error"]} if "error" in info[name] else {})}
          for name, flags, env, what in setting_list if name in ms]
  default = info[setting_list[0][0]]
  benchmark.write_result(path, {
      "device": default.get("device"),
      "jax_version": default.get("jax_version"), "rounds": args.rounds,
      "blocks": args.blocks, "steps": steps, "flag_sets": rows})
  return rows


if __name__ == "__main__":
  main()
