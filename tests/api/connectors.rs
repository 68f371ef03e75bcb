//! The built-in connectors, driven through the real host and its API: each
//! is installed as a signed package, given an instance granted a stand-in
//! source on loopback, then checked, discovered and read page by page
//! (`POST /plugin-instances/{id}/read`) until done.
//!
//! Snipe-IT, GLPI and Jira are stood in for by local servers speaking their
//! documented wire formats (`shared/data/api_shapes/`), with pagination,
//! refused and expiring credentials, 429 and 5xx answers, malformed records
//! and timestamps with offsets. Prometheus runs for real: Debian's
//! `prometheus` scraping `prometheus-node-exporter`, both on loopback.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as AxumPath, Query as AxumQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use itbm::auth::Role::{Admin, Finance};
use itbm::db::query;
use serde_json::{Value, json};

use crate::db_test;
use crate::plugins::{builtin, check, instance};
use crate::support::TestApp;

const TOKEN: &str = "t0ken-0f-the-source";

// ---- driving a connector through the API ----

/// The built-in connector `name` (under plugins/connectors), as the server
/// installed it at start.
async fn install_connector(app: &TestApp, name: &str) -> String {
    builtin(app, &format!("io.itbm.connector.{name}")).await
}

/// An instance of `plugin` granted `source`, with its configuration and secrets.
async fn connector(app: &TestApp, plugin: &str, source: SocketAddr, config: Value, secrets: Value) -> String {
    instance(app, plugin, json!({
        "config": config,
        "secrets": secrets,
        "grants": { "http": [format!("http://{source}")], "networks": [format!("{}/32", source.ip())], "timeout_ms": 30000 }
    }))
    .await
}

async fn discover(app: &TestApp, id: &str) -> Value {
    let discovered = app.post(Admin, &format!("/api/v1/plugin-instances/{id}/discover"), json!({})).await.expect(200);
    assert_eq!(discovered.body["invocation"]["outcome"], "ok", "{}", discovered.text);
    discovered.body["streams"].clone()
}

/// One `read` call: the page (null unless the outcome is ok) and the invocation.
async fn read(app: &TestApp, id: &str, stream: &str, checkpoint: Option<&str>) -> Value {
    app.post(Admin, &format!("/api/v1/plugin-instances/{id}/read"), json!({ "stream": stream, "checkpoint": checkpoint })).await.expect(200).body
}

/// Reads a stream from `checkpoint` until done: every record, the number of
/// pages, and the last checkpoint.
async fn read_all(app: &TestApp, id: &str, stream: &str, checkpoint: Option<String>) -> (Vec<Value>, usize, Option<String>) {
    let (mut records, mut pages, mut checkpoint) = (Vec::new(), 0, checkpoint);
    loop {
        let answer = read(app, id, stream, checkpoint.as_deref()).await;
        assert_eq!(answer["invocation"]["outcome"], "ok", "page {pages} of {stream}: {answer}");
        let page = &answer["page"];
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        pages += 1;
        checkpoint = page["checkpoint"].as_str().map(str::to_owned);
        if page["done"] == true {
            return (records, pages, checkpoint);
        }
        assert!(pages < 100, "the stream never ends");
    }
}

db_test!(async fn reading_a_page_needs_the_admin_role_and_names_a_stream(app) {
    let faults = Faults::default();
    let addr = snipeit(vec![], vec![], 10, &faults).await;
    let plugin = install_connector(&app, "snipeit").await;
    let id = connector(&app, &plugin, addr, snipe_config(addr, "auto"), json!({ "api_token": TOKEN })).await;
    let path = format!("/api/v1/plugin-instances/{id}/read");
    app.post(itbm::auth::Role::Finance, &path, json!({ "stream": "hardware" })).await.expect_problem(403, None);
    app.post(Admin, &path, json!({ "stream": " " })).await.expect_problem(422, Some("/stream"));
    app.post(Admin, &path, json!({ "stream": "hardware", "page": 2 })).await.expect_problem(422, None);
    app.post(Admin, "/api/v1/plugin-instances/no-such-instance/read", json!({ "stream": "hardware" })).await.expect_problem(404, None);
    let empty = read(&app, &id, "hardware", None).await;
    assert_eq!((&empty["page"]["records"], &empty["page"]["done"]), (&json!([]), &json!(true)), "{empty}");
    assert_eq!(empty["invocation"]["operation"], "read");
});

/// An invocation's outcome and detail.
fn outcome(invocation: &Value) -> (String, String) {
    (invocation["outcome"].as_str().unwrap_or_default().to_owned(), invocation["detail"].as_str().unwrap_or_default().to_owned())
}

// ---- stand-in sources ----

/// Answers a stand-in gives instead of its normal one: each queued answer
/// meets the next request, whatever it asks.
#[derive(Clone, Default)]
struct Faults(Arc<Mutex<VecDeque<Answer>>>);

/// A status, headers and a body.
type Answer = (u16, Vec<(&'static str, &'static str)>, String);

impl Faults {
    fn next(&self, status: u16, headers: Vec<(&'static str, &'static str)>, body: &str) {
        self.0.lock().unwrap().push_back((status, headers, body.to_owned()));
    }

    fn layer(&self, router: axum::Router) -> axum::Router {
        let faults = self.clone();
        router.layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
            let fault = faults.0.lock().unwrap().pop_front();
            async move {
                match fault {
                    Some((status, headers, body)) => {
                        let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
                        for (name, value) in headers {
                            response.headers_mut().insert(name, value.parse().unwrap());
                        }
                        response
                    }
                    None => next.run(request).await,
                }
            }
        }))
    }
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

type Params = AxumQuery<HashMap<String, String>>;

fn number(params: &HashMap<String, String>, name: &str, default: usize) -> usize {
    params.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

// ---- Snipe-IT ----

/// A Snipe-IT row as v8 and later write it (the documented row), varied.
fn snipe_row(id: u64, name: Option<&str>, cost: &str) -> Value {
    let mut row: Value = serde_json::from_str(include_str!("../../plugins/connectors/snipeit/tests/snipeit_hardware_row.json")).unwrap();
    row["id"] = id.into();
    row["name"] = name.map_or(Value::Null, Value::from);
    row["asset_tag"] = format!("{id:06}").into();
    row["serial"] = format!("SN-{id}").into();
    row["purchase_cost"] = cost.into();
    row["book_value"] = cost.into();
    row
}

/// `/api/v1/hardware` and `/api/v1/licenses`, behind the token, capping
/// `limit` at `max_results` as Snipe-IT's MAX_RESULTS does.
async fn snipeit(hardware: Vec<Value>, licences: Vec<Value>, max_results: usize, faults: &Faults) -> SocketAddr {
    let tables = Arc::new(HashMap::from([("hardware".to_owned(), hardware), ("licenses".to_owned(), licences)]));
    let router = axum::Router::new().route(
        "/api/v1/{table}",
        axum::routing::get(move |AxumPath(table): AxumPath<String>, headers: HeaderMap, AxumQuery(q): Params| {
            let tables = tables.clone();
            async move {
                if !bearer_ok(&headers) {
                    return json_response(StatusCode::UNAUTHORIZED, json!({ "message": "Unauthenticated." }));
                }
                let Some(rows) = tables.get(&table) else { return StatusCode::NOT_FOUND.into_response() };
                let limit = number(&q, "limit", max_results).min(max_results);
                let offset = number(&q, "offset", 0).min(rows.len());
                json_response(StatusCode::OK, json!({ "total": rows.len(), "rows": rows[offset..(offset + limit).min(rows.len())] }))
            }
        }),
    );
    serve(faults.layer(router)).await
}

fn snipe_config(addr: SocketAddr, number_format: &str) -> Value {
    json!({ "base_url": format!("http://{addr}"), "page_size": 3, "number_format": number_format, "currency": "EUR" })
}

db_test!(async fn snipeit_hardware_and_licences_are_read_page_by_page_with_costs_exact_in_the_servers_locale(app) {
    let hardware = vec![
        snipe_row(1, Some("Laptop-0001"), "1.999,00"),
        snipe_row(2, None, "1.234.567,89"),
        snipe_row(3, Some("Dock &amp; stand"), "0,10"),
        snipe_row(4, Some("Monitor"), "12,50"),
        snipe_row(5, Some("Broken"), "1.99x,00"),
    ];
    let licence = json!({
        "id": 9, "name": "Office 365 E3", "manufacturer": {"id": 2, "name": "Microsoft"}, "product_key": "KEY-THAT-MUST-NOT-LEAK",
        "purchase_cost": "12.500,00", "purchase_date": {"date": "2025-01-01", "formatted": "01.01.2025"},
        "expiration_date": {"date": "2099-12-31", "formatted": "31.12.2099"}, "seats": 50, "free_seats_count": 10
    });
    let faults = Faults::default();
    // Snipe-IT caps `limit` at its MAX_RESULTS (2 here): pages advance by the rows returned.
    let addr = snipeit(hardware, vec![licence], 2, &faults).await;
    let plugin = install_connector(&app, "snipeit").await;
    let id = connector(&app, &plugin, addr, snipe_config(addr, "1.234,56"), json!({ "api_token": TOKEN })).await;

    let checked = check(&app, &id).await;
    assert_eq!(checked["outcome"], "ok", "{checked}");
    assert_eq!(checked["logs"][0]["message"], "Snipe-IT answered: 5 hardware assets");
    let streams = discover(&app, &id).await;
    assert_eq!(streams, json!([
        { "name": "hardware", "description": streams[0]["description"], "produces": "asset", "primary_key": ["id"], "cursor_field": null },
        { "name": "licences", "description": streams[1]["description"], "produces": "asset", "primary_key": ["id"], "cursor_field": null }
    ]));

    let (records, pages, _) = read_all(&app, &id, "hardware", None).await;
    assert_eq!(pages, 3, "five rows, two at a time");
    let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5], "each row once, in order");
    let costs: Vec<&str> = records.iter().map(|r| r["purchase_cost"].as_str().unwrap()).collect();
    assert_eq!(costs, ["1999.00", "1234567.89", "0.10", "12.50", "1.99x,00"], "exact decimals; the malformed one kept raw");
    assert!(records[4]["_errors"]["purchase_cost"].as_str().unwrap().contains("1.234,56"), "{}", records[4]);
    assert!(records[..4].iter().all(|r| r.get("_errors").is_none()));
    assert_eq!(records[1]["name"], "Macbook Pro 13\" (000002)", "a nameless asset goes by model and tag");
    assert_eq!(records[2]["name"], "Dock & stand");
    let first = &records[0];
    assert_eq!((&first["kind"], &first["state"], &first["currency"]), (&json!("hardware"), &json!("deployed"), &json!("EUR")));
    assert_eq!((&first["acquisition_date"], &first["warranty_end"], &first["end_of_life"]), (&json!("2024-01-15"), &json!("2027-01-15"), &json!("2027-01-15")));
    assert_eq!((&first["useful_life_months"], &first["depreciation_method"]), (&json!(36), &json!("straight_line")));
    assert_eq!(first["asset_tag"], "000001");
    assert_eq!(first["serial_number"], "SN-1");

    let (licences, _, _) = read_all(&app, &id, "licences", None).await;
    assert_eq!(licences.len(), 1);
    assert_eq!((&licences[0]["kind"], &licences[0]["purchase_cost"], &licences[0]["state"]), (&json!("licence"), &json!("12500.00"), &json!("deployed")));
    assert!(!licences[0].to_string().contains("KEY-THAT-MUST-NOT-LEAK"), "licence keys are never copied");

    // The same server read with the format detected per value.
    let detected = connector(&app, &plugin, addr, snipe_config(addr, "auto"), json!({ "api_token": TOKEN })).await;
    let (records, _, _) = read_all(&app, &detected, "hardware", None).await;
    let costs: Vec<&str> = records.iter().map(|r| r["purchase_cost"].as_str().unwrap()).collect();
    assert_eq!(costs, ["1999.00", "1234567.89", "0.10", "12.50", "1.99x,00"]);
});

db_test!(async fn snipeit_failures_are_told_apart_and_a_failed_page_is_read_again_from_its_checkpoint(app) {
    let faults = Faults::default();
    let hardware = (1..=5).map(|i| snipe_row(i, Some("PC"), "1,000.00")).collect();
    let addr = snipeit(hardware, vec![], 500, &faults).await;
    let mut config = snipe_config(addr, "1,234.56");
    config["page_size"] = 2.into();

    let plugin = install_connector(&app, "snipeit").await;
    let refused = connector(&app, &plugin, addr, config.clone(), json!({ "api_token": "expired" })).await;
    let (what, why) = outcome(&check(&app, &refused).await);
    assert_eq!(what, "configuration-error", "{why}");
    assert!(why.contains("401"), "{why}");
    let mut nowhere = config.clone();
    nowhere["base_url"] = format!("http://{addr}/not-snipe-it").into();
    let lost = connector(&app, &plugin, addr, nowhere, json!({ "api_token": TOKEN })).await;
    assert_eq!(outcome(&check(&app, &lost).await).0, "configuration-error", "a URL that is not Snipe-IT's API is the configuration's fault");

    let id = connector(&app, &plugin, addr, config, json!({ "api_token": TOKEN })).await;
    let first = read(&app, &id, "hardware", None).await;
    let checkpoint = first["page"]["checkpoint"].as_str().unwrap().to_owned();
    assert_eq!(checkpoint, "2");

    faults.next(429, vec![("retry-after", "7")], r#"{"status":"error","messages":"Too Many Attempts."}"#);
    let limited = read(&app, &id, "hardware", Some(&checkpoint)).await;
    let (what, why) = outcome(&limited["invocation"]);
    assert_eq!(what, "connector-error");
    assert!(why.contains("429") && why.contains("retry after 7"), "{why}");
    assert_eq!(limited["page"], Value::Null);

    faults.next(502, vec![], "<html>Bad Gateway</html>");
    assert_eq!(outcome(&read(&app, &id, "hardware", Some(&checkpoint)).await["invocation"]).0, "connector-error");
    faults.next(200, vec![("content-type", "application/json")], r#"{"status":"error","messages":"Something broke"}"#);
    let (what, why) = outcome(&read(&app, &id, "hardware", Some(&checkpoint)).await["invocation"]);
    assert_eq!(what, "connector-error");
    assert!(why.contains("Something broke"), "{why}");
    faults.next(200, vec![], "<html>maintenance</html>");
    assert_eq!(outcome(&read(&app, &id, "hardware", Some(&checkpoint)).await["invocation"]).0, "connector-error");

    // The same checkpoint, read again once the source recovers: nothing skipped, nothing twice.
    let (records, pages, _) = read_all(&app, &id, "hardware", Some(checkpoint)).await;
    let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!((ids, pages), (vec![3, 4, 5], 2));

    let unknown = read(&app, &id, "consumables", None).await;
    assert_eq!(outcome(&unknown["invocation"]).0, "invalid-input");
    let bad_checkpoint = read(&app, &id, "hardware", Some("page two")).await;
    assert_eq!(outcome(&bad_checkpoint["invocation"]).0, "invalid-input");
});

// ---- GLPI ----

#[derive(Default)]
struct GlpiState {
    /// Open sessions and the requests each has served.
    sessions: HashMap<String, usize>,
    opened: usize,
    killed: usize,
}

#[derive(Clone)]
struct Glpi {
    state: Arc<Mutex<GlpiState>>,
    computers: Arc<Vec<(Value, Value)>>,
    /// Requests a session serves before it expires.
    session_budget: usize,
}

fn glpi_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!([code, message]))
}

impl Glpi {
    /// The refusal of a request without the app token or a live session;
    /// none (and the session's use counted) otherwise.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        if headers.get("app-token").and_then(|v| v.to_str().ok()) != Some("app-t0ken") {
            return Some(glpi_error(StatusCode::BAD_REQUEST, "ERROR_WRONG_APP_TOKEN_PARAMETER", "parameter app_token seems wrong"));
        }
        let token = headers.get("session-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        match state.sessions.get_mut(token) {
            Some(used) if *used < self.session_budget => {
                *used += 1;
                None
            }
            _ => {
                state.sessions.remove(token); // expired
                Some(glpi_error(StatusCode::UNAUTHORIZED, "ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"))
            }
        }
    }
}

/// GLPI's apirest.php: initSession, killSession, Computer/ in Range pages
/// (the list without Infocoms), and Computer/{id}?with_infocoms=true.
async fn glpi(glpi: Glpi, faults: &Faults) -> SocketAddr {
    let router = axum::Router::new()
        .route(
            "/apirest.php/initSession",
            axum::routing::get(|AxumState(g): AxumState<Glpi>, headers: HeaderMap| async move {
                if headers.get("app-token").and_then(|v| v.to_str().ok()) != Some("app-t0ken") {
                    return glpi_error(StatusCode::BAD_REQUEST, "ERROR_WRONG_APP_TOKEN_PARAMETER", "parameter app_token seems wrong");
                }
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("user_token {TOKEN}")) {
                    return glpi_error(StatusCode::BAD_REQUEST, "ERROR_GLPI_LOGIN_USER_TOKEN", "parameter user_token seems invalid");
                }
                let mut state = g.state.lock().unwrap();
                state.opened += 1;
                let token = format!("session-{}", state.opened);
                state.sessions.insert(token.clone(), 0);
                json_response(StatusCode::OK, json!({ "session_token": token }))
            }),
        )
        .route(
            "/apirest.php/killSession",
            axum::routing::get(|AxumState(g): AxumState<Glpi>, headers: HeaderMap| async move {
                let token = headers.get("session-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let mut state = g.state.lock().unwrap();
                if state.sessions.remove(token).is_some() {
                    state.killed += 1;
                }
                json_response(StatusCode::OK, json!({}))
            }),
        )
        .route(
            "/apirest.php/Computer/",
            axum::routing::get(|AxumState(g): AxumState<Glpi>, headers: HeaderMap, AxumQuery(q): Params| async move {
                if let Some(refused) = g.refusal(&headers) {
                    return refused;
                }
                let total = g.computers.len();
                let (start, end) = q.get("range").and_then(|r| r.split_once('-')).map(|(a, b)| (a.parse().unwrap(), b.parse::<usize>().unwrap())).unwrap_or((0, 49));
                if start >= total {
                    return glpi_error(StatusCode::BAD_REQUEST, "ERROR_RANGE_EXCEED_TOTAL", "Provided range exceed total count of data");
                }
                let end = end.min(total - 1);
                let rows: Vec<Value> = g.computers[start..=end].iter().map(|(row, _)| row.clone()).collect();
                let status = if end + 1 < total { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
                let mut response = json_response(status, Value::Array(rows));
                response.headers_mut().insert("content-range", format!("{start}-{end}/{total}").parse().unwrap());
                response.headers_mut().insert("accept-range", "Computer 990".parse().unwrap());
                response
            }),
        )
        .route(
            "/apirest.php/Computer/{id}",
            axum::routing::get(|AxumState(g): AxumState<Glpi>, AxumPath(id): AxumPath<u64>, headers: HeaderMap, AxumQuery(q): Params| async move {
                if let Some(refused) = g.refusal(&headers) {
                    return refused;
                }
                let Some((row, infocom)) = g.computers.iter().find(|(row, _)| row["id"] == id) else {
                    return glpi_error(StatusCode::NOT_FOUND, "ERROR_ITEM_NOT_FOUND", "Item not found");
                };
                let mut item = row.clone();
                if q.get("with_infocoms").map(String::as_str) == Some("true") {
                    item["_infocoms"] = infocom.clone();
                }
                json_response(StatusCode::OK, item)
            }),
        )
        .with_state(glpi);
    serve(faults.layer(router)).await
}

fn glpi_computer(id: u64, value: &str, buy_date: &str) -> (Value, Value) {
    let mut row: Value = serde_json::from_str(include_str!("../../plugins/connectors/glpi/tests/glpi_computer_row.json")).unwrap();
    row["id"] = id.into();
    row["name"] = format!("pc-{id}").into();
    row["serial"] = format!("GLPI-SN-{id}").into();
    row["otherserial"] = format!("INV-{id}").into();
    row["date_mod"] = "2024-03-10 01:30:00".into();
    let infocom = json!({
        "id": 100 + id, "items_id": id, "itemtype": "Computer", "entities_id": 0, "buy_date": buy_date, "use_date": null,
        "warranty_duration": 24, "warranty_date": buy_date, "value": value, "warranty_value": "0.0000",
        "sink_time": 3, "sink_type": 2, "sink_coeff": 1.5, "order_number": null, "immo_number": format!("IMMO-{id}")
    });
    (row, infocom)
}

db_test!(async fn glpi_computers_come_with_their_financial_information_across_expiring_sessions(app) {
    let computers = vec![
        glpi_computer(1, "1499.5000", "2023-03-01"),
        glpi_computer(2, "0.0000", "2023-04-15"),
        glpi_computer(3, "12345678.1234", "2024-01-31"),
        glpi_computer(4, "880.0000", "2023-02-30"),
        glpi_computer(5, "99.9900", "2022-06-30"),
    ];
    let state = Arc::new(Mutex::new(GlpiState::default()));
    // Each session serves two requests: a page (the list and a computer per
    // row) outlives its session and must open another.
    let source = Glpi { state: state.clone(), computers: Arc::new(computers), session_budget: 2 };
    let faults = Faults::default();
    let addr = glpi(source, &faults).await;
    let config = json!({ "base_url": format!("http://{addr}/apirest.php"), "page_size": 2, "currency": "EUR", "utc_offset": "+02:00", "states": { "Production": "deployed" } });
    let secrets = json!({ "user_token": TOKEN, "app_token": "app-t0ken" });
    let plugin = install_connector(&app, "glpi").await;
    let id = connector(&app, &plugin, addr, config.clone(), secrets.clone()).await;

    let checked = check(&app, &id).await;
    assert_eq!(checked["outcome"], "ok", "{checked}");
    assert_eq!(checked["logs"][0]["message"], "GLPI answered: 5 computers");
    let streams = discover(&app, &id).await;
    assert_eq!((&streams[0]["name"], &streams[0]["produces"], &streams[0]["primary_key"]), (&json!("computers"), &json!("asset"), &json!(["id"])));

    let before = state.lock().unwrap().opened;
    let (records, pages, _) = read_all(&app, &id, "computers", None).await;
    assert_eq!(pages, 3);
    let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    let costs: Vec<&Value> = records.iter().map(|r| &r["purchase_cost"]).collect();
    assert_eq!(costs, [&json!("1499.5000"), &Value::Null, &json!("12345678.1234"), &json!("880.0000"), &json!("99.9900")], "GLPI's 0.0000 is no value");
    let first = &records[0];
    assert_eq!((&first["name"], &first["serial_number"], &first["asset_tag"]), (&json!("pc-1"), &json!("GLPI-SN-1"), &json!("INV-1")));
    assert_eq!((&first["state"], &first["vendor"], &first["model"]), (&json!("deployed"), &json!("VMware, Inc."), &json!("VMware Virtual Platform")));
    assert_eq!(first["source_updated_at"], "2024-03-09T23:30:00Z", "GLPI's local time at +02:00, in UTC");
    assert_eq!((&first["acquisition_date"], &first["warranty_end"]), (&json!("2023-03-01"), &json!("2025-03-01")));
    assert_eq!((&first["depreciation_method"], &first["useful_life_months"]), (&json!("declining_balance"), &json!(36)));
    assert_eq!(records[2]["warranty_end"], "2026-01-31");
    assert_eq!(records[3]["acquisition_date"], "2023-02-30", "an impossible date is kept raw...");
    assert!(records[3]["_errors"]["acquisition_date"].is_string(), "...with the reason: {}", records[3]);
    {
        let state = state.lock().unwrap();
        assert!(state.opened - before > pages, "sessions expired mid-page and were opened again ({} for {pages} pages)", state.opened - before);
        assert_eq!(state.sessions.len(), 0, "every live session was closed");
    }
    let log = app.get(Admin, &format!("/api/v1/plugin-instances/{id}/invocations?per_page=50")).await.expect(200);
    assert!(log.text.contains("the GLPI session expired"), "{}", log.text);

    // Past the end GLPI answers 400 ERROR_RANGE_EXCEED_TOTAL: the stream is done.
    let past = read(&app, &id, "computers", Some("5")).await;
    assert_eq!((&past["page"]["records"], &past["page"]["done"]), (&json!([]), &json!(true)), "{past}");

    faults.next(503, vec![("retry-after", "30")], "");
    let (what, why) = outcome(&read(&app, &id, "computers", None).await["invocation"]);
    assert_eq!(what, "connector-error", "{why}");

    let refused = connector(&app, &plugin, addr, config.clone(), json!({ "user_token": "revoked", "app_token": "app-t0ken" })).await;
    let (what, why) = outcome(&check(&app, &refused).await);
    assert_eq!(what, "configuration-error");
    assert!(why.contains("ERROR_GLPI_LOGIN_USER_TOKEN"), "{why}");
    let no_app = connector(&app, &plugin, addr, config, json!({ "user_token": TOKEN })).await;
    let (what, why) = outcome(&check(&app, &no_app).await);
    assert_eq!(what, "configuration-error", "{why}");
    assert!(why.contains("ERROR_WRONG_APP_TOKEN_PARAMETER"), "{why}");
});

// ---- Jira Service Management ----

#[derive(Clone)]
struct Jira {
    issues: Arc<Mutex<Vec<Value>>>,
    /// The JQL of every search, in order.
    searches: Arc<Mutex<Vec<String>>>,
}

fn jira_basic() -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("agent@example.com:{TOKEN}")))
}

/// The `updated >= "yyyy-MM-dd HH:mm"` bound of a JQL, as UTC milliseconds.
fn jql_bound(jql: &str) -> Option<i64> {
    let at = jql.find("updated >= \"")? + "updated >= \"".len();
    let text = &jql[at..at + 16];
    Some(chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").ok()?.and_utc().timestamp_millis())
}

fn updated_ms(issue: &Value) -> i64 {
    chrono::DateTime::parse_from_str(issue["fields"]["updated"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.3f%z").unwrap().timestamp_millis()
}

/// `/rest/api/3/search/jql` (nextPageToken pages; honours an `updated >=`
/// bound, in UTC; refuses JQL containing INVALID and unknown tokens) and
/// `/rest/servicedeskapi/servicedesk`.
async fn jira(jira: Jira, faults: &Faults) -> SocketAddr {
    let router = axum::Router::new()
        .route(
            "/rest/api/3/search/jql",
            axum::routing::get(|AxumState(j): AxumState<Jira>, headers: HeaderMap, AxumQuery(q): Params| async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(jira_basic().as_str()) {
                    return json_response(StatusCode::UNAUTHORIZED, json!({ "errorMessages": ["You are not authenticated."] }));
                }
                let jql = q.get("jql").cloned().unwrap_or_default();
                j.searches.lock().unwrap().push(jql.clone());
                if jql.contains("INVALID") {
                    return json_response(StatusCode::BAD_REQUEST, json!({ "errorMessages": ["Error in the JQL Query: 'INVALID' is a reserved word."], "errors": {} }));
                }
                let start = match q.get("nextPageToken") {
                    None => 0,
                    Some(token) => match token.strip_prefix("page-").and_then(|n| n.parse::<usize>().ok()) {
                        Some(n) => n,
                        None => return json_response(StatusCode::BAD_REQUEST, json!({ "errorMessages": ["The provided next page token is invalid or expired."] })),
                    },
                };
                let mut issues: Vec<Value> = j.issues.lock().unwrap().iter().filter(|i| jql_bound(&jql).is_none_or(|bound| updated_ms(i) >= bound)).cloned().collect();
                issues.sort_by_key(updated_ms);
                let size = number(&q, "maxResults", 50);
                let end = (start + size).min(issues.len());
                let mut body = json!({ "issues": issues[start.min(end)..end], "isLast": end >= issues.len() });
                if end < issues.len() {
                    body["nextPageToken"] = format!("page-{end}").into();
                }
                json_response(StatusCode::OK, body)
            }),
        )
        .route(
            "/rest/servicedeskapi/servicedesk",
            axum::routing::get(|AxumQuery(q): Params| async move {
                let desks = [json!({ "id": "10", "projectId": "10000", "projectKey": "HELP", "projectName": "IT Help" }), json!({ "id": "11", "projectId": "10001", "projectKey": "HR", "projectName": "People" })];
                let (start, limit) = (number(&q, "start", 0).min(2), number(&q, "limit", 50));
                let values: Vec<Value> = desks[start..(start + limit).min(2)].to_vec();
                json_response(StatusCode::OK, json!({ "size": values.len(), "start": start, "limit": limit, "isLastPage": start + limit >= 2, "values": values }))
            }),
        )
        .with_state(jira);
    serve(faults.layer(router)).await
}

fn jira_issue(key: &str, issue_type: &str, created: &str, updated: &str, seconds: Option<i64>) -> Value {
    let project = key.split('-').next().unwrap();
    json!({
        "id": format!("1{}", key.len()), "key": key, "self": format!("https://example.atlassian.net/rest/api/3/issue/{key}"),
        "fields": {
            "summary": format!("Request {key}"), "issuetype": { "name": issue_type }, "status": { "name": "Done" },
            "created": created, "updated": updated, "resolutiondate": updated, "timespent": seconds,
            "timetracking": seconds.map(|s| json!({ "timeSpentSeconds": s })).unwrap_or(json!({})),
            "project": { "key": project, "name": project }, "components": []
        }
    })
}

/// March 2024 at the help desk, with offsets, no effort, and an impossible date.
fn help_desk_issues() -> Vec<Value> {
    vec![
        jira_issue("HELP-1", "Service Request", "2024-03-01T09:00:00.000+0100", "2024-03-01T10:00:00.000+0100", Some(5400)),
        jira_issue("HELP-2", "Incident", "2024-03-02T08:00:00.000-0500", "2024-03-03T08:00:00.000-0500", Some(400)),
        jira_issue("HR-1", "Change", "2024-03-04T23:30:00.000+0700", "2024-03-05T01:00:00.000+0700", None),
        jira_issue("HELP-3", "Incident", "2024-02-30T10:00:00.000+0000", "2024-03-09T12:00:00.000+0000", Some(3600)),
        jira_issue("HELP-4", "Problem", "2024-03-10T00:15:00.000+0200", "2024-03-10T00:15:00.000+0200", Some(60)),
    ]
}

db_test!(async fn jira_requests_become_effort_by_service_and_later_runs_read_only_what_changed(app) {
    let source = Jira { issues: Arc::new(Mutex::new(help_desk_issues())), searches: Arc::default() };
    let faults = Faults::default();
    let addr = jira(source.clone(), &faults).await;
    let config = json!({ "base_url": format!("http://{addr}"), "jql": "project in (HELP, HR)", "email": "agent@example.com", "page_size": 2 });
    let plugin = install_connector(&app, "jira").await;
    let id = connector(&app, &plugin, addr, config.clone(), json!({ "api_token": TOKEN })).await;

    assert_eq!(check(&app, &id).await["outcome"], "ok");
    let streams = discover(&app, &id).await;
    let summary: Vec<(&str, &str, &Value)> = streams.as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["produces"].as_str().unwrap(), &s["cursor_field"])).collect();
    assert_eq!(summary, [("services", "service", &Value::Null), ("requests", "ticket-effort", &json!("updated"))], "services first, so requests can refer to them");

    let (services, _, _) = read_all(&app, &id, "services", None).await;
    assert_eq!(services, [json!({ "code": "HELP", "name": "IT Help", "kind": "business_service", "service_desk_id": "10" }), json!({ "code": "HR", "name": "People", "kind": "business_service", "service_desk_id": "11" })]);

    let (records, pages, checkpoint) = read_all(&app, &id, "requests", None).await;
    assert_eq!(pages, 3);
    let tickets: Vec<&str> = records.iter().map(|r| r["ticket"].as_str().unwrap()).collect();
    assert_eq!(tickets, ["HELP-1", "HELP-2", "HR-1", "HELP-3", "HELP-4"], "in order of update");
    let first = &records[0];
    assert_eq!((&first["kind"], &first["opened_at"], &first["updated"]), (&json!("request"), &json!("2024-03-01T08:00:00Z"), &json!("2024-03-01T09:00:00Z")));
    assert_eq!((&first["effort_hours"], &first["effort_seconds"]), (&json!("1.5000"), &json!(5400)));
    assert_eq!(first["service_ref"], json!({ "stream": "services", "key": "HELP" }));
    assert_eq!((&records[1]["kind"], &records[1]["opened_at"], &records[1]["effort_hours"]), (&json!("incident"), &json!("2024-03-02T13:00:00Z"), &json!("0.1111")));
    assert_eq!((&records[2]["kind"], &records[2]["opened_at"], &records[2]["effort_hours"]), (&json!("change"), &json!("2024-03-04T16:30:00Z"), &json!("0.0000")));
    assert_eq!(records[2]["service_ref"]["key"], "HR");
    assert_eq!(records[3]["opened_at"], "2024-02-30T10:00:00.000+0000", "an impossible date is kept raw...");
    assert!(records[3]["_errors"]["opened_at"].is_string(), "...with the reason");
    assert_eq!((&records[4]["kind"], &records[4]["updated"]), (&json!("problem"), &json!("2024-03-09T22:15:00Z")));

    // The next run searches from a day before the newest update: only what changed since, and the day of overlap.
    let checkpoint = checkpoint.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&checkpoint).unwrap()["since"], "2024-03-09T22:15:00Z");
    let (again, _, after) = read_all(&app, &id, "requests", Some(checkpoint)).await;
    let tickets: Vec<&str> = again.iter().map(|r| r["ticket"].as_str().unwrap()).collect();
    assert_eq!(tickets, ["HELP-3", "HELP-4"]);
    assert!(source.searches.lock().unwrap().last().unwrap().contains("updated >= \"2024-03-08 22:15\""));
    source.issues.lock().unwrap().push(jira_issue("HELP-5", "Incident", "2024-03-12T10:00:00.000+0000", "2024-03-12T11:00:00.000+0000", Some(1800)));
    let (later, _, _) = read_all(&app, &id, "requests", after).await;
    let tickets: Vec<&str> = later.iter().map(|r| r["ticket"].as_str().unwrap()).collect();
    assert_eq!(tickets, ["HELP-3", "HELP-4", "HELP-5"], "the new one, and the day of overlap again");

    // A page token Jira no longer knows: the search starts again from the checkpoint's bound.
    let stale = json!({ "since": null, "newest": null, "token": "forgotten" }).to_string();
    let restarted = read(&app, &id, "requests", Some(&stale)).await;
    assert_eq!(restarted["invocation"]["outcome"], "ok", "{restarted}");
    assert_eq!(restarted["page"]["records"][0]["ticket"], "HELP-1");

    faults.next(429, vec![("retry-after", "12")], r#"{"errorMessages":["Rate limit exceeded."]}"#);
    let (what, why) = outcome(&read(&app, &id, "requests", None).await["invocation"]);
    assert_eq!(what, "connector-error");
    assert!(why.contains("retry after 12"), "{why}");
    faults.next(500, vec![], "");
    assert_eq!(outcome(&read(&app, &id, "requests", None).await["invocation"]).0, "connector-error");

    let mut invalid = config.clone();
    invalid["jql"] = "project = INVALID".into();
    let wrong_jql = connector(&app, &plugin, addr, invalid, json!({ "api_token": TOKEN })).await;
    let (what, why) = outcome(&check(&app, &wrong_jql).await);
    assert_eq!(what, "configuration-error");
    assert!(why.contains("reserved word"), "{why}");
    let expired = connector(&app, &plugin, addr, config, json!({ "api_token": "revoked" })).await;
    assert_eq!(outcome(&check(&app, &expired).await).0, "configuration-error");
});

// ---- Prometheus, for real ----

/// A process this test started, stopped when dropped.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Debian's prometheus-node-exporter and prometheus on free loopback ports,
/// scraping every second, with a config and storage in `dir`.
struct RealPrometheus {
    addr: SocketAddr,
    exporter: String,
    _processes: Vec<Process>,
}

impl RealPrometheus {
    async fn start(dir: &std::path::Path) -> RealPrometheus {
        for binary in ["prometheus", "prometheus-node-exporter"] {
            assert!(
                std::process::Command::new(binary).arg("--version").output().is_ok_and(|o| o.status.success()),
                "{binary} is installed (apt-get install prometheus prometheus-node-exporter; .ci/run does)"
            );
        }
        let (exporter_port, prometheus_port) = (free_port(), free_port());
        let exporter = format!("127.0.0.1:{exporter_port}");
        let quiet = || std::process::Stdio::null();
        let node = std::process::Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address={exporter}"))
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{exporter}']\n")).unwrap();
        let server = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .unwrap();
        let prometheus = RealPrometheus { addr: format!("127.0.0.1:{prometheus_port}").parse().unwrap(), exporter, _processes: vec![Process(node), Process(server)] };
        let client = reqwest::Client::new();
        let url = format!("http://{}/api/v1/query?query=up", prometheus.addr);
        for _ in 0..120 {
            let answer = client.get(&url).send().await.ok();
            let body: Option<Value> = match answer {
                Some(response) => response.json().await.ok(),
                None => None,
            };
            if body.is_some_and(|b| b["data"]["result"].as_array().is_some_and(|r| !r.is_empty())) {
                return prometheus;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        panic!("prometheus did not scrape the node exporter within 30 s");
    }
}

db_test!(async fn prometheus_drivers_become_utilisation_by_host_from_a_real_server(app) {
    let dir = tempfile::tempdir().unwrap();
    let started = chrono::Utc::now();
    let prometheus = RealPrometheus::start(dir.path()).await;
    // Let a few two-second steps of data accumulate.
    tokio::time::sleep(std::time::Duration::from_secs(9)).await;

    let config = json!({
        "base_url": format!("http://{}", prometheus.addr),
        "drivers": [
            { "name": "cpu_seconds", "query": "sum by (instance) (increase(node_cpu_seconds_total[5s]))", "unit": "cpu-seconds", "service_label": "job" },
            { "name": "memory_available", "query": "sum by (instance, job) (node_memory_MemAvailable_bytes)", "unit": "bytes", "service_label": "job" }
        ],
        "step": "2s",
        "start": started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "lag": "1s",
        "points_per_page": 2
    });
    let plugin = install_connector(&app, "prometheus").await;
    let id = connector(&app, &plugin, prometheus.addr, config.clone(), json!({})).await;
    let checked = check(&app, &id).await;
    assert_eq!(checked["outcome"], "ok", "{checked}");
    assert!(checked["logs"][0]["message"].as_str().unwrap().starts_with("driver cpu_seconds: 1 series"), "{checked}");
    let streams = discover(&app, &id).await;
    assert_eq!(streams[0]["name"], "cpu_seconds");
    assert_eq!(streams[0]["produces"], "utilisation");
    assert_eq!(streams[0]["primary_key"], json!(["metric", "subject", "period_start"]));
    assert_eq!(streams[0]["cursor_field"], "period_end");

    let (records, pages, checkpoint) = read_all(&app, &id, "memory_available", None).await;
    assert!(pages >= 2, "windows of two steps: {pages} pages");
    assert!(records.len() >= 2, "{records:?}");
    let mut ends: Vec<&str> = Vec::new();
    for record in &records {
        assert_eq!((&record["metric"], &record["subject_kind"], &record["unit"]), (&json!("memory_available"), &json!("host"), &json!("bytes")));
        assert_eq!(record["subject"], prometheus.exporter.as_str());
        assert_eq!(record["service"], "node");
        let value = record["value"].as_str().unwrap();
        assert!(value.parse::<u64>().is_ok_and(|bytes| bytes > 0), "bytes as a whole decimal string: {value}");
        let (start, end) = (record["period_start"].as_str().unwrap(), record["period_end"].as_str().unwrap());
        let seconds = chrono::DateTime::parse_from_rfc3339(end).unwrap() - chrono::DateTime::parse_from_rfc3339(start).unwrap();
        assert_eq!(seconds.num_seconds(), 2, "each record is one step");
        assert!(record.get("_errors").is_none(), "{record}");
        ends.push(end);
    }
    assert!(ends.windows(2).all(|w| w[0] < w[1]), "each period once, in order, across pages: {ends:?}");

    let (cpu, _, _) = read_all(&app, &id, "cpu_seconds", None).await;
    assert!(!cpu.is_empty());
    assert!(cpu.iter().all(|r| r["value"].as_str().unwrap().parse::<f64>().is_ok_and(|v| v >= 0.0) && !r["value"].as_str().unwrap().contains('e')), "{cpu:?}");

    // The next run goes on from the checkpoint: only periods not read yet.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let (more, _, _) = read_all(&app, &id, "memory_available", checkpoint).await;
    assert!(!more.is_empty(), "new periods were scraped since");
    assert!(more.iter().all(|r| r["period_end"].as_str().unwrap() > *ends.last().unwrap()), "nothing read twice");

    // A query Prometheus cannot parse is the configuration's fault.
    let mut broken = config;
    broken["drivers"] = json!([{ "name": "broken", "query": "sum(rate(node_cpu_seconds_total[5m]", "unit": "x" }]);
    let wrong = connector(&app, &plugin, prometheus.addr, broken, json!({})).await;
    let (what, why) = outcome(&check(&app, &wrong).await);
    assert_eq!(what, "configuration-error");
    assert!(why.contains("driver broken") && why.contains("bad_data"), "{why}");
});

// ---- through the sync engine into cost allocation and TCO ----

/// Runs a sync of `instance` through the engine and waits for its end.
async fn sync_to_end(app: &TestApp, instance: &str) -> Value {
    let run = app.post(Admin, &format!("/api/v1/plugin-instances/{instance}/sync-runs"), json!({})).await.expect(202).id();
    for _ in 0..1200 {
        let shown = app.get(Admin, &format!("/api/v1/sync-runs/{run}")).await.expect(200).body;
        if shown["status"] != "running" {
            return shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the sync run {run} did not end within 120 s");
}

async fn service_with_code(app: &TestApp, id: &str, code: &str) {
    query("INSERT INTO services (id, code, name, kind, created_at, updated_at) VALUES ($1, $2, $2, 'application', $3, $3)")
        .bind(id)
        .bind(code)
        .bind(chrono::Utc::now())
        .execute(&mut app.db.clone())
        .await
        .unwrap();
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap_or_else(|| panic!("a decimal string, got {v}")).parse().unwrap()
}

db_test!(
    /// Real Prometheus measurements, synchronised through the engine, weigh a
    /// utilisation rule: the hosting tower's cost goes to the service whose
    /// host was measured (none to one without measurements), and that money is
    /// the service's ITOM usage share in its TCO, and the host asset's.
    async fn prometheus_utilisation_synced_through_the_engine_drives_allocation_and_tco(app) {
        let f = crate::ledger::fixtures(&app).await;
        service_with_code(&app, "svc-node", "node").await;
        let dir = tempfile::tempdir().unwrap();
        let started = chrono::Utc::now();
        let prometheus = RealPrometheus::start(dir.path()).await;
        tokio::time::sleep(std::time::Duration::from_secs(7)).await;
        let config = json!({
            "base_url": format!("http://{}", prometheus.addr),
            "drivers": [{ "name": "cpu_seconds", "query": "sum by (instance, job) (increase(node_cpu_seconds_total[5s]))", "unit": "cpu-seconds", "service_label": "job" }],
            "step": "2s",
            "start": started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "lag": "1s",
            "points_per_page": 2
        });
        let plugin = install_connector(&app, "prometheus").await;
        let id = connector(&app, &plugin, prometheus.addr, config, json!({})).await;
        let run = sync_to_end(&app, &id).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["counts"]["rejected"], 0, "{run}");
        assert!(run["counts"]["inserted"].as_i64().unwrap() >= 2, "{run}");
        let rows = query("SELECT subject, service_id FROM utilisation WHERE metric = 'cpu_seconds'").fetch_all(&mut app.db.clone()).await.unwrap();
        assert!(rows.iter().all(|r| r.get::<Option<String>>("service_id").unwrap().as_deref() == Some("svc-node")));

        // This period's hosting cost: 500.00 on the compute tower, split by CPU seconds.
        let today = chrono::Utc::now().date_naive();
        let settings = app.get(Finance, "/api/v1/settings").await.expect(200).body;
        assert_eq!(settings["fiscal_year_start_month"], 1);
        let period = format!("FY{}-P{:02}", today.format("%Y"), today.format("%m").to_string().parse::<u32>().unwrap());
        app.post(Finance, "/api/v1/ledger/lines", json!({
            "entry_date": today, "amount": "500.00", "currency": "USD", "cost_type_id": f.opex_type_id,
            "cost_center_id": f.cost_center_id, "tower_id": "tower-v4-compute"
        }))
        .await
        .expect(201);
        let rule = json!({ "name": "Compute by CPU", "source_kind": "tower", "source_id": "tower-v4-compute", "driver": "utilisation",
            "metric": "cpu_seconds", "targets": [{ "kind": "service", "id": "svc-node" }, { "kind": "service", "id": f.service_id }] });
        let rule = app.post(Finance, "/api/v1/costs/allocation/rules", rule).await.expect(201);
        assert_eq!(rule.body["metric"], "cpu_seconds");
        let allocated = app.post(Finance, "/api/v1/costs/allocation/runs", json!({ "fiscal_period": period })).await.expect(201).body;
        let run_id = allocated["id"].as_str().unwrap();
        let flows = app.get(Finance, &format!("/api/v1/costs/allocation/runs/{run_id}/flows")).await.expect(200).body;
        let to = |service: &str| flows.as_array().unwrap().iter().filter(|f| f["target_id"] == service && f["source_kind"] == "tower").map(|f| dec(&f["amount"])).sum::<rust_decimal::Decimal>();
        assert_eq!(to("svc-node"), "500.00".parse().unwrap(), "{flows}");
        assert_eq!(to(&f.service_id), rust_decimal::Decimal::ZERO, "no measurements, no share");

        let tco = app.get(Finance, "/api/v1/services/svc-node/tco").await.expect(200).body;
        assert_eq!(dec(&tco["itom_usage_share"]), "500.00".parse().unwrap(), "{tco}");
        let crm = app.get(Finance, &format!("/api/v1/services/{}/tco", f.service_id)).await.expect(200).body;
        assert_eq!(crm["itom_usage_share"], Value::Null, "nothing utilisation-driven reached it: {crm}");
        // The measured host, registered as an asset of the service, carries all of it.
        let host = prometheus.exporter.split(':').next().unwrap();
        let asset = app.post(Finance, "/api/v1/assets", json!({ "name": host, "kind": "hardware", "service_id": "svc-node", "currency": "USD" })).await.expect(201).id();
        let asset_tco = app.get(Finance, &format!("/api/v1/assets/{asset}/tco")).await.expect(200).body;
        assert_eq!(dec(&asset_tco["itom_usage_share"]), "500.00".parse().unwrap(), "{asset_tco}");
        assert_eq!(dec(&asset_tco["tco"]), "500.00".parse().unwrap());

        // A second host of the service, measured as much as the first: each carries half.
        let rows = query("SELECT period_start, period_end, value FROM utilisation WHERE metric = 'cpu_seconds'").fetch_all(&mut app.db.clone()).await.unwrap();
        for (k, row) in rows.iter().enumerate() {
            query("INSERT INTO utilisation (id, instance_id, stream, record_key, subject_kind, subject, metric, period_start, period_end, value, unit, service_id, created_at, updated_at) \
                   VALUES ($1, $2, 'cpu_seconds', $3, 'host', 'other-host:9100', 'cpu_seconds', $4, $5, $6, 'cpu-seconds', 'svc-node', $7, $7)")
                .bind(format!("other-{k}"))
                .bind(id.as_str())
                .bind(format!("other-{k}"))
                .bind(row.get::<chrono::DateTime<chrono::Utc>>("period_start").unwrap())
                .bind(row.get::<chrono::DateTime<chrono::Utc>>("period_end").unwrap())
                .bind(row.decimal("value").unwrap())
                .bind(chrono::Utc::now())
                .execute(&mut app.db.clone())
                .await
                .unwrap();
        }
        app.post(Finance, "/api/v1/costs/allocation/runs", json!({ "fiscal_period": period })).await.expect(201);
        let halved = app.get(Finance, &format!("/api/v1/assets/{asset}/tco")).await.expect(200).body;
        assert_eq!(dec(&halved["itom_usage_share"]), "250.00".parse().unwrap(), "{halved}");
        let service = app.get(Finance, "/api/v1/services/svc-node/tco").await.expect(200).body;
        assert_eq!(dec(&service["itom_usage_share"]), "500.00".parse().unwrap(), "the latest run counts, once");
    }
);

db_test!(
    /// Jira requests synchronised through the engine become ticket and effort
    /// drivers per service for the period they were opened in, and effort in
    /// the service's TCO, costed at the labour rate once one is set.
    async fn jira_effort_synced_through_the_engine_drives_allocation_and_tco(app) {
        let f = crate::ledger::fixtures(&app).await;
        let mut issues = help_desk_issues();
        issues.push(jira_issue("HELP-6", "Incident", "2024-04-01T10:00:00.000+0000", "2024-04-01T11:00:00.000+0000", Some(7200)));
        let source = Jira { issues: Arc::new(Mutex::new(issues)), searches: Arc::default() };
        let addr = jira(source, &Faults::default()).await;
        let config = json!({ "base_url": format!("http://{addr}"), "jql": "project in (HELP, HR)", "email": "agent@example.com", "page_size": 2 });
        let plugin = install_connector(&app, "jira").await;
        let id = connector(&app, &plugin, addr, config, json!({ "api_token": TOKEN })).await;
        let run = sync_to_end(&app, &id).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["counts"]["rejected"], 1, "HELP-3's impossible date: {run}");
        let again = sync_to_end(&app, &id).await;
        assert_eq!((again["counts"]["inserted"].as_i64(), again["counts"]["updated"].as_i64()), (Some(0), Some(0)), "a second run changes nothing: {again}");
        let services: Vec<(String, String)> = query("SELECT id, code FROM services WHERE code IN ('HELP', 'HR') ORDER BY code")
            .fetch_all(&mut app.db.clone())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("id").unwrap(), r.get("code").unwrap()))
            .collect();
        let (help, hr) = (services[0].0.clone(), services[1].0.clone());

        // March 2024: HELP has three tickets stored (1.5 + 0.1111 + 0.0167 hours), HR one of no effort.
        app.post(Finance, "/api/v1/ledger/lines", json!({
            "entry_date": "2024-03-15", "amount": "400.00", "currency": "USD", "cost_type_id": f.opex_type_id,
            "cost_center_id": f.cost_center_id, "tower_id": "tower-v4-end-user"
        }))
        .await
        .expect(201);
        let targets = json!([{ "kind": "service", "id": help }, { "kind": "service", "id": hr }]);
        let rule = app.post(Finance, "/api/v1/costs/allocation/rules", json!({ "name": "Service desk by tickets", "source_kind": "tower",
            "source_id": "tower-v4-end-user", "driver": "tickets", "targets": targets })).await.expect(201);
        let shares = |run: Value| {
            let app = &app;
            let (help, hr) = (help.clone(), hr.clone());
            async move {
                let id = run["id"].as_str().unwrap().to_owned();
                let flows = app.get(Finance, &format!("/api/v1/costs/allocation/runs/{id}/flows")).await.expect(200).body;
                let to = |s: &str| flows.as_array().unwrap().iter().filter(|f| f["target_id"] == s).map(|f| dec(&f["amount"])).sum::<rust_decimal::Decimal>();
                (to(&help).to_string(), to(&hr).to_string())
            }
        };
        let by_tickets = app.post(Finance, "/api/v1/costs/allocation/runs", json!({ "fiscal_period": "FY2024-P03" })).await.expect(201).body;
        assert_eq!(shares(by_tickets).await, ("300.00".to_owned(), "100.00".to_owned()));
        app.patch(Finance, &format!("/api/v1/costs/allocation/rules/{}", rule.id()), json!({ "driver": "effort" }), Some(&rule.etag())).await.expect(200);
        let by_effort = app.post(Finance, "/api/v1/costs/allocation/runs", json!({ "fiscal_period": "FY2024-P03" })).await.expect(201).body;
        assert_eq!(shares(by_effort).await, ("400.00".to_owned(), "0".to_owned()), "HR's ticket took no effort");

        // Effort hours in TCO; costed only with a labour rate.
        let tco = app.get(Finance, &format!("/api/v1/services/{help}/tco?as_of=2024-03-31")).await.expect(200).body;
        assert_eq!((dec(&tco["itsm_effort_hours"]), &tco["itsm_effort"]), ("1.6278".parse().unwrap(), &Value::Null), "{tco}");
        let settings = app.get(Finance, "/api/v1/settings").await.expect(200);
        app.patch(Finance, "/api/v1/settings", json!({ "labour_rate": "-1" }), Some(&settings.etag())).await.expect_problem(422, Some("/labour_rate"));
        app.patch(Finance, "/api/v1/settings", json!({ "labour_rate": "80" }), Some(&settings.etag())).await.expect(200);
        let tco = app.get(Finance, &format!("/api/v1/services/{help}/tco?as_of=2024-03-31")).await.expect(200).body;
        assert_eq!(dec(&tco["itsm_effort"]), "130.22".parse().unwrap(), "1.6278 h × 80, to the cent: {tco}");
        assert_eq!(dec(&tco["tco"]), dec(&tco["itsm_effort"]), "the service has no other cost");
        let april = app.get(Finance, &format!("/api/v1/services/{help}/tco?as_of=2024-04-30")).await.expect(200).body;
        assert_eq!(dec(&april["itsm_effort_hours"]), "3.6278".parse().unwrap(), "HELP-6 was opened in April");
    }
);
