//! The vendor keys an admin trusts: a package installs only if one of them
//! signed it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::package;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{ConflictKind, Error, Result};
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustedKey {
    pub id: String,
    /// Who the key belongs to, such as the vendor's name.
    pub name: String,
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrustedKey {
    pub name: String,
    /// Standard base64 of the 32-byte Ed25519 public key (`itbm plugin keygen`
    /// writes it next to the private key).
    pub public_key: String,
}

const COLUMNS: &str = "id, name, public_key, created_at, version";
const SORT: Sortable = Sortable { keys: &[("name", "LOWER(name)"), ("created_at", "created_at")], default: "name", tie_break: "id" };

fn from_row(row: &Row) -> Result<TrustedKey> {
    Ok(TrustedKey {
        id: row.get("id")?,
        name: row.get("name")?,
        public_key: row.get("public_key")?,
        created_at: row.get("created_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, page: &PageParams) -> Result<Page<TrustedKey>> {
    Select::new(COLUMNS, "plugin_trusted_keys").fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<TrustedKey> {
    let row = query(format!("SELECT {COLUMNS} FROM plugin_trusted_keys WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("trusted key", id))
}

/// The trusted key with these bytes, if an admin trusts it.
pub async fn find(ex: &mut impl Executor, key: &ed25519_dalek::VerifyingKey) -> Result<Option<TrustedKey>> {
    let row = query(format!("SELECT {COLUMNS} FROM plugin_trusted_keys WHERE public_key = $1"))
        .bind(package::encode_key(key))
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn create(db: &Db, who: &Principal, input: NewTrustedKey) -> Result<TrustedKey> {
    let mut checks = Checks::new();
    checks.text("/name", &input.name, 200);
    let key = package::decode_key(&input.public_key);
    checks.check(key.is_some(), "/public_key", "must be the standard base64 of a 32-byte Ed25519 public key");
    checks.finish()?;
    let key = TrustedKey {
        id: new_id(),
        name: input.name.trim().to_owned(),
        public_key: package::encode_key(&key.expect("checked")),
        created_at: Utc::now(),
        version: 1,
    };
    let mut tx = db.begin().await?;
    query("INSERT INTO plugin_trusted_keys (id, name, public_key, created_at, version) VALUES ($1, $2, $3, $4, 1)")
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.public_key)
        .bind(key.created_at)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "this key, or a key of this name, is trusted already", "/public_key"))?;
    audit::record(&mut tx, who, Action::Create, "plugin_trusted_key", &key.id, None::<&()>, Some(&key)).await?;
    tx.commit().await?;
    Ok(key)
}

/// Stops trusting a key. Plugins it signed stay installed; new packages it
/// signs are refused. A key that signed an installed plugin cannot be removed
/// until that plugin is uninstalled, so the record of who signed what stays.
pub async fn delete(db: &Db, who: &Principal, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    query("DELETE FROM plugin_trusted_keys WHERE id = $1").bind(id).execute(&mut tx).await.map_err(|e| {
        if e.is_foreign_key_violation() {
            Error::conflict(ConflictKind::InUse, "installed plugins were signed with this key; uninstall them first")
        } else {
            e.into()
        }
    })?;
    audit::record(&mut tx, who, Action::Delete, "plugin_trusted_key", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

/// Trusts the keys given at start (`serve --trusted-key`), each one unless an
/// admin trusts it already; the audit log names the start as the actor.
pub async fn trust_at_start(db: &Db, keys: &[String]) -> Result<()> {
    let who = Principal { subject: "itbm serve --trusted-key".into(), roles: Vec::new(), request_id: None };
    for text in keys {
        let key = package::decode_key(text).ok_or_else(|| Error::invalid("/trusted_keys", format!("{text} is not an Ed25519 public key")))?;
        if find(&mut db.clone(), &key).await?.is_some() {
            continue;
        }
        let encoded = package::encode_key(&key);
        let name = format!("--trusted-key {}", &encoded[..16]);
        create(db, &who, NewTrustedKey { name, public_key: encoded }).await?;
    }
    Ok(())
}
