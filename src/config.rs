//! Configuration: flags, then environment variables (`ITBM_*`), then an optional
//! TOML file (`--config`), then defaults that work with no configuration at all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::auth::{JwksSource, ProviderSettings, Role};

#[derive(Debug, Parser)]
#[command(name = "itbm", version, about = "IT Business Management server")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// TOML file with any of the settings below (flags and environment win).
    #[arg(long, env = "ITBM_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Holds the SQLite database and the server's keys; created on first start.
    #[arg(long, env = "ITBM_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` selects PostgreSQL; default: the SQLite file `itbm.db` in the data directory.
    #[arg(long, env = "ITBM_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a token signed with this data directory's key, for local use.
    Token {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        sub: String,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 12)]
        hours: u64,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Vendor tools for plugin packages: keys, signing, verification.
    #[command(subcommand)]
    Plugin(crate::plugins::cli::PluginCommand),
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "ITBM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Load a demo organisation on first start (only into an empty database).
    #[arg(long, env = "ITBM_DEMO")]
    pub demo: bool,
    /// JWKS file of an identity provider whose RS256/ES256 tokens are accepted.
    #[arg(long, env = "ITBM_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL of an identity provider whose RS256/ES256 tokens are accepted.
    #[arg(long, env = "ITBM_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Issuer (`iss`) identity-provider tokens must carry.
    #[arg(long, env = "ITBM_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Audience (`aud`) identity-provider tokens must carry.
    #[arg(long, env = "ITBM_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Claim holding the itbm role in identity-provider tokens (default `role`).
    #[arg(long, env = "ITBM_JWT_ROLE_CLAIM")]
    pub jwt_role_claim: Option<String>,
    /// Plugin development: also install unsigned plugin packages. Never in production.
    #[arg(long, env = "ITBM_PLUGIN_DEV")]
    pub plugin_dev: bool,
    /// Trust this plugin vendor's public key at start (a `.pub` file from
    /// `itbm plugin keygen`, or its base64). Repeatable; ITBM_TRUSTED_KEYS
    /// takes several, separated by commas.
    #[arg(long = "trusted-key", env = "ITBM_TRUSTED_KEYS", value_delimiter = ',')]
    pub trusted_keys: Vec<String>,
}

/// The settings file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    demo: Option<bool>,
    jwks_file: Option<PathBuf>,
    jwks_url: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_role_claim: Option<String>,
}

/// Resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub demo: bool,
    pub provider: Option<ProviderSettings>,
    /// Unsigned plugin packages may be installed.
    pub plugin_dev: bool,
    /// Plugin signing keys to trust at start (base64 public keys), read from
    /// `--trusted-key` files or values.
    pub trusted_keys: Vec<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    pub fn resolve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Config> {
        let file = match &common.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = common.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("itbm-data"));
        let database_url = common
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("itbm.db").display()));
        let jwks = match (serve.jwks_file.clone().or(file.jwks_file), serve.jwks_url.clone().or(file.jwks_url)) {
            (Some(_), Some(_)) => anyhow::bail!("configure either a JWKS file or a JWKS URL, not both"),
            (Some(path), None) => Some(JwksSource::File(path)),
            (None, Some(url)) => Some(JwksSource::Url(url)),
            (None, None) => None,
        };
        let provider = match jwks {
            None => None,
            Some(jwks) => Some(ProviderSettings {
                jwks,
                issuer: serve.jwt_issuer.clone().or(file.jwt_issuer).ok_or_else(|| {
                    anyhow::anyhow!("a JWKS needs the issuer its tokens carry (--jwt-issuer or ITBM_JWT_ISSUER)")
                })?,
                audience: serve.jwt_audience.clone().or(file.jwt_audience).ok_or_else(|| {
                    anyhow::anyhow!("a JWKS needs the audience its tokens carry (--jwt-audience or ITBM_JWT_AUDIENCE)")
                })?,
                role_claim: serve.jwt_role_claim.clone().or(file.jwt_role_claim).unwrap_or_else(|| "role".into()),
            }),
        };
        Ok(Config {
            data_dir,
            database_url,
            listen: serve.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
            demo: serve.demo || file.demo.unwrap_or(false),
            provider,
            plugin_dev: serve.plugin_dev,
            trusted_keys: serve.trusted_keys.iter().map(|k| read_public_key(k)).collect::<anyhow::Result<_>>()?,
        })
    }

    /// The HS256 secret of local tokens.
    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt-secret")
    }
}

/// A public key given as base64 or as a file holding it; checked here so a
/// typo stops the start with a message instead of trusting nothing.
fn read_public_key(value: &str) -> anyhow::Result<String> {
    let text = if crate::plugins::package::decode_key(value).is_some() {
        value.trim().to_owned()
    } else {
        std::fs::read_to_string(value.trim())
            .map_err(|e| anyhow::anyhow!("--trusted-key {value}: neither a base64 Ed25519 public key nor a readable file ({e})"))?
            .trim()
            .to_owned()
    };
    anyhow::ensure!(crate::plugins::package::decode_key(&text).is_some(), "--trusted-key {value}: not an Ed25519 public key (base64 of 32 bytes)");
    Ok(text)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_key_is_given_as_base64_or_as_a_pub_file_and_a_bad_one_stops_the_start() {
        let key = crate::plugins::package::encode_key(&crate::plugins::package::generate_key().verifying_key());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vendor.key.pub");
        std::fs::write(&file, format!("{key}\n")).unwrap();
        let serve = ServeArgs { trusted_keys: vec![key.clone(), file.display().to_string()], ..Default::default() };
        let common = CommonArgs { config: None, data_dir: Some(dir.path().to_owned()), database_url: None };
        assert_eq!(Config::resolve(&common, &serve).unwrap().trusted_keys, [key.clone(), key]);

        let bad = ServeArgs { trusted_keys: vec!["not-a-key".into()], ..Default::default() };
        let refusal = Config::resolve(&common, &bad).unwrap_err().to_string();
        assert!(refusal.contains("--trusted-key not-a-key"), "{refusal}");
    }
}
