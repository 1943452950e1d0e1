r"""Where the training step's time goes: each part's forward + backward alone,
(--trace) the whole step's device kernels, (--ops) its HLO ops on a CPU, or
(--shapes) how fast its convolutions could be as matmuls.

  python benchmarks/profile_step.py   # prints a table, writes results/profile_<device>.json
  python benchmarks/profile_step.py --trace  # writes results/trace_<device>.json
  python benchmarks/profile_step.py --ops    # writes results/ops_<device>.json
  python benchmarks/profile_step.py --shapes # writes results/shapes_<device>.json

The parts run on the shapes of the paper's step (B = 20 episodes of T = 20,
so 400 images through psi and the generator), jitted, compile excluded,
median of 5, with each part's FLOPs (XLA's count, benchmark.flops) and its
share of a float32 matmul's GFLOP/s measured in the same run. "The same,
XLA's gradient" is XLA's own backward pass of the decoder's 28x28 residual
conv, beside the project's, to show why gmn_jax.layers computes the weight
gradient itself.
"""
import argparse
import collections
import glob
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchmark  # noqa: E402
from gmn_jax import config as config_lib  # noqa: E402
from gmn_jax import (data, decoder, encoder, host_memory, layers,  # noqa: E402
                     matching, model)
from gmn_jax.train import RunConfig, parallel  # noqa: E402
from gmn_jax.train import step as train_step  # noqa: E402


def backward(fn, params, x, wrt_input=True):
  """-> (jitted run, its args): fn(params, x) forward and backward, with a
  fixed random output gradient: d/dparams, and d/dx unless x is data. (The
  gradient of a plain sum is a constant that XLA simplifies, flattering the
  timing.)"""
  out = jax.eval_shape(fn, params, x)
  g = jax.random.normal(jax.random.key(1), out.shape, out.dtype)

  @jax.jit
  def run(params, x, g):
    grads = jax.vjp(fn, params, x)[1](g)
    return grads if wrt_input else grads[0]

  return run, (params, x, g)


def controllers(cfg):
  """The three controllers' outputs for an episode batch, from features."""
  def fn(params, feats):  # feats: [B, T, 288]
    def episode(f):
      t = f.shape[0]
      ctx = model.condition(params, cfg, f, jnp.arange(t))
      q = model.posterior(params, cfg, ctx, f)
      read = matching.matching_readout(
          params["controller"], "generative", q.mean, ctx.memory, ctx.mask,
          cfg, cfg.num_passes)
      return jnp.concatenate([read, q.scale, ctx.prior.scale], -1)
    return jax.vmap(episode)(feats)
  return fn


def controllers_backward(params, batch: int = 20, length: int = 20):
  """backward()'s (run, args) for the controllers of the default Config on
  random features of `batch` episodes of `length`: the parts table's row,
  and the controllers' time in step_bound."""
  feats = jax.random.normal(jax.random.key(0),
                            (batch, length, config_lib.FEATURE_DIM))
  return backward(controllers(config_lib.Config()), params, feats)


def kernel_kind(name: str) -> str:
  """A coarse class of a GPU kernel's name (cuBLAS, cuDNN and XLA's)."""
  low = name.lower()
  if "memcpy" in low or "memset" in low:
    return "copy, memset"
  if "cublas" in low or "gemm_fusion" in low or "dot" in low:
    return "matmul"
  if any(k in low for k in ("xmma", "cudnn", "conv")):
    return "convolution (cuDNN)"
  return "XLA fusion (elementwise, reduction, slice update)"


def trace_events(trace_path: str) -> list:
  """The events of a (gzipped) Chrome/Perfetto JSON trace."""
  with gzip.open(trace_path) as f:
    events = json.load(f)
  return events["traceEvents"] if isinstance(events, dict) else events


def kernel_summary(trace_path: str, steps: int, top: int = 15) -> dict:
  """What a device ran, per step, from a Perfetto trace of `steps` steps.

  Kernels are the complete events on the device's stream threads (its
  "XLA Ops"/"XLA Modules" threads repeat them by op). Busy time is the union
  of their intervals: against the step's wall time it says whether the
  device computes or waits (launches, host round trips of a while loop).
  Returns {} when the trace has no device (the CPU backend).
  """
  events = trace_events(trace_path)
  meta = lambda kind: {(e["pid"], e.get("tid")) if kind == "thread_name"
                       else e["pid"]: e["args"]["name"] for e in events
                       if e.get("ph") == "M" and e.get("name") == kind}
  processes, threads = meta("process_name"), meta("thread_name")
  device = {pid for pid, name in processes.items()
            if name.startswith("/device:")}
  per_thread = collections.Counter()
  kernels = []
  for e in events:
    if e.get("ph") != "X" or e["pid"] not in device:
      continue
    thread = threads.get((e["pid"], e.get("tid")), "")
    per_thread[thread] += 1
    if thread.startswith("Stream"):
      kernels.append(e)
  if not kernels:
    return {}
  spans = sorted((float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0)))
                 for e in kernels)
  busy, end = 0.0, -1.0
  for a, b in spans:
    busy += max(0.0, b - max(a, end))
    end = max(end, b)
  by_name = _summed([(e["name"], 1, float(e.get("dur", 0))) for e in kernels])
  # XLA numbers each fusion of a kind (gemm_fusion_dot_179, _245, ...): a
  # kind's many small kernels add up where no one of them ranks.
  family = lambda name: re.sub(r"(_\d+)+$", "", name.split(".")[0])
  grouped = lambda key: _summed([(key(n), c, d)
                                 for n, (c, d) in by_name.items()])
  per_step = lambda c, d: {"per_step": c / steps, "ms_per_step": d / steps / 1e3}
  top_of = lambda totals: [{"name": n[:120], **per_step(c, d)}
                           for n, (c, d) in list(totals.items())[:top]]
  return {"kernels_per_step": len(kernels) / steps,
          "by_kind": {k: per_step(c, d)
                      for k, (c, d) in grouped(kernel_kind).items()},
          "busy_ms_per_step": busy / steps / 1e3,
          "events_per_thread": dict(per_thread),
          "top_kernels": top_of(by_name),
          "top_families": top_of(grouped(family))}


def _summed(rows: list) -> dict:
  """[(key, count, us)] -> {key: [count, us]} summed per key, longest first."""
  totals = collections.defaultdict(lambda: [0, 0.0])
  for key, c, d in rows:
    totals[key][0] += c
    totals[key][1] += d
  return dict(sorted(totals.items(), key=lambda kv: -kv[1][1]))


# (name, K passes unrolled): training's default is "unrolled" off the CPU,
# which the kernel trace records.
TRACE_VARIANTS = (("rolled", False), ("unrolled", True))
TRACED = "unrolled"


def compile_variants(run, mesh, batch) -> dict:
  """{name: (compiled step, its state, compile seconds)} for TRACE_VARIANTS,
  compiled ahead of time so that each keeps its own flags whatever runs
  between its calls."""
  unroll_before = matching.UNROLL_PASSES
  out = {}
  try:
    for name, unroll in TRACE_VARIANTS:
      matching.UNROLL_PASSES = unroll
      train_step.make_train_step.cache_clear()
      jax.clear_caches()
      state = parallel.replicate(train_step.init_state(run), mesh)
      t = time.perf_counter()
      fn = train_step.make_train_step(run, mesh).lower(state, batch).compile()
      out[name] = (fn, state, time.perf_counter() - t)
  finally:
    matching.UNROLL_PASSES = unroll_before
    train_step.make_train_step.cache_clear()
  return out


def interleaved_ms(variants: dict, batches: list, blocks: int,
                   steps: int) -> dict:
  """Pipelined wall ms per step of each variant, timed in `blocks` blocks of
  `steps` steps taken in turn (the order reversed every other block), so a
  drift of the machine's speed hits all alike: {name: (median ms, [ms per
  block])}; updates each variant's state in place."""
  names = list(variants)
  per_block = {name: [] for name in names}
  for b in range(-1, blocks):  # block -1 warms up
    for name in (names if b % 2 == 0 else names[::-1]):
      fn, state, c = variants[name]
      t = time.perf_counter()
      for i in range(steps):
        state, m = fn(state, batches[i % len(batches)])
      jax.block_until_ready(m)
      variants[name] = (fn, state, c)
      if b >= 0:
        per_block[name].append((time.perf_counter() - t) / steps * 1e3)
  return {n: (float(np.median(v)), v) for n, v in per_block.items()}


def paper_batches(run, mesh, count: int = 4) -> list:
  """`count` training batches of the paper's episodes, placed as training
  places them."""
  images = data.load_split("train").images
  return [parallel.shard_batch(data.episode_batch(
      images, run.episodes, run.batch_size, run.seed, s), mesh)
          for s in range(count)]


def profiler_trace(fn, state, batches, steps: int) -> str:
  """The path of a Perfetto trace of `steps` steps of fn."""
  trace_dir = tempfile.mkdtemp(prefix="gmn_trace_")
  with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
    for i in range(steps):
      state, m = fn(state, batches[i % len(batches)])
    jax.block_until_ready(m)
  (path,) = glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"),
                      recursive=True)
  return path


def trace_train_step(steps: int = 20, blocks: int = None) -> dict:
  """The paper's train step (B = 20) as training runs it, pipelined: wall ms
  per step of each of TRACE_VARIANTS (interleaved_ms; `blocks` of 10 steps,
  default 20, 4 on a CPU), each variant's median block against the first's,
  and a kernel trace of `steps` steps of TRACED."""
  if blocks is None:
    blocks = 4 if jax.default_backend() == "cpu" else 20
  run = RunConfig()
  mesh = parallel.data_mesh()
  batches = paper_batches(run, mesh)
  variants = compile_variants(run, mesh, batches[0])
  timings = interleaved_ms(variants, batches, blocks, 10)
  base = np.array(timings[TRACE_VARIANTS[0][0]][1])
  result = {"traced": TRACED}
  for name, (ms, blocks_ms) in timings.items():
    result[name] = {"compile_s": variants[name][2], "wall_ms_per_step": ms,
                    "ratio_to_first": float(np.median(np.array(blocks_ms)
                                                      / base))}
    print(f"{name}: {ms:.2f} ms/step (pipelined, median of {blocks} "
          f"interleaved blocks of 10), x{result[name]['ratio_to_first']:.3f} "
          f"of {TRACE_VARIANTS[0][0]}'s, compile {variants[name][2]:.0f} s",
          flush=True)
  fn, state, _ = variants[TRACED]
  path = profiler_trace(fn, state, batches, steps)
  result["trace_file"] = path
  result[TRACED].update(kernel_summary(path, steps))
  return result


# XLA:CPU writes a trace event for every HLO instruction it runs only with
# this flag, which must be set before the backend starts.
CPU_OP_EVENTS = "--xla_cpu_enable_xprof_traceme=true"
# Instructions whose events span the instructions of their bodies.
CONTROL_FLOW = ("while", "conditional", "call")


def hlo_instructions(hlo_text: str) -> dict:
  """{instruction: (result shape, JAX op_name)} of an HLO module's text."""
  out = {}
  for line in hlo_text.splitlines():
    m = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = (\S+) ", line)
    if m:
      op = re.search(r'op_name="([^"]*)"', line)
      out[m.group(1)] = (m.group(2), op.group(1) if op else "")
  return out


def op_summary(trace_path: str, steps: int, instructions: dict,
               top: int = 15) -> dict:
  """Milliseconds per step of each HLO instruction the trace ran (its
  complete events, named as the instruction), by instruction and by kind
  (the name without its ".N"). Control flow is left out: a while loop's time
  is its body's instructions'. Summed over threads: the total can exceed the
  step's wall time."""
  by_name = collections.defaultdict(lambda: [0, 0.0])
  for e in trace_events(trace_path):
    if (e.get("ph") == "X" and e["name"] in instructions
        and not e["name"].startswith(CONTROL_FLOW)):
      by_name[e["name"]][0] += 1
      by_name[e["name"]][1] += float(e.get("dur", 0))
  by_kind = collections.Counter()
  for name, (_, dur) in by_name.items():
    by_kind[re.sub(r"\.\d+$", "", name)] += dur
  ms = lambda dur: dur / steps / 1e3
  ranked = sorted(by_name.items(), key=lambda kv: -kv[1][1])[:top]
  return {"ops_ms_per_step": ms(sum(d for _, d in by_name.values())),
          "by_kind": {k: ms(d) for k, d in by_kind.most_common(top)},
          "top_ops": [{"name": n, "ms_per_step": ms(d), "per_step": c / steps,
                       "shape": instructions[n][0],
                       "op_name": instructions[n][1]}
                      for n, (c, d) in ranked]}


def ops_main(steps: int = 5):
  """The paper's train step (B = 20) on a CPU: wall ms per step, and its
  HLO ops' time from a profiler trace of `steps` steps."""
  run = RunConfig()
  mesh = parallel.data_mesh()
  batches = paper_batches(run, mesh)
  state = parallel.replicate(train_step.init_state(run), mesh)
  fn = train_step.make_train_step(run, mesh).lower(state, batches[0]).compile()
  variants = {"step": (fn, state, 0.0)}
  timings = interleaved_ms(variants, batches, 4, 10)
  path = profiler_trace(*variants["step"][:2], batches, steps)  # state donated
  result = {"wall_ms_per_step": timings["step"][0],
            **op_summary(path, steps, hlo_instructions(fn.as_text()))}
  print(f"wall {result['wall_ms_per_step']:.1f} ms per step; the ops' own "
        f"times, summed over threads: {result['ops_ms_per_step']:.1f} ms")
  for op in result["top_ops"]:
    print(f"  {op['ms_per_step']:6.2f} ms  x{op['per_step']:<4.0f} "
          f"{op['name']} {op['shape']}  {op['op_name'][-70:]}")
  path = os.path.join(HERE, "results", f"ops_{benchmark.device_name()}.json")
  benchmark.write_result(path, {"device": jax.devices()[0].device_kind,
                                "jax_version": jax.__version__, **result})
  benchmark.write_readme()
  print(f"wrote {path} and benchmarks/README.md")


def conv_shapes(batch: int = 20, length: int = 20) -> list:
  """Every convolution of psi and the generator on a step's B * T images, as
  {"part", "x", "w", "stride", "padding"} (shapes), recorded while tracing
  with abstract inputs: nothing runs."""
  cfg = config_lib.Config()
  params = jax.eval_shape(lambda: model.init_params(jax.random.key(0), cfg))
  n, seen, original = batch * length, [], layers._conv

  def record(x, w, stride, padding):
    seen.append({"part": part, "x": x.shape, "w": w.shape, "stride": stride,
                 "padding": padding})
    return original(x, w, stride, padding)

  layers._conv = record
  try:
    for part, fn, p, dim in (
        ("psi", encoder.encode, params["encoder"], 784),
        ("generator", decoder.decode, params["decoder"],
         cfg.latent_dim + cfg.readout_dim)):
      jax.eval_shape(fn, p, jax.ShapeDtypeStruct((n, dim), jnp.float32))
  finally:
    layers._conv = original
  return seen


def conv_matmuls(conv: dict) -> dict:
  """A convolution's forward, input-gradient and weight-gradient products as
  the matmuls of their im2col forms: {name: (m, k, n)} for [m, k] x [k, n].
  The input gradient is a convolution of the output gradient with the flipped
  kernel, as XLA computes it: s^2 rows per output pixel (the input pixels of
  a SAME convolution), each reading the ceil(k / s)^2 taps of the output
  gradient that reach it (for s = 1 the forward's FLOPs; more where the
  stride does not divide the kernel)."""
  n_img, h = conv["x"][0], conv["x"][1] + sum(conv["padding"][0])
  k, _, c_in, c_out = conv["w"]
  s = conv["stride"]
  rows = n_img * ((h - k) // s + 1) ** 2
  return {"forward": (rows, k * k * c_in, c_out),
          "input gradient": (rows * s * s, (-(-k // s)) ** 2 * c_out, c_in),
          "weight gradient": (k * k * c_in, rows, c_out)}


def matmul_bound(timed_rows: list) -> float:
  """[(flops, seconds)] -> their GFLOP/s together: the FLOPs over the time
  all of them take one after the other."""
  return sum(f for f, _ in timed_rows) / sum(s for _, s in timed_rows) / 1e9


def product_copies(m: int, k: int, n: int, copies: int = 32,
                   max_bytes: int = 2**30) -> tuple:
  """(fn, a, b): fn(a, b) computes `copies` float32 [m, k] x [k, n]
  products in one jitted call (fewer where their operands and results would
  pass max_bytes). Every copy has its own operands, so that XLA's dot merger
  (on GPUs) cannot turn them into one wider product."""
  copies = int(max(1, min(copies, max_bytes // (4 * (m * k + k * n + m * n)))))
  fn = jax.jit(lambda a, b: [jnp.dot(x, y, precision="highest")
                             for x, y in zip(a, b)])
  a = [jnp.full((m, k), 1.0 + i, jnp.float32) for i in range(copies)]
  b = [jnp.ones((k, n), jnp.float32) for _ in range(copies)]
  return fn, a, b


def product_seconds(m: int, k: int, n: int, reps: int) -> float:
  """Seconds of one float32 [m, k] x [k, n] product, timed as product_copies'
  call, its calls back to back. A GPU takes ~0.05 ms to dispatch a call
  (H100, session 21), longer than most of these kernels: one product per
  call timed the dispatch instead."""
  fn, a, b = product_copies(m, k, n)
  return benchmark.timed(fn, a, b, reps=reps, min_rep_s=0.02) / len(a)


def step_bound(step_gflop: float, conv_s: float, controllers_s: float) -> float:
  """GFLOP/s of a step whose convolutions took `conv_s` (their products at
  their ideal), whose controllers took `controllers_s` (as they run) and whose
  other work (im2col, activations, pooling, the likelihood, Adam) took no
  time: what making psi and the generator faster could give the step at most."""
  return step_gflop / (conv_s + controllers_s)


def shapes_main(reps: int = 5):
  """The B = 20 step's convolutions, each product timed alone as one float32
  matmul of its im2col shape (no patches built, nothing around it; no
  dispatch per product, product_seconds) and credited with the forward's
  FLOPs: an upper bound on the share of the matmul ceiling the convolutions
  could reach; and the whole B = 20 step and its controllers, timed in the
  same run, for step_bound. The ceiling is measured before and after them
  and the larger kept, as benchmark.py does: one measurement in a slow spell
  (387 against 427-441 GFLOP/s within the hour, CPU, session 21) flatters
  every share."""
  ceiling_runs = [benchmark.matmul_ceiling(reps=reps)]
  seconds, rows = {}, []
  for conv in conv_shapes():
    products = conv_matmuls(conv)
    useful = 2 * np.prod(products["forward"])  # each product's, as XLA counts
    for product, (m, k, n) in products.items():
      if (m, k, n) not in seconds:
        seconds[m, k, n] = product_seconds(m, k, n, reps)
      rows.append({"part": conv["part"], "w": list(conv["w"]),
                   "stride": conv["stride"], "product": product,
                   "shape": [m, k, n], "gflop": useful / 1e9,
                   "ms": seconds[m, k, n] * 1e3})
  # The whole step and its controllers, in the same run: how much of the
  # step the convolutions' bound leaves room for.
  step = benchmark.bench_train(20, data.load_split("train").images, reps)
  run, args = controllers_backward(
      model.init_params(jax.random.key(0), config_lib.Config()))
  controllers_s = benchmark.timed(run, *args, reps=reps)
  ceiling_runs.append(benchmark.matmul_ceiling(reps=reps))
  ceiling = max(ceiling_runs)
  bound = matmul_bound([(r["gflop"] * 1e9, r["ms"] / 1e3) for r in rows])
  whole = step_bound(step["gflop"], sum(r["ms"] for r in rows) / 1e3,
                     controllers_s)
  for r in rows:
    print(f"{r['part']:9s} w {r['w']} s{r['stride']} {r['product']:15s} "
          f"{r['shape']} {r['ms']:6.2f} ms "
          f"{benchmark.ceiling_share(r['gflop'], r['ms'], ceiling):4.0%}")
  print(f"all: {bound:.0f} GFLOP/s = {bound / ceiling:.0%} of the "
        f"{ceiling:.0f} GFLOP/s ceiling")
  print(f"the B = 20 step: {step['gflops_per_s']:.0f} GFLOP/s = "
        f"{step['gflops_per_s'] / ceiling:.0%}; with these convolutions, the "
        f"controllers ({controllers_s * 1e3:.1f} ms) and nothing else: "
        f"{whole:.0f} GFLOP/s = {whole / ceiling:.0%}")
  path = os.path.join(HERE, "results", f"shapes_{benchmark.device_name()}.json")
  benchmark.write_result(path, {"device": jax.devices()[0].device_kind,
                                "jax_version": jax.__version__,
                                "matmul_ceiling_gflops_per_s": ceiling,
                                "matmul_ceiling_runs_gflops_per_s": ceiling_runs,
                                "bound_gflops_per_s": bound, "products": rows,
                                "step": step, "controllers_ms": controllers_s * 1e3,
                                "step_bound_gflops_per_s": whole})
  benchmark.write_readme()
  print(f"wrote {path} and benchmarks/README.md")


def trace_main(copy_to: str = None, blocks: int = None):
  result = trace_train_step(blocks=blocks)
  if copy_to:
    os.makedirs(copy_to, exist_ok=True)
    shutil.copy(result["trace_file"], copy_to)
  traced = result[result["traced"]]
  if "kernels_per_step" in traced:
    print(f"{result['traced']}: {traced['kernels_per_step']:.0f} kernels per "
          f"step, device busy {traced['busy_ms_per_step']:.2f} of "
          f"{traced['wall_ms_per_step']:.2f} ms; by kind:")
    for kind, k in traced["by_kind"].items():
      print(f"  {k['ms_per_step']:.3f} ms  x{k['per_step']:.0f}  {kind}")
  path = os.path.join(HERE, "results", f"trace_{benchmark.device_name()}.json")
  benchmark.write_result(path, {"device": jax.devices()[0].device_kind,
                                "jax_version": jax.__version__,
                                "xla_flags": os.environ.get("XLA_FLAGS", ""),
                                **result})
  print(f"wrote {path}")


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--trace", action="store_true",
                 help="profile the whole step's device kernels instead")
  p.add_argument("--trace_copy", help="with --trace: copy the Perfetto "
                 "trace (open it in ui.perfetto.dev) into this folder")
  p.add_argument("--blocks", type=int, help="with --trace: interleaved "
                 "blocks of 10 steps per variant (default 20; 4 on a CPU)")
  p.add_argument("--shapes", action="store_true", help="the step's "
                 "convolutions timed as matmuls of their im2col shapes")
  p.add_argument("--ops", action="store_true", help="the whole step's HLO "
                 "ops by time, on a CPU")
  args = p.parse_args()
  if args.ops and CPU_OP_EVENTS not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {CPU_OP_EVENTS}"
  host_memory.restart_with_huge_pages()  # as train.py runs
  if args.ops:
    return ops_main()
  if args.shapes:
    return shapes_main()
  if args.trace:
    return trace_main(args.trace_copy, args.blocks)
  cfg = config_lib.Config()
  b, t = 20, 20
  n = b * t
  key = jax.random.key(0)
  params = model.init_params(key, cfg)
  x = (jax.random.uniform(key, (n, 784)) < 0.1).astype(jnp.float32)
  dec_in = jax.random.normal(key, (n, cfg.latent_dim + cfg.readout_dim))
  h13 = jax.random.normal(key, (n, 13, 13, 16))
  h28 = jax.random.normal(key, (n, 28, 28, 16))
  last = params["decoder"]["sections"][-1]
  xla_conv = lambda p, h: jax.lax.conv_general_dilated(
      h, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  parts = [
      ("psi (encoder)",
       backward(encoder.encode, params["encoder"], x, wrt_input=False)),
      ("controllers (prior, recognition, generative)",
       controllers_backward(params, b, t)),
      ("generator", backward(decoder.decode, params["decoder"], dec_in)),
      ("  its last section (13 -> 28)", backward(layers.up_section, last, h13)),
      ("    transposed conv 13 -> 28", backward(
          lambda p, h: layers.conv_transpose(p, h, 2), last["conv"], h13)),
      ("    3x3 conv at 28x28", backward(layers.conv, last["block"], h28)),
      ("    the same, XLA's gradient", backward(xla_conv, last["block"], h28)),
  ]
  ceiling = benchmark.matmul_ceiling(reps=5)
  rows, gflop = {}, {}
  print(f"| part (B = {b}, T = {t}: {n} images), forward + backward | ms | "
        f"GFLOP | of the {ceiling:.0f} GFLOP/s matmul ceiling |")
  print("|---|---|---|---|")
  for name, (run, args) in parts:
    key = name.strip()
    rows[key] = benchmark.timed(run, *args, reps=5) * 1000
    gflop[key] = benchmark.flops(run, *args) / 1e9
    print(f"| {name} | {rows[key]:.1f} | {gflop[key]:.2f} | "
          f"{benchmark.ceiling_share(gflop[key], rows[key], ceiling):.0%} |")
  device = jax.devices()[0]
  path = os.path.join(HERE, "results", f"profile_{benchmark.device_name()}.json")
  benchmark.write_result(path, {"device": device.device_kind,
                                "jax_version": jax.__version__, "ms": rows,
                                "gflop": gflop,
                                "matmul_ceiling_gflops_per_s": ceiling})
  benchmark.write_readme()
  print(f"wrote {path} and benchmarks/README.md")


if __name__ == "__main__":
  main()
