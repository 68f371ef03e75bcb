#!/usr/bin/env bash
# Throughput and tail latency of one project list page (50 items) on the demo
# organisation over SQLite, with wrk on loopback. Prints each round's requests/s
# and p99, the median over rounds, and the machine. See bench/README.md.
#
# Tunables (environment): ROUNDS=5 DURATION=15s CONNECTIONS=32 THREADS=2
# PER_PAGE=50 WARMUP=3s; BIN=path/to/itbm skips the release build.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PER_PAGE=${PER_PAGE:-50}
WARMUP=${WARMUP:-3s}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from the distribution" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

if [ -z "${BIN:-}" ]; then
    echo "building the release binary (a clean build takes several minutes)" >&2
    (cd "$ROOT" && cargo build --release --bin itbm)
    BIN=$TARGET_DIR/release/itbm
fi

# A free loopback port: one nobody answers on.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((20000 + RANDOM % 30000))
until port_is_free "$PORT"; do PORT=$((20000 + RANDOM % 30000)); done

DATA=$(mktemp -d "${TMPDIR:-/tmp}/itbm-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

BASE=http://127.0.0.1:$PORT
echo "starting itbm serve --demo on $BASE (data in $DATA)" >&2
"$BIN" --data-dir "$DATA" serve --demo --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!

# The server binds its port only after the demo is loaded.
for _ in $(seq 1 300); do
    if curl -fsS "$BASE/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited:" >&2
        cat "$DATA/server.log" >&2
        exit 1
    fi
    sleep 0.2
done
curl -fsS "$BASE/readyz" >/dev/null

TOKEN=$("$BIN" --data-dir "$DATA" token --role viewer --sub bench)
URL="$BASE/api/v1/projects?per_page=$PER_PAGE"

# One request by hand: the page must be a real 200 with items, not a fast 401.
STATUS=$(curl -s -o "$DATA/page.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")
BYTES=$(wc -c <"$DATA/page.json")
if [ "$STATUS" != 200 ]; then
    echo "GET $URL answered $STATUS:" >&2
    cat "$DATA/page.json" >&2
    exit 1
fi

# wrk prints latencies as 812.00us, 3.41ms or 1.02s; give milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n
    }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo
echo "machine:  $(nproc) cores, ${CPU:-unknown CPU}, $(uname -sr)"
echo "server:   $("$BIN" --version), SQLite, demo data; $(grep -m1 -o 'demo organisation loaded.*' "$DATA/server.log" | sed 's/\x1b\[[0-9;]*m//g' || true)"
echo "request:  GET /api/v1/projects?per_page=$PER_PAGE as a viewer ($BYTES bytes)"
echo "load:     wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds after a $WARMUP warm-up, on the same machine"
echo

# Two scenarios: the same page read again and again (answered from the read
# cache between writes, as a dashboard's poll is), and every request a URL of
# its own (each one reads the database).
scenario() {
    local name=$1
    shift
    echo "== $name"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null
    local rps_all=() p99_all=()
    printf '%-6s %12s %10s %10s %8s\n' round 'requests/s' 'p50 ms' 'p99 ms' errors
    for round in $(seq 1 "$ROUNDS"); do
        OUT=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" -H "Authorization: Bearer $TOKEN" "$URL")
        RPS=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$OUT")
        P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$OUT")")
        P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$OUT")")
        NON2XX=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$OUT")
        SOCKET=$(awk '/Socket errors:/ { print $4 + $6 + $8 + $10 }' <<<"$OUT" | tr -d ',')
        printf '%-6s %12s %10s %10s %8s\n' "$round" "$RPS" "$P50" "$P99" "$((${NON2XX:-0} + ${SOCKET:-0}))"
        rps_all+=("$RPS")
        p99_all+=("$P99")
    done
    echo "median:   $(printf '%s\n' "${rps_all[@]}" | median) requests/s, p99 $(printf '%s\n' "${p99_all[@]}" | median) ms"
    echo
}

scenario "same page repeated (read cache)"
scenario "distinct URLs (database every time)" -s "$ROOT/bench/distinct-urls.lua"
echo "aim:      >= 5000 requests/s with p99 < 20 ms"
