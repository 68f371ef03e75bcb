//! Integration events: an approved demand, a project changing state and an
//! approved budget are written to an outbox with the change, and delivered at
//! least once to every enabled integration instance, with retries. The
//! integration is the example `webhook` plugin POSTing to a local receiver.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use itbm::auth::Role::{Admin, Finance, PortfolioManager, Viewer};
use serde_json::{Value, json};

use crate::db_test;
use crate::plugins::{install, instance, manifest, trusted_vendor};
use crate::portfolio::portfolio;
use crate::support::TestApp;

/// A webhook receiver on loopback that answers 503 to its first `failures`
/// requests and 204 after, and keeps every body it was sent.
struct Receiver {
    addr: std::net::SocketAddr,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(AtomicUsize::new(0));
        let (kept, counter) = (received.clone(), calls.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (kept, counter) = (kept.clone(), counter.clone());
                async move {
                    if counter.fetch_add(1, Ordering::SeqCst) < failures {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    kept.lock().unwrap().push(body);
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { addr, received }
    }

    fn kinds(&self) -> Vec<String> {
        self.received.lock().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    }
}

/// The webhook plugin installed, with an instance granted the receiver.
async fn webhook(app: &TestApp, receiver: &Receiver) -> String {
    let key = trusted_vendor(app).await;
    let plugin = install(app, &key, &manifest("examples/webhook"), "webhook").await;
    instance(app, &plugin, json!({
        "config": { "url": format!("http://{}/hook", receiver.addr) },
        "grants": { "http": [format!("http://{}", receiver.addr)], "networks": ["127.0.0.0/8"] }
    }))
    .await
}

/// Waits (up to `seconds`) until the delivery log satisfies `done`.
async fn deliveries_until(app: &TestApp, seconds: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let page = app.get(Admin, "/api/v1/integration-deliveries?per_page=100").await.expect(200);
        let items = page.body["items"].as_array().unwrap().clone();
        if done(&items) || std::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn all_delivered(expected: usize) -> impl Fn(&[Value]) -> bool {
    move |items| items.len() == expected && items.iter().all(|d| d["state"] == "delivered")
}

db_test!(async fn approvals_and_project_state_changes_reach_every_integration_once_each(app) {
    let receiver = Receiver::start(0).await;
    webhook(&app, &receiver).await;

    // A demand approved (which creates its project) ...
    let portfolio_id = portfolio(&app).await;
    let demand = app
        .post(PortfolioManager, "/api/v1/demands", json!({ "title": "Self-service portal", "portfolio_id": portfolio_id }))
        .await
        .expect(201)
        .id();
    for step in ["submitted", "under_review", "approved"] {
        app.post(PortfolioManager, &format!("/api/v1/demands/{demand}/transitions"), json!({ "to": step })).await.expect(200);
    }
    // ... a project moving on ...
    let project = app.get(Viewer, &format!("/api/v1/demands/{demand}")).await.expect(200).body["project_id"].as_str().unwrap().to_owned();
    app.post(PortfolioManager, &format!("/api/v1/projects/{project}/transitions"), json!({ "to": "in_progress" })).await.expect(200);
    // ... and a budget approved.
    let budget = app.post(Finance, "/api/v1/budget-versions", json!({ "name": "Plan 2027", "fiscal_year": 2027 })).await.expect(201).id();
    for step in ["submitted", "approved"] {
        app.post(Finance, &format!("/api/v1/budget-versions/{budget}/transitions"), json!({ "to": step })).await.expect(200);
    }

    let deliveries = deliveries_until(&app, 20, all_delivered(3)).await;
    assert!(all_delivered(3)(&deliveries), "{deliveries:#?}");
    let mut kinds = receiver.kinds();
    kinds.sort();
    assert_eq!(kinds, ["budget.approved", "demand.approved", "project.state-changed"]);
    let received = receiver.received.lock().unwrap().clone();
    let moved = received.iter().find(|e| e["kind"] == "project.state-changed").unwrap();
    assert_eq!(moved["subject_id"], project.as_str());
    assert_eq!((moved["payload"]["from"].as_str(), moved["payload"]["to"].as_str()), (Some("approved"), Some("in_progress")));
    let approved = received.iter().find(|e| e["kind"] == "demand.approved").unwrap();
    assert_eq!(approved["subject_id"], demand.as_str());
    assert!(deliveries.iter().all(|d| d["attempts"] == 1 && d["last_invocation_id"].is_i64()), "{deliveries:#?}");

    // Steps that are not approvals, and refused steps, send nothing.
    let events = app.count("integration_events").await;
    let draft = app.post(Finance, "/api/v1/budget-versions", json!({ "name": "Plan 2028", "fiscal_year": 2028 })).await.expect(201).id();
    app.post(Finance, &format!("/api/v1/budget-versions/{draft}/transitions"), json!({ "to": "submitted" })).await.expect(200);
    app.post(PortfolioManager, &format!("/api/v1/projects/{project}/transitions"), json!({ "to": "proposed" })).await.expect_problem(409, None);
    assert_eq!(app.count("integration_events").await, events);
});

db_test!(async fn a_failing_receiver_gets_the_event_again_after_a_backoff(app) {
    let receiver = Receiver::start(2).await;
    let instance_id = webhook(&app, &receiver).await;
    let portfolio_id = portfolio(&app).await;
    let project = app.post(PortfolioManager, "/api/v1/projects", json!({ "name": "Retry me", "portfolio_id": portfolio_id })).await.expect(201).id();
    app.post(PortfolioManager, &format!("/api/v1/projects/{project}/transitions"), json!({ "to": "approved" })).await.expect(200);

    // 503, then 503 a second later, then accepted two seconds after that.
    let failed_once = deliveries_until(&app, 10, |items| items.first().is_some_and(|d| d["attempts"] == 1)).await;
    assert_eq!(failed_once[0]["state"], "pending");
    assert!(failed_once[0]["last_error"].as_str().unwrap().contains("503"), "{failed_once:#?}");
    let deliveries = deliveries_until(&app, 15, all_delivered(1)).await;
    assert!(all_delivered(1)(&deliveries), "{deliveries:#?}");
    assert_eq!(deliveries[0]["attempts"], 3);
    assert_eq!(deliveries[0]["last_error"], Value::Null);
    assert_eq!(receiver.kinds(), ["project.state-changed"]);

    // Every attempt is in the instance's invocation log.
    let log = app.get(Admin, &format!("/api/v1/plugin-instances/{instance_id}/invocations")).await.expect(200);
    let outcomes: Vec<&str> = log.body["items"].as_array().unwrap().iter().map(|i| i["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "connector-error", "connector-error"]);
});

db_test!(async fn only_admins_read_the_delivery_log(app) {
    app.get(Finance, "/api/v1/integration-deliveries").await.expect_problem(403, None);
    app.get(Viewer, "/api/v1/integration-deliveries").await.expect_problem(403, None);
    app.get(Admin, "/api/v1/integration-deliveries?state=failed").await.expect(200);
});
