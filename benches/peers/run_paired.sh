#!/usr/bin/env bash
# Equal-load comparison: for each instance and seed, PyVRP and our solver run at the
# same time, one per core of the 2-core machine, through the same checker; rows go to
# results/paired.csv (the load and CPU-seconds columns show both got a core).
# Usage: run_paired.sh LIMIT "SEEDS" SET...   SET: x (the issue's four) | xall | solomon |
#   homberger (samples) | solomonall | homberger200all | homberger400all | homberger1000all
#   | mtvrptwrall (every stored instance) | a file
#   SORTFLEET_BIN=path/to/sortfleet  PY=/work/peers-venv/bin/python
set -uo pipefail
cd "$(dirname "$0")"
PY=${PY:-/work/peers-venv/bin/python}
I=${INSTANCES:-/work/shared/data/instances}
BIN=${SORTFLEET_BIN:?set SORTFLEET_BIN to a release sortfleet binary}
limit=$1 seeds=$2; shift 2
files=()
for set in "$@"; do
  case $set in
    x) files+=($I/cvrp_x/X-n101-k25.vrp $I/cvrp_x/X-n200-k36.vrp $I/cvrp_x/X-n303-k21.vrp
               $I/cvrp_x/X-n502-k39.vrp) ;;
    xall) files+=($I/cvrp_x/X-n*.vrp) ;;
    solomon) files+=($I/vrptw_solomon/{C101,C201,R101,R201,RC101,RC201}.txt) ;;
    homberger) files+=($I/vrptw_homberger/200/{c1_2_1,r1_2_1,rc1_2_1}.txt) ;;
    solomonall) files+=($I/vrptw_solomon/*.txt) ;;
    homberger200all) files+=($I/vrptw_homberger/200/*.txt) ;;
    homberger400all) files+=($I/vrptw_homberger/400/*.txt) ;;
    homberger1000all) files+=($I/vrptw_homberger/1000/*.vrp) ;;
    mtvrptwrall) files+=($I/mtvrptwr/*.vrp) ;;
    # An instance file: lets a long set be split over several runs into one CSV.
    # Only files of the stored sets: label() picks the BKS set from the folder name.
    */cvrp_x/*.vrp|*/vrptw_solomon/*.txt|*/vrptw_homberger/*.txt|*/vrptw_homberger/*.vrp|*/mtvrptwr/*.vrp)
      [ -f "$set" ] && files+=("$set") || { echo "no file $set" >&2; exit 2; } ;;
    *) echo "unknown set $set" >&2; exit 2 ;;
  esac
done
mkdir -p results
csv_out="results/${CSV:-paired.csv}"
# Write the header first: two runs starting together on a new file would both write it.
[ -s "$csv_out" ] || "$PY" -c 'import sys, run_peers; print(",".join(run_peers.COLUMNS))' \
  > "$csv_out"
label() {
  case $1 in
    *cvrp_x*) echo cvrp_x ;; *solomon*) echo solomon ;; *mtvrptwr*) echo mtvrptwr ;;
    *) echo homberger ;;
  esac
}
one() {  # tool seed file
  "$PY" run_peers.py --tool "$1" --time-limit "$limit" --seed "$2" --sortfleet-bin "$BIN" \
    --set "$(label "$3")" --csv "$csv_out" "$3" | tail -n +2 \
    || echo "FAILED $1 $limit $2 $3" >&2
}
for f in "${files[@]}"; do
  for s in $seeds; do
    one pyvrp "$s" "$f" &
    one sortfleet "$s" "$f"
    wait
  done
done
