-- Synced ITOM utilisation weighs allocation rules by the metric a rule names;
-- ITSM effort is costed at the organisation's labour rate in TCO; a disposed
-- asset stops depreciating on the day it was disposed of.

-- The utilisation metric (as a connector stores it, e.g. `cpu_seconds`) of a
-- rule with the `utilisation` driver; null for the other drivers.
ALTER TABLE allocation_rules ADD COLUMN metric TEXT;

-- Cost of one hour of ITSM effort, in the reporting currency; null when not set.
ALTER TABLE settings ADD COLUMN labour_rate NUMERIC;

-- Set when the asset moves to `disposed`.
ALTER TABLE assets ADD COLUMN disposed_on DATE;

CREATE INDEX ticket_effort_ci ON ticket_effort(ci_id);
CREATE INDEX utilisation_service ON utilisation(service_id, metric, period_start);
