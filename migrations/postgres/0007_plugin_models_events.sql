-- The rest of the plugin platform: built-in plugins, ROI model calls in the
-- invocation log (a model is called as a plugin, not through an instance),
-- the integration outbox with its deliveries, and the discount rate ROI
-- models use by default.

ALTER TABLE plugins ADD COLUMN builtin BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE settings ADD COLUMN discount_rate NUMERIC NOT NULL DEFAULT 0.08;

ALTER TABLE plugin_invocations ADD COLUMN plugin_id TEXT REFERENCES plugins(id) ON DELETE CASCADE;
UPDATE plugin_invocations i SET plugin_id = p.plugin_id FROM plugin_instances p WHERE p.id = i.instance_id;
ALTER TABLE plugin_invocations ALTER COLUMN plugin_id SET NOT NULL;
ALTER TABLE plugin_invocations ALTER COLUMN instance_id DROP NOT NULL;
CREATE INDEX plugin_invocations_plugin ON plugin_invocations(plugin_id, id);

-- The outbox: written in the transaction of the change it reports.
CREATE TABLE integration_events (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    -- JSON.
    payload       TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    -- When the dispatcher made a delivery for each enabled integration
    -- instance; NULL until then.
    fanned_out_at TIMESTAMPTZ
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
    next_attempt_at    TIMESTAMPTZ NOT NULL,
    last_error         TEXT,
    last_invocation_id BIGINT,
    delivered_at       TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, instance_id)
);
CREATE INDEX integration_deliveries_due ON integration_deliveries(state, next_attempt_at);
CREATE INDEX integration_deliveries_instance ON integration_deliveries(instance_id, created_at);
