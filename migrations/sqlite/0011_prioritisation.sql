-- Prioritisation: scoring frameworks with weighted criteria (and the built-in
-- WSJF, RICE and value over effort), scores of demands and projects, and
-- what-if scenarios over a portfolio's planning horizon.

CREATE TABLE scoring_frameworks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    -- weighted: Σ weight × normalised value; the others are the built-in formulas.
    kind        TEXT NOT NULL CHECK (kind IN ('weighted', 'wsjf', 'rice', 'value_over_effort')),
    built_in    BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE scoring_criteria (
    framework_id TEXT NOT NULL REFERENCES scoring_frameworks(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    criterion    TEXT NOT NULL,
    name         TEXT NOT NULL,
    weight       TEXT NOT NULL,
    scale_min    TEXT NOT NULL,
    scale_max    TEXT NOT NULL,
    -- higher_is_better or lower_is_better (cost, effort, risk).
    direction    TEXT NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    -- manual: scored by people; alignment: computed from the goal links.
    source       TEXT NOT NULL CHECK (source IN ('manual', 'alignment')),
    PRIMARY KEY (framework_id, criterion)
);

CREATE TABLE scores (
    framework_id TEXT NOT NULL REFERENCES scoring_frameworks(id) ON DELETE CASCADE,
    item_kind    TEXT NOT NULL CHECK (item_kind IN ('demand', 'project')),
    item_id      TEXT NOT NULL,
    criterion    TEXT NOT NULL,
    value        TEXT NOT NULL,
    scored_by    TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (framework_id, item_kind, item_id, criterion)
);

CREATE TABLE scenarios (
    id           TEXT PRIMARY KEY,
    portfolio_id TEXT NOT NULL REFERENCES portfolios(id),
    name         TEXT NOT NULL,
    description  TEXT,
    first_year   INTEGER NOT NULL,
    years        INTEGER NOT NULL CHECK (years BETWEEN 1 AND 5),
    discount_rate TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'approved')),
    approved_by  TEXT,
    approved_at  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (portfolio_id, name)
);

CREATE TABLE scenario_items (
    scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    item_kind   TEXT NOT NULL CHECK (item_kind IN ('demand', 'project')),
    item_id     TEXT NOT NULL,
    included    BOOLEAN NOT NULL,
    -- Whole fiscal years the item's estimates move later (negative: earlier).
    shift_years INTEGER NOT NULL,
    -- Share of the estimated CapEx, OpEx and benefit funded (1 = as estimated).
    funding     TEXT NOT NULL,
    PRIMARY KEY (scenario_id, item_kind, item_id)
);

-- The budget versions an approved scenario became, one per year of its horizon.
CREATE TABLE scenario_budget_versions (
    scenario_id       TEXT NOT NULL REFERENCES scenarios(id),
    budget_version_id TEXT NOT NULL REFERENCES budget_versions(id),
    fiscal_year       INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, fiscal_year)
);

INSERT INTO scoring_frameworks (id, name, description, kind, built_in, created_at, updated_at) VALUES
 ('wsjf', 'WSJF', 'Weighted shortest job first (SAFe): (business value + time criticality + risk reduction) / job size', 'wsjf', TRUE, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
 ('rice', 'RICE', 'Reach × impact × confidence / effort', 'rice', TRUE, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
 ('value-over-effort', 'Value over effort', 'Value / effort', 'value_over_effort', TRUE, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');

INSERT INTO scoring_criteria (framework_id, position, criterion, name, weight, scale_min, scale_max, direction, source) VALUES
 ('wsjf', 0, 'business_value', 'User and business value', '1', '1', '20', 'higher_is_better', 'manual'),
 ('wsjf', 1, 'time_criticality', 'Time criticality', '1', '1', '20', 'higher_is_better', 'manual'),
 ('wsjf', 2, 'risk_reduction', 'Risk reduction and opportunity enablement', '1', '1', '20', 'higher_is_better', 'manual'),
 ('wsjf', 3, 'job_size', 'Job size', '1', '1', '20', 'lower_is_better', 'manual'),
 ('rice', 0, 'reach', 'Reach (people or events per period)', '1', '0', '1000000000', 'higher_is_better', 'manual'),
 ('rice', 1, 'impact', 'Impact (0.25 minimal to 3 massive)', '1', '0.25', '3', 'higher_is_better', 'manual'),
 ('rice', 2, 'confidence', 'Confidence (0 to 1)', '1', '0', '1', 'higher_is_better', 'manual'),
 ('rice', 3, 'effort', 'Effort (person-months)', '1', '0.1', '10000', 'lower_is_better', 'manual'),
 ('value-over-effort', 0, 'value', 'Value', '1', '0', '1000', 'higher_is_better', 'manual'),
 ('value-over-effort', 1, 'effort', 'Effort', '1', '0.1', '1000', 'lower_is_better', 'manual');
