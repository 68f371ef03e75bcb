"""DuckDB side of the cost benchmark (see bench/costs.md).

Runs the SQL equivalent of itbm's month x cost center x service report, and of
the grouping an allocation run starts from, over the same Parquet files itbm
scans (the columnar ledger copy), converting with the same rates. Prints one
JSON object per round with the time and the process's peak resident memory.
"""

import json
import resource
import sys
import time

import duckdb

folder = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
files = f"{folder}/ledger-*.parquet"

REPORT = f"""
WITH grouped AS (
    SELECT fiscal_period, cost_center, service, currency, SUM(amount) AS amount, COUNT(*) AS lines
    FROM read_parquet('{files}')
    GROUP BY fiscal_period, cost_center, service, currency
)
SELECT g.fiscal_period, g.cost_center, g.service, SUM(g.amount * r.rate) AS amount, SUM(g.lines) AS lines
FROM grouped g JOIN read_csv('{folder}/rates.csv', types={{'rate': 'DECIMAL(18,12)'}}) r
  ON r.fiscal_period = g.fiscal_period AND r.currency = g.currency
GROUP BY g.fiscal_period, g.cost_center, g.service
"""

# What an allocation run reads: per period, the ledger grouped by where lines
# enter the TBM model (the rules then apply to a few hundred sums).
SEEDS = f"""
SELECT fiscal_period, cost_pool, tower, service, currency, SUM(amount) AS amount, COUNT(*) AS lines
FROM read_parquet('{files}')
GROUP BY fiscal_period, cost_pool, tower, service, currency
"""


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


con = duckdb.connect()
for phase, sql in [("duckdb_report", REPORT), ("duckdb_allocation_seeds", SEEDS)]:
    for _ in range(rounds):
        started = time.perf_counter()
        rows = con.execute(sql).fetchall()
        seconds = time.perf_counter() - started
        detail = {"rows": len(rows)}
        if phase == "duckdb_report":
            detail["total"] = str(sum(r[3] for r in rows))
            detail["lines"] = int(sum(r[4] for r in rows))
        print(json.dumps({"phase": phase, "seconds": seconds, "peak_mib": peak_mib(), "detail": detail}), flush=True)
