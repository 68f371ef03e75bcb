-- Depreciation, lifecycle cost and refresh planning: the cost type an asset is
-- booked on (its acquisition, its depreciation and its replacement), its tax
-- depreciation settings (NULL: the same as its book settings), and which
-- assets' replacements a budget version holds already, so that writing a
-- refresh forecast into a version twice adds each replacement once.

ALTER TABLE assets ADD COLUMN cost_type_id TEXT REFERENCES cost_types(id);
ALTER TABLE assets ADD COLUMN tax_depreciation_method TEXT;
ALTER TABLE assets ADD COLUMN tax_depreciation_convention TEXT;
ALTER TABLE assets ADD COLUMN tax_useful_life_months INTEGER;
ALTER TABLE assets ADD COLUMN tax_residual_value TEXT;

CREATE TABLE budget_refresh_entries (
    budget_version_id TEXT NOT NULL REFERENCES budget_versions(id) ON DELETE CASCADE,
    asset_id          TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    budget_line_id    TEXT NOT NULL REFERENCES budget_lines(id) ON DELETE CASCADE,
    fiscal_period     TEXT NOT NULL,
    amount            TEXT NOT NULL,
    currency          TEXT NOT NULL REFERENCES currencies(code),
    created_at        TEXT NOT NULL,
    PRIMARY KEY (budget_version_id, asset_id)
);

CREATE INDEX ledger_lines_by_asset ON ledger_lines(asset_id);
CREATE INDEX ledger_lines_by_service ON ledger_lines(service_id);
