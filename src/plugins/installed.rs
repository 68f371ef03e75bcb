//! Installed plugins. A package is installed only when its signature holds,
//! its signer is trusted (or the server runs with `--plugin-dev` and the
//! package is unsigned), its manifest is valid for this server, and its
//! component compiles and links as the kind the manifest names. Each refusal
//! says which of these failed, and writes nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::manifest::Manifest;
use super::package::{self, sha256_hex};
use super::{Plugins, trusted_keys};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{ConflictKind, Error, Result};
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plugin {
    pub id: String,
    pub manifest: Manifest,
    /// Hex SHA-256 of the component.
    pub component_sha256: String,
    /// The trusted key that signed the package; none for a development install.
    pub signed_by: Option<String>,
    /// Disabled plugins keep their instances but cannot be called.
    pub enabled: bool,
    /// Embedded in the server binary and installed at start (see `builtin`).
    pub builtin: bool,
    pub installed_by: String,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PluginFilter {
    /// connector, roi-model or integration.
    pub kind: Option<String>,
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "id, manifest, component_sha256, signed_by, enabled, builtin, installed_by, installed_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("name", "LOWER(name)"), ("key", "plugin_key"), ("installed_at", "installed_at")],
    default: "name",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<Plugin> {
    Ok(Plugin {
        id: row.get("id")?,
        manifest: row.json("manifest")?,
        component_sha256: row.get("component_sha256")?,
        signed_by: row.get("signed_by")?,
        enabled: row.get("enabled")?,
        builtin: row.get("builtin")?,
        installed_by: row.get("installed_by")?,
        installed_at: row.get("installed_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &PluginFilter, page: &PageParams) -> Result<Page<Plugin>> {
    let mut select = Select::new(COLUMNS, "plugins");
    select.filter_opt("kind = {}", filter.kind.as_deref()).filter_opt("enabled = {}", filter.enabled);
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Plugin> {
    let row = query(format!("SELECT {COLUMNS} FROM plugins WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("plugin", id))
}

/// The plugin installed under a manifest id such as `roi-dcf`.
pub async fn find_by_key(ex: &mut impl Executor, key: &str) -> Result<Option<Plugin>> {
    let row = query(format!("SELECT {COLUMNS} FROM plugins WHERE plugin_key = $1")).bind(key).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// The component of an installed plugin, read back from its stored package.
pub async fn component(ex: &mut impl Executor, id: &str) -> Result<Vec<u8>> {
    let row = query("SELECT package FROM plugins WHERE id = $1").bind(id).fetch_optional(ex).await?;
    let text: String = row.ok_or_else(|| Error::not_found("plugin", id))?.get("package")?;
    let bytes = STANDARD.decode(text).map_err(|e| anyhow::anyhow!("plugin {id}: the stored package is not base64: {e}"))?;
    // Stored packages were verified at install; reading checks the framing and
    // signature again, so a row changed behind the server's back is refused.
    Ok(package::read(&bytes).map_err(|e| anyhow::anyhow!("plugin {id}: the stored package no longer verifies: {e:?}"))?.component)
}

pub async fn install(db: &Db, plugins: &Plugins, who: &Principal, bytes: &[u8]) -> Result<Plugin> {
    let package = package::read(bytes)?;
    let signed_by = match &package.signer {
        None if plugins.allow_unsigned => None,
        None => {
            return Err(Error::invalid(
                "/signature",
                "the package is unsigned; this server installs only packages signed by a trusted key (unsigned ones only when started with --plugin-dev)",
            ));
        }
        Some(key) => match trusted_keys::find(&mut db.clone(), key).await? {
            Some(trusted) => Some(trusted.id),
            None => {
                return Err(Error::invalid(
                    "/signature",
                    format!("the package is signed by the key {}, which no admin of this server trusts", package::encode_key(key)),
                ));
            }
        },
    };
    let manifest = Manifest::parse(&package.manifest)?;
    let sha256 = sha256_hex(&package.component);
    plugins.runtime.prepare(manifest.kind, &sha256, &package.component).await.map_err(|why| Error::invalid("/component", why))?;

    let now = Utc::now();
    let plugin = Plugin {
        id: new_id(),
        manifest,
        component_sha256: sha256,
        signed_by,
        enabled: true,
        builtin: false,
        installed_by: who.subject.clone(),
        installed_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    query(
        "INSERT INTO plugins (id, plugin_key, name, plugin_version, vendor, kind, wit_version, manifest, component_sha256, package, \
         signed_by, enabled, installed_by, installed_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)",
    )
    .bind(&plugin.id)
    .bind(&plugin.manifest.id)
    .bind(&plugin.manifest.name)
    .bind(&plugin.manifest.version)
    .bind(&plugin.manifest.vendor)
    .bind(plugin.manifest.kind.as_str())
    .bind(&plugin.manifest.wit_version)
    .bind(serde_json::to_string(&plugin.manifest).map_err(anyhow::Error::from)?)
    .bind(&plugin.component_sha256)
    .bind(STANDARD.encode(bytes))
    .bind(plugin.signed_by.clone())
    .bind(true)
    .bind(&plugin.installed_by)
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, &format!("a plugin {} is installed already; uninstall it first", plugin.manifest.id), "/signature"))?;
    audit::record(&mut tx, who, Action::Create, "plugin", &plugin.id, None::<&()>, Some(&plugin)).await?;
    tx.commit().await?;
    Ok(plugin)
}

pub async fn set_enabled(db: &Db, who: &Principal, id: &str, enabled: bool) -> Result<Plugin> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    let after = Plugin { enabled, updated_at: Utc::now(), version: before.version + 1, ..before.clone() };
    query("UPDATE plugins SET enabled = $1, updated_at = $2, version = $3 WHERE id = $4 AND version = $5")
        .bind(enabled)
        .bind(after.updated_at)
        .bind(after.version)
        .bind(id)
        .bind(before.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Update, "plugin", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn uninstall(db: &Db, plugins: &Plugins, who: &Principal, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    query("DELETE FROM plugins WHERE id = $1").bind(id).execute(&mut tx).await.map_err(|e| {
        if e.is_foreign_key_violation() {
            Error::conflict(ConflictKind::InUse, "the plugin still has instances; delete them first")
        } else {
            e.into()
        }
    })?;
    audit::record(&mut tx, who, Action::Delete, "plugin", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    plugins.runtime.forget(&before.component_sha256);
    Ok(())
}
