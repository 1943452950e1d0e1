#!/bin/bash
# One short lease of an accelerator machine, as one command: continue training
# runs there for TRAIN_S seconds, evaluate each for at most EVAL_S, then run
# the benchmark for at most BENCH_S (a 0 skips that part).
#
#   bash benchmarks/accelerator_session.sh OUT RUNS TRAIN_S EVAL_S BENCH_S RUN...
#
# RUNS holds one workdir per RUN (a flagfile's name: gmn_c2, avg_c2, ...),
# copied in from where the runs live (train.py resumes from their latest
# checkpoint, or starts fresh), and RUNS/data/omniglot28 the data arrays. A
# RUN written NAME:STEPS stops after STEPS steps of this invocation. The runs
# train side by side on the one device. EVAL_S > 0 then evaluates each run
# (Table 1 with $EVAL_EPISODES episodes per C_test, default 1000, in full
# float32, $EVAL_BATCH episodes per call, default 16: a guess for a GPU's
# memory, not yet measured) into RUNS/NAME/eval. What comes back, in OUT: the
# benchmark's log and JSON, and runs.tar.part_* (each run's latest checkpoint,
# metrics, provenance, log, evaluation and a params-only export), split under
# 16 MiB a piece. Set GMN_JAX_COMMIT to the commit copied when the copy has no .git.
set -u
OUT=$1 RUNS=$2 TRAIN_S=$3 EVAL_S=$4 BENCH_S=$5
shift 5
export PYTHONUNBUFFERED=1 GMN_DATA_DIR=$RUNS/data/omniglot28
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the copy is not installed
export JAX_COMPILATION_CACHE_DIR=/tmp/gmn_jax_cache
PY=${PYTHON:-python3}

{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv 2>&1; nproc
  $PY -c "import jax, optax, orbax.checkpoint as o, gmn_jax
print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())"
} 2>&1
$PY -c "import gmn_jax.train" || exit 3  # nothing else can work

# Each run gets a share of the device's memory instead of JAX's 75% default.
export XLA_PYTHON_CLIENT_MEM_FRACTION=$($PY -c "print(min(0.75, 0.9 / $#))")
pids=()
for spec in "$@"; do
  (( TRAIN_S > 0 )) || break  # timeout 0 would mean no limit
  name=${spec%%:*}
  stop=()
  [[ $spec == *:* ]] && stop=(--stop_after="${spec#*:}")
  mkdir -p "$RUNS/$name"
  timeout -k 60 -s TERM "$TRAIN_S" $PY experiments/train.py \
      --flagfile="experiments/configs/$name.flags" --workdir="$RUNS/$name" \
      --log_every=250 --checkpoint_every=2000 "${stop[@]}" \
      > "$RUNS/$name/train.log" 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"
for spec in "$@"; do
  name=${spec%%:*}
  grep -E "steps/s|Error|error" "$RUNS/$name/train.log" | tail -n 3
  $PY experiments/export.py --workdir="$RUNS/$name" \
      --output="$RUNS/$name/$name.msgpack" > /dev/null 2>&1 \
      || echo "export of $name failed"
done

if (( EVAL_S > 0 )); then
  for spec in "$@"; do
    name=${spec%%:*}
    JAX_DEFAULT_MATMUL_PRECISION=highest timeout -k 10 "$EVAL_S" \
        $PY experiments/evaluate.py --workdir="$RUNS/$name" \
        --output_dir="$RUNS/$name/eval" --model_name="$name" \
        --num_episodes="${EVAL_EPISODES:-1000}" --batch="${EVAL_BATCH:-16}" \
        > "$RUNS/$name/eval.log" 2>&1
    tail -n 2 "$RUNS/$name/eval.log"
  done
fi

(cd "$RUNS" && for spec in "$@"; do
   name=${spec%%:*}
   last=$(ls "$name/checkpoints" | grep -E '^[0-9]+$' | sort -n | tail -n 1)
   ls -d "$name/checkpoints/$last" "$name"/*.json* "$name"/*.msgpack \
       "$name"/*.log "$name"/eval 2> /dev/null
 done | xargs tar cf -) | split -b 15m - "$OUT/runs.tar.part_"

unset XLA_PYTHON_CLIENT_MEM_FRACTION
if (( BENCH_S > 0 )); then
  touch /tmp/bench_start
  timeout -k 10 "$BENCH_S" $PY benchmarks/benchmark.py --quick \
      > "$OUT/benchmark.log" 2>&1
  tail -n 30 "$OUT/benchmark.log"
  find benchmarks/results -name '*.json' -newer /tmp/bench_start \
      | xargs -r cp -t "$OUT/"
fi
ls -la "$OUT"
