#!/bin/bash
# Before the first call of benchmarks/accelerator_session.sh: put into RUNS (the
# carried .devrun) the data arrays and, for each NAME, what its run needs to
# resume there: LOCAL/NAME's latest checkpoint, metrics.jsonl, provenance.json
# and run_config.json (LOCAL: default ~/runs). A fresh run, or an evaluation
# of pretrained/NAME.msgpack, needs no NAME here. A run with no checkpoint
# here that continues from $UNFINISHED/NAME.msgpack (default
# pretrained/unfinished, as accelerator_session.sh reads it) stages only its
# history (provenance.json, metrics.jsonl), copied into LOCAL/NAME from its
# results folder as WORKSPACE.md says.
#
#   bash benchmarks/accelerator_stage.sh RUNS [NAME...]
set -eu
RUNS=$1 LOCAL=${LOCAL:-$HOME/runs}
shift
DATA=${GMN_DATA_DIR:-$(dirname "$0")/../../shared/data/omniglot28}
mkdir -p "$RUNS/data"
[[ -d $RUNS/data/omniglot28 ]] || cp -rL "$DATA" "$RUNS/data/omniglot28"
for name in "$@"; do
  src=$LOCAL/$name
  last=$(ls "$src/checkpoints" 2> /dev/null | grep -E '^[0-9]+$' | sort -n | tail -n 1)
  rm -rf "${RUNS:?}/$name"
  mkdir -p "$RUNS/$name"
  if [[ -z $last ]]; then
    unfinished=${UNFINISHED:-pretrained/unfinished}/$name.msgpack
    [[ -f $unfinished ]] || {
      echo "$src has no checkpoint to stage, and there is no $unfinished" >&2
      exit 1; }
    cp "$src"/{provenance.json,metrics.jsonl} "$RUNS/$name/"
    echo "$name: its history; train:$name starts from $unfinished"
    continue
  fi
  mkdir -p "$RUNS/$name/checkpoints"
  cp "$src"/{run_config.json,provenance.json,metrics.jsonl} "$RUNS/$name/"
  cp -r "$src/checkpoints/$last" "$RUNS/$name/checkpoints/"
  echo "$name: checkpoint $last, $(du -sh "$RUNS/$name" | cut -f1) -> $RUNS/$name"
done
echo "carried in all: $(du -sh "$RUNS" | cut -f1) (at most 64 MiB)"
