#!/usr/bin/env bash
# Reproduces results/*.csv: one solver and one instance at a time, cheapest runs first.
# Usage: run_all.sh [10|60|vroom|hier|all|ours]   (PY defaults to /work/peers-venv/bin/python)
#        run_all.sh whole TOOL LIMIT CSV SET FILE...  one single-threaded tool over a whole
#        set, two instances at a time (one per core); rows appended to results/CSV
#        run_all.sh each TOOL LIMIT CSV SET FILE...   the same, one instance at a time (VROOM,
#        which runs two threads, and ours with SORTFLEET_THREADS=2)
set -uo pipefail  # a failed run is logged and the next one goes on
cd "$(dirname "$0")"
PY=${PY:-/work/peers-venv/bin/python}
I=${INSTANCES:-/work/shared/data/instances}
SEED=${SEED:-1}
OBJ=${OBJ:-distance}
X=($I/cvrp_x/X-n101-k25.vrp $I/cvrp_x/X-n200-k36.vrp $I/cvrp_x/X-n303-k21.vrp $I/cvrp_x/X-n502-k39.vrp)
SOL=($I/vrptw_solomon/{C101,C201,R101,R201,RC101,RC201}.txt)
HOM=($I/vrptw_homberger/200/{c1_2_1,r1_2_1,rc1_2_1}.txt $I/vrptw_homberger/400/r1_4_1.txt
     $I/vrptw_homberger/1000/R1_10_1.vrp)
HOM_SMALL=("${HOM[@]:0:4}")
mkdir -p results
timed() {  # tool limit csv set files...
  local tool=$1 limit=$2 csv=$3 set=$4; shift 4
  for f in "$@"; do
    # vroom has no budget: cap it at 15 min so one instance cannot eat the session
    timeout 900 "$PY" run_peers.py --tool "$tool" --time-limit "$limit" --seed "$SEED" --objective "$OBJ" \
      ${SORTFLEET_BIN:+--sortfleet-bin "$SORTFLEET_BIN"} \
      ${SORTFLEET_THREADS:+--sortfleet-threads "$SORTFLEET_THREADS"} \
      --set "$set" --csv "results/$csv" "$f" | tail -n +2 || echo "FAILED $tool $limit $f" >&2
  done
}
phase() {
  local limit=$1
  for tool in pyvrp ortools; do timed $tool "$limit" cvrp_x.csv cvrp_x "${X[@]}"; done
  for tool in pyvrp ortools; do timed $tool "$limit" solomon.csv solomon "${SOL[@]}"; done
  for tool in pyvrp ortools; do timed $tool "$limit" homberger.csv homberger "${HOM[@]}"; done
}
vroom_small() {
  timed vroom 0 solomon.csv solomon "${SOL[@]}"
  timed vroom 0 cvrp_x.csv cvrp_x "${X[@]}"
  timed vroom 0 homberger.csv homberger "${HOM_SMALL[@]}"
}
hier() {  # vehicles first, then distance: the convention of the Solomon/SINTEF BKS
  for tool in pyvrp ortools; do
    OBJ=hierarchical timed $tool 10 vrptw_hierarchical.csv solomon "${SOL[@]}"
    OBJ=hierarchical timed $tool 10 vrptw_hierarchical.csv homberger "${HOM_SMALL[@]}"
  done
  OBJ=hierarchical timed vroom 0 vrptw_hierarchical.csv solomon "${SOL[@]}"
  OBJ=hierarchical timed vroom 0 vrptw_hierarchical.csv homberger "${HOM_SMALL[@]:0:3}"
}
ours() {  # our solver (release binary, SORTFLEET_BIN) through the same checker, SORTFLEET_THREADS (1)
  for limit in 10 60; do
    timed sortfleet "$limit" sortfleet.csv cvrp_x "${X[@]}"
    timed sortfleet "$limit" sortfleet.csv solomon "${SOL[@]}"
    timed sortfleet "$limit" sortfleet.csv homberger "${HOM[@]}"
  done
}
whole() {  # tool limit csv set files...: even-numbered files on one core, odd on the other
  local tool=$1 limit=$2 csv=$3 set=$4; shift 4
  local files=("$@") even=() odd=() i
  (( ${#files[@]} > 0 )) || { echo "whole: no instance files given" >&2; return 2; }
  for i in "${!files[@]}"; do
    if (( i % 2 == 0 )); then even+=("${files[$i]}"); else odd+=("${files[$i]}"); fi
  done
  if [ ! -s "results/$csv" ]; then  # a new CSV: one run alone first writes the header once
    timed "$tool" "$limit" "$csv" "$set" "${even[0]}"
    even=("${even[@]:1}")
  fi
  timed "$tool" "$limit" "$csv" "$set" "${even[@]}" &
  timed "$tool" "$limit" "$csv" "$set" "${odd[@]}"
  wait
}
vroom_large() { timed vroom 0 homberger.csv homberger "${HOM[4]}"; }
case "${1:-all}" in
  10) phase 10 ;;
  60) phase 60 ;;
  vroom) vroom_small; vroom_large ;;
  hier) hier ;;
  ours) ours ;;
  whole) shift; whole "$@" ;;
  each) shift; timed "$@" ;;
  all) phase 10; vroom_small; phase 60; vroom_large; hier ;;
esac
