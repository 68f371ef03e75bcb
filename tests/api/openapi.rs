//! The OpenAPI document is generated from the code, committed at
//! `openapi/openapi.json`, and served at `/openapi.json`; the three never differ.

use reqwest::Method;
use serde_json::Value;

use crate::db_test;

const REGENERATE: &str = "regenerate it with: cargo run -- openapi > openapi/openapi.json";

fn committed() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_committed_document_equals_the_generated_one() {
    assert!(committed() == itbm::http::openapi_json(), "openapi/openapi.json is stale; {REGENERATE}");
}

/// Clients are generated from the document: an operation id names one
/// operation, or a generated client calls the wrong one.
#[test]
fn every_operation_has_an_id_of_its_own() {
    let document: Value = serde_json::from_str(&itbm::http::openapi_json()).unwrap();
    let mut seen = std::collections::BTreeMap::<String, String>::new();
    let mut clashes = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else { continue };
            if let Some(first) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                clashes.push(format!("{id}: {first} and {method} {path}"));
            }
        }
    }
    assert!(seen.len() > 100, "the document has its operations");
    assert!(clashes.is_empty(), "operation ids used twice:\n{}", clashes.join("\n"));
}

db_test!(async fn the_served_document_equals_the_committed_one(app) {
    let served: Value = app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let committed: Value = serde_json::from_str(&committed()).expect("openapi/openapi.json is JSON");
    assert!(served == committed, "the served document differs from openapi/openapi.json; {REGENERATE}");
});

db_test!(async fn the_api_reference_is_served_offline_from_the_binary(app) {
    let page = app.client.get(format!("{}/docs/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("cdn.") && !html.contains("unpkg") && !html.contains("jsdelivr"), "the docs page loads nothing from a CDN");
    let script = app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.base)).send().await.unwrap();
    assert_eq!(script.status(), 200, "Swagger UI's script ships inside the server");
});

db_test!(async fn every_documented_api_operation_refuses_anonymous_callers(app) {
    let doc = itbm::http::openapi();
    let mut checked = 0;
    for (path, item) in doc.paths.paths.iter() {
        let concrete = path.split('/').map(|seg| if seg.starts_with('{') { "0" } else { seg }).collect::<Vec<_>>().join("/");
        let methods = [
            (item.get.is_some(), Method::GET),
            (item.post.is_some(), Method::POST),
            (item.put.is_some(), Method::PUT),
            (item.patch.is_some(), Method::PATCH),
            (item.delete.is_some(), Method::DELETE),
        ];
        for (present, method) in methods {
            if !present {
                continue;
            }
            let reply = app.send(None, method.clone(), &concrete, None, None).await;
            assert_eq!(reply.status.as_u16(), 401, "{method} {path} answered an anonymous caller with {}", reply.status);
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} operations documented");
});
