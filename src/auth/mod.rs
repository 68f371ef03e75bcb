//! Who is calling, and what their role lets them do.
//!
//! Two kinds of bearer token are accepted:
//! * **local** HS256 tokens signed with the data directory's secret (`itbm token`),
//!   issuer and audience `itbm`;
//! * **identity-provider** tokens signed with RS256/ES256 (and their larger
//!   siblings), verified against a JWKS file or URL, with the configured issuer
//!   and audience.
//!
//! The header's `alg` only chooses which of those two paths a token takes; each
//! path accepts only its own algorithms and key types, so an HS256 token "signed"
//! with a public RSA key (algorithm confusion) or an `alg: none` token never
//! verifies.

mod jwks;
pub mod keys;

use std::collections::HashSet;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use jwks::JwksSource;
use jwks::KeySet;

use crate::error::{Error, Result};

/// Issuer and audience of the tokens this server signs itself.
pub const LOCAL_ISSUER: &str = "itbm";
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    PortfolioManager,
    Finance,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PortfolioManager => "portfolio_manager",
            Role::Finance => "finance",
            Role::Viewer => "viewer",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::PortfolioManager, Role::Finance, Role::Viewer].into_iter().find(|r| r.as_str() == s)
    }

    fn allows(self, p: Permission) -> bool {
        match p {
            Permission::Read => true,
            Permission::WritePortfolio => matches!(self, Role::Admin | Role::PortfolioManager),
            Permission::WriteFinance | Permission::ReadAudit => matches!(self, Role::Admin | Role::Finance),
            Permission::Admin => self == Role::Admin,
        }
    }
}

/// What a request wants to do, checked against the caller's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read anything but the audit log.
    Read,
    /// Write portfolios, programs, projects, goals and demands.
    WritePortfolio,
    /// Write budgets, the ledger, assets, rates and finance master data.
    WriteFinance,
    /// Read the audit log.
    ReadAudit,
    /// Administer the server (plugins, settings).
    Admin,
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::WritePortfolio => "change portfolios, projects and demands (roles admin, portfolio_manager)",
            Permission::WriteFinance => "change finance data (roles admin, finance)",
            Permission::ReadAudit => "read the audit log (roles admin, finance)",
            Permission::Admin => "administer the server (role admin)",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub roles: Vec<Role>,
    /// The request being served on the principal's behalf, for the audit log.
    pub request_id: Option<String>,
}

impl Principal {
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.roles.iter().any(|r| r.allows(permission)) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("your role may not {}", permission.describe())))
        }
    }

    /// The roles as written into the audit log.
    pub fn role_names(&self) -> String {
        self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LocalClaims {
    iss: String,
    aud: String,
    sub: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    exp: u64,
}

/// Settings for identity-provider tokens.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub jwks: JwksSource,
    pub issuer: String,
    pub audience: String,
    /// Claim holding the role: a string or an array of strings.
    pub role_claim: String,
}

pub struct Authenticator {
    local_encoding: EncodingKey,
    local_decoding: DecodingKey,
    provider: Option<(ProviderSettings, Arc<KeySet>)>,
}

impl Authenticator {
    /// `secret` is the HS256 key of local tokens (see [`keys`]).
    pub async fn new(secret: &[u8], provider: Option<ProviderSettings>) -> anyhow::Result<Self> {
        let provider = match provider {
            Some(settings) => {
                let keys = KeySet::load(&settings.jwks).await?;
                Some((settings, keys))
            }
            None => None,
        };
        Ok(Authenticator {
            local_encoding: EncodingKey::from_secret(secret),
            local_decoding: DecodingKey::from_secret(secret),
            provider,
        })
    }

    /// Signs a local token for `subject` with `role`, valid for `ttl_seconds`.
    pub fn issue(&self, subject: &str, role: Role, ttl_seconds: u64) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = LocalClaims {
            iss: LOCAL_ISSUER.into(),
            aud: LOCAL_ISSUER.into(),
            sub: subject.into(),
            role,
            iat: Some(now),
            nbf: Some(now),
            exp: now + ttl_seconds,
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.local_encoding)?)
    }

    /// Verifies a bearer token and returns its principal.
    pub async fn verify(&self, token: &str) -> Result<Principal> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| unauthorized(&e))?;
        match header.alg {
            Algorithm::HS256 => self.verify_local(token),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384 => self.verify_provider(token, header).await,
            other => Err(Error::Unauthorized(format!("tokens signed with {other:?} are not accepted"))),
        }
    }

    fn verify_local(&self, token: &str) -> Result<Principal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[LOCAL_ISSUER]);
        validation.set_audience(&[LOCAL_ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<LocalClaims>(token, &self.local_decoding, &validation)
            .map_err(|e| unauthorized(&e))?;
        Ok(Principal { subject: data.claims.sub, roles: vec![data.claims.role], request_id: None })
    }

    async fn verify_provider(&self, token: &str, header: Header) -> Result<Principal> {
        let Some((settings, keys)) = &self.provider else {
            return Err(Error::Unauthorized(
                "this server accepts no identity-provider tokens: no JWKS is configured".into(),
            ));
        };
        let key = keys.find(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &validation)
            .map_err(|e| unauthorized(&e))?;
        let subject = data.claims.get("sub").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let roles = roles_from_claim(data.claims.get(&settings.role_claim));
        if roles.is_empty() {
            return Err(Error::Forbidden(format!(
                "the token's {:?} claim names no itbm role (admin, portfolio_manager, finance, viewer)",
                settings.role_claim
            )));
        }
        Ok(Principal { subject, roles, request_id: None })
    }
}

fn roles_from_claim(claim: Option<&serde_json::Value>) -> Vec<Role> {
    let names: Vec<&str> = match claim {
        Some(serde_json::Value::String(s)) => s.split([' ', ',']).collect(),
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    let unique: HashSet<Role> = names.into_iter().filter_map(Role::parse).collect();
    let mut roles: Vec<Role> = unique.into_iter().collect();
    roles.sort_by_key(|r| r.as_str());
    roles
}

fn unauthorized(err: &jsonwebtoken::errors::Error) -> Error {
    use jsonwebtoken::errors::ErrorKind as K;
    let why = match err.kind() {
        K::ExpiredSignature => "the token has expired",
        K::ImmatureSignature => "the token is not valid yet (nbf)",
        K::InvalidSignature => "the token's signature does not verify",
        K::InvalidIssuer => "the token's issuer is not accepted",
        K::InvalidAudience => "the token's audience is not accepted",
        K::InvalidAlgorithm => "the token's algorithm does not match its key",
        K::MissingRequiredClaim(_) => "the token lacks a required claim (exp, sub, iss, aud)",
        _ => "the token is malformed",
    };
    Error::Unauthorized(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_claim_may_be_a_string_or_a_list_and_unknown_names_are_ignored() {
        let one = serde_json::json!("finance");
        let many = serde_json::json!(["viewer", "admin", "auditor"]);
        assert_eq!(roles_from_claim(Some(&one)), [Role::Finance]);
        assert_eq!(roles_from_claim(Some(&many)), [Role::Admin, Role::Viewer]);
        assert!(roles_from_claim(None).is_empty());
    }

    #[test]
    fn writes_need_the_matching_role() {
        let finance = Principal { subject: "f".into(), roles: vec![Role::Finance], request_id: None };
        assert!(finance.require(Permission::WriteFinance).is_ok());
        assert!(finance.require(Permission::WritePortfolio).is_err());
        assert!(finance.require(Permission::ReadAudit).is_ok());
        let viewer = Principal { subject: "v".into(), roles: vec![Role::Viewer], request_id: None };
        assert!(viewer.require(Permission::Read).is_ok());
        assert!(viewer.require(Permission::ReadAudit).is_err());
    }
}
