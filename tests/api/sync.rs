//! The sync engine, as an admin sees it: connector instances run into the
//! core model page by page, every record stored once, rejected records kept
//! with their reason, transient failures retried, runs that survive a
//! `kill -9`, and one run per instance however many replicas schedule it.
//! The sources are local stand-ins speaking FOCUS files and ServiceNow's
//! Table API; the connectors are the real plugins from `plugins/connectors`.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as AxumPath, Query as AxumQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ed25519_dalek::SigningKey;
use itbm::auth::Role::{self, Admin, Finance, Viewer};
use itbm::db::{Db, query};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::db_test;
use crate::ledger::{fixtures, fixtures_in};
use crate::plugins::{builtin, instance, manifest, pack, trusted_vendor, upload, wasm};
use crate::support::{Backend, TestApp, postgres_url};

const FOCUS_DIR: &str = "../shared/data/focus";

fn shared(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FOCUS_DIR).join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

// ---- a FOCUS file server ----

#[derive(Default)]
struct FileServer {
    files: Mutex<HashMap<String, Vec<u8>>>,
    /// Requests to answer with 503 and `Retry-After: 1` before serving.
    unavailable: AtomicUsize,
    /// Milliseconds to wait before each answer.
    delay_ms: AtomicUsize,
    requests: AtomicUsize,
}

async fn serve_files(server: Arc<FileServer>) -> SocketAddr {
    let router = axum::Router::new()
        .route(
            "/files/{name}",
            axum::routing::get(|State(s): State<Arc<FileServer>>, AxumPath(name): AxumPath<String>| async move {
                s.requests.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(s.delay_ms.load(Ordering::SeqCst) as u64)).await;
                if s.unavailable.load(Ordering::SeqCst) > 0 {
                    s.unavailable.fetch_sub(1, Ordering::SeqCst);
                    return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response();
                }
                match s.files.lock().unwrap().get(&name) {
                    Some(bytes) => (StatusCode::OK, [("content-type", "text/csv")], bytes.clone()).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .with_state(server);
    serve(router).await
}

/// The FOCUS sample and the specification's examples with every quirk: a
/// plain file of 1,000 rows, a gzip file with `"$10,100.00 "` amounts and
/// `4/1/25` dates, a file starting with a byte-order mark, one without
/// `BillingCurrency`, and one with two bad rows among good ones.
fn focus_files() -> Vec<(&'static str, Vec<u8>)> {
    let broken = "BilledCost,BillingCurrency,ChargePeriodStart,ChargeDescription,x_Team\n\
                  1.50,USD,2024-09-01 00:00:00,good row,blue\n\
                  twelve,USD,2024-09-01 00:00:00,bad amount,blue\n\
                  2.00,USD,someday,bad date,red\n";
    vec![
        ("focus_sample_1000.csv", shared("focus_sample_1000.csv")),
        ("saas_c.csv.gz", gzip(&shared("spec_examples/saas_examples/simple_agreements/simple_saas_agreements_c.csv"))),
        ("vc_a1.csv", shared("spec_examples/saas_examples/virtual_currency_pricing_model_a1.csv")),
        ("usage_1.csv", shared("spec_examples/commitment_discount_scenarios/commitment_discount_usage_scenario_1.csv")),
        ("broken.csv", broken.as_bytes().to_vec()),
    ]
}

/// 1000 + 3 + 1 + 1 good rows and their billed costs.
const FOCUS_GOOD_ROWS: i64 = 1006;
const FOCUS_TOTAL: &str = "235822.02022672899";

// ---- installing connectors ----

/// The built-in connectors the server installs at start.
const FOCUS: &str = "io.itbm.connector.focus";
const SERVICENOW: &str = "io.itbm.connector.servicenow";

async fn install(app: &TestApp, key: &SigningKey, dir: &str, crate_name: &str) -> String {
    upload(app, pack(&manifest(dir), &wasm(crate_name), Some(key))).await.expect(201).id()
}

fn grants(addr: SocketAddr) -> Value {
    json!({ "http": [format!("http://{addr}")], "networks": ["127.0.0.1/32"], "timeout_ms": 30000 })
}

/// A FOCUS instance reading `names` from `addr`, whose lines default to the fixture's cost center and type.
async fn focus_instance(app: &TestApp, plugin: &str, addr: SocketAddr, names: &[&str], page_size: u32) -> String {
    let files: Vec<String> = names.iter().map(|n| format!("http://{addr}/files/{n}")).collect();
    let id = instance(app, plugin, json!({
        "config": { "files": files, "default_currency": "USD", "page_size": page_size },
        "grants": grants(addr),
    }))
    .await;
    let f = fixtures(app).await;
    app.send(Some(Admin), reqwest::Method::PUT, &format!("/api/v1/plugin-instances/{id}/sync-settings"),
        Some(json!({ "cost_center_id": f.cost_center_id, "cost_type_id": f.opex_type_id })), None)
        .await
        .expect(200);
    id
}

async fn start(app: &TestApp, instance: &str) -> String {
    app.post(Admin, &format!("/api/v1/plugin-instances/{instance}/sync-runs"), json!({})).await.expect(202).id()
}

/// Polls a run until it ends.
async fn finished(app: &TestApp, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let shown = app.get(Admin, &format!("/api/v1/sync-runs/{run}")).await.expect(200).body;
        if shown["status"] != "running" {
            return shown;
        }
        assert!(Instant::now() < deadline, "the run did not end: {shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run_to_end(app: &TestApp, instance: &str) -> Value {
    let run = start(app, instance).await;
    finished(app, &run).await
}

async fn lines_of(db: &Db, instance: &str) -> (i64, Decimal) {
    let rows = query("SELECT amount FROM ledger_lines WHERE source = $1").bind(format!("sync:{instance}")).fetch_all(&mut db.clone()).await.unwrap();
    let total = rows.iter().map(|r| r.decimal("amount").unwrap()).sum();
    (rows.len() as i64, total)
}

// ---- FOCUS ----

db_test!(async fn focus_files_become_ledger_lines_with_every_quirk_handled_and_a_second_run_changes_nothing(app) {
    let files = Arc::new(FileServer::default());
    for (name, bytes) in focus_files() {
        files.files.lock().unwrap().insert(name.into(), bytes);
    }
    let addr = serve_files(files.clone()).await;
    let plugin = builtin(&app, FOCUS).await;
    let names: Vec<&str> = focus_files().iter().map(|(n, _)| *n).collect();
    let id = focus_instance(&app, &plugin, addr, &names, 400).await;

    let first = run_to_end(&app, &id).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["counts"], json!({ "read": FOCUS_GOOD_ROWS + 2, "inserted": FOCUS_GOOD_ROWS, "updated": 0, "unchanged": 0, "rejected": 2 }));
    let (count, total) = lines_of(&app.db, &id).await;
    assert_eq!(count, FOCUS_GOOD_ROWS);
    assert_eq!(total, Decimal::from_str(FOCUS_TOTAL).unwrap(), "every digit of every cost arrives");

    // Each bad row is kept with why, and did not sink its page.
    let reasons: Vec<String> = first["rejections"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap().to_owned()).collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.iter().any(|r| r.contains("amount")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("entry_date")), "{reasons:?}");
    assert_eq!(first["rejections"][0]["record_key"], "broken.csv#2");

    // Quirks: currency-formatted amounts, US dates, tags and x_ columns kept.
    let saas = app.get(Finance, &format!("/api/v1/ledger/lines?source=sync:{id}&from=2025-04-01&to=2025-04-30&per_page=50")).await.expect(200).body;
    let amounts: Vec<&str> = saas["items"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
    assert!(amounts.contains(&"10100") || amounts.contains(&"10100.00"), "{amounts:?}");
    let tagged = app.get(Finance, &format!("/api/v1/ledger/lines?source=sync:{id}&from=2024-09-01&to=2024-09-01&per_page=500")).await.expect(200).body;
    let blue = tagged["items"].as_array().unwrap().iter().find(|l| l["description"] == "good row").expect("the good row of broken.csv");
    assert_eq!(blue["tags"]["col:x_Team"], "blue");
    let sample = query("SELECT tags FROM ledger_lines WHERE source = $1 AND source_key = $2")
        .bind(format!("sync:{id}"))
        .bind("cost_and_usage:focus_sample_1000.csv#2")
        .fetch_one(&mut app.db.clone())
        .await
        .unwrap();
    let tags: Value = sample.json("tags").unwrap();
    assert_eq!(tags["environment"], "dev", "the Tags JSON object becomes tags: {tags}");
    assert_eq!(tags["col:ChargeFrequency"], "Usage-Based");
    assert_eq!(tags["col:Id"], "19384", "a column FOCUS does not define is kept");

    let second = run_to_end(&app, &id).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["counts"], json!({ "read": FOCUS_GOOD_ROWS + 2, "inserted": 0, "updated": 0, "unchanged": FOCUS_GOOD_ROWS, "rejected": 2 }));
    assert_eq!(lines_of(&app.db, &id).await.0, FOCUS_GOOD_ROWS, "nothing twice");
});

db_test!(async fn a_source_that_is_unavailable_for_a_while_is_retried_as_long_as_it_asks(app) {
    let files = Arc::new(FileServer::default());
    files.files.lock().unwrap().insert("broken.csv".into(), focus_files().pop().unwrap().1);
    files.unavailable.store(2, Ordering::SeqCst);
    let addr = serve_files(files.clone()).await;
    let plugin = builtin(&app, FOCUS).await;
    let id = focus_instance(&app, &plugin, addr, &["broken.csv"], 100).await;

    let started = Instant::now();
    let run = run_to_end(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["retries"], 2);
    assert!(started.elapsed() >= Duration::from_secs(2), "each retry waited the Retry-After of 1 s");
    assert_eq!(run["counts"]["inserted"], 1);
});

db_test!(async fn a_source_that_keeps_failing_fails_the_run_and_stores_nothing_more(app) {
    let files = Arc::new(FileServer::default());
    let addr = serve_files(files.clone()).await;
    let plugin = builtin(&app, FOCUS).await;
    let id = focus_instance(&app, &plugin, addr, &["missing.csv"], 100).await;
    let run = run_to_end(&app, &id).await;
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap().contains("404"), "{run}");
    assert_eq!(run["retries"], 4, "five attempts in all");
});

db_test!(async fn a_cancelled_run_stops_before_its_next_page_and_keeps_what_it_stored(app) {
    let files = Arc::new(FileServer::default());
    files.files.lock().unwrap().insert("sample.csv".into(), shared("focus_sample_1000.csv"));
    files.delay_ms.store(300, Ordering::SeqCst);
    let addr = serve_files(files.clone()).await;
    let plugin = builtin(&app, FOCUS).await;
    let id = focus_instance(&app, &plugin, addr, &["sample.csv"], 50).await;
    let run = start(&app, &id).await;
    // A second start while it runs is refused.
    app.post(Admin, &format!("/api/v1/plugin-instances/{id}/sync-runs"), json!({})).await.expect_problem(409, None);
    loop {
        let shown = app.get(Admin, &format!("/api/v1/sync-runs/{run}")).await.expect(200).body;
        if shown["pages"].as_i64().unwrap() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.post(Admin, &format!("/api/v1/sync-runs/{run}/cancel"), json!({})).await.expect(202);
    let ended = finished(&app, &run).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    let stored = ended["counts"]["inserted"].as_i64().unwrap();
    assert!(stored < 1000 && stored > 0, "{ended}");
    assert_eq!(lines_of(&app.db, &id).await.0, stored, "every page counted was stored");
    app.post(Admin, &format!("/api/v1/sync-runs/{run}/cancel"), json!({})).await.expect_problem(409, None);
});

db_test!(async fn runs_are_started_by_admins_and_read_by_finance(app) {
    let files = Arc::new(FileServer::default());
    let addr = serve_files(files).await;
    let plugin = builtin(&app, FOCUS).await;
    let id = focus_instance(&app, &plugin, addr, &["x.csv"], 10).await;
    app.post(Finance, &format!("/api/v1/plugin-instances/{id}/sync-runs"), json!({})).await.expect_problem(403, None);
    let run = run_to_end(&app, &id).await;
    app.get(Finance, &format!("/api/v1/sync-runs?instance_id={id}")).await.expect(200);
    app.get(Finance, &format!("/api/v1/sync-runs/{}/rejections", run["id"].as_str().unwrap())).await.expect(200);
    app.get(Viewer, "/api/v1/sync-runs").await.expect_problem(403, None);
    let bad = app
        .send(Some(Admin), reqwest::Method::PUT, &format!("/api/v1/plugin-instances/{id}/sync-settings"), Some(json!({ "interval_seconds": 5, "cost_center_id": "nope" })), None)
        .await;
    bad.expect_problem(422, Some("/interval_seconds"));
    app.post(Admin, "/api/v1/plugin-instances/no-such-instance/sync-runs", json!({})).await.expect_problem(404, None);
});

// ---- ServiceNow ----

/// A ServiceNow instance: the Table API over `tables`, with basic
/// authentication, keyset queries (`^NQ`, `>`/`=` on `sys_updated_on` and
/// `sys_id`), `sysparm_limit` and `sysparm_offset`, and failures on demand.
#[derive(Default)]
struct ServiceNow {
    tables: Mutex<HashMap<String, Vec<Value>>>,
    password: Mutex<String>,
    /// (table, nth request) answered 429 with `Retry-After: 1`, or 500.
    fail: Mutex<Vec<(String, usize, u16)>>,
    requests: Mutex<HashMap<String, usize>>,
    /// When each table last answered 429, and retries that came too early.
    limited_at: Mutex<HashMap<String, Instant>>,
    early_retries: AtomicUsize,
}

fn utc_of(value: &Value) -> i64 {
    itbm::sync::mapping::parse_timestamp(value.as_str().unwrap_or_default()).map_or(i64::MIN, |t| t.timestamp())
}

/// Whether a record meets one `^`-joined group of conditions.
fn meets(record: &Value, group: &str) -> bool {
    group.split('^').filter(|c| !c.is_empty() && !c.starts_with("ORDERBY")).all(|condition| {
        let (field, op, value) = if let Some((f, v)) = condition.split_once('>') {
            (f, '>', v)
        } else if let Some((f, v)) = condition.split_once('=') {
            (f, '=', v)
        } else {
            panic!("the stand-in does not know the condition {condition:?}")
        };
        let ordering = if field == "sys_updated_on" {
            utc_of(&record[field]).cmp(&utc_of(&Value::String(value.into())))
        } else {
            record[field].as_str().unwrap_or_default().cmp(value)
        };
        match op {
            '>' => ordering.is_gt(),
            _ => ordering.is_eq(),
        }
    })
}

async fn table(State(s): State<Arc<ServiceNow>>, AxumPath(name): AxumPath<String>, AxumQuery(q): AxumQuery<HashMap<String, String>>, headers: HeaderMap) -> Response {
    use base64::Engine;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("admin:{}", s.password.lock().unwrap())));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": { "message": "User Not Authenticated" }, "status": "failure" }))).into_response();
    }
    let nth = {
        let mut requests = s.requests.lock().unwrap();
        let n = requests.entry(name.clone()).or_default();
        *n += 1;
        *n
    };
    if let Some(at) = s.limited_at.lock().unwrap().remove(&name) {
        if at.elapsed() < Duration::from_secs(1) {
            s.early_retries.fetch_add(1, Ordering::SeqCst);
        }
    }
    if let Some((_, _, status)) = s.fail.lock().unwrap().iter().find(|(t, n, _)| *t == name && *n == nth).cloned() {
        if status == 429 {
            s.limited_at.lock().unwrap().insert(name.clone(), Instant::now());
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response();
        }
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    let mut rows: Vec<Value> = s.tables.lock().unwrap().get(&name).cloned().unwrap_or_default();
    if let Some(query) = q.get("sysparm_query") {
        rows.retain(|r| query.split("^NQ").any(|group| meets(r, group)));
    }
    rows.sort_by_key(|r| (utc_of(&r["sys_updated_on"]), r["sys_id"].as_str().unwrap_or_default().to_owned()));
    let offset: usize = q.get("sysparm_offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let limit: usize = q.get("sysparm_limit").and_then(|o| o.parse().ok()).unwrap_or(10_000);
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(offset).take(limit).collect();
    ([("x-total-count", total.to_string())], axum::Json(json!({ "result": page }))).into_response()
}

fn incident(sys_id: &str, number: &str, updated: &str, worked: &str, service: Value) -> Value {
    json!({
        "sys_id": sys_id, "number": number, "sys_updated_on": updated, "opened_at": "2024-09-01 08:00:00",
        "closed_at": "", "state": "2", "time_worked": worked, "business_service": service, "cmdb_ci": "ci1",
        "short_description": "mail is slow", "priority": "3", "active": "true",
    })
}

fn servicenow_data() -> HashMap<String, Vec<Value>> {
    let mut tables = HashMap::new();
    tables.insert("cmdb_ci_service".into(), vec![
        json!({ "sys_id": "svc1", "name": "E-mail", "sys_updated_on": "2024-01-01 00:00:00" }),
        json!({ "sys_id": "svc2", "name": "CRM", "sys_updated_on": "2024-01-02 00:00:00" }),
    ]);
    tables.insert("cmdb_ci".into(), vec![
        json!({ "sys_id": "ci1", "name": "mail01", "sys_class_name": "cmdb_ci_server", "operational_status": "1", "serial_number": "SN-1", "asset_tag": "", "sys_updated_on": "2024-02-01 00:00:00" }),
        json!({ "sys_id": "ci2", "name": "crm01", "sys_class_name": "cmdb_ci_server", "operational_status": "1", "serial_number": "", "asset_tag": "", "sys_updated_on": "2024-02-02 00:00:00" }),
        // Malformed: no sys_id.
        json!({ "name": "ghost", "sys_updated_on": "2024-02-03 00:00:00" }),
        json!({ "sys_id": "ci3", "name": "db01", "sys_class_name": "cmdb_ci_database", "operational_status": "2", "sys_updated_on": "2024-02-04 00:00:00" }),
    ]);
    // Page size 2: inc2, inc3 and inc4 share a timestamp across the page
    // boundary; inc5's has an offset (it is 2024-09-10 10:00:00 UTC).
    tables.insert("incident".into(), vec![
        incident("inc1", "INC0001", "2024-09-10 09:00:00", "1970-01-01 02:30:00", json!("svc1")),
        incident("inc2", "INC0002", "2024-09-10 09:30:00", "1970-01-01 01:00:00", json!({ "link": "https://x/svc1", "value": "svc1" })),
        incident("inc3", "INC0003", "2024-09-10 09:30:00", "1970-01-01 00:15:00", json!("svc2")),
        incident("inc4", "INC0004", "2024-09-10 09:30:00", "", json!("")),
        incident("inc5", "INC0005", "2024-09-10T12:00:00+02:00", "1970-01-01 04:00:00", json!("svc2")),
    ]);
    tables.insert("change_request".into(), vec![json!({
        "sys_id": "chg1", "number": "CHG0001", "sys_updated_on": "2024-09-11 00:00:00", "opened_at": "2024-09-10 00:00:00",
        "closed_at": "2024-09-11 00:00:00", "state": "3", "time_worked": "1970-01-01 03:00:00", "business_service": "svc1", "cmdb_ci": "",
    })]);
    tables
}

async fn servicenow_instance(app: &TestApp, snow: &Arc<ServiceNow>) -> String {
    let router = axum::Router::new().route("/api/now/table/{name}", axum::routing::get(table)).with_state(snow.clone());
    let addr = serve(router).await;
    let plugin = builtin(app, SERVICENOW).await;
    instance(app, &plugin, json!({
        "config": { "instance_url": format!("http://{addr}"), "page_size": 2 },
        "secrets": { "username": "admin", "password": "secret" },
        "grants": grants(addr),
    }))
    .await
}

async fn effort(db: &Db) -> Vec<(String, String, Option<String>)> {
    let rows = query("SELECT t.ticket, t.effort_hours, s.code FROM ticket_effort t LEFT JOIN services s ON s.id = t.service_id ORDER BY t.ticket")
        .fetch_all(&mut db.clone())
        .await
        .unwrap();
    rows.iter().map(|r| (r.get("ticket").unwrap(), r.decimal("effort_hours").unwrap().normalize().to_string(), r.get("code").unwrap())).collect()
}

db_test!(async fn servicenow_tables_become_services_configuration_items_and_ticket_effort_without_gaps_or_repeats(app) {
    let snow = Arc::new(ServiceNow::default());
    *snow.tables.lock().unwrap() = servicenow_data();
    *snow.password.lock().unwrap() = "secret".into();
    // The second incident page is rate limited once; the first change page fails once.
    *snow.fail.lock().unwrap() = vec![("incident".into(), 2, 429), ("change_request".into(), 1, 500)];
    let id = servicenow_instance(&app, &snow).await;

    let first = run_to_end(&app, &id).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["counts"], json!({ "read": 12, "inserted": 11, "updated": 0, "unchanged": 0, "rejected": 1 }));
    assert_eq!(first["retries"], 2);
    assert_eq!(snow.early_retries.load(Ordering::SeqCst), 0, "the retry waited for Retry-After");
    assert!(first["rejections"][0]["reason"].as_str().unwrap().contains("sys_id"), "{first}");

    let codes: Vec<String> = query("SELECT code FROM services WHERE code LIKE 'sn:%' ORDER BY code").fetch_all(&mut app.db.clone()).await.unwrap()
        .iter().map(|r| r.get("code").unwrap()).collect();
    assert_eq!(codes, ["sn:svc1", "sn:svc2"]);
    assert_eq!(app.count("configuration_items").await, 3);
    // Every incident once, the shared timestamp notwithstanding; effort in hours; services resolved.
    let svc = |s: &str| Some(format!("sn:{s}"));
    assert_eq!(effort(&app.db).await, vec![
        ("CHG0001".into(), "3".into(), svc("svc1")),
        ("INC0001".into(), "2.5".into(), svc("svc1")),
        ("INC0002".into(), "1".into(), svc("svc1")),
        ("INC0003".into(), "0.25".into(), svc("svc2")),
        ("INC0004".into(), "0".into(), None),
        ("INC0005".into(), "4".into(), svc("svc2")),
    ]);
    let opened: String = query("SELECT ticket FROM ticket_effort WHERE ci_id IS NOT NULL ORDER BY ticket LIMIT 1").fetch_one(&mut app.db.clone()).await.unwrap().get("ticket").unwrap();
    assert_eq!(opened, "INC0001", "incidents link to their configuration item");

    // Run again: the cursor is past everything; nothing changes.
    let second = run_to_end(&app, &id).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["counts"]["inserted"], 0);
    assert_eq!(second["counts"]["updated"], 0);
    assert_eq!(app.count("ticket_effort").await, 6);

    // An incident updated at the very timestamp of the cursor, with a higher sys_id, is still seen.
    snow.tables.lock().unwrap().get_mut("incident").unwrap().push(incident("inc6", "INC0006", "2024-09-10 10:00:00", "1970-01-01 00:30:00", json!("svc1")));
    // And one that changed is updated in place.
    snow.tables.lock().unwrap().get_mut("incident").unwrap()[0] = incident("inc1", "INC0001", "2024-09-12 00:00:00", "1970-01-01 05:00:00", json!("svc1"));
    let third = run_to_end(&app, &id).await;
    assert_eq!(third["counts"], json!({ "read": 2, "inserted": 1, "updated": 1, "unchanged": 0, "rejected": 0 }), "{third}");
    let rows = effort(&app.db).await;
    assert_eq!(rows.len(), 7);
    assert!(rows.contains(&("INC0001".into(), "5".into(), svc("svc1"))));

    // Expired credentials: the run fails, saying the credential was refused, without retrying.
    *snow.password.lock().unwrap() = "rotated".into();
    let refused = run_to_end(&app, &id).await;
    assert_eq!(refused["status"], "failed");
    assert!(refused["error"].as_str().unwrap().contains("credential was refused"), "{refused}");
    assert_eq!(refused["retries"], 0);
});

// ---- replicas and crashes: the real server binary ----

/// A database of its own: a SQLite file or a PostgreSQL schema.
struct Database {
    url: String,
    schema: Option<String>,
    _dir: tempfile::TempDir,
}

impl Database {
    async fn fresh(backend: Backend) -> Database {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Database { url: format!("sqlite://{}", dir.path().join("itbm.db").display()), schema: None, _dir: dir },
            Backend::Postgres => {
                let schema = format!("s_{}", uuid::Uuid::now_v7().simple());
                let admin = Db::connect(&postgres_url()).await.unwrap();
                query(format!("CREATE SCHEMA {schema}")).execute(&mut admin.clone()).await.unwrap();
                admin.close().await;
                let sep = if postgres_url().contains('?') { '&' } else { '?' };
                Database { url: format!("{}{sep}options=-c%20search_path%3D{schema}", postgres_url()), schema: Some(schema), _dir: dir }
            }
        }
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url).await.unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else { return };
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(admin) = Db::connect(&postgres_url()).await {
                    let _ = query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut admin.clone()).await;
                }
            });
        })
        .join();
    }
}

/// `itbm serve` as a child process.
struct Server {
    child: std::process::Child,
    base: String,
    token: String,
}

impl Server {
    async fn start(dir: &Path, database: &Database) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let secret = itbm::auth::keys::load_or_create(&dir.join("jwt-secret"), 64).unwrap();
        let token = itbm::auth::Authenticator::new(&secret, None).await.unwrap().issue("test-admin", Role::Admin, 3600).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_itbm"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &database.url, "--data-dir"])
            .arg(dir)
            .env("ITBM_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), token };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !reqwest::get(format!("{}/readyz", server.base)).await.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
            assert!(Instant::now() < deadline, "the server did not start: {}", std::fs::read_to_string(dir.join("server.log")).unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let client = reqwest::Client::new();
        let response = client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str) -> Value {
        let response = reqwest::Client::new().get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// `kill -9`.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs the FOCUS connector through `server` and makes an instance reading `names`.
async fn focus_through(server: &Server, db: &Db, addr: SocketAddr, names: &[&str], page_size: u32) -> String {
    let plugins = server.get("/api/v1/plugins?per_page=500").await;
    let plugin = plugins["items"].as_array().unwrap().iter().find(|p| p["manifest"]["id"] == FOCUS).expect("the built-in FOCUS connector").clone();
    let files: Vec<String> = names.iter().map(|n| format!("http://{addr}/files/{n}")).collect();
    let instance = server
        .send(reqwest::Method::POST, "/api/v1/plugin-instances", json!({
            "plugin_id": plugin["id"], "name": "focus", "config": { "files": files, "page_size": page_size }, "grants": grants(addr),
        }))
        .await;
    let id = instance["id"].as_str().unwrap().to_owned();
    let f = fixtures_in(db).await;
    server.send(reqwest::Method::PUT, &format!("/api/v1/plugin-instances/{id}/sync-settings"), json!({
        "cost_center_id": f.cost_center_id, "cost_type_id": f.opex_type_id, "interval_seconds": 3600,
    }))
    .await;
    id
}

async fn runs_of(db: &Db, instance: &str) -> Vec<(String, String, i64)> {
    query("SELECT id, status, inserted FROM sync_runs WHERE instance_id = $1 ORDER BY started_at")
        .bind(instance)
        .fetch_all(&mut db.clone())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("id").unwrap(), r.get("status").unwrap(), r.get("inserted").unwrap()))
        .collect()
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sample_total() -> Decimal {
    Decimal::from_str("20.52022672899").unwrap()
}

async fn a_server_killed_mid_sync_resumes_from_its_last_checkpoint(backend: Backend) {
    let database = Database::fresh(backend).await;
    let db = database.db().await;
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(FileServer::default());
    files.files.lock().unwrap().insert("sample.csv".into(), shared("focus_sample_1000.csv"));
    files.delay_ms.store(100, Ordering::SeqCst);
    let addr = serve_files(files.clone()).await;

    let server = Server::start(dir.path(), &database).await;
    let id = focus_through(&server, &db, addr, &["sample.csv"], 50).await;
    server.send(reqwest::Method::POST, &format!("/api/v1/plugin-instances/{id}/sync-runs"), json!({})).await;
    until("a few pages are stored", async || runs_of(&db, &id).await.first().is_some_and(|r| r.2 >= 200)).await;
    server.kill();

    let (run, status, stored) = runs_of(&db, &id).await.remove(0);
    assert_eq!(status, "running", "the killed server could not finish the run");
    assert!(stored < 1000);
    assert_eq!(lines_of(&db, &id).await.0, stored, "pages are stored whole with their counts");

    let restarted = Server::start(dir.path(), &database).await;
    until("the run is resumed and finished", async || runs_of(&db, &id).await[0].1 != "running").await;
    let runs = runs_of(&db, &id).await;
    assert_eq!(runs, vec![(run, "succeeded".into(), 1000)], "the same run went on; nothing was stored twice");
    assert_eq!(lines_of(&db, &id).await, (1000, sample_total()), "the ledger equals the source");
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_sync_resumes_from_its_last_checkpoint_sqlite() {
    a_server_killed_mid_sync_resumes_from_its_last_checkpoint(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_sync_resumes_from_its_last_checkpoint_postgres() {
    a_server_killed_mid_sync_resumes_from_its_last_checkpoint(Backend::Postgres).await
}

async fn two_replicas_scheduling_one_instance_run_it_once(backend: Backend) {
    let database = Database::fresh(backend).await;
    let db = database.db().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = Arc::new(FileServer::default());
    files.files.lock().unwrap().insert("sample.csv".into(), shared("focus_sample_1000.csv"));
    let addr = serve_files(files.clone()).await;

    let a = Server::start(dir_a.path(), &database).await;
    // Replicas share the server's keys (signing and secret sealing), not their replica ids.
    for shared_file in ["jwt-secret", "secret-key"] {
        std::fs::copy(dir_a.path().join(shared_file), dir_b.path().join(shared_file)).unwrap();
    }
    let b = Server::start(dir_b.path(), &database).await;
    let id = focus_through(&a, &db, addr, &["sample.csv"], 200).await;
    // Both replicas see the schedule due at the same moment.
    query("UPDATE sync_settings SET next_run_at = $1 WHERE instance_id = $2").bind(chrono::Utc::now()).bind(id.as_str()).execute(&mut db.clone()).await.unwrap();
    until("the scheduled run finished", async || runs_of(&db, &id).await.first().is_some_and(|r| r.1 != "running")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs = runs_of(&db, &id).await;
    assert_eq!(runs.len(), 1, "exactly one run: {runs:?}");
    assert_eq!(runs[0].1, "succeeded");
    assert_eq!(lines_of(&db, &id).await, (1000, sample_total()));
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_scheduling_one_instance_run_it_once_sqlite() {
    two_replicas_scheduling_one_instance_run_it_once(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_scheduling_one_instance_run_it_once_postgres() {
    two_replicas_scheduling_one_instance_run_it_once(Backend::Postgres).await
}

// ---- benchmark (not a test: run by hand, see bench/sync.md) ----

/// `ROWS` FOCUS rows resampled from the sample with a fixed seed, in gzip
/// files of 2,000 rows (one page each: a page's output stays under 8 MiB).
fn generated_focus_files(rows: usize) -> Vec<(String, Vec<u8>)> {
    let sample = String::from_utf8(shared("focus_sample_1000.csv")).unwrap();
    let mut lines = sample.lines();
    let header = lines.next().unwrap().to_owned();
    let body: Vec<&str> = lines.collect();
    let mut state: u64 = 0x5eed;
    let mut files = Vec::new();
    for (n, start) in (0..rows).step_by(2000).enumerate() {
        let mut text = header.clone();
        text.push('\n');
        for _ in start..(start + 2000).min(rows) {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(body[(state >> 33) as usize % body.len()]);
            text.push('\n');
        }
        files.push((format!("gen-{n:04}.csv.gz"), gzip(text.as_bytes())));
    }
    files
}

async fn ingest_rate(backend: Backend, files: &[(String, Vec<u8>)], rows: usize) -> (f64, TestApp, String) {
    let app = TestApp::start(backend).await;
    let server = Arc::new(FileServer::default());
    for (name, bytes) in files {
        server.files.lock().unwrap().insert(name.clone(), bytes.clone());
    }
    let addr = serve_files(server).await;
    let plugin = builtin(&app, FOCUS).await;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let id = focus_instance(&app, &plugin, addr, &names, 2000).await;
    let started = Instant::now();
    let run = run_to_end(&app, &id).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(run["counts"]["inserted"], rows as i64, "{run}");
    (rows as f64 / seconds, app, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo test --release --test api sync::bench -- --ignored --nocapture"]
async fn bench_focus_ingest_against_postgres_copy() {
    let rows: usize = std::env::var("ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(100_000);
    let files = generated_focus_files(rows);
    let (sqlite, _app, _) = ingest_rate(Backend::Sqlite, &files, rows).await;
    let (postgres, app, id) = ingest_rate(Backend::Postgres, &files, rows).await;

    // The anchor: PostgreSQL's COPY of the very rows the sync stored, into
    // a table shaped like the ledger (same columns and indexes).
    let columns = "id, entry_date, fiscal_period, amount, currency, cost_type_id, cost_center_id, description, tags, source, source_key, created_by, created_at, updated_at, version";
    let stored = query(format!("SELECT {columns} FROM ledger_lines WHERE source = $1")).bind(format!("sync:{id}")).fetch_all(&mut app.db.clone()).await.unwrap();
    let mut csv = String::new();
    for r in &stored {
        let text = |c: &str| r.get::<Option<String>>(c).unwrap().unwrap_or_default().replace('"', "\"\"");
        let date: chrono::NaiveDate = r.get("entry_date").unwrap();
        let at: chrono::DateTime<chrono::Utc> = r.get("created_at").unwrap();
        csv.push_str(&format!(
            "{}-copy,{date},{},{},{},{},{},\"{}\",\"{}\",{},{},{},{},{},1\n",
            text("id"), text("fiscal_period"), r.decimal("amount").unwrap(), text("currency"), text("cost_type_id"), text("cost_center_id"),
            text("description"), text("tags"), text("source"), text("source_key"), text("created_by"), at.to_rfc3339(), at.to_rfc3339()
        ));
    }
    query("CREATE TABLE copy_anchor (LIKE ledger_lines INCLUDING DEFAULTS INCLUDING INDEXES)").execute(&mut app.db.clone()).await.unwrap();
    let sep = if postgres_url().contains('?') { '&' } else { '?' };
    let schema: String = query("SELECT current_schema() AS s").fetch_one(&mut app.db.clone()).await.unwrap().get("s").unwrap();
    let pool = sqlx::PgPool::connect(&format!("{}{sep}options=-c%20search_path%3D{schema}", postgres_url())).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let started = Instant::now();
    let mut copy = conn.copy_in_raw(&format!("COPY copy_anchor ({columns}) FROM STDIN WITH (FORMAT csv)")).await.unwrap();
    copy.send(csv.as_bytes()).await.unwrap();
    let copied = copy.finish().await.unwrap();
    let anchor = copied as f64 / started.elapsed().as_secs_f64();
    println!("FOCUS ledger-line ingest, {rows} rows in {} gzip files of 2,000:", files.len());
    println!("  sync into SQLite:      {sqlite:>10.0} lines/s");
    println!("  sync into PostgreSQL:  {postgres:>10.0} lines/s");
    println!("  PostgreSQL COPY:       {anchor:>10.0} lines/s");
    println!("  ratio sync/COPY on PostgreSQL: {:.3}", postgres / anchor);
}

// ---- assets from two sources ----

/// A source for the example connector: `/items` pages of 2 over a list the test changes.
async fn item_source(items: Arc<Mutex<Vec<Value>>>) -> SocketAddr {
    let router = axum::Router::new()
        .route(
            "/items",
            axum::routing::get(|State(items): State<Arc<Mutex<Vec<Value>>>>, AxumQuery(q): AxumQuery<HashMap<String, usize>>| async move {
                let items = items.lock().unwrap().clone();
                let offset = q.get("offset").copied().unwrap_or(0);
                let page: Vec<Value> = items.iter().skip(offset).take(2).cloned().collect();
                axum::Json(json!({ "items": page, "next": offset + 2 < items.len() }))
            }),
        )
        .with_state(items);
    serve(router).await
}

async fn asset_source(app: &TestApp, plugin: &str, items: &Arc<Mutex<Vec<Value>>>, precedence: i64) -> String {
    let addr = item_source(items.clone()).await;
    let id = instance(app, plugin, json!({ "config": { "base_url": format!("http://{addr}") }, "grants": grants(addr) })).await;
    app.send(Some(Admin), reqwest::Method::PUT, &format!("/api/v1/plugin-instances/{id}/sync-settings"), Some(json!({ "precedence": precedence })), None)
        .await
        .expect(200);
    id
}

async fn asset_by_tag(app: &TestApp, tag: &str) -> Value {
    let found = app.get(Finance, &format!("/api/v1/assets?q={tag}")).await.expect(200).body;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one asset with tag {tag}: {found}");
    items[0].clone()
}

db_test!(async fn one_asset_reported_by_two_sources_is_one_asset_whose_fields_the_more_authoritative_source_owns(app) {
    let key = trusted_vendor(&app).await;
    let plugin = install(&app, &key, "examples/hello-connector", "hello-connector").await;
    // An inventory system (precedence 10) and a CMDB (100) both know laptop A-1.
    let inventory = Arc::new(Mutex::new(vec![
        json!({ "id": 1, "name": "Laptop A-1", "asset_tag": "A-1", "serial_number": "SER-1", "purchase_cost": "1999.00", "currency": "USD", "state": "deployed" }),
        json!({ "id": 2, "name": "Laptop A-2", "asset_tag": "A-2", "serial_number": "SER-2", "currency": "USD" }),
    ]));
    let cmdb = Arc::new(Mutex::new(vec![
        json!({ "id": "x9", "name": "lt-a1.corp", "serial_number": "SER-1", "model": "ThinkPad T14", "purchase_cost": "1500.00", "currency": "USD" }),
        json!({ "id": "x10", "name": "Printer", "asset_tag": "P-7", "currency": "USD" }),
    ]));
    let cmdb_id = asset_source(&app, &plugin, &cmdb, 100).await;
    let inventory_id = asset_source(&app, &plugin, &inventory, 10).await;

    // The CMDB reports first and creates the asset; the inventory matches it by serial number.
    assert_eq!(run_to_end(&app, &cmdb_id).await["counts"]["inserted"], 2);
    let run = run_to_end(&app, &inventory_id).await;
    assert_eq!(run["counts"], json!({ "read": 2, "inserted": 1, "updated": 1, "unchanged": 0, "rejected": 0 }), "{run}");
    let a1 = asset_by_tag(&app, "A-1").await;
    assert_eq!(a1["name"], "Laptop A-1", "the inventory's precedence is higher: its values win");
    assert_eq!(a1["purchase_cost"], "1999.00");
    assert_eq!(a1["model"], "ThinkPad T14", "the CMDB still fills what the inventory does not say");
    assert_eq!(a1["state"], "deployed");
    assert_eq!(a1["source_ids"].as_array().unwrap().len(), 2, "{a1}");

    // The CMDB changes its view: it may not overwrite the inventory's fields.
    cmdb.lock().unwrap()[0]["purchase_cost"] = json!("1.00");
    cmdb.lock().unwrap()[0]["name"] = json!("renamed by the CMDB");
    let again = run_to_end(&app, &cmdb_id).await;
    assert_eq!(again["counts"], json!({ "read": 2, "inserted": 0, "updated": 1, "unchanged": 1, "rejected": 0 }), "{again}");
    let a1 = asset_by_tag(&app, "A-1").await;
    assert_eq!((a1["name"].as_str(), a1["purchase_cost"].as_str()), (Some("Laptop A-1"), Some("1999.00")));

    // A-2 leaves the inventory: retired after the inventory's next complete run, not before.
    inventory.lock().unwrap().pop();
    let after = run_to_end(&app, &inventory_id).await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(asset_by_tag(&app, "A-2").await["state"], "retired");
    assert_eq!(asset_by_tag(&app, "A-1").await["state"], "deployed");
    assert_eq!(asset_by_tag(&app, "P-7").await["state"], "in_stock");
});
