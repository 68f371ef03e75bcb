-- TBM cost allocation, the columnar copy of the ledger, and saved cost reports.
-- Money is NUMERIC on PostgreSQL (canonical decimal TEXT on SQLite).

-- One rule per source node: how a cost pool, tower or service passes its
-- balance on. `targets` is a JSON array of {"kind", "id", "share"}; `share` is
-- used by the `fixed` driver, the other drivers weigh the same targets by data.
CREATE TABLE allocation_rules (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    source_kind TEXT NOT NULL CHECK (source_kind IN ('cost_pool', 'tower', 'service')),
    source_id   TEXT NOT NULL,
    driver      TEXT NOT NULL CHECK (driver IN ('fixed', 'asset_count', 'utilisation', 'tickets', 'effort', 'headcount')),
    chargeable  BOOLEAN NOT NULL,
    targets     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (source_kind, source_id)
);

-- Driver quantities per fiscal period and node, the documented contract for
-- the drivers that come from other systems: ITOM sync writes `utilisation`,
-- ITSM sync writes `tickets` and `effort` (hours), HR or an admin writes
-- `headcount`. Values of several sources for one node add up.
CREATE TABLE cost_driver_values (
    driver        TEXT NOT NULL CHECK (driver IN ('utilisation', 'tickets', 'effort', 'headcount')),
    fiscal_period TEXT NOT NULL,
    node_kind     TEXT NOT NULL CHECK (node_kind IN ('tower', 'service', 'cost_center')),
    node_id       TEXT NOT NULL,
    source        TEXT NOT NULL,
    value         NUMERIC NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (driver, fiscal_period, node_kind, node_id, source)
);

-- One allocation of one fiscal period, in the reporting currency.
CREATE TABLE allocation_runs (
    id                TEXT PRIMARY KEY,
    fiscal_period     TEXT NOT NULL,
    currency          TEXT NOT NULL REFERENCES currencies(code),
    ledger_total      NUMERIC NOT NULL,
    allocated_total   NUMERIC NOT NULL,
    unallocated_total NUMERIC NOT NULL,
    ledger_lines      BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX allocation_runs_period ON allocation_runs(fiscal_period, created_at);

-- Every movement of money in a run: from the ledger into the first node, from
-- node to node by rule, into a consumer, or into `unallocated` with a reason.
CREATE TABLE allocation_flows (
    run_id      TEXT NOT NULL REFERENCES allocation_runs(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    step        BIGINT NOT NULL,
    source_kind TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    rule_id     TEXT,
    chargeable  BOOLEAN NOT NULL,
    amount      NUMERIC NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX allocation_flows_target ON allocation_flows(run_id, target_kind, target_id);

-- A number per fiscal period that grows with every change to its ledger
-- lines, so the columnar copy of a period knows when it is stale.
CREATE TABLE ledger_generations (
    fiscal_period TEXT PRIMARY KEY,
    generation    BIGINT NOT NULL
);

-- Statement-level triggers: one bump per period per statement (a bulk insert
-- of a million lines bumps each of its periods once), periods locked in sorted
-- order within a statement (transactions of several statements that touch
-- periods in opposite orders can still wait on each other, as any upsert).
CREATE FUNCTION ledger_generation_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_generations (fiscal_period, generation)
        SELECT fiscal_period, 1 FROM (
            SELECT fiscal_period FROM changed_new
            UNION SELECT fiscal_period FROM changed_old
        ) touched ORDER BY fiscal_period
        ON CONFLICT (fiscal_period) DO UPDATE SET generation = ledger_generations.generation + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_generation_bump_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_generations (fiscal_period, generation)
        SELECT DISTINCT fiscal_period, 1 FROM changed_new ORDER BY fiscal_period
        ON CONFLICT (fiscal_period) DO UPDATE SET generation = ledger_generations.generation + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_generation_bump_delete() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_generations (fiscal_period, generation)
        SELECT DISTINCT fiscal_period, 1 FROM changed_old ORDER BY fiscal_period
        ON CONFLICT (fiscal_period) DO UPDATE SET generation = ledger_generations.generation + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_generation_insert AFTER INSERT ON ledger_lines
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_generation_bump_insert();
CREATE TRIGGER ledger_generation_update AFTER UPDATE ON ledger_lines
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_generation_bump();
CREATE TRIGGER ledger_generation_delete AFTER DELETE ON ledger_lines
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_generation_bump_delete();

-- Saved cost report definitions (the definition is JSON).
CREATE TABLE report_definitions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    definition  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
