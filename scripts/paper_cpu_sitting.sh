#!/usr/bin/env bash
# One sitting of the long `experiment=paper_cpu` grid on this project's 2-core machines:
# a queue of cells per worker, and a keeper that commits the rows as each seed lands.
#
#   scripts/paper_cpu_sitting.sh worker A mnist:cancelout fashion_mnist:cancelout &
#   scripts/paper_cpu_sitting.sh worker B fashion_mnist:l1_logreg &
#   scripts/paper_cpu_sitting.sh keeper &        # commits new rows every 5 minutes
#   touch "$SITTING_DIR/STOP"                     # no worker starts another cell
#
# Why not `make paper-cpu`: its sweep runs the cells in config order, while a sitting has to
# choose which fits can end before the session does (a fit cut off is lost: rows are written
# once per (seed, K)). Why the keeper: sittings have ended abruptly, and rows that were on
# disk but not committed were lost with the machine (docs/paper_cpu.md). This is a
# maintainer's tool for the committed grid; users resume the grid with `make paper-cpu`.
#
# Each worker runs `run.py experiment=paper_cpu` once per cell, one torch thread (the
# experiment's `torch_threads: 1`), so two workers use the two cores. Logs and the stop
# flag live in SITTING_DIR (default ../sitting, outside the checkout).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SITTING_DIR=${SITTING_DIR:-$ROOT/../sitting}
mkdir -p "$SITTING_DIR"
# Without the mirror a cell records one failed row per (seed, K): the data must be found.
if [ -z "${ENTRYPRUNE_DATA_MIRROR:-}" ] && [ -d "$ROOT/../shared/datasets" ]; then
  export ENTRYPRUNE_DATA_MIRROR="$ROOT/../shared/datasets"
fi
PY="$ROOT/.venv/bin/python"
stamp() { date -u +%FT%TZ; }

worker() {
  local name=$1; shift
  local cell ds sel
  # check every cell before the first runs: a typo in the last would otherwise show hours in
  for cell in "$@"; do
    case "$cell" in
      *:*) ;;
      *) echo "cell '$cell' is not dataset:selector" >&2; return 2 ;;
    esac
  done
  for cell in "$@"; do
    if [ -e "$SITTING_DIR/STOP" ] || [ -e "$SITTING_DIR/STOP_$name" ]; then
      echo "$(stamp) stop flag: not starting $cell" >> "$SITTING_DIR/$name.log"
      break
    fi
    ds=${cell%%:*}; sel=${cell##*:}
    echo "$(stamp) start $ds/$sel" >> "$SITTING_DIR/$name.log"
    local rc=0
    "$PY" run.py experiment=paper_cpu "dataset=$ds" "selector=$sel" \
      >> "$SITTING_DIR/$name.out" 2>&1 || rc=$?
    echo "$(stamp) end $ds/$sel rc=$rc" >> "$SITTING_DIR/$name.log"
  done
  echo "$(stamp) queue done" >> "$SITTING_DIR/$name.log"
}

# Merge the cell files and commit the rows, unless a cell holds a failed row: those need a
# look (a missing file, a broken selector), and the published-rows tests refuse them.
commit_rows() {
  local cells=results/published/paper_cpu/cells merged=results/published/paper_cpu.csv
  [ -n "$(git status --porcelain -- "$cells")" ] || return 0
  if ! "$PY" - <<'PY'
import sys
from bench.records import ResultStore, read_rows
store = ResultStore("results/published", "paper_cpu")
bad = [p.name for p in store.cell_dir.glob("*.csv") if (read_rows(p).status == "failed").any()]
if bad:
    sys.exit(f"failed rows in {', '.join(sorted(bad))}: not committed")
store.merge()
PY
  then
    echo "$(stamp) not committed: failed rows" >> "$SITTING_DIR/keeper.log"
    return 1
  fi
  git add -- "$cells" "$merged"
  git commit -q -m "results: paper_cpu rows as of $(date -u +%H:%M) UTC ($("$PY" -c \
'from bench.provenance import machine; print(machine())')), committed as each seed lands" \
    -- "$cells" "$merged"
  echo "$(stamp) committed $(git rev-parse --short HEAD)" >> "$SITTING_DIR/keeper.log"
}

keeper() {
  while true; do
    commit_rows || true
    sleep "${KEEPER_INTERVAL_S:-300}"
  done
}

case "${1:-}" in
  worker) shift; [ $# -ge 2 ] || { echo "usage: $0 worker NAME dataset:selector..." >&2; exit 2; }
          worker "$@" ;;
  keeper) keeper ;;
  commit) commit_rows ;;
  *) echo "usage: $0 worker NAME dataset:selector... | keeper | commit" >&2; exit 2 ;;
esac
