#!/usr/bin/env bash
# Cost reports and TBM allocation at scale, against DuckDB (see bench/costs.md).
#   LINES=1000000 SEED=1 BACKENDS="sqlite postgres" bench/costs.sh
# REUSE=1 with a fixed WORK keeps the loaded databases (the SQLite file in WORK,
# the PostgreSQL schema bench_<LINES>) and skips the load when they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
SEED=${SEED:-1}
ROUNDS=${ROUNDS:-3}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
FOCUS=${FOCUS:-../shared/data/focus/focus_sample_1000.csv}
WORK=${WORK:-$(mktemp -d)}
REUSE=${REUSE:-0}
mkdir -p "$WORK"

python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
if [ -z "${BIN:-}" ]; then
  cargo build --release --example costs_bench
  BIN=${CARGO_TARGET_DIR:-target}/release/examples/costs_bench
fi
psql_q() { PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qtAc "$1"; }

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); lines=$LINES seed=$SEED"
for backend in $BACKENDS; do
  load=1
  case $backend in
    sqlite)
      url="sqlite://$WORK/bench-$LINES.db"
      if [ "$REUSE" = 1 ] && [ -f "$WORK/bench-$LINES.db" ]; then load=0; else rm -f "$WORK/bench-$LINES.db"*; fi ;;
    postgres)
      schema="bench_$LINES"
      [ "$REUSE" = 1 ] || schema="bench_$$"
      if [ "$REUSE" = 1 ] && [ "$(psql_q "SELECT count(*) FROM pg_tables WHERE schemaname = '$schema' AND tablename = 'ledger_lines'")" = 1 ]; then
        load=0
      else
        psql_q "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      fi
      url="$PG_URL?options=-c%20search_path%3D$schema" ;;
  esac
  echo "## $backend"
  echo "# load before: $(uptime)"
  if [ $load = 1 ]; then
    "$BIN" load --database-url "$url" --lines "$LINES" --seed "$SEED" --focus "$FOCUS"
  else
    echo "# reusing the $LINES lines loaded before"
  fi
  "$BIN" run --database-url "$url" --columnar-dir "$WORK/columnar-$backend" --rounds "$ROUNDS"
  python3 bench/costs_duckdb.py "$WORK/columnar-$backend" "$ROUNDS"
  echo "# load after: $(uptime)"
  if [ "$backend" = postgres ] && [ "$REUSE" != 1 ]; then psql_q "DROP SCHEMA $schema CASCADE" >/dev/null; fi
done
