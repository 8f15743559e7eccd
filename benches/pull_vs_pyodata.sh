#!/usr/bin/env bash
# Pull throughput, erpsync and pyodata side by side in one run, against the same mock ERP
# on loopback: customers, company codes, sales areas and open items (the sets both read
# alike). erpsync's pull time is what `erpsync sync --only payment-terms,customers,open-items`
# logs for its pulls, which includes the address and credit-limit reads and every store
# write (only the four sets are counted); the time with the reconciliation that follows is
# shown beside it (the terms definitions are read so that it judges as in production).
#
# Beside each wall time, the CPU time (user + system) of each side: erpsync's and
# pyodata's from `/usr/bin/time`, the mock's from /proc/PID/stat before and after each
# phase, PostgreSQL's (all its server processes) likewise. The floor is measured in the same
# run: `examples/pull_floor.rs` fetches the pages of the four sets once, then, timed and
# without HTTP, parses them into typed rows and upserts them into a fresh SQLite store in
# batches, one thread.
#
# The SQLite sync runs twice: the first sync and a re-sync of the unchanged data. With
# ERPSYNC_BENCH_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test), the same two syncs
# also run into a fresh PostgreSQL database (`erpsync_bench_pull`, made and dropped on that
# server).
#
#   benches/pull_vs_pyodata.sh [CUSTOMERS] [OPEN_ITEMS]      (default 20000 200000)
# Needs: cargo, python3 with `pip install pyodata requests`, psql for the PostgreSQL run.
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-20000}
items=${2:-200000}
port=${ERPSYNC_BENCH_PORT:-18089}
pg_url=${ERPSYNC_BENCH_PG_URL:-}

# ERPSYNC_BENCH_BIN runs another erpsync build (e.g. an earlier commit's) against the same
# floor; ERPSYNC_BENCH_SKIP=pyodata,floor leaves those sides out.
if [ -z "${ERPSYNC_BENCH_BIN:-}" ]; then
  cargo build --release --quiet --bin erpsync --example pull_floor
fi
bin=${ERPSYNC_BENCH_BIN:-target/release/erpsync}
floor=${ERPSYNC_BENCH_FLOOR:-target/release/examples/pull_floor}
skip=${ERPSYNC_BENCH_SKIP:-}
work=$(mktemp -d)
trap 'kill $mock 2>/dev/null || true; rm -rf "$work"' EXIT

ticks=$(getconf CLK_TCK)
# CPU seconds (user + system) of one process so far.
proc_cpu() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
# CPU seconds of the PostgreSQL server: its processes alive now, and the backends that
# have ended (counted in the postmaster's children's times once it has reaped them).
pg_cpu() {
  local total=0 pid main
  main=$(pgrep -o -x postgres || true)
  for pid in $(pgrep -x postgres || true); do
    total=$(awk -v s="$total" -v t="$ticks" -v main="$([ "$pid" = "$main" ] && echo 1)" \
      '{c = $14 + $15; if (main) c += $16 + $17; print s + c / t}' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}

"$bin" mock-erp --listen "127.0.0.1:$port" --customers "$customers" --open-items "$items" \
  >"$work/mock.log" 2>&1 &
mock=$!
for _ in $(seq 1 600); do
  curl -sf -u ERPSYNC:secret "http://127.0.0.1:$port/sap/opu/odata/sap/API_BUSINESS_PARTNER/\$metadata?sap-client=100" >/dev/null && break
  sleep 0.5
done
base="http://127.0.0.1:$port/sap/opu/odata/sap/"

cp mappings/s4hana-odata-v2.toml "$work/mapping.toml"
printf 'secret' >"$work/pw"
config() {
  cat >"$work/erpsync.toml" <<TOML
[store]
url = "$1"
[erp]
kind = "odata"
base_url = "$base"
mapping = "mapping.toml"
sap_client = "100"
[erp.auth]
kind = "basic"
user = "ERPSYNC"
password_file = "pw"
TOML
}

# One `erpsync sync` into the store at $1, labelled $2: pull and total wall time, CPU of
# erpsync, the mock and PostgreSQL, peak RSS.
sync_run() {
  config "$1"
  local mock0 pg0 mock1 pg1
  mock0=$(proc_cpu "$mock")
  pg0=$(pg_cpu)
  RUST_LOG=info,erpsync::erp::odata::pager=warn /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
    "$bin" --config "$work/erpsync.toml" sync --only payment-terms,customers,open-items >"$work/sync.log" 2>&1 &
  local timer=$! pid="" pull_cpu="" pull_mock="" pull_pg=""
  # The pull's share: erpsync's, the mock's and PostgreSQL's CPU when it logs "pull
  # finished" (sampled every 50 ms), before the reconciliation.
  while kill -0 "$timer" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(pgrep -P "$timer" || true)
    if [ -z "$pull_cpu" ] && [ -n "$pid" ] && grep -q '"pull finished"' "$work/sync.log" 2>/dev/null; then
      pull_cpu=$(proc_cpu "$pid" 2>/dev/null || true)
      pull_mock=$(proc_cpu "$mock")
      pull_pg=$(pg_cpu)
    fi
    sleep 0.05
  done
  wait "$timer"
  mock1=$(proc_cpu "$mock")
  pg1=$(pg_cpu)
  # A sync whose reconciliation is quick (a re-sync of unchanged data) may end before the
  # next sample: then its pull's CPU is the whole sync's, within those last 50 ms.
  if [ -z "$pull_cpu" ]; then
    pull_cpu=$(awk '{print $2 + $3}' "$work/time")
    pull_mock=$mock1
    pull_pg=$pg1
  fi
  local pulled pull_ms
  pulled=$(grep -oE '\b(customers|company_codes|sales_areas|open_items) [0-9]+' "$work/sync.log" \
    | awk '{s += $2} END {print s + 0}')
  # The pull alone: the "pull finished" log line times the pulls (reads and store writes),
  # without the reconciliation that `sync` runs after them.
  pull_ms=$(grep '"message":"pull finished"' "$work/sync.log" | grep -oE '"elapsed_ms":[0-9]+' \
    | awk -F: '{s += $2} END {print s + 0}')
  read -r wall user sys rss <"$work/time"
  local diff='BEGIN {print b - a}'
  awk -v label="$2" -v n="$pulled" -v p="$pull_ms" -v w="$wall" -v u="$user" -v s="$sys" \
    -v rss="$rss" -v m="$(awk -v a="$mock0" -v b="$mock1" "$diff")" \
    -v pg="$(awk -v a="$pg0" -v b="$pg1" "$diff")" -v has_pg="$3" \
    -v pc="${pull_cpu:--1}" -v pm="$(awk -v a="$mock0" -v b="${pull_mock:-0}" "$diff")" \
    -v pp="$(awk -v a="$pg0" -v b="${pull_pg:-0}" "$diff")" \
    'BEGIN {
       printf "%s: %d entities; pull %.2f s wall (%.0f entities/s), CPU erpsync %.2f s, mock %.2f s",
         label, n, p / 1000, n / (p / 1000), pc, pm
       if (has_pg) printf ", PostgreSQL %.2f s", pp
       printf "; whole sync with reconciliation %.2f s wall, CPU erpsync %.2f s (user %.2f + sys %.2f), mock %.2f s",
         w, u + s, u, s, m
       if (has_pg) printf ", PostgreSQL %.2f s", pg
       printf "; erpsync peak RSS %.0f MB\n", rss / 1024
     }'
}

echo "mock ERP: $customers customers, $items open items (pages of the mock's default size)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"

sync_run "sqlite://$work/bench.db" "erpsync sqlite" ""
sync_run "sqlite://$work/bench.db" "erpsync sqlite, re-sync (unchanged)" ""

if [[ $skip != *pyodata* ]]; then
mock0=$(proc_cpu "$mock")
/usr/bin/time -f "%e %U %S" -o "$work/time" \
  python3 benches/pyodata_pull.py "$base" ERPSYNC secret >"$work/pyodata.log"
mock1=$(proc_cpu "$mock")
read -r wall user sys <"$work/time"
tail -1 "$work/pyodata.log"
awk -v w="$wall" -v u="$user" -v s="$sys" -v a="$mock0" -v b="$mock1" \
  'BEGIN {printf "pyodata: %.2f s wall, CPU %.2f s (user %.2f + sys %.2f); mock CPU %.2f s\n", w, u + s, u, s, b - a}'

fi

if [[ $skip != *floor* ]]; then
  "$floor" "$base" ERPSYNC secret "$work/floor.db"
fi

if [ -n "$pg_url" ]; then
  admin_db=${pg_url%/*}
  psql -q "$pg_url" -c 'DROP DATABASE IF EXISTS erpsync_bench_pull' -c 'CREATE DATABASE erpsync_bench_pull'
  sync_run "$admin_db/erpsync_bench_pull" "erpsync postgres, first sync" 1
  sync_run "$admin_db/erpsync_bench_pull" "erpsync postgres, re-sync (unchanged)" 1
  psql -q "$pg_url" -c 'DROP DATABASE erpsync_bench_pull'
fi
