r"""Speed of the paper's GMN on whatever backend JAX finds.

  python benchmarks/benchmark.py            # writes benchmarks/results/<device>.json
  python benchmarks/benchmark.py --quick    # fewer repetitions, B in {1, 20}
  python benchmarks/benchmark.py --count_flops=results/<device>.json
      # counts here the FLOPs a run left uncounted (times stand as measured)

Compile time excluded (one warm-up call), median of several repetitions.
FLOPs come from XLA's cost analysis of the lowered function; the ceiling is
a large matmul measured at the start and the end of the same run (the
larger kept), in float32 and in bfloat16 inputs (the bfloat16 rows,
gmn_jax.precision, compare against the latter). Then
benchmarks/README.md is regenerated from every JSON in benchmarks/results/.
"""
import argparse
import collections
import json
import os
import resource
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the per-t reference

import gmn_jax  # noqa: E402
from gmn_jax import data, host_memory, likelihood  # noqa: E402
from gmn_jax.train import RunConfig, parallel  # noqa: E402
from gmn_jax.train import step as train_step  # noqa: E402
from gmn_jax.train.loop import git_commit  # noqa: E402


def timed(fn, *args, reps, min_rep_s=0.0):
  """Median seconds of one fn(*args) call after one warm-up (compile) call.

  With min_rep_s, each repetition dispatches as many calls back to back as
  take min_rep_s (by one call timed after the warm-up, at most 1000) and
  waits once: a GPU's wait per call (~0.08 ms on an H100) would otherwise hide
  any kernel shorter than it.
  """
  jax.block_until_ready(fn(*args))
  calls = 1
  if min_rep_s:
    t = time.perf_counter()
    jax.block_until_ready(fn(*args))
    calls = int(min(1000, max(1, min_rep_s // (time.perf_counter() - t))))
  times = []
  for _ in range(reps):
    t = time.perf_counter()
    jax.block_until_ready([fn(*args) for _ in range(calls)])
    times.append((time.perf_counter() - t) / calls)
  return float(np.median(times))


def flops(jitted, *args) -> float:
  """FLOPs of one call by XLA's cost analysis, every controller pass and
  every image's convolution weight gradient counted (XLA counts a loop's
  body once: the passes unrolled, XLA's own weight gradient in place of the
  CPU's chunked loop, gmn_jax.layers.CHUNKED_WEIGHT_GRADIENT).

  Of the function lowered for the CPU, whatever the backend: the same count
  everywhere (a compiled GPU module hands convolutions to library calls, and
  jaxlib 0.11's GPU client gives no count of its lowering), no compile, and
  within 4% of the compiled CPU module's count (B = 1, 20 train steps and
  S = 10 evaluation, measured). `args` may be abstract (jax.ShapeDtypeStruct).
  The CPU is the default device while lowering: a function without
  shardings is otherwise lowered for the default backend's client, whose
  analysis on a GPU gives nothing (the evaluation rows, H100, 3f89e62).
  """
  from gmn_jax import layers, matching
  previous = matching.UNROLL_PASSES, layers.CHUNKED_WEIGHT_GRADIENT
  matching.UNROLL_PASSES, layers.CHUNKED_WEIGHT_GRADIENT = True, False
  jax.clear_caches()  # traces are cached without the flags: retrace both ways
  try:
    with jax.default_device(jax.devices("cpu")[0]):
      cost = jitted.trace(*args).lower(
          lowering_platforms=("cpu",)).cost_analysis()
  finally:
    matching.UNROLL_PASSES, layers.CHUNKED_WEIGHT_GRADIENT = previous
    jax.clear_caches()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  if not cost:  # a row without its FLOPs beats a benchmark that stops here
    print("warning: XLA gave no cost analysis; GFLOP/s not measured", flush=True)
    return float("nan")
  return float(cost.get("flops", 0.0))


def matmul_ceiling(reps, dtype="float32"):
  """GFLOP/s of a large matmul with `dtype` inputs, float32 accumulation;
  float32 in full float32, as the model multiplies (not a GPU's TF32)."""
  n = 4096 if jax.default_backend() != "cpu" else 2048
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32).astype(dtype)
  precision = jax.lax.Precision.HIGHEST if dtype == "float32" else None
  f = jax.jit(lambda a: jnp.dot(a, a, precision=precision,
                                preferred_element_type=jnp.float32))
  return 2 * n ** 3 / timed(f, a, reps=reps) / 1e9


def _throughput(count: float, seconds: float) -> dict:
  return {"gflop": count / 1e9, "gflops_per_s": count / seconds / 1e9}


def bench_train(batch, images, reps, matmul_dtype="float32"):
  run = RunConfig(batch_size=batch, matmul_dtype=matmul_dtype)
  mesh = parallel.data_mesh()
  fn = train_step.make_train_step(run, mesh)
  state = parallel.replicate(train_step.init_state(run), mesh)
  x = parallel.shard_batch(data.episode_batch(images, run.episodes, batch, 0, 0),
                           mesh)
  # Counted on a step built for the CPU: its shardings must match the lowering.
  abstract = lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype)
  f = flops(train_step.make_train_step(run, parallel.data_mesh(
      jax.devices("cpu")[:1])), *jax.tree.map(abstract, (state, x)))
  holder = {"state": state}

  def one(x):  # the step donates its state: thread it through
    holder["state"], m = fn(holder["state"], x)
    return m["loss"]

  sec = timed(one, x, reps=reps)
  return {"batch": batch, "matmul_dtype": matmul_dtype, "step_s": sec,
          "steps_per_s": 1 / sec,
          "episodes_per_s": batch / sec, **_throughput(f, sec)}


def _evaluation(num_samples, chunk):
  """The jitted likelihood of bench_eval: (params, x, keys) -> NLLs."""
  config = gmn_jax.Config()
  return jax.jit(lambda params, x, keys: likelihood.batch_conditional_nll(
      params, x, keys, config=config, num_samples=num_samples, chunk=chunk))


def eval_flops(num_samples, matmul_dtype="float32") -> float:
  """FLOPs of bench_eval's call: one episode, `num_samples` samples of z.

  Chunks of samples run in a loop whose body the cost analysis counts once:
  count the same work in one chunk (lowered only, never run). Every input
  abstract: arrays committed to a GPU, closed over, leave the CPU lowering
  without a cost analysis (H100, session 16)."""
  params, keys = jax.eval_shape(lambda: (gmn_jax.cast_kernels(
      gmn_jax.init_params(jax.random.key(0), gmn_jax.Config()), matmul_dtype),
      jax.random.key(0)[None]))
  x = jax.ShapeDtypeStruct((1, data.EpisodeSpec().length, 784), jnp.float32)
  return flops(_evaluation(num_samples, num_samples), params, x, keys)


def bench_eval(num_samples, params, x, reps, matmul_dtype="float32"):
  params = gmn_jax.cast_kernels(params, matmul_dtype)
  sec = timed(_evaluation(num_samples, None), params, x,
              jax.random.key(0)[None], reps=reps)
  return {"num_samples": num_samples, "matmul_dtype": matmul_dtype, "s": sec,
          "samples_per_s": num_samples / sec,
          **_throughput(eval_flops(num_samples, matmul_dtype), sec)}


def bench_sequential(params, x, reps, length=10):
  """The per-t reference (memory rebuilt for every t) vs the parallel pass,
  both jitted, on the same `length` images and the same 10 samples of z
  (the reference unrolls t in Python: a full T = 20 takes minutes to
  compile)."""
  x = x[:length]
  from test_likelihood import reference_log_weights
  config = gmn_jax.Config()
  eps = jax.random.normal(jax.random.key(1), (10, x.shape[0], config.latent_dim))
  slow = jax.jit(lambda x, e: reference_log_weights(params, config, x, e))
  fast = jax.jit(lambda x, e: likelihood.log_weights(params, config, x, e))
  np.testing.assert_allclose(slow(x, eps), fast(x, eps), rtol=1e-3)
  t_slow, t_fast = timed(slow, x, eps, reps=reps), timed(fast, x, eps, reps=reps)
  return {"episode_length": length, "sequential_s": t_slow, "parallel_s": t_fast,
          "speedup": t_slow / t_fast}


def write_result(path: str, record: dict) -> None:
  """record and the commit as JSON at path. The commit is read first: opening
  the file truncates it, and a tracked results file would mark the tree
  dirty."""
  record = {**record, "commit": git_commit()}
  with open(path, "w") as f:
    json.dump(record, f, indent=2)


def device_name() -> str:
  """The results file's name: "cpu", or the accelerator's kind."""
  device = jax.devices()[0]
  if device.platform == "cpu":
    return "cpu"
  return device.device_kind.replace(" ", "_").lower()


def _cell(value, spec=".1f", suffix=""):
  """A table cell: a number not (yet) measured or counted shows as n/a."""
  if value is None or not np.isfinite(value):
    return "n/a"
  return f"{value:{spec}}{suffix}"


def _share(part, whole):
  return None if part is None else part / whole


def ceiling_share(gflop: float, ms: float, ceiling: float) -> float:
  """The share of a ceiling (GFLOP/s) that `gflop` done in `ms` reaches."""
  return gflop / ms * 1e3 / ceiling


def trace_section(r: dict) -> str:
  """README text of a `profile_step.py --trace` result."""
  traced = r["traced"]
  variants = [(n, v) for n, v in r.items()
              if isinstance(v, dict) and "wall_ms_per_step" in v]
  text = (f"\n## The whole training step on the device ({r['device']}, commit "
          f"{r['commit']}; `python benchmarks/profile_step.py --trace`)\n\n"
          "B = 20, pipelined as training runs it, ms per step: "
          + ", ".join(f"{n.replace('_', ' ')} {v['wall_ms_per_step']:.2f}"
                      + (f" (x{v['ratio_to_first']:.3f})"
                         if "ratio_to_first" in v else "")
                      for n, v in variants) + ".")
  if any("ratio_to_first" in v for _, v in variants):
    text += (" In brackets: the median over interleaved blocks of each "
             "block's time against the first variant's.")
  t = r[traced]
  if "kernels_per_step" in t:
    text += (f" A trace of the {traced} step: {t['kernels_per_step']:.0f} "
             f"kernels per step, the device busy {t['busy_ms_per_step']:.2f}"
             " ms of it (the longest kernels are in the JSON).\n\n"
             "| kernels | per step | ms per step | mean µs |\n|---|---|---|---|\n"
             + "".join(f"| {kind} | {k['per_step']:.0f} | {k['ms_per_step']:.3f}"
                       f" | {1e3 * k['ms_per_step'] / k['per_step']:.1f} |\n"
                       for kind, k in t["by_kind"].items()))
  if "top_families" in t:  # the kernels of each kind, its numbers dropped
    text += ("\n| longest kernel families | per step | ms per step |\n"
             "|---|---|---|\n" + "".join(
                 f"| `{f['name'][:60]}` | {f['per_step']:.0f} | "
                 f"{f['ms_per_step']:.3f} |\n" for f in t["top_families"][:8]))
  return text + "\n"


def _names(suffix: str) -> list:
  """The files in results/ whose names end with suffix, sorted."""
  return sorted(n for n in os.listdir(os.path.join(HERE, "results"))
                if n.endswith(suffix))


def _results(keep) -> list:
  """The JSON files in results/ whose names `keep` accepts, loaded, by name."""
  out = []
  for name in filter(keep, _names(".json")):
    with open(os.path.join(HERE, "results", name)) as f:
      out.append(json.load(f))
  return out


def profile_section(r: dict) -> str:
  head = (f"\n## Where a training step's time goes ({r['device']}, commit "
          f"{r['commit']}; `python benchmarks/profile_step.py`)\n\n")
  ceiling = r["matmul_ceiling_gflops_per_s"]
  return (head + "Of ceiling: the part's GFLOP/s (XLA's count) over a float32 "
          f"matmul's, {ceiling:.0f} GFLOP/s in the same run.\n\n"
          "| part, forward + backward at B = 20, T = 20 | ms | GFLOP | of "
          "ceiling |\n|---|---|---|---|\n"
          + "".join(f"| {k} | {ms:.1f} | {r['gflop'][k]:.2f} | "
                    f"{ceiling_share(r['gflop'][k], ms, ceiling):.0%} |\n"
                    for k, ms in r["ms"].items()))


def xla_flags_section(r: dict) -> str:
  # Files before the host settings name each row by its flags alone.
  return (f"\n## XLA's own options and the host's malloc on the training "
          f"step ({r['device']}, commit {r['commit']}; `python "
          "benchmarks/xla_flags.py`)\n\n"
          f"Each setting in its own process, {r['rounds']} rounds; the "
          "ratio to the default's time in the same round (median).\n\n"
          "| XLA_FLAGS or environment | what | ms per step | x default |\n"
          "|---|---|---|---|\n"
          + "".join(f"| `{s.get('setting', s['flags'] or '(none)')}` | "
                    f"{s['what']} | "
                    f"{np.median(s['ms_per_step']):.0f} | "
                    f"{s['ratio_to_default']:.3f} |\n"
                    for s in r["flag_sets"]))


def ops_section(r: dict) -> str:
  return (f"\n## The training step's HLO ops ({r['device']}, commit "
          f"{r['commit']}; `python benchmarks/profile_step.py --ops`)\n\n"
          f"B = 20: {r['wall_ms_per_step']:.0f} ms per step (wall); the ops' "
          f"own times, summed over the threads that ran them: "
          f"{r['ops_ms_per_step']:.0f} ms. By kind (`ynn_fusion`: YNNPACK's "
          "dots and convolutions; the rest XLA's fused loops, copies and "
          "library calls):\n\n| kind | ms per step |\n|---|---|\n"
          + "".join(f"| `{k}` | {ms:.1f} |\n"
                    for k, ms in list(r["by_kind"].items())[:8])
          + "\n| op | ms per step | runs per step | result | JAX op |\n"
          "|---|---|---|---|---|\n"
          + "".join(f"| `{o['name']}` | {o['ms_per_step']:.1f} | "
                    f"{o['per_step']:.0f} | `{o['shape'].split('{')[0]}` | "
                    f"`{o['op_name'].split('/')[-1]}` |\n"
                    for o in r["top_ops"][:10]))


def _step_bound(r: dict) -> str:
  """shapes_section's sentence on the whole step (runs since the field)."""
  if "step_bound_gflops_per_s" not in r:
    return ""
  ceiling, step = r["matmul_ceiling_gflops_per_s"], r["step"]
  return (f" The whole B = 20 step in the same run: {step['gflop']:.1f} GFLOP "
          f"in {step['step_s'] * 1e3:.0f} ms, "
          f"{step['gflops_per_s'] / ceiling:.0%} of the ceiling. With its "
          "convolutions at these times, its controllers' forward and backward "
          f"as they run alone ({r['controllers_ms']:.0f} ms) and everything "
          "else (patches, activations, pooling, the likelihood, Adam) free, it "
          f"would reach **{r['step_bound_gflops_per_s'] / ceiling:.0%}**: the "
          "most that faster convolutions in psi and the generator could give.")


def shapes_section(r: dict) -> str:
  ceiling = r["matmul_ceiling_gflops_per_s"]
  by_product = collections.defaultdict(lambda: [0.0, 0.0])
  for p in r["products"]:
    by_product[(p["part"], p["product"])][0] += p["gflop"]
    by_product[(p["part"], p["product"])][1] += p["ms"]
  return (f"\n## The step's convolutions as ideal matmuls ({r['device']}, "
          f"commit {r['commit']}; `python benchmarks/profile_step.py "
          "--shapes`)\n\n"
          "Each convolution's forward, input-gradient and weight-gradient "
          "product at B = 20, T = 20, timed alone as one float32 matmul of its "
          "im2col shape (the input gradient as XLA computes it, a "
          "convolution of the output gradient with the flipped kernel), with "
          "no patches built and nothing around it, and credited with the "
          "forward's FLOPs (the input gradients of psi's two convolutions of "
          "the data included): what the convolutions could reach at best. "
          "Together "
          f"{r['bound_gflops_per_s']:.0f} GFLOP/s, "
          f"**{r['bound_gflops_per_s'] / ceiling:.0%}** of the {ceiling:.0f} "
          "GFLOP/s ceiling measured in the same run." + _step_bound(r) +
          "\n\n| part | product | GFLOP | ms | of ceiling |\n|---|---|---|---|---|\n"
          + "".join(f"| {part} | {product} | {g:.2f} | {ms:.1f} | "
                    f"{ceiling_share(g, ms, ceiling):.0%} |\n"
                    for (part, product), (g, ms) in by_product.items()))


# A results file whose name starts with one of these is a README section of
# its own, in this order; any other is a row of the device table.
SECTIONS = {"profile_": profile_section, "trace_": trace_section,
            "ops_": ops_section, "shapes_": shapes_section,
            "xla_flags_": xla_flags_section}


def write_readme():
  rows = []
  for r in _results(lambda name: not name.startswith(tuple(SECTIONS))):
    r = {**r, **summary(r, file_ceilings(r))}  # files before a field have its rows
    bf16 = r["bfloat16"]
    partial = "" if r.get("complete", True) else " (cut short)"
    partial += "" if r.get("weight_gradients_counted") else " (FLOPs low)"
    rows.append(" | ".join([
        f"| {r['device']}{partial}", _cell(r["train_episodes_per_s"]),
        _cell(r["train_gflops_per_s"]),
        _cell(r["matmul_ceiling_gflops_per_s"]),
        _cell(_share(r["train_gflops_per_s"],
                     r["matmul_ceiling_gflops_per_s"]), ".0%"),
        _cell(r["eval_samples_per_s"], ".0f"),
        _cell(_share(r["eval_gflops_per_s"],
                     r["matmul_ceiling_gflops_per_s"]), ".0%"),
        _cell(bf16["train_episodes_per_s"]),
        _cell(_share(bf16["train_gflops_per_s"],
                     bf16["matmul_ceiling_gflops_per_s"]), ".0%"),
        _cell(bf16["eval_samples_per_s"], ".0f"),
        _cell(_share(bf16["eval_gflops_per_s"],
                     bf16["matmul_ceiling_gflops_per_s"]), ".0%"),
        _cell(r["speedup_vs_sequential"], suffix="x"),
        _cell(r["peak_rss_mb"], ".0f"), r["jax_version"],
        f"{r['commit']} |"]))
  text = (
      "# Benchmarks\n\nGenerated by `python benchmarks/benchmark.py` from "
      "`results/*.json` (one file per device). Train: the paper's GMN, B = 20 "
      "episodes of T = 20, K = 4. Eval: importance samples per second for one "
      "episode at S = 1000. Of ceiling: useful GFLOP/s (XLA's count) over "
      "the matmul's. Speed-up: the parallel likelihood over the per-t "
      "reference of the tests, both jitted. bf16: bfloat16 matmul inputs "
      "(`--matmul_dtype=bfloat16`), against a bfloat16 matmul's ceiling.\n\n"
      "| device | train episodes/s | train GFLOP/s | matmul GFLOP/s | of ceiling"
      " | eval samples/s | eval of ceiling | bf16 train episodes/s | bf16 of "
      "ceiling | bf16 eval samples/s | bf16 eval of ceiling | speed-up | peak "
      "RSS MB | jax | commit |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
      + "\n".join(rows) + "\n")
  if any("(FLOPs low)" in row for row in rows):
    text += ("\nFLOPs low: measured before the count included every image's "
             "convolution weight gradient (commit 9281156), so its training "
             "GFLOP/s and shares of the ceiling are ~15% low (17.6 against "
             "20.8 GFLOP per step at B = 20); its times stand.\n")
  for prefix, section in SECTIONS.items():
    text += "".join(section(r) for r in _results(
        lambda name: name.startswith(prefix)))
  logs = _names(".log")
  if logs:
    text += ("\nRuns cut short before their results file was written (a header "
             "in each says how): " + ", ".join(f"`results/{n}`" for n in logs)
             + ".\n")
  with open(os.path.join(HERE, "README.md"), "w") as f:
    f.write(text)


def summary(result, ceilings) -> dict:
  """The top-level fields of the results file from the rows measured so far
  (None where a row is still missing)."""
  def row(rows, key, value, dtype):
    return next((r for r in rows if r[key] == value and
                 r["matmul_dtype"] == dtype), None)

  def field(r, name):
    return r[name] if r else None

  train, evals = result["train"], result["eval"]
  b20, b20_bf16 = (row(train, "batch", 20, d) for d in ("float32", "bfloat16"))
  s1000, s1000_bf16 = (row(evals, "num_samples", 1000, d)
                       for d in ("float32", "bfloat16"))
  return {"train_episodes_per_s": field(b20, "episodes_per_s"),
          "train_gflops_per_s": field(b20, "gflops_per_s"),
          "eval_samples_per_s": field(s1000, "samples_per_s"),
          "eval_gflops_per_s": field(s1000, "gflops_per_s"),
          "bfloat16": {
              "matmul_ceiling_gflops_per_s": ceilings["bfloat16"],
              "train_episodes_per_s": field(b20_bf16, "episodes_per_s"),
              "train_gflops_per_s": field(b20_bf16, "gflops_per_s"),
              "eval_samples_per_s": field(s1000_bf16, "samples_per_s"),
              "eval_gflops_per_s": field(s1000_bf16, "gflops_per_s")},
          "speedup_vs_sequential": field(result["sequential"], "speedup")}


def file_ceilings(result: dict) -> dict:
  """A results file's matmul ceilings, GFLOP/s by matmul dtype."""
  return {"float32": result["matmul_ceiling_gflops_per_s"],
          "bfloat16": result["bfloat16"]["matmul_ceiling_gflops_per_s"]}


def count_missing_flops(path: str) -> dict:
  """Counts here, into the results file at `path`, the evaluation FLOPs its
  run left uncounted (NaN), and rederives its GFLOP/s from the times it
  measured. flops() lowers for the CPU on every host, so the count is the
  one that run would have made, up to the JAX versions' lowerings (the
  file records this host's). Returns the updated record."""
  with open(path) as f:
    result = json.load(f)
  missing = [r for r in result["eval"] if not np.isfinite(r["gflop"])]
  for r in missing:
    r.update(_throughput(eval_flops(r["num_samples"], r["matmul_dtype"]),
                         r["s"]))
  if missing:
    result.update(summary(result, file_ceilings(result)))
    result["flops_counted_later"] = {
        "rows": [f"eval S = {r['num_samples']} {r['matmul_dtype']}"
                 for r in missing],
        "commit": git_commit(), "jax_version": jax.__version__}
    with open(path, "w") as f:
      json.dump(result, f, indent=2)
  return result


def print_row(r: dict, cells: list, ceilings: dict) -> None:
  """A table row: `cells`, then r's GFLOP, GFLOP/s and share of the ceiling
  of its matmul dtype."""
  cells = [*cells, f"{r['gflop']:.1f}", f"{r['gflops_per_s']:.1f}",
           f"{r['gflops_per_s'] / ceilings[r['matmul_dtype']]:.0%}"]
  print("| " + " | ".join(map(str, cells)) + " |", flush=True)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--quick", action="store_true")
  p.add_argument("--count_flops", metavar="RESULTS_JSON",
                 help="count the FLOPs a run left uncounted into its results "
                 "file, regenerate the README and stop")
  args = p.parse_args()
  if args.count_flops:
    count_missing_flops(args.count_flops)
    write_readme()
    return
  host_memory.restart_with_huge_pages()  # as train.py runs
  reps = 3 if args.quick else 7
  images = data.load_split("train").images
  device = jax.devices()[0]
  path = os.path.join(HERE, "results", f"{device_name()}.json")
  # Measured at the start and again at the end, the larger kept: on a shared
  # host one measurement can fall in a slow spell (341 against 430-480
  # GFLOP/s minutes later, 2026-11-27), which would flatter every share.
  ceiling_runs = {d: [matmul_ceiling(reps, d)] for d in ("float32", "bfloat16")}
  ceilings = {d: max(v) for d, v in ceiling_runs.items()}
  print(f"device {device.device_kind} ({jax.default_backend()}), matmul "
        f"ceiling {ceilings['float32']:.1f} GFLOP/s float32, "
        f"{ceilings['bfloat16']:.1f} bfloat16", flush=True)
  result = {"device": device.device_kind, "platform": jax.default_backend(),
            "jax_version": jax.__version__, "commit": git_commit(),
            "date": time.strftime("%Y-%m-%d"), "quick": args.quick,
            "complete": False,
            # float32 rows and ceiling multiply in full float32 (6521d29)
            "matmul_precision": "float32",
            # gmn_jax.host_memory; a file without the field ran without it
            "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
            # flops(): a file without the field counted one chunk of them
            "weight_gradients_counted": True,
            "matmul_ceiling_runs_gflops_per_s": ceiling_runs,
            "train": [], "eval": [], "sequential": None}

  def save():
    """Written after every row: on a short accelerator lease, what was
    measured before a timeout is kept."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = device.memory_stats() or {}  # None on CPU
    out = {**result, **summary(result, ceilings),
           "matmul_ceiling_gflops_per_s": ceilings["float32"],
           "peak_rss_mb": rss,
           "peak_device_memory_mb":
               stats.get("peak_bytes_in_use", 0) / 2 ** 20 or None}
    with open(path, "w") as f:
      json.dump(out, f, indent=2)
    return out

  print("\n| B | matmuls | step s | episodes/s | GFLOP/step | GFLOP/s | "
        "of ceiling |")
  print("|---|---|---|---|---|---|---|", flush=True)
  for b, dtype in [(b, "float32") for b in ((1, 20) if args.quick
                                            else (1, 20, 64))] + [(20, "bfloat16")]:
    r = bench_train(b, images, reps, dtype)
    result["train"].append(r)
    save()
    print_row(r, [r["batch"], r["matmul_dtype"], f"{r['step_s']:.3f}",
                  f"{r['episodes_per_s']:.1f}"], ceilings)
  params = gmn_jax.init_params(jax.random.key(0), gmn_jax.Config())
  x = jnp.asarray(data.episode_batch(images, data.EpisodeSpec(), 1, 0, 0),
                  jnp.float32)
  print("\n| S | matmuls | s | samples/s | GFLOP | GFLOP/s | of ceiling |")
  print("|---|---|---|---|---|---|---|", flush=True)
  for n, dtype in ((10, "float32"), (100, "float32"), (1000, "float32"),
                   (1000, "bfloat16")):
    r = bench_eval(n, params, x, max(2, reps // 2), dtype)
    result["eval"].append(r)
    save()
    print_row(r, [r["num_samples"], r["matmul_dtype"], f"{r['s']:.3f}",
                  f"{r['samples_per_s']:.0f}"], ceilings)
  seq = result["sequential"] = bench_sequential(params, x[0], reps)
  print(f"\nper-t reference {seq['sequential_s']:.3f} s, parallel "
        f"{seq['parallel_s']:.3f} s: {seq['speedup']:.1f}x")
  for d, runs in ceiling_runs.items():
    runs.append(matmul_ceiling(reps, d))
    ceilings[d] = max(runs)
  print("matmul ceiling at the start and the end, GFLOP/s: " + ", ".join(
      f"{d} {runs[0]:.1f} and {runs[1]:.1f}" for d, runs in ceiling_runs.items())
      + "; the larger is the ceiling")
  result["complete"] = True
  out = save()
  print(f"of the ceiling: train B = 20 {out['train_gflops_per_s'] / ceilings['float32']:.0%}"
        f", eval S = 1000 {out['eval_gflops_per_s'] / ceilings['float32']:.0%}")
  write_readme()
  print(f"peak RSS {out['peak_rss_mb']:.0f} MB, device peak "
        f"{out['peak_device_memory_mb']} MB; wrote {path}")


if __name__ == "__main__":
  main()
