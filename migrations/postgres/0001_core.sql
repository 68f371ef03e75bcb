-- Core model of itbm: organisation settings, finance master data, portfolio,
-- demand, budgets, the canonical cost ledger, assets and the audit log.
-- Money is unconstrained NUMERIC (exact, keeps the scale it was given); identifiers are UUIDv7 text; every mutable row
-- Whole numbers are BIGINT so that both databases decode them as i64.
-- carries `version`, the number its ETag is made from.

CREATE TABLE settings (
    id                    BIGINT PRIMARY KEY CHECK (id = 1),
    reporting_currency    TEXT NOT NULL,
    fiscal_year_start_month BIGINT NOT NULL CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    updated_at            TIMESTAMPTZ NOT NULL,
    version               BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE currencies (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    minor_units BIGINT NOT NULL
);

CREATE TABLE exchange_rates (
    id             TEXT PRIMARY KEY,
    base_currency  TEXT NOT NULL REFERENCES currencies(code),
    quote_currency TEXT NOT NULL REFERENCES currencies(code),
    month          TEXT NOT NULL,
    rate_type      TEXT NOT NULL,
    rate           NUMERIC NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    UNIQUE (base_currency, quote_currency, month, rate_type)
);

CREATE TABLE cost_centers (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_id   TEXT REFERENCES cost_centers(id),
    owner       TEXT,
    description TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE cost_types (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    classification TEXT NOT NULL CHECK (classification IN ('capex', 'opex')),
    description    TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE tbm_cost_pools (
    id               TEXT PRIMARY KEY,
    taxonomy_version TEXT NOT NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    UNIQUE (taxonomy_version, code)
);

CREATE TABLE tbm_towers (
    id               TEXT PRIMARY KEY,
    taxonomy_version TEXT NOT NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    domain           TEXT NOT NULL,
    UNIQUE (taxonomy_version, code)
);

CREATE TABLE vendors (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('business_service', 'technical_service', 'application')),
    tower_id    TEXT REFERENCES tbm_towers(id),
    owner       TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE portfolios (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    owner       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE programs (
    id           TEXT PRIMARY KEY,
    portfolio_id TEXT NOT NULL REFERENCES portfolios(id),
    name         TEXT NOT NULL,
    description  TEXT,
    owner        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (portfolio_id, name)
);

CREATE TABLE strategic_goals (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE demands (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    description         TEXT,
    requester           TEXT NOT NULL,
    portfolio_id        TEXT REFERENCES portfolios(id),
    state               TEXT NOT NULL,
    investment_category TEXT NOT NULL CHECK (investment_category IN ('run', 'grow', 'transform')),
    risk                BIGINT NOT NULL CHECK (risk BETWEEN 1 AND 5),
    requested_start     DATE,
    currency            TEXT NOT NULL REFERENCES currencies(code),
    decision_note       TEXT,
    decided_by          TEXT,
    decided_at          TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX demands_state ON demands(state);

CREATE TABLE demand_estimates (
    demand_id   TEXT NOT NULL REFERENCES demands(id) ON DELETE CASCADE,
    fiscal_year BIGINT NOT NULL,
    capex       NUMERIC NOT NULL,
    opex        NUMERIC NOT NULL,
    benefit     NUMERIC NOT NULL,
    PRIMARY KEY (demand_id, fiscal_year)
);

CREATE TABLE projects (
    id                  TEXT PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    description         TEXT,
    portfolio_id        TEXT NOT NULL REFERENCES portfolios(id),
    program_id          TEXT REFERENCES programs(id),
    demand_id           TEXT UNIQUE REFERENCES demands(id),
    owner               TEXT NOT NULL,
    state               TEXT NOT NULL,
    health              TEXT NOT NULL CHECK (health IN ('green', 'amber', 'red')),
    investment_category TEXT NOT NULL CHECK (investment_category IN ('run', 'grow', 'transform')),
    risk                BIGINT NOT NULL CHECK (risk BETWEEN 1 AND 5),
    start_date          DATE,
    end_date            DATE,
    currency            TEXT NOT NULL REFERENCES currencies(code),
    cost_center_id      TEXT REFERENCES cost_centers(id),
    roi_model           TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX projects_portfolio ON projects(portfolio_id);
CREATE INDEX projects_state ON projects(state);
CREATE INDEX projects_name ON projects(name);

CREATE TABLE project_estimates (
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    fiscal_year BIGINT NOT NULL,
    capex       NUMERIC NOT NULL,
    opex        NUMERIC NOT NULL,
    benefit     NUMERIC NOT NULL,
    PRIMARY KEY (project_id, fiscal_year)
);

CREATE TABLE project_goals (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    goal_id    TEXT NOT NULL REFERENCES strategic_goals(id),
    weight     NUMERIC NOT NULL,
    PRIMARY KEY (project_id, goal_id)
);

CREATE TABLE budget_versions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    fiscal_year BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('plan', 'reforecast')),
    state       TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'locked')),
    currency    TEXT NOT NULL REFERENCES currencies(code),
    description TEXT,
    approved_by TEXT,
    approved_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (fiscal_year, name)
);

CREATE TABLE budget_lines (
    id                TEXT PRIMARY KEY,
    budget_version_id TEXT NOT NULL REFERENCES budget_versions(id) ON DELETE CASCADE,
    fiscal_period     TEXT NOT NULL,
    cost_center_id    TEXT NOT NULL REFERENCES cost_centers(id),
    cost_type_id      TEXT NOT NULL REFERENCES cost_types(id),
    project_id        TEXT REFERENCES projects(id),
    amount            NUMERIC NOT NULL,
    currency          TEXT NOT NULL REFERENCES currencies(code),
    note              TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX budget_lines_cell ON budget_lines
    (budget_version_id, fiscal_period, cost_center_id, cost_type_id, COALESCE(project_id, ''));

CREATE TABLE assets (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    kind                    TEXT NOT NULL CHECK (kind IN ('hardware', 'software', 'licence', 'contract', 'cloud_resource')),
    state                   TEXT NOT NULL,
    asset_tag               TEXT UNIQUE,
    serial_number           TEXT,
    model                   TEXT,
    vendor_id               TEXT REFERENCES vendors(id),
    purchase_cost           NUMERIC,
    currency                TEXT NOT NULL REFERENCES currencies(code),
    acquisition_date        DATE,
    in_service_date         DATE,
    warranty_end            DATE,
    end_of_life             DATE,
    depreciation_method     TEXT NOT NULL,
    depreciation_convention TEXT NOT NULL,
    useful_life_months      BIGINT,
    residual_value          NUMERIC NOT NULL,
    cost_center_id          TEXT REFERENCES cost_centers(id),
    service_id              TEXT REFERENCES services(id),
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX assets_serial ON assets(serial_number);
CREATE INDEX assets_state ON assets(state);

CREATE TABLE asset_source_ids (
    asset_id    TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX asset_source_ids_asset ON asset_source_ids(asset_id);

CREATE TABLE ledger_lines (
    id             TEXT PRIMARY KEY,
    entry_date     DATE NOT NULL,
    fiscal_period  TEXT NOT NULL,
    amount         NUMERIC NOT NULL,
    currency       TEXT NOT NULL REFERENCES currencies(code),
    cost_type_id   TEXT NOT NULL REFERENCES cost_types(id),
    cost_center_id TEXT NOT NULL REFERENCES cost_centers(id),
    project_id     TEXT REFERENCES projects(id),
    asset_id       TEXT REFERENCES assets(id),
    vendor_id      TEXT REFERENCES vendors(id),
    service_id     TEXT REFERENCES services(id),
    cost_pool_id   TEXT REFERENCES tbm_cost_pools(id),
    tower_id       TEXT REFERENCES tbm_towers(id),
    description    TEXT,
    tags           TEXT NOT NULL,
    source         TEXT NOT NULL,
    source_key     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    UNIQUE (source, source_key)
);
CREATE INDEX ledger_lines_period ON ledger_lines(fiscal_period);
CREATE INDEX ledger_lines_date ON ledger_lines(entry_date);
CREATE INDEX ledger_lines_cost_center ON ledger_lines(cost_center_id);
CREATE INDEX ledger_lines_project ON ledger_lines(project_id);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    request_id  TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
