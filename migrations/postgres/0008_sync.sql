-- The sync engine (src/sync/): per-instance sync settings and schedule, the
-- lease that keeps one run per instance across replicas, runs with their
-- counts and rejections, stream checkpoints, every record seen (its source
-- key, content hash and the core row it became), and the tables connectors
-- fill for cost allocation: configuration items, ticket effort, utilisation.

CREATE TABLE sync_settings (
    instance_id      TEXT PRIMARY KEY REFERENCES plugin_instances(id) ON DELETE CASCADE,
    -- NULL: runs only on demand.
    interval_seconds BIGINT,
    next_run_at      TIMESTAMPTZ,
    -- Lower wins when two sources report one asset.
    precedence       BIGINT NOT NULL DEFAULT 100,
    cost_center_id   TEXT REFERENCES cost_centers(id),
    cost_type_id     TEXT REFERENCES cost_types(id),
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE sync_runs (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    -- running, succeeded, failed, cancelled
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    -- manual or schedule
    trigger_kind     TEXT NOT NULL,
    requested_by     TEXT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    records_read     BIGINT NOT NULL DEFAULT 0,
    inserted         BIGINT NOT NULL DEFAULT 0,
    updated          BIGINT NOT NULL DEFAULT 0,
    unchanged        BIGINT NOT NULL DEFAULT 0,
    rejected         BIGINT NOT NULL DEFAULT 0,
    pages            BIGINT NOT NULL DEFAULT 0,
    retries          BIGINT NOT NULL DEFAULT 0,
    -- JSON array of the streams completed in this run.
    streams_done     TEXT NOT NULL DEFAULT '[]',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT
);
CREATE INDEX sync_runs_instance ON sync_runs(instance_id, started_at);
CREATE INDEX sync_runs_status ON sync_runs(status);

CREATE TABLE sync_rejections (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    stream      TEXT NOT NULL,
    record_key  TEXT,
    reason      TEXT NOT NULL,
    -- The record as received, cut to 4 KiB.
    record      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_rejections_run ON sync_rejections(run_id);

-- One run per instance at a time, across replicas: a holder with an expiry,
-- renewed inside every page's transaction.
CREATE TABLE sync_leases (
    instance_id TEXT PRIMARY KEY REFERENCES plugin_instances(id) ON DELETE CASCADE,
    holder      TEXT NOT NULL,
    run_id      TEXT,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE sync_checkpoints (
    instance_id TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    stream      TEXT NOT NULL,
    checkpoint  TEXT,
    run_id      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (instance_id, stream)
);

CREATE TABLE sync_records (
    instance_id  TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    stream       TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    produces     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    -- The core row the record became (asset, service, ledger line, ...).
    target_id    TEXT,
    last_run_id  TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    gone_at      TIMESTAMPTZ,
    PRIMARY KEY (instance_id, stream, record_key)
);
CREATE INDEX sync_records_target ON sync_records(target_id);

CREATE TABLE configuration_items (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    record_key    TEXT NOT NULL,
    name          TEXT NOT NULL,
    class         TEXT,
    status        TEXT,
    serial_number TEXT,
    asset_tag     TEXT,
    service_id    TEXT REFERENCES services(id),
    asset_id      TEXT REFERENCES assets(id),
    -- JSON object of the source's other attributes.
    attributes    TEXT NOT NULL,
    retired_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (instance_id, stream, record_key)
);
CREATE INDEX configuration_items_service ON configuration_items(service_id);

CREATE TABLE ticket_effort (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    record_key    TEXT NOT NULL,
    ticket        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT,
    opened_at     TIMESTAMPTZ NOT NULL,
    closed_at     TIMESTAMPTZ,
    effort_hours  NUMERIC NOT NULL,
    service_id    TEXT REFERENCES services(id),
    ci_id         TEXT REFERENCES configuration_items(id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (instance_id, stream, record_key)
);
CREATE INDEX ticket_effort_service ON ticket_effort(service_id, opened_at);

CREATE TABLE utilisation (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    record_key    TEXT NOT NULL,
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('host', 'service')),
    subject       TEXT NOT NULL,
    metric        TEXT NOT NULL,
    period_start  TIMESTAMPTZ NOT NULL,
    period_end    TIMESTAMPTZ NOT NULL,
    value         NUMERIC NOT NULL,
    unit          TEXT NOT NULL,
    service_id    TEXT REFERENCES services(id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (instance_id, stream, record_key)
);
CREATE INDEX utilisation_subject ON utilisation(subject_kind, subject, period_start);
