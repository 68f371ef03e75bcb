//! The plugin platform, as an admin and a vendor see it: signed packages,
//! instances with validated configuration and granted capabilities, and a
//! sandbox that contains hostile plugins. The plugins are real components,
//! built from `plugins/` for wasm32-wasip2 once per test run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::Query as AxumQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use ed25519_dalek::SigningKey;
use itbm::auth::Role::{Admin, Finance};
use itbm::plugins::package;
use reqwest::Method;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::{Reply, TestApp};

const TOKEN: &str = "s3cr3t-t0ken";

// ---- fixtures ----

/// The guest plugins, built once per test run into a target directory of
/// their own (they build for wasm32-wasip2, apart from the server).
pub(crate) fn wasm(crate_name: &str) -> Vec<u8> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target")).join("wasm-plugins");
        let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path"])
            .arg(root.join("plugins/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the guest plugins build (rustup target add wasm32-wasip2)");
        target.join("wasm32-wasip2/release")
    });
    std::fs::read(dir.join(format!("{}.wasm", crate_name.replace('-', "_")))).expect("the plugin was built")
}

pub(crate) fn manifest(path: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plugins").join(path).join("manifest.json");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// How many plugins a new server has: its built-ins.
pub fn builtins() -> i64 {
    itbm::plugins::builtin::embedded().len() as i64
}

fn hello_manifest() -> Value {
    manifest("examples/hello-connector")
}

fn hostile_manifest() -> Value {
    manifest("test-plugins/hostile")
}

/// A vendor: a signing key the server trusts.
pub(crate) async fn trusted_vendor(app: &TestApp) -> SigningKey {
    let key = package::generate_key();
    app.post(Admin, "/api/v1/plugin-trusted-keys", json!({ "name": "Example vendor", "public_key": package::encode_key(&key.verifying_key()) }))
        .await
        .expect(201);
    key
}

pub(crate) fn pack(manifest: &Value, component: &[u8], key: Option<&SigningKey>) -> Vec<u8> {
    package::write(&serde_json::to_vec(manifest).unwrap(), component, key)
}

/// The id of the built-in plugin whose manifest id is `manifest_id`, as the
/// server installed it at start.
pub(crate) async fn builtin(app: &TestApp, manifest_id: &str) -> String {
    let list = app.get(Admin, "/api/v1/plugins?per_page=500").await.expect(200);
    let found = list.body["items"].as_array().unwrap().iter().find(|p| p["manifest"]["id"] == manifest_id);
    found.unwrap_or_else(|| panic!("no built-in {manifest_id}")).clone()["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn upload(app: &TestApp, package: Vec<u8>) -> Reply {
    app.send_raw(Admin, Method::POST, "/api/v1/plugins", "application/octet-stream", package).await
}

pub(crate) async fn install(app: &TestApp, key: &SigningKey, manifest: &Value, crate_name: &str) -> String {
    upload(app, pack(manifest, &wasm(crate_name), Some(key))).await.expect(201).id()
}

pub(crate) async fn instance(app: &TestApp, plugin_id: &str, body: Value) -> String {
    let mut body = body;
    body["plugin_id"] = plugin_id.into();
    body["name"] = body.get("name").cloned().unwrap_or_else(|| format!("instance {}", uuid::Uuid::now_v7()).into());
    app.post(Admin, "/api/v1/plugin-instances", body).await.expect(201).id()
}

pub(crate) async fn check(app: &TestApp, instance_id: &str) -> Value {
    app.post(Admin, &format!("/api/v1/plugin-instances/{instance_id}/check"), json!({})).await.expect(200).body
}

/// A source API on loopback: `/health` and `/items` behind a bearer token,
/// `/redirect?to=URL`, and a count of the requests it served.
struct Source {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Source {
    async fn start(ip: &str) -> Source {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new()
            .route(
                "/health",
                axum::routing::get(|headers: HeaderMap| async move {
                    let authorised = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"));
                    if authorised { StatusCode::OK } else { StatusCode::UNAUTHORIZED }
                }),
            )
            .route(
                "/items",
                axum::routing::get(|AxumQuery(q): AxumQuery<std::collections::HashMap<String, usize>>| async move {
                    let offset = q.get("offset").copied().unwrap_or(0);
                    let items: Vec<Value> = (offset..(offset + 2).min(3)).map(|i| json!({ "id": i, "name": format!("item {i}") })).collect();
                    axum::Json(json!({ "items": items, "next": offset + 2 < 3 }))
                }),
            )
            .route(
                "/redirect",
                axum::routing::get(|AxumQuery(q): AxumQuery<std::collections::HashMap<String, String>>| async move {
                    (StatusCode::FOUND, [("location", q["to"].clone())]).into_response()
                }),
            )
            .layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            }));
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Source { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An instance of the example connector granted `source`, with its token.
async fn hello_instance(app: &TestApp, plugin_id: &str, source: &Source) -> String {
    instance(app, plugin_id, json!({
        "config": { "base_url": source.url("") },
        "secrets": { "token": TOKEN },
        "grants": { "http": [format!("http://{}", source.addr)], "networks": [format!("{}/32", source.addr.ip())] }
    }))
    .await
}

// ---- installing ----

db_test!(async fn a_signed_connector_installs_and_checks_and_discovers_a_granted_source(app) {
    let source = Source::start("127.0.0.1").await;
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, &hello_manifest(), "hello-connector").await;
    let shown = app.get(Admin, &format!("/api/v1/plugins/{plugin}")).await.expect(200);
    assert_eq!(shown.body["manifest"]["id"], "com.example.hello-connector");
    assert_eq!(shown.body["enabled"], true);
    assert!(shown.body["signed_by"].is_string());

    let id = hello_instance(&app, &plugin, &source).await;
    let checked = check(&app, &id).await;
    assert_eq!(checked["outcome"], "ok", "{checked}");
    assert_eq!(checked["logs"][0]["message"], "the API answered /health");
    assert!(checked["peak_memory_bytes"].as_i64().unwrap() > 0);
    assert!(checked["fuel_used"].as_i64().unwrap() > 0);

    let discovered = app.post(Admin, &format!("/api/v1/plugin-instances/{id}/discover"), json!({})).await.expect(200);
    assert_eq!(discovered.body["streams"][0]["name"], "items");
    assert_eq!(discovered.body["streams"][0]["primary_key"], json!(["id"]));

    let log = app.get(Admin, &format!("/api/v1/plugin-instances/{id}/invocations")).await.expect(200);
    let operations: Vec<&str> = log.body["items"].as_array().unwrap().iter().map(|i| i["operation"].as_str().unwrap()).collect();
    assert_eq!(operations, ["discover", "check"], "newest first");
});

db_test!(async fn a_rejected_credential_is_a_configuration_error_and_secrets_are_never_shown(app) {
    let source = Source::start("127.0.0.1").await;
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, &hello_manifest(), "hello-connector").await;
    let good = hello_instance(&app, &plugin, &source).await;
    let shown = app.get(Admin, &format!("/api/v1/plugin-instances/{good}")).await.expect(200);
    assert_eq!(shown.body["secret_names"], json!(["token"]));

    let wrong = instance(&app, &plugin, json!({
        "config": { "base_url": source.url("") },
        "secrets": { "token": "not-the-token" },
        "grants": { "http": [format!("http://{}", source.addr)], "networks": ["127.0.0.1/32"] }
    }))
    .await;
    let refused = check(&app, &wrong).await;
    assert_eq!(refused["outcome"], "configuration-error", "{refused}");

    for path in [format!("/api/v1/plugin-instances/{good}"), format!("/api/v1/plugin-instances/{good}/invocations"), "/api/v1/plugin-instances".into(), "/api/v1/audit-log".into()] {
        let text = app.get(Admin, &path).await.expect(200).text;
        assert!(!text.contains(TOKEN) && !text.contains("not-the-token"), "{path} shows a secret: {text}");
    }
});

db_test!(async fn packages_that_are_tampered_untrusted_unsigned_or_for_another_wit_version_are_refused_saying_why(app) {
    let key = trusted_vendor(&app).await;
    let component = wasm("hello-connector");
    let mut tampered = pack(&hello_manifest(), &component, Some(&key));
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    let refusal = upload(&app, tampered).await.expect_problem(422, Some("/signature"));
    assert!(refusal.body["detail"].as_str().unwrap().contains("changed after it was signed"), "{}", refusal.text);

    let stranger = package::generate_key();
    let refusal = upload(&app, pack(&hello_manifest(), &component, Some(&stranger))).await.expect_problem(422, Some("/signature"));
    assert!(refusal.text.contains("no admin of this server trusts"), "{}", refusal.text);

    let refusal = upload(&app, pack(&hello_manifest(), &component, None)).await.expect_problem(422, Some("/signature"));
    assert!(refusal.text.contains("--plugin-dev"), "{}", refusal.text);

    let mut future = hello_manifest();
    future["wit_version"] = "0.2.0".into();
    let refusal = upload(&app, pack(&future, &component, Some(&key))).await.expect_problem(422, Some("/manifest/wit_version"));
    assert!(refusal.text.contains("does not serve"), "{}", refusal.text);

    let mut invalid = hello_manifest();
    invalid["version"] = "one".into();
    invalid["capabilities"]["http"] = json!(["gopher://example.com"]);
    upload(&app, pack(&invalid, &component, Some(&key))).await.expect_problem(422, Some("/manifest/version")).expect_problem(422, Some("/manifest/capabilities/http/0"));

    let mut wrong_kind = hello_manifest();
    wrong_kind["kind"] = "roi-model".into();
    let refusal = upload(&app, pack(&wrong_kind, &component, Some(&key))).await.expect_problem(422, Some("/component"));
    assert!(refusal.text.contains("roi-model"), "{}", refusal.text);

    upload(&app, pack(&hello_manifest(), b"\0asm not really", Some(&key))).await.expect_problem(422, Some("/component"));
    upload(&app, b"PK\x03\x04 a zip file".to_vec()).await.expect_problem(422, Some("/package"));
    assert_eq!(app.count("plugins").await, builtins(), "nothing was installed but the built-ins");
});

db_test!(async fn unsigned_packages_install_only_on_a_server_started_for_plugin_development(app) {
    let dev = TestApp::start_with(app.backend, |config| config.plugin_dev = true).await;
    let installed = upload(&dev, pack(&hello_manifest(), &wasm("hello-connector"), None)).await.expect(201);
    assert_eq!(installed.body["signed_by"], Value::Null);
    let key = trusted_vendor(&dev).await;
    let mut second = hello_manifest();
    second["id"] = "com.example.second".into();
    install(&dev, &key, &second, "hello-connector").await;
    let again = upload(&dev, pack(&hello_manifest(), &wasm("hello-connector"), None)).await.expect_problem(409, None);
    assert!(again.text.contains("installed already"), "{}", again.text);
});

db_test!(async fn only_admins_manage_plugins(app) {
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, &hello_manifest(), "hello-connector").await;
    app.get(Finance, "/api/v1/plugins").await.expect_problem(403, None);
    app.get(Finance, &format!("/api/v1/plugins/{plugin}")).await.expect_problem(403, None);
    app.send_raw(Finance, Method::POST, "/api/v1/plugins", "application/octet-stream", vec![1, 2, 3]).await.expect_problem(403, None);
    app.post(Finance, "/api/v1/plugin-trusted-keys", json!({ "name": "x", "public_key": "x" })).await.expect_problem(403, None);
    app.post(Finance, "/api/v1/plugin-instances", json!({ "plugin_id": plugin, "name": "x" })).await.expect_problem(403, None);
});

// ---- instances ----

db_test!(async fn instance_configuration_is_validated_against_the_schema_and_grants_against_the_asks(app) {
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, &hello_manifest(), "hello-connector").await;
    let refused = app
        .post(Admin, "/api/v1/plugin-instances", json!({
            "plugin_id": plugin,
            "name": "bad",
            "config": { "base_url": "ftp://files.example.com", "extra": 1 },
            "secrets": { "password": "x" },
            "grants": { "http": ["https://evil.example.net"], "networks": ["not a network"], "memory_mb": 1024 }
        }))
        .await
        .expect_problem(422, Some("/config/base_url"));
    for pointer in ["/config", "/secrets/password", "/grants/http/0", "/grants/networks/0", "/grants/memory_mb"] {
        assert!(refused.body["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == pointer), "{pointer} missing: {}", refused.text);
    }
    app.post(Admin, "/api/v1/plugin-instances", json!({ "plugin_id": "no-such-plugin", "name": "x" })).await.expect_problem(422, Some("/plugin_id"));
    assert_eq!(app.count("plugin_instances").await, 0);
});

db_test!(async fn a_disabled_plugin_cannot_be_called_and_uninstalling_waits_for_its_instances(app) {
    let source = Source::start("127.0.0.1").await;
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, &hello_manifest(), "hello-connector").await;
    let id = hello_instance(&app, &plugin, &source).await;
    app.post(Admin, &format!("/api/v1/plugins/{plugin}/disable"), json!({})).await.expect(200);
    app.post(Admin, &format!("/api/v1/plugin-instances/{id}/check"), json!({})).await.expect_problem(409, None);
    app.post(Admin, &format!("/api/v1/plugins/{plugin}/enable"), json!({})).await.expect(200);
    assert_eq!(check(&app, &id).await["outcome"], "ok");

    app.delete(Admin, &format!("/api/v1/plugins/{plugin}"), None).await.expect_problem(409, None);
    app.delete(Admin, &format!("/api/v1/plugin-instances/{id}"), None).await.expect(204);
    app.delete(Admin, &format!("/api/v1/plugins/{plugin}"), None).await.expect(204);
    assert_eq!(app.count("plugins").await, builtins());
    assert_eq!(app.count("plugin_invocations").await, 0);
});

// ---- the sandbox ----

/// Installs the hostile plugin and the example connector (the bystander that
/// must keep working), with an instance of each.
async fn hostile_and_bystander(app: &TestApp, source: &Source, hostile: Value) -> (String, String) {
    let key = trusted_vendor(app).await;
    let hostile_plugin = install(app, &key, &hostile_manifest(), "hostile").await;
    let hello_plugin = install(app, &key, &hello_manifest(), "hello-connector").await;
    (instance(app, &hostile_plugin, hostile).await, hello_instance(app, &hello_plugin, source).await)
}

/// After a hostile call: the server answers, the bystander still works, and
/// nothing but the invocation log was written.
async fn still_serving(app: &TestApp, bystander: &str, plugins_before: i64, audit_before: i64) {
    app.get(Admin, "/api/v1/projects").await.expect(200);
    assert_eq!(check(app, bystander).await["outcome"], "ok");
    assert_eq!(app.count("plugins").await, plugins_before);
    assert_eq!(app.count("audit_log").await, audit_before);
}

db_test!(async fn an_endless_loop_is_stopped_at_its_deadline(app) {
    let source = Source::start("127.0.0.1").await;
    let (hostile, bystander) = hostile_and_bystander(&app, &source, json!({ "config": { "mode": "loop" }, "grants": { "timeout_ms": 300 } })).await;
    let (plugins, audit) = (app.count("plugins").await, app.count("audit_log").await);
    let started = std::time::Instant::now();
    let stopped = check(&app, &hostile).await;
    assert_eq!(stopped["outcome"], "timeout", "{stopped}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped near its 300 ms deadline, not later");
    assert_eq!(stopped["logs"][0]["message"], "misbehaving as \"loop\"", "log lines before the loop are kept");
    still_serving(&app, &bystander, plugins, audit).await;
});

db_test!(async fn a_memory_bomb_is_trapped_at_its_cap(app) {
    let source = Source::start("127.0.0.1").await;
    let (hostile, bystander) = hostile_and_bystander(&app, &source, json!({ "config": { "mode": "memory" }, "grants": { "memory_mb": 16 } })).await;
    let (plugins, audit) = (app.count("plugins").await, app.count("audit_log").await);
    let trapped = check(&app, &hostile).await;
    assert_eq!(trapped["outcome"], "memory-limit", "{trapped}");
    assert!(trapped["peak_memory_bytes"].as_i64().unwrap() <= 16 << 20, "{trapped}");
    still_serving(&app, &bystander, plugins, audit).await;
});

db_test!(async fn a_panic_is_a_clean_error(app) {
    let source = Source::start("127.0.0.1").await;
    let (hostile, bystander) = hostile_and_bystander(&app, &source, json!({ "config": { "mode": "panic" } })).await;
    let (plugins, audit) = (app.count("plugins").await, app.count("audit_log").await);
    let crashed = check(&app, &hostile).await;
    assert_eq!(crashed["outcome"], "trap", "{crashed}");
    assert!(crashed["detail"].as_str().unwrap().contains("panicked"), "{crashed}");
    assert_eq!(check(&app, &hostile).await["outcome"], "trap", "a fresh instance each call: the crash repeats, nothing is poisoned");
    still_serving(&app, &bystander, plugins, audit).await;
});

db_test!(async fn an_enormous_output_is_refused(app) {
    let source = Source::start("127.0.0.1").await;
    let (hostile, bystander) = hostile_and_bystander(&app, &source, json!({ "config": { "mode": "ok" } })).await;
    let (plugins, audit) = (app.count("plugins").await, app.count("audit_log").await);
    let refused = app.post(Admin, &format!("/api/v1/plugin-instances/{hostile}/discover"), json!({})).await.expect(200);
    assert_eq!(refused.body["invocation"]["outcome"], "output-too-large", "{}", refused.text);
    assert_eq!(refused.body["streams"], Value::Null);
    still_serving(&app, &bystander, plugins, audit).await;
});

db_test!(async fn a_request_to_a_host_that_was_not_granted_is_refused(app) {
    let source = Source::start("127.0.0.1").await;
    let (hostile, bystander) =
        hostile_and_bystander(&app, &source, json!({ "config": { "mode": "fetch", "url": source.url("/health") } })).await;
    let (plugins, audit) = (app.count("plugins").await, app.count("audit_log").await);
    let hits = source.hits();
    let refused = check(&app, &hostile).await;
    assert_eq!(refused["outcome"], "capability-denied", "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("not among the hosts granted"), "{refused}");
    assert_eq!(source.hits(), hits, "the request never left the server");
    still_serving(&app, &bystander, plugins, audit).await;
});

db_test!(async fn a_granted_name_that_resolves_to_loopback_is_refused_without_a_network_grant(app) {
    let source = Source::start("127.0.0.1").await;
    let url = format!("http://localhost:{}/health", source.addr.port());
    let (hostile, _) = hostile_and_bystander(&app, &source, json!({
        "config": { "mode": "fetch", "url": url },
        "grants": { "http": [format!("http://localhost:{}", source.addr.port())] }
    }))
    .await;
    let hits = source.hits();
    let refused = check(&app, &hostile).await;
    assert_eq!(refused["outcome"], "capability-denied", "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("loopback"), "{refused}");
    assert_eq!(source.hits(), hits);
});

db_test!(async fn redirects_to_loopback_or_cloud_metadata_are_refused(app) {
    // The source is on 127.0.0.2, granted with its network; the redirects
    // lead to hosts the plugin may name but whose addresses were not granted.
    let source = Source::start("127.0.0.2").await;
    let canary = Source::start("127.0.0.1").await;
    let bystander_source = Source::start("127.0.0.1").await;
    let grants = json!({
        "http": ["http://127.0.0.2:*", "http://127.0.0.1:*", "http://169.254.169.254"],
        "networks": ["127.0.0.2/32"]
    });
    let (fine, bystander) =
        hostile_and_bystander(&app, &bystander_source, json!({ "config": { "mode": "fetch", "url": source.url("/health") }, "grants": grants })).await;
    let reached = check(&app, &fine).await;
    assert_eq!(reached["outcome"], "connector-error", "{reached}");
    assert!(reached["detail"].as_str().unwrap().contains("status 401"), "the granted source itself is reached: {reached}");
    let hostile_plugin = app.get(Admin, &format!("/api/v1/plugin-instances/{fine}")).await.body["plugin_id"].as_str().unwrap().to_owned();

    for (target, why) in [(canary.url("/health"), "loopback"), ("http://169.254.169.254/latest/meta-data/".to_owned(), "cloud metadata")] {
        let via_redirect = format!("{}?to={target}", source.url("/redirect"));
        let hostile = instance(&app, &hostile_plugin, json!({ "config": { "mode": "fetch", "url": via_redirect }, "grants": grants })).await;
        let refused = check(&app, &hostile).await;
        assert_eq!(refused["outcome"], "capability-denied", "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains(why), "{refused}");
    }
    assert_eq!(canary.hits(), 0, "the redirect to loopback was never followed");
    assert_eq!(check(&app, &bystander).await["outcome"], "ok");
});
