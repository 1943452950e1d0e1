#!/bin/bash
# After a call of benchmarks/accelerator_session.sh: unpack each run that came
# back (FROM: the call's files_at) into RUNS (the carried .devrun, ready for the
# next call) and into LOCAL/NAME (default ~/runs/NAME), where the call's
# train.log is appended to the run's log.
#
#   bash benchmarks/accelerator_unpack.sh FROM RUNS [LOCAL]
set -eu
FROM=$1 RUNS=$2 LOCAL=${3:-$HOME/runs}
mkdir -p "$RUNS"
for first in "$FROM"/*.tar.part_aa; do
  [[ -e $first ]] || continue
  name=$(basename "$first" .tar.part_aa)
  rm -f "$RUNS/$name"/*.log
  cat "$FROM/$name".tar.part_* | tar xf - -C "$RUNS"
  mkdir -p "$LOCAL/$name"
  for f in "$RUNS/$name"/*.log; do
    [[ -e $f ]] && cat "$f" >> "$LOCAL/$name/$(basename "$f")"
  done
  (cd "$RUNS/$name" && ls -A | grep -v '\.log$' | xargs -r cp -r -t "$LOCAL/$name/")
  echo "$name: $(ls "$RUNS/$name/checkpoints" 2> /dev/null | tr '\n' ' ')-> $LOCAL/$name"
done
