//! The manifest: what a plugin says about itself. It travels inside the signed
//! package, so a plugin cannot claim more than its vendor signed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::capabilities::{Asks, HostPattern};
use crate::validate::Checks;

/// The versions of the `itbm:plugin` WIT package this server serves, as
/// `major.minor`: a plugin built against any patch of one of them links.
pub const SERVED_WIT_VERSIONS: &[&str] = &["0.1"];

/// Most memory a plugin may ask for, in MiB.
pub const MAX_MEMORY_MB: u32 = 512;

/// What a plugin does, and so which WIT world its component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Connector,
    RoiModel,
    Integration,
}

crate::text_enum!(Kind { Connector = "connector", RoiModel = "roi-model", Integration = "integration" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Reverse-DNS-like identifier, unique per server: `com.example.snipe-it`.
    pub id: String,
    pub name: String,
    /// Semantic version `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub vendor: String,
    pub kind: Kind,
    /// Version of the `itbm:plugin` WIT package the component was built against.
    pub wit_version: String,
    #[serde(default)]
    pub capabilities: Asks,
    /// JSON Schema of the instance configuration (secrets are not part of it).
    #[serde(default = "empty_object_schema")]
    #[schema(value_type = Object)]
    pub configuration_schema: serde_json::Value,
}

fn empty_object_schema() -> serde_json::Value {
    serde_json::json!({ "type": "object" })
}

impl Manifest {
    /// Reads and checks a manifest. Errors point into the manifest, under
    /// `/manifest`, so an install refusal says which member is wrong.
    pub fn parse(bytes: &[u8]) -> crate::error::Result<Manifest> {
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            crate::error::Error::invalid("/manifest", format!("the manifest is not valid: {e}"))
        })?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> crate::error::Result<()> {
        let mut checks = Checks::new();
        checks.check(is_plugin_id(&self.id), "/manifest/id", "must be 3 to 100 lowercase letters, digits, '.', '-' or '_', starting with a letter");
        checks.text("/manifest/name", &self.name, 200);
        checks.text("/manifest/vendor", &self.vendor, 200);
        checks.check(semver(&self.version).is_some(), "/manifest/version", "must be a version MAJOR.MINOR.PATCH such as 1.4.0");
        match semver(&self.wit_version) {
            None => checks.fail("/manifest/wit_version", "must be a version MAJOR.MINOR.PATCH such as 0.1.0"),
            Some((major, minor, _)) if !SERVED_WIT_VERSIONS.contains(&format!("{major}.{minor}").as_str()) => checks.fail(
                "/manifest/wit_version",
                format!(
                    "the plugin was built for itbm:plugin@{}, which this server does not serve (it serves {})",
                    self.wit_version,
                    SERVED_WIT_VERSIONS.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", ")
                ),
            ),
            Some(_) => {}
        }
        for (i, host) in self.capabilities.http.iter().enumerate() {
            if let Err(why) = HostPattern::parse(host) {
                checks.fail(format!("/manifest/capabilities/http/{i}"), why);
            }
        }
        for (i, name) in self.capabilities.secrets.iter().enumerate() {
            checks.check(is_secret_name(name), &format!("/manifest/capabilities/secrets/{i}"), "must be 1 to 64 letters, digits or '_'");
        }
        if let Some(mb) = self.capabilities.memory_mb {
            checks.check((1..=MAX_MEMORY_MB).contains(&mb), "/manifest/capabilities/memory_mb", &format!("must be between 1 and {MAX_MEMORY_MB}"));
        }
        if let Err(why) = jsonschema::validator_for(&self.configuration_schema) {
            checks.fail("/manifest/configuration_schema", format!("is not a valid JSON Schema: {why}"));
        }
        checks.finish()
    }
}

fn is_plugin_id(id: &str) -> bool {
    (3..=100).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

pub fn is_secret_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `MAJOR.MINOR.PATCH`, each a number (pre-release and build suffixes are not
/// accepted: a plugin version names one signed build).
pub(crate) fn semver(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(|p| if p.is_empty() || (p.len() > 1 && p.starts_with('0')) { None } else { p.parse::<u64>().ok() });
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(wit_version: &str) -> serde_json::Value {
        serde_json::json!({
            "id": "com.example.hello", "name": "Hello", "version": "1.2.3", "vendor": "Example",
            "kind": "connector", "wit_version": wit_version,
            "capabilities": { "http": ["https://api.example.com"], "secrets": ["token"], "memory_mb": 32 },
            "configuration_schema": { "type": "object" }
        })
    }

    fn pointers(result: crate::error::Result<Manifest>) -> Vec<String> {
        match result {
            Err(crate::error::Error::Validation(errors)) => errors.into_iter().filter_map(|e| e.pointer).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn any_patch_of_a_served_wit_version_is_accepted() {
        for version in ["0.1.0", "0.1.7"] {
            let bytes = serde_json::to_vec(&manifest(version)).unwrap();
            assert_eq!(Manifest::parse(&bytes).unwrap().kind, Kind::Connector);
        }
    }

    #[test]
    fn an_unserved_wit_version_is_refused_naming_what_is_served() {
        let bytes = serde_json::to_vec(&manifest("0.2.0")).unwrap();
        assert_eq!(pointers(Manifest::parse(&bytes)), ["/manifest/wit_version"]);
    }

    #[test]
    fn every_wrong_member_is_named() {
        let mut m = manifest("0.1.0");
        m["id"] = "Bad Id".into();
        m["version"] = "1.2".into();
        m["capabilities"]["http"] = serde_json::json!(["ftp://x"]);
        m["configuration_schema"] = serde_json::json!({ "type": 12 });
        let bytes = serde_json::to_vec(&m).unwrap();
        assert_eq!(
            pointers(Manifest::parse(&bytes)),
            ["/manifest/id", "/manifest/version", "/manifest/capabilities/http/0", "/manifest/configuration_schema"]
        );
    }

    #[test]
    fn versions_are_three_plain_numbers() {
        assert_eq!(semver("10.0.1"), Some((10, 0, 1)));
        for bad in ["1.0", "1.0.0.0", "01.0.0", "1.0.0-beta", "a.b.c"] {
            assert_eq!(semver(bad), None, "{bad}");
        }
    }
}
