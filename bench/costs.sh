#!/usr/bin/env bash
# Cost reports and TBM allocation at scale, against DuckDB (see bench/costs.md).
#   LINES=1000000 SEED=1 BACKENDS="sqlite postgres" bench/costs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
SEED=${SEED:-1}
ROUNDS=${ROUNDS:-3}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
FOCUS=${FOCUS:-../shared/data/focus/focus_sample_1000.csv}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"

python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
if [ -z "${BIN:-}" ]; then
  cargo build --release --example costs_bench
  BIN=${CARGO_TARGET_DIR:-target}/release/examples/costs_bench
fi

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); lines=$LINES seed=$SEED"
for backend in $BACKENDS; do
  case $backend in
    sqlite) url="sqlite://$WORK/bench-$LINES.db" ; rm -f "$WORK/bench-$LINES.db"* ;;
    postgres)
      schema="bench_$$"
      PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      url="$PG_URL?options=-c%20search_path%3D$schema" ;;
  esac
  echo "## $backend"
  "$BIN" load --database-url "$url" --lines "$LINES" --seed "$SEED" --focus "$FOCUS"
  "$BIN" run --database-url "$url" --columnar-dir "$WORK/columnar-$backend" --rounds "$ROUNDS"
  python3 bench/costs_duckdb.py "$WORK/columnar-$backend" "$ROUNDS"
  if [ "$backend" = postgres ]; then PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null; fi
done
