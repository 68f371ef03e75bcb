-- The rest of the plugin platform: built-in plugins, ROI model calls in the
-- invocation log (a model is called as a plugin, not through an instance),
-- the integration outbox with its deliveries, and the discount rate ROI
-- models use by default.

ALTER TABLE plugins ADD COLUMN builtin BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE settings ADD COLUMN discount_rate TEXT NOT NULL DEFAULT '0.08';

-- SQLite cannot drop a NOT NULL: the invocation log is rebuilt with
-- `plugin_id` (always set) and `instance_id` (set for instance calls).
CREATE TABLE plugin_invocations_v2 (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin_id         TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    instance_id       TEXT REFERENCES plugin_instances(id) ON DELETE CASCADE,
    operation         TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    duration_us       BIGINT NOT NULL,
    fuel_used         BIGINT,
    peak_memory_bytes BIGINT NOT NULL,
    outcome           TEXT NOT NULL,
    detail            TEXT,
    logs              TEXT NOT NULL,
    requested_by      TEXT NOT NULL
);
INSERT INTO plugin_invocations_v2 (id, plugin_id, instance_id, operation, started_at, duration_us, fuel_used, peak_memory_bytes, outcome, detail, logs, requested_by)
    SELECT i.id, p.plugin_id, i.instance_id, i.operation, i.started_at, i.duration_us, i.fuel_used, i.peak_memory_bytes, i.outcome, i.detail, i.logs, i.requested_by
    FROM plugin_invocations i JOIN plugin_instances p ON p.id = i.instance_id;
DROP TABLE plugin_invocations;
ALTER TABLE plugin_invocations_v2 RENAME TO plugin_invocations;
CREATE INDEX plugin_invocations_instance ON plugin_invocations(instance_id, id);
CREATE INDEX plugin_invocations_plugin ON plugin_invocations(plugin_id, id);

-- The outbox: written in the transaction of the change it reports.
CREATE TABLE integration_events (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    -- JSON.
    payload       TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    -- When the dispatcher made a delivery for each enabled integration
    -- instance; NULL until then.
    fanned_out_at TEXT
);
CREATE INDEX integration_events_fan_out ON integration_events(fanned_out_at, occurred_at);

-- One event to one integration instance, retried with exponential backoff
-- until the plugin accepts it or the attempts run out.
CREATE TABLE integration_deliveries (
    id                 TEXT PRIMARY KEY,
    event_id           TEXT NOT NULL REFERENCES integration_events(id),
    instance_id        TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts           BIGINT NOT NULL,
    next_attempt_at    TEXT NOT NULL,
    last_error         TEXT,
    last_invocation_id BIGINT,
    delivered_at       TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (event_id, instance_id)
);
CREATE INDEX integration_deliveries_due ON integration_deliveries(state, next_attempt_at);
CREATE INDEX integration_deliveries_instance ON integration_deliveries(instance_id, created_at);
