r"""The paper's Table 1 for one trained model, and few-shot classification.

  python experiments/evaluate.py --workdir=~/runs/gmn_c2 \
      --output_dir=results/gmn_c2

Writes table1.csv, table1.md, nll_vs_t.png, classification.json and
provenance.json to --output_dir (default: <workdir>/eval).
"""
import json
import os
import sys
import time

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flags_common  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from gmn_jax import precision  # noqa: E402
from gmn_jax.evaluate import classification, paired, paper, table1  # noqa: E402
from gmn_jax.train.loop import git_commit  # noqa: E402

C_TEST = flags.DEFINE_list("c_test", None, "C_test values (default: the "
                           "paper's for this model, else 1,2,4).")
EPISODES = flags.DEFINE_integer("num_episodes", 1000, "Test episodes per "
                                "C_test (the paper's protocol: 1000).")
SAMPLES = flags.DEFINE_integer("num_samples", 100, "Importance samples of z.")
BATCH = flags.DEFINE_integer(
    "batch", 2, "Episodes evaluated together (with --num_samples in chunks of "
    "gmn_jax.likelihood.default_chunk(); small keeps a CPU's work in cache).")
SEED = flags.DEFINE_integer("seed", 1234, "Seed of the test episodes.")
TASKS = flags.DEFINE_integer("num_tasks", 200, "Few-shot tasks per (N, k); "
                             "0 skips classification.")
SPLIT = flags_common.define_split()
OUTPUT = flags.DEFINE_string("output_dir", None, "Where to write.")
NLLS_FROM = flags.DEFINE_string(
    "nlls_from", None, "Tabulate the per-episode NLLs that an earlier "
    "--save_nlls evaluation of the same params wrote to this folder (its "
    "episodes, samples, seed, split and C_test; its device and commit kept in "
    "the provenance) instead of computing them: to file an evaluation under "
    "another --model_name. Its config and steps must match the params'; "
    "--c_test may pick some of its C_tests.")
SAVE_NLLS = flags.DEFINE_bool(
    "save_nlls", False, "Also write each episode's NLLs, [episodes, T] nats, "
    "to nlls_c<C_test>.npy: for paired comparisons (episode i is the same in "
    "every evaluation with the same --seed).")


# What an evaluation's NLLs were computed on, and where it ran: a --nlls_from
# table takes these from the saved evaluation.
PROTOCOL = ("num_episodes", "num_samples", "seed", "split", "c_test")
COMPUTED = ("commit", "device", "matmul_dtype", "nll_wall_s", "total_wall_s",
            "date")


def saved_nlls(config, steps) -> tuple:
  """--nlls_from's (provenance, {C_test: [episodes, T] nats}), or a
  UsageError saying why they are not these params' or not what the flags
  given ask for."""
  try:
    record, nlls = paired.saved_evaluation(NLLS_FROM.value, config, steps)
  except (ValueError, FileNotFoundError) as e:
    raise app.UsageError(str(e))
  for key, flag in (("num_episodes", EPISODES), ("num_samples", SAMPLES),
                    ("seed", SEED), ("split", SPLIT)):
    if flags.FLAGS[flag.name].present and flag.value != record.get(key):
      raise app.UsageError(
          f"--{flag.name}={flag.value}, but {NLLS_FROM.value} evaluated "
          f"{key}={record.get(key)}: --nlls_from tabulates that evaluation as "
          "it is; drop the flag, or evaluate anew without --nlls_from.")
  if C_TEST.value:  # a row may take some of the C_tests evaluated
    wanted = [int(c) for c in C_TEST.value]
    if not set(wanted) <= set(nlls):
      raise app.UsageError(
          f"--c_test={','.join(C_TEST.value)}, but {NLLS_FROM.value} "
          f"evaluated c_test={sorted(nlls)}: choose among those, or evaluate "
          "anew without --nlls_from.")
    # The saved wall times are for every C_test it evaluated.
    record = {**record, "c_test": wanted,
              "wall_s_c_test": record.get("wall_s_c_test", record["c_test"])}
    nlls = {c: nlls[c] for c in wanted}
  return record, nlls


def main(argv):
  del argv
  params, config, steps, name, images = flags_common.model_and_test_images(
      SPLIT.value)
  params = precision.cast_kernels(params, flags_common.MATMUL_DTYPE.value)
  out = OUTPUT.value or os.path.join(os.path.expanduser(
      flags_common.WORKDIR.value or "."), "eval")
  os.makedirs(out, exist_ok=True)
  saved, nlls_by_c = saved_nlls(config, steps) if NLLS_FROM.value else ({}, {})
  protocol = {k: saved[k] for k in PROTOCOL} if saved else {
      "num_episodes": EPISODES.value, "num_samples": SAMPLES.value,
      "seed": SEED.value, "split": SPLIT.value,
      "c_test": ([int(c) for c in C_TEST.value] if C_TEST.value
                 else list(paper.c_tests(name)))}
  t0 = time.time()
  rows = []
  for c in protocol["c_test"]:
    progress = lambda i, n: (i % (10 * BATCH.value) == 0 or i == n) and \
        logging.info("C_test=%d: %d/%d episodes", c, i, n)
    nlls = nlls_by_c[c] if saved else table1.episode_nlls(
        params, config, images, c, EPISODES.value, SAMPLES.value,
        seed=SEED.value, batch=BATCH.value, progress=progress)
    if SAVE_NLLS.value or saved:
      np.save(os.path.join(out, f"nlls_c{c}.npy"), nlls)
    rows += table1.summarize(name, config, c, nlls, steps)
  table1.write_csv(os.path.join(out, "table1.csv"), rows)
  episodes = protocol["num_episodes"]
  header = (f"# Table 1: {name} after {steps} training steps\n\n"
            f"{episodes} {protocol['split']} episodes per C_test (seed "
            f"{protocol['seed']}), {protocol['num_samples']} importance "
            "samples of z per conditional. ± is the standard error over "
            "episodes (characters differ a lot in difficulty); bringing every "
            "cell under 0.3 nats would take "
            f"~{table1.episodes_for_stderr(rows, episodes)} episodes per "
            "C_test.")
  with open(os.path.join(out, "table1.md"), "w") as f:
    f.write(table1.markdown(rows, header))
  table1.plot(rows, os.path.join(out, "nll_vs_t.png"))
  nll_s = time.time() - t0
  results = []
  if TASKS.value:
    for ways in (5, 20):
      for shots in (1, 5):
        results.append(classification.accuracy(
            params, config, images, ways, shots, TASKS.value))
        logging.info("%s", results[-1])
  with open(os.path.join(out, "classification.json"), "w") as f:
    json.dump(results, f, indent=2)
  here = {"commit": git_commit(), "device": jax.devices()[0].device_kind}
  record = {"model": name, "config": config.to_dict(), "steps": steps,
            "source": flags_common.PARAMS.value or flags_common.WORKDIR.value,
            **here, **protocol,
            "matmul_dtype": flags_common.MATMUL_DTYPE.value,
            "nll_wall_s": round(nll_s, 1),
            "total_wall_s": round(time.time() - t0, 1),
            "date": time.strftime("%Y-%m-%d")}
  if saved:  # the NLLs' own record, and who tabulated them here
    record.update({k: saved.get(k) for k in COMPUTED})
    if "wall_s_c_test" in saved:  # it took some of the C_tests timed
      record["wall_s_c_test"] = saved["wall_s_c_test"]
    record["nlls_from"] = {"folder": NLLS_FROM.value, "model": saved.get("model"),
                           "source": saved.get("source"), **here,
                           "date": time.strftime("%Y-%m-%d")}
    if TASKS.value:
      record["classification"] = here
  with open(os.path.join(out, "provenance.json"), "w") as f:
    json.dump(record, f, indent=2)
  print(open(os.path.join(out, "table1.md")).read())


if __name__ == "__main__":
  app.run(main)
