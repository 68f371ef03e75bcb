//! Built-in plugins: `roi-dcf`, the default ROI model, and `roi-montecarlo`,
//! built from `plugins/` by `build.rs` and embedded in the binary as signed
//! packages.
//!
//! At every start the server installs each built-in that is missing, and
//! replaces an installed built-in when the binary carries a newer version (or
//! the same version with another component, as a development build does).
//! A built-in's signature must be by the key `build.rs` embedded: a key kept
//! by the release pipeline (`ITBM_BUILTIN_SIGNING_KEY`) or one made for the
//! build. That key is trusted for the embedded packages only; it is not a
//! trusted key of the server, so an upload signed with it is refused like any
//! other package whose signer no admin trusts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use ed25519_dalek::VerifyingKey;

use super::installed::{self, Plugin};
use super::manifest::{Manifest, semver};
use super::package::{self, sha256_hex};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, query};
use crate::patch::new_id;

/// One embedded plugin: its folder under `plugins/` and its signed package.
pub struct Builtin {
    pub folder: &'static str,
    pub package: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Who the audit log names for installs at start.
const INSTALLER: &str = "itbm (built-in plugins)";

/// What start did with a built-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Installed,
    Upgraded { from: String },
    Current,
    /// An uploaded plugin holds the built-in's id; it is left alone.
    Shadowed,
    /// The installed built-in is newer than this binary's; it is left alone.
    Newer { installed: String },
}

/// Installs or upgrades every built-in; returns (manifest id, version, outcome).
pub async fn install_all(db: &Db) -> anyhow::Result<Vec<(String, String, Outcome)>> {
    let key = VerifyingKey::from_bytes(&BUILTIN_KEY)?;
    let who = Principal { subject: INSTALLER.into(), roles: Vec::new(), request_id: None };
    let mut done = Vec::new();
    for builtin in BUILTINS {
        let package = package::read(builtin.package).map_err(|e| anyhow::anyhow!("built-in {}: {e:?}", builtin.folder))?;
        anyhow::ensure!(package.signer == Some(key), "built-in {}: not signed by the built-in key", builtin.folder);
        let manifest = Manifest::parse(&package.manifest).map_err(|e| anyhow::anyhow!("built-in {}: {e:?}", builtin.folder))?;
        let sha256 = sha256_hex(&package.component);
        let outcome = install_one(db, &who, builtin.package, &manifest, &sha256).await?;
        match &outcome {
            Outcome::Shadowed => tracing::warn!(plugin = %manifest.id, "an uploaded plugin holds the id of a built-in; the built-in is not installed"),
            Outcome::Newer { installed } => {
                tracing::warn!(plugin = %manifest.id, installed = %installed, embedded = %manifest.version, "the installed built-in is newer than this binary's; kept")
            }
            _ => tracing::debug!(plugin = %manifest.id, version = %manifest.version, outcome = ?outcome, "built-in plugin"),
        }
        done.push((manifest.id, manifest.version, outcome));
    }
    Ok(done)
}

async fn install_one(db: &Db, who: &Principal, bytes: &[u8], manifest: &Manifest, sha256: &str) -> anyhow::Result<Outcome> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let existing = installed::find_by_key(&mut tx, &manifest.id).await?;
    let outcome = match &existing {
        None => {
            let plugin = Plugin {
                id: new_id(),
                manifest: manifest.clone(),
                component_sha256: sha256.to_owned(),
                signed_by: None,
                enabled: true,
                builtin: true,
                installed_by: INSTALLER.into(),
                installed_at: now,
                updated_at: now,
                version: 1,
            };
            query(
                "INSERT INTO plugins (id, plugin_key, name, plugin_version, vendor, kind, wit_version, manifest, component_sha256, package, \
                 signed_by, enabled, builtin, installed_by, installed_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, 1)",
            )
            .bind(&plugin.id)
            .bind(&manifest.id)
            .bind(&manifest.name)
            .bind(&manifest.version)
            .bind(&manifest.vendor)
            .bind(manifest.kind.as_str())
            .bind(&manifest.wit_version)
            .bind(serde_json::to_string(manifest)?)
            .bind(sha256)
            .bind(STANDARD.encode(bytes))
            .bind(true)
            .bind(true)
            .bind(INSTALLER)
            .bind(now)
            .bind(now)
            .execute(&mut tx)
            .await?;
            audit::record(&mut tx, who, Action::Create, "plugin", &plugin.id, None::<&()>, Some(&plugin)).await?;
            Outcome::Installed
        }
        Some(plugin) if !plugin.builtin => Outcome::Shadowed,
        Some(plugin) if semver(&plugin.manifest.version) > semver(&manifest.version) => {
            Outcome::Newer { installed: plugin.manifest.version.clone() }
        }
        Some(plugin) if plugin.component_sha256 == sha256 && &plugin.manifest == manifest => Outcome::Current,
        Some(before) => {
            // Same id, same row: the invocation log stays with the plugin.
            let after = Plugin {
                manifest: manifest.clone(),
                component_sha256: sha256.to_owned(),
                updated_at: now,
                version: before.version + 1,
                ..before.clone()
            };
            query(
                "UPDATE plugins SET name = $1, plugin_version = $2, vendor = $3, wit_version = $4, manifest = $5, component_sha256 = $6, \
                 package = $7, updated_at = $8, version = $9 WHERE id = $10",
            )
            .bind(&manifest.name)
            .bind(&manifest.version)
            .bind(&manifest.vendor)
            .bind(&manifest.wit_version)
            .bind(serde_json::to_string(manifest)?)
            .bind(sha256)
            .bind(STANDARD.encode(bytes))
            .bind(now)
            .bind(after.version)
            .bind(&before.id)
            .execute(&mut tx)
            .await?;
            audit::record(&mut tx, who, Action::Update, "plugin", &before.id, Some(before), Some(&after)).await?;
            Outcome::Upgraded { from: before.manifest.version.clone() }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The built-ins this binary carries: (manifest id, version), for `--version`
/// style reports and tests.
pub fn embedded() -> Vec<(String, String)> {
    BUILTINS
        .iter()
        .filter_map(|b| package::read(b.package).ok())
        .filter_map(|p| Manifest::parse(&p.manifest).ok())
        .map(|m| (m.id, m.version))
        .collect()
}
