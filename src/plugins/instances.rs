//! Plugin instances: a plugin with a configuration, secrets and the
//! capabilities an admin granted it. Configuration is validated against the
//! plugin's schema; secrets are write-only, encrypted at rest, and never
//! returned, audited or logged (the audit log records their names only).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::capabilities::{Granted, Grants};
use super::installed::{self, Plugin};
use super::manifest::is_secret_name;
use super::runtime::CallContext;
use super::secrets::Secrets;
use super::Plugins;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{ConflictKind, Error, FieldError, Result};
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Instance {
    pub id: String,
    pub plugin_id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub grants: Grants,
    /// Names of the secrets set on the instance; their values are never returned.
    pub secret_names: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstance {
    /// The installed plugin (its `id`).
    pub plugin_id: String,
    pub name: String,
    /// Valid against the plugin's configuration schema.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Secret values by name; each name must be one the manifest asks for.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub grants: Grants,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstanceFilter {
    pub plugin_id: Option<String>,
}

const COLUMNS: &str = "id, plugin_id, name, config, grants, secret_names, created_at, updated_at, version";
const SORT: Sortable = Sortable { keys: &[("name", "LOWER(name)"), ("created_at", "created_at")], default: "name", tie_break: "id" };
/// Largest configuration accepted, serialised.
const MAX_CONFIG_BYTES: usize = 64 << 10;

fn from_row(row: &Row) -> Result<Instance> {
    Ok(Instance {
        id: row.get("id")?,
        plugin_id: row.get("plugin_id")?,
        name: row.get("name")?,
        config: row.json("config")?,
        grants: row.json("grants")?,
        secret_names: row.json("secret_names")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &InstanceFilter, page: &PageParams) -> Result<Page<Instance>> {
    let mut select = Select::new(COLUMNS, "plugin_instances");
    select.filter_opt("plugin_id = {}", filter.plugin_id.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Instance> {
    let row = query(format!("SELECT {COLUMNS} FROM plugin_instances WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("plugin instance", id))
}

pub async fn create(db: &Db, plugins: &Plugins, who: &Principal, input: NewInstance) -> Result<Instance> {
    let plugin = match installed::get(&mut db.clone(), &input.plugin_id).await {
        Ok(plugin) => plugin,
        Err(Error::NotFound { .. }) => return Err(Error::invalid("/plugin_id", "no plugin with this id is installed")),
        Err(e) => return Err(e),
    };
    validate(&plugin, &input)?;
    let now = Utc::now();
    let instance = Instance {
        id: new_id(),
        plugin_id: plugin.id.clone(),
        name: input.name.trim().to_owned(),
        config: input.config,
        grants: input.grants,
        secret_names: input.secrets.keys().cloned().collect(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let sealed = plugins.secrets.seal(&instance.id, &Secrets(input.secrets));
    let mut tx = db.begin().await?;
    query(
        "INSERT INTO plugin_instances (id, plugin_id, name, config, grants, secret_names, secrets, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)",
    )
    .bind(&instance.id)
    .bind(&instance.plugin_id)
    .bind(&instance.name)
    .bind(instance.config.to_string())
    .bind(serde_json::to_string(&instance.grants).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(&instance.secret_names).map_err(anyhow::Error::from)?)
    .bind(sealed)
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "an instance of this name exists already", "/plugin_id"))?;
    audit::record(&mut tx, who, Action::Create, "plugin_instance", &instance.id, None::<&()>, Some(&instance)).await?;
    tx.commit().await?;
    Ok(instance)
}

/// Every problem with a new instance, at its pointer.
fn validate(plugin: &Plugin, input: &NewInstance) -> Result<()> {
    let mut errors = Vec::new();
    let mut checks = Checks::new();
    checks.text("/name", &input.name, 200);
    checks.check(input.config.to_string().len() <= MAX_CONFIG_BYTES, "/config", "is larger than 64 KiB");
    let asked = &plugin.manifest.capabilities.secrets;
    for (name, value) in &input.secrets {
        let pointer = format!("/secrets/{name}");
        if !is_secret_name(name) || !asked.contains(name) {
            checks.fail(pointer, format!("the plugin asks for no secret of this name; it asks for {}", names_or_none(asked)));
        } else {
            checks.check(value.len() <= 8192, &pointer, "is longer than 8192 bytes");
        }
    }
    if let Err(Error::Validation(more)) = checks.finish() {
        errors.extend(more);
    }
    if let Err(Error::Validation(more)) = Granted::resolve(&plugin.manifest.capabilities, &input.grants) {
        errors.extend(more);
    }
    match jsonschema::validator_for(&plugin.manifest.configuration_schema) {
        Ok(validator) => errors.extend(
            validator.iter_errors(&input.config).map(|e| FieldError::at(format!("/config{}", e.instance_path), e.to_string())),
        ),
        Err(e) => return Err(Error::Internal(anyhow::anyhow!("plugin {}: its stored configuration schema does not compile: {e}", plugin.id))),
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

fn names_or_none(names: &[String]) -> String {
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

pub async fn delete(db: &Db, who: &Principal, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    query("DELETE FROM plugin_invocations WHERE instance_id = $1").bind(id).execute(&mut tx).await?;
    query("DELETE FROM plugin_instances WHERE id = $1").bind(id).execute(&mut tx).await?;
    audit::record(&mut tx, who, Action::Delete, "plugin_instance", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

/// The instance, its plugin and everything a call needs: the configuration,
/// the decrypted secrets, and the capabilities in force. A disabled plugin is
/// refused with 409.
pub async fn call_context(db: &Db, plugins: &Plugins, id: &str) -> Result<(Instance, Plugin, CallContext)> {
    let instance = get(&mut db.clone(), id).await?;
    let plugin = installed::get(&mut db.clone(), &instance.plugin_id).await?;
    if !plugin.enabled {
        return Err(Error::conflict(ConflictKind::Locked, format!("the plugin {} is disabled; enable it first", plugin.manifest.id)));
    }
    let sealed: String =
        query("SELECT secrets FROM plugin_instances WHERE id = $1").bind(id).fetch_one(&mut db.clone()).await?.get("secrets")?;
    let secrets = plugins.secrets.open(id, &sealed)?;
    let granted = Granted::resolve(&plugin.manifest.capabilities, &instance.grants)
        .map_err(|e| anyhow::anyhow!("instance {id}: its stored grants no longer resolve: {e:?}"))?;
    let context = CallContext { config: instance.config.to_string(), secrets, granted };
    Ok((instance, plugin, context))
}
