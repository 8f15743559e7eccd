#!/usr/bin/env bash
# Pull throughput, erpsync and pyodata side by side in one run, against the same mock ERP
# on loopback: customers, company codes, sales areas and open items (the sets both read
# alike). erpsync's pull time is what `erpsync sync --only payment-terms,customers,open-items`
# logs for its pulls, which includes the address and credit-limit reads and every store
# write (only the four sets are counted); the time with the reconciliation that follows is
# shown beside it (the terms definitions are read so that it judges as in production).
#
#   benches/pull_vs_pyodata.sh [CUSTOMERS] [OPEN_ITEMS]      (default 20000 200000)
# Needs: cargo, python3 with `pip install pyodata requests`.
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-20000}
items=${2:-200000}
port=${ERPSYNC_BENCH_PORT:-18089}

cargo build --release --quiet
bin=target/release/erpsync
work=$(mktemp -d)
trap 'kill $mock 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" mock-erp --listen "127.0.0.1:$port" --customers "$customers" --open-items "$items" \
  >"$work/mock.log" 2>&1 &
mock=$!
for _ in $(seq 1 600); do
  curl -sf -u ERPSYNC:secret "http://127.0.0.1:$port/sap/opu/odata/sap/API_BUSINESS_PARTNER/\$metadata?sap-client=100" >/dev/null && break
  sleep 0.5
done

cp mappings/s4hana-odata-v2.toml "$work/mapping.toml"
printf 'secret' >"$work/pw"
cat >"$work/erpsync.toml" <<TOML
[store]
url = "sqlite://$work/bench.db"
[erp]
kind = "odata"
base_url = "http://127.0.0.1:$port/sap/opu/odata/sap/"
mapping = "mapping.toml"
sap_client = "100"
[erp.auth]
kind = "basic"
user = "ERPSYNC"
password_file = "pw"
TOML

echo "mock ERP: $customers customers, $items open items (pages of the mock's default size)"
start=$(date +%s.%N)
RUST_LOG=info,erpsync::erp::odata::pager=warn /usr/bin/time -f "%M" -o "$work/rss" \
  "$bin" --config "$work/erpsync.toml" sync --only payment-terms,customers,open-items >"$work/sync.log" 2>&1
end=$(date +%s.%N)
pulled=$(grep -oE '\b(customers|company_codes|sales_areas|open_items) [0-9]+' "$work/sync.log" \
  | awk '{s += $2} END {print s + 0}')
# The pull alone: the "pull finished" log line times the pulls (reads and store writes),
# without the reconciliation that `sync` runs after them.
pull_ms=$(grep '"message":"pull finished"' "$work/sync.log" | grep -oE '"elapsed_ms":[0-9]+' \
  | awk -F: '{s += $2} END {print s + 0}')
awk -v n="$pulled" -v a="$start" -v b="$end" -v p="$pull_ms" -v rss="$(cat "$work/rss")" \
  'BEGIN {printf "erpsync pull: %d entities in %.1f s (%.0f entities/s); with reconciliation %.1f s; peak RSS %.0f MB\n", n, p / 1000, n / (p / 1000), b - a, rss / 1024}'

python3 benches/pyodata_pull.py "http://127.0.0.1:$port/sap/opu/odata/sap/" ERPSYNC secret
