-- The plugin platform: trusted signing keys, installed plugins (the signed
-- package kept whole, so every replica can load it and re-verify it), plugin
-- instances with their configuration, grants and encrypted secrets, and the
-- invocation log.

CREATE TABLE plugin_trusted_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- Standard base64 of the 32-byte Ed25519 verifying key.
    public_key  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE plugins (
    id               TEXT PRIMARY KEY,
    plugin_key       TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    plugin_version   TEXT NOT NULL,
    vendor           TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('connector', 'roi-model', 'integration')),
    wit_version      TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    component_sha256 TEXT NOT NULL,
    -- The package file, standard base64.
    package          TEXT NOT NULL,
    -- The trusted key that signed it; NULL for an unsigned development install.
    signed_by        TEXT REFERENCES plugin_trusted_keys(id),
    enabled          BOOLEAN NOT NULL,
    installed_by     TEXT NOT NULL,
    installed_at     TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE plugin_instances (
    id           TEXT PRIMARY KEY,
    plugin_id    TEXT NOT NULL REFERENCES plugins(id),
    name         TEXT NOT NULL UNIQUE,
    config       TEXT NOT NULL,
    grants       TEXT NOT NULL,
    -- Names of the secrets set (JSON array); the values are only in `secrets`.
    secret_names TEXT NOT NULL,
    -- ChaCha20-Poly1305 under the server's secret-key, standard base64.
    secrets      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX plugin_instances_plugin ON plugin_instances(plugin_id);

CREATE TABLE plugin_invocations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id       TEXT NOT NULL REFERENCES plugin_instances(id) ON DELETE CASCADE,
    operation         TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    duration_us       BIGINT NOT NULL,
    fuel_used         BIGINT,
    peak_memory_bytes BIGINT NOT NULL,
    outcome           TEXT NOT NULL,
    detail            TEXT,
    -- JSON array of {level, message}.
    logs              TEXT NOT NULL,
    requested_by      TEXT NOT NULL
);
CREATE INDEX plugin_invocations_instance ON plugin_invocations(instance_id, id);
