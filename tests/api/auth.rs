//! Authentication: every `/api` route needs a valid bearer token; local HS256
//! tokens and identity-provider RS256/ES256 tokens (JWKS) are accepted; forged,
//! expired and confused tokens are refused with 401 and a WWW-Authenticate
//! challenge; a valid token whose role lacks the right gets 403.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use itbm::auth::{JwksSource, ProviderSettings, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;

const ISSUER: &str = "https://idp.example.test";
const AUDIENCE: &str = "itbm-api";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(extra: Value) -> Value {
    let mut c = json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "idp-user", "iat": now(), "exp": now() + 600, "role": "finance" });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&std::fs::read(fixture("idp-rsa.pem")).unwrap()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&std::fs::read(fixture("idp-ec.pem")).unwrap()).unwrap(),
        _ => unreachable!(),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// A local token with chosen claims, signed with the server's own secret.
fn local_token(app: &TestApp, claims: Value) -> String {
    let secret = itbm::auth::keys::load_or_create(&app.config.jwt_secret_path(), 64).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&secret)).unwrap()
}

async fn with_identity_provider(app: TestApp) -> TestApp {
    TestApp::start_with(app.backend, |config| {
        config.provider = Some(ProviderSettings {
            jwks: JwksSource::File(fixture("idp-jwks.json")),
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            role_claim: "role".into(),
        })
    })
    .await
}

async fn status_with(app: &TestApp, token: &str) -> (u16, String, Option<String>) {
    let reply = app.get_with_authorization("/api/v1/audit-log", &format!("Bearer {token}")).await;
    let challenge = reply.headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (reply.status.as_u16(), reply.body["detail"].as_str().unwrap_or("").to_owned(), challenge)
}

db_test!(async fn a_request_without_a_token_gets_401_with_a_bearer_challenge(app) {
    let reply = app.client.get(format!("{}/api/v1/projects", app.base)).send().await.unwrap();
    assert_eq!(reply.status(), 401);
    assert!(reply.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer realm=\"itbm\""));
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
    app.get_with_authorization("/api/v1/projects", "Basic YWxpY2U6c2VjcmV0").await.expect_problem(401, None);
    app.get_with_authorization("/api/v1/projects", "Bearer not.a.token").await.expect_problem(401, None);
});

db_test!(async fn a_local_token_from_itbm_token_is_accepted_for_its_role(app) {
    let token = app.token(Role::Finance).await;
    let (status, _, _) = status_with(&app, &token).await;
    assert_eq!(status, 200);
});

db_test!(async fn expired_and_not_yet_valid_tokens_are_refused(app) {
    let expired = local_token(&app, json!({ "iss": "itbm", "aud": "itbm", "sub": "a", "role": "admin", "iat": now() - 7200, "nbf": now() - 7200, "exp": now() - 3600 }));
    let (status, detail, challenge) = status_with(&app, &expired).await;
    assert_eq!(status, 401);
    assert!(detail.contains("expired"), "{detail}");
    assert!(challenge.unwrap().contains("invalid_token"));

    let early = local_token(&app, json!({ "iss": "itbm", "aud": "itbm", "sub": "a", "role": "admin", "iat": now(), "nbf": now() + 3600, "exp": now() + 7200 }));
    assert_eq!(status_with(&app, &early).await.0, 401);
});

db_test!(async fn a_small_clock_skew_is_tolerated(app) {
    let just_expired = local_token(&app, json!({ "iss": "itbm", "aud": "itbm", "sub": "a", "role": "admin", "iat": now() - 600, "exp": now() - 5 }));
    assert_eq!(status_with(&app, &just_expired).await.0, 200);
});

db_test!(async fn tokens_for_another_audience_or_issuer_or_key_are_refused(app) {
    let wrong_audience = local_token(&app, json!({ "iss": "itbm", "aud": "other", "sub": "a", "role": "admin", "exp": now() + 60 }));
    assert_eq!(status_with(&app, &wrong_audience).await.0, 401);
    let no_expiry = local_token(&app, json!({ "iss": "itbm", "aud": "itbm", "sub": "a", "role": "admin" }));
    assert_eq!(status_with(&app, &no_expiry).await.0, 401);
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({ "iss": "itbm", "aud": "itbm", "sub": "a", "role": "admin", "exp": now() + 60 }),
        &EncodingKey::from_secret(b"some other server's secret"),
    )
    .unwrap();
    assert_eq!(status_with(&app, &foreign).await.0, 401);
});

db_test!(async fn an_unsigned_alg_none_token_is_refused(app) {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(json!({ "iss": "itbm", "aud": "itbm", "sub": "mallory", "role": "admin", "exp": now() + 60 }).to_string());
    for token in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        assert_eq!(status_with(&app, &token).await.0, 401);
    }
});

db_test!(async fn identity_provider_tokens_signed_with_rs256_or_es256_are_accepted(app) {
    let app = with_identity_provider(app).await;
    let rs = sign(Algorithm::RS256, "rsa-1", &claims(json!({})));
    assert_eq!(status_with(&app, &rs).await.0, 200);
    let es = sign(Algorithm::ES256, "ec-1", &claims(json!({ "role": ["viewer", "finance"] })));
    assert_eq!(status_with(&app, &es).await.0, 200);
    // Local tokens keep working beside the provider's.
    assert_eq!(status_with(&app, &app.token(Role::Admin).await).await.0, 200);
});

db_test!(async fn identity_provider_tokens_with_wrong_claims_or_keys_are_refused(app) {
    let app = with_identity_provider(app).await;
    let wrong_issuer = sign(Algorithm::RS256, "rsa-1", &claims(json!({ "iss": "https://evil.example" })));
    assert_eq!(status_with(&app, &wrong_issuer).await.0, 401);
    let wrong_audience = sign(Algorithm::RS256, "rsa-1", &claims(json!({ "aud": "someone-else" })));
    assert_eq!(status_with(&app, &wrong_audience).await.0, 401);
    let expired = sign(Algorithm::ES256, "ec-1", &claims(json!({ "exp": now() - 3600 })));
    assert_eq!(status_with(&app, &expired).await.0, 401);
    let unknown_kid = sign(Algorithm::RS256, "rsa-2", &claims(json!({})));
    assert_eq!(status_with(&app, &unknown_kid).await.0, 401);
    // The RSA key signing under the EC key's kid: the key's family does not fit.
    let mismatched = sign(Algorithm::RS256, "ec-1", &claims(json!({})));
    assert_eq!(status_with(&app, &mismatched).await.0, 401);
});

db_test!(async fn an_hs256_token_keyed_with_the_providers_public_key_is_refused(app) {
    // Algorithm confusion: a forger signs HS256 with the RSA public key as the
    // HMAC secret, hoping the server verifies HS256 with the key it looks up.
    let app = with_identity_provider(app).await;
    let public_pem = std::fs::read(fixture("idp-rsa.pub.pem")).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let forged = jsonwebtoken::encode(&header, &claims(json!({ "role": "admin" })), &EncodingKey::from_secret(&public_pem)).unwrap();
    assert_eq!(status_with(&app, &forged).await.0, 401);
});

db_test!(async fn a_provider_token_without_an_itbm_role_is_forbidden(app) {
    let app = with_identity_provider(app).await;
    let token = sign(Algorithm::RS256, "rsa-1", &claims(json!({ "role": "auditor" })));
    assert_eq!(status_with(&app, &token).await.0, 403);
    let viewer = sign(Algorithm::RS256, "rsa-1", &claims(json!({ "role": "viewer" })));
    assert_eq!(status_with(&app, &viewer).await.0, 403, "viewers may not read the audit log");
});
