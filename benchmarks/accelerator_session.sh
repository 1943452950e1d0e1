#!/bin/bash
# One call on a lent accelerator: tasks in order, each within the time left.
#
#   bash benchmarks/accelerator_session.sh OUT RUNS SECONDS TASK...
#
# TASK is one of
#   train:NAME  train RUNS/NAME with experiments/configs/NAME.flags (resume from
#               its latest checkpoint, else from $UNFINISHED/NAME.msgpack where
#               that exists, default pretrained/unfinished, else start fresh)
#               until its schedule ends or the time is up; SIGTERM saves a
#               checkpoint.
#   eval:NAME   Table 1 of RUNS/NAME's latest checkpoint, or of pretrained/NAME.msgpack
#               where RUNS/NAME has none: $EVAL_EPISODES episodes per C_test
#               (default 21000: standard errors under 0.3 nats), full float32,
#               $EVAL_BATCH episodes per call (default 32), no classification,
#               per-episode NLLs saved; $EVAL_FLAGS adds flags. Into RUNS/NAME/eval.
#   eval:NAME@S the same with S importance samples, into RUNS/NAME/eval_sS (S = 100
#               and 1000 on the same episodes pair the estimators).
#   eval:NAME@SxN  the same on N episodes per C_test (overrides $EVAL_EPISODES).
#   trace       benchmarks/profile_step.py --trace (the train step's kernels).
#   shapes      benchmarks/profile_step.py --shapes (its convolutions as matmuls).
#   xla_flags   benchmarks/xla_flags.py --rounds=1 (XLA's flag sets for the device;
#               $XLA_FLAG_SETS picks some, as its --sets: ~60 s each on a GPU).
#   bench       benchmarks/benchmark.py --quick.
# RUNS/data/omniglot28 holds the data arrays (benchmarks/accelerator_stage.sh
# stages them and the runs to resume). SECONDS is this call's budget: keep
# it ~20 s under the call's timeout. What comes back in OUT (at most 8 files):
# NAME.tar.part_* per run (its metrics, provenance, this call's logs and
# evaluation, and its latest checkpoint where it trained; parts under 16 MiB),
# and the JSON files that trace, shapes, xla_flags and bench wrote. Unpack them with
# benchmarks/accelerator_unpack.sh before the next call. Set GMN_JAX_COMMIT
# to the commit sent: the copy's .git may lag the tree.
set -u
OUT=$1 RUNS=$2 DEADLINE=$(( $(date +%s) + $3 ))
shift 3
export PYTHONUNBUFFERED=1 GMN_DATA_DIR=$RUNS/data/omniglot28
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the copy is not installed
export JAX_COMPILATION_CACHE_DIR=/tmp/gmn_jax_cache
PY=${PYTHON:-python3}
PACK_S=15  # kept back at the end to pack what the tasks wrote
left() { echo $(( DEADLINE - PACK_S - $(date +%s) )); }

{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv 2>&1; $PY -c "import jax; print('jax', jax.__version__, jax.devices())"
} 2>&1
$PY -c "import gmn_jax.train" || exit 3  # nothing else can work

trained=() names=()
for task in "$@"; do
  name=${task#*:} start=$(date +%s) budget=$(left)
  name=${name%@*} samples=${task##*@} eval=eval episodes=${EVAL_EPISODES:-21000}
  [[ $samples == *x* ]] && episodes=${samples#*x} samples=${samples%x*}
  [[ $task == *@* ]] && eval=eval_s$samples
  if (( budget < 10 )); then echo "$task: skipped, ${budget} s left"; continue; fi
  case $task in
    train:*)
      mkdir -p "$RUNS/$name"
      # train.py ignores --init_params once the workdir has a checkpoint.
      init=() unfinished=${UNFINISHED:-pretrained/unfinished}/$name.msgpack
      [[ -f $unfinished ]] && init=(--init_params="$unfinished")
      timeout -k 20 -s TERM "$budget" $PY experiments/train.py \
          --flagfile="experiments/configs/$name.flags" --workdir="$RUNS/$name" \
          --log_every=250 --checkpoint_every=5000 "${init[@]}" \
          > "$RUNS/$name/train.log" 2>&1
      echo "$task: rc=$? $(( $(date +%s) - start )) s"
      grep -E "steps/s|Error" "$RUNS/$name/train.log" | tail -n 1
      trained+=("$name") names+=("$name") ;;
    eval:*)
      source=(--params="pretrained/$name.msgpack")
      [[ -d $RUNS/$name/checkpoints ]] && source=(--workdir="$RUNS/$name")
      mkdir -p "$RUNS/$name"
      extra=()
      [[ $eval != eval ]] && extra=(--num_samples="$samples")
      JAX_DEFAULT_MATMUL_PRECISION=highest timeout -k 5 "$budget" \
          $PY experiments/evaluate.py "${source[@]}" --model_name="$name" \
          --output_dir="$RUNS/$name/$eval" --num_episodes="$episodes" \
          --batch="${EVAL_BATCH:-32}" --num_tasks=0 --save_nlls ${EVAL_FLAGS:-} \
          "${extra[@]}" > "$RUNS/$name/$eval.log" 2>&1
      echo "$task: rc=$? $(( $(date +%s) - start )) s"
      grep -E "^\| $name |Error" "$RUNS/$name/$eval.log" | tail -n 3
      names+=("$name") ;;
    trace|shapes|xla_flags|bench)
      run=(benchmarks/profile_step.py --"$task") made="${task}_*.json"
      [[ $task == trace ]] && run+=(--trace_copy="$OUT")
      [[ $task == xla_flags ]] && run=(benchmarks/xla_flags.py --rounds=1
          ${XLA_FLAG_SETS:+--sets=$XLA_FLAG_SETS})
      [[ $task == bench ]] && run=(benchmarks/benchmark.py --quick) made='*.json'
      touch /tmp/task_start
      timeout -k 5 "$budget" $PY "${run[@]}" > "$OUT/$task.log" 2>&1
      echo "$task: rc=$? $(( $(date +%s) - start )) s"; tail -n 20 "$OUT/$task.log"
      find benchmarks/results -name "$made" -newer /tmp/task_start \
          | xargs -r cp -t "$OUT/" ;;
    *) echo "$task: unknown task (train:NAME, eval:NAME, trace, shapes, xla_flags, bench)" ;;
  esac
done

for name in $(printf '%s\n' "${names[@]}" | sort -u); do
  files=$(cd "$RUNS" && ls -d "$name"/*.json* "$name"/*.log "$name"/eval* 2> /dev/null)
  if [[ " ${trained[*]} " == *" $name "* ]]; then
    last=$(ls "$RUNS/$name/checkpoints" | grep -E '^[0-9]+$' | sort -n | tail -n 1)
    files="$files $name/checkpoints/$last"
  fi
  (cd "$RUNS" && tar cf - $files) | split -b 15m - "$OUT/$name.tar.part_"
done
ls -la "$OUT"
