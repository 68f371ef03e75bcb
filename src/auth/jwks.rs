//! Public keys of an identity provider, from a JWKS file or URL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::RwLock;

use crate::error::{Error, Result};

/// Where the provider's keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

/// How often an unknown `kid` may trigger a refetch of a JWKS URL, so a flood
/// of forged tokens cannot turn the server into a load generator.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

pub(super) struct KeySet {
    source: JwksSource,
    state: RwLock<(JwkSet, Instant)>,
}

impl KeySet {
    pub(super) async fn load(source: &JwksSource) -> anyhow::Result<Arc<KeySet>> {
        let set = fetch(source).await?;
        Ok(Arc::new(KeySet { source: source.clone(), state: RwLock::new((set, Instant::now())) }))
    }

    /// The key for `kid` (or the only key, when the token names none), provided
    /// it is of the family `alg` belongs to.
    pub(super) async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey> {
        if let Some(key) = self.lookup(kid, alg).await? {
            return Ok(key);
        }
        // Keys rotate: refetch a URL once in a while when a kid is unknown.
        if let JwksSource::Url(_) = self.source {
            let stale = self.state.read().await.1.elapsed() > REFRESH_AT_MOST_EVERY;
            if stale {
                if let Ok(set) = fetch(&self.source).await {
                    *self.state.write().await = (set, Instant::now());
                }
                if let Some(key) = self.lookup(kid, alg).await? {
                    return Ok(key);
                }
            }
        }
        Err(Error::Unauthorized("the token's signing key is not among the provider's keys".into()))
    }

    async fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Result<Option<DecodingKey>> {
        let state = self.state.read().await;
        let keys = &state.0.keys;
        let jwk = match kid {
            Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid)),
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        let Some(jwk) = jwk else { return Ok(None) };
        if !key_fits(jwk, alg) {
            return Err(Error::Unauthorized("the token's algorithm does not match its key".into()));
        }
        DecodingKey::from_jwk(jwk)
            .map(Some)
            .map_err(|_| Error::Unauthorized("the provider's key cannot be used".into()))
    }
}

fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let family_fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            matches!(alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512)
        }
        AlgorithmParameters::EllipticCurve(_) => matches!(alg, Algorithm::ES256 | Algorithm::ES384),
        _ => false,
    };
    let declared_fits = match jwk.common.key_algorithm {
        Some(declared) => format!("{declared:?}") == format!("{alg:?}"),
        None => true,
    };
    family_fits && declared_fits
}

async fn fetch(source: &JwksSource) -> anyhow::Result<JwkSet> {
    let text = match source {
        JwksSource::File(path) => tokio::fs::read_to_string(path).await?,
        JwksSource::Url(url) => {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
            client.get(url).send().await?.error_for_status()?.text().await?
        }
    };
    Ok(serde_json::from_str(&text)?)
}
