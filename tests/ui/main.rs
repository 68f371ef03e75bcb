//! The web UI as the server serves it: the single-page application at `/` and
//! at every client route, the API's routes and 404s untouched, and the demo
//! sign-in endpoint only with `--demo`. The UI itself is tested in a browser
//! by `ui/e2e` (`npm run e2e` in `ui/`).

#[allow(dead_code)]
#[path = "../api/support.rs"]
mod support;

use itbm::auth::Role;
use reqwest::Method;
use serde_json::json;
use support::{Backend, TestApp};

/// The UI does not touch the database, so SQLite is enough here.
async fn server(demo: bool) -> TestApp {
    TestApp::start_with(Backend::Sqlite, |config| config.demo = demo).await
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(format!("{}{path}", app.base)).send().await.unwrap()
}

#[tokio::test]
async fn the_ui_is_served_at_the_root_and_at_every_client_route() {
    let app = server(false).await;
    for path in ["/", "/projects", "/projects/0193-abc", "/budgets/x?cost_type=y", "/sign-in"] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status(), 200, "{path}");
        assert_eq!(reply.headers()["content-type"], "text/html", "{path}");
        assert_eq!(reply.headers()["cache-control"], "no-cache", "index.html is revalidated so a new build shows at once");
        assert!(reply.headers().contains_key("content-security-policy"));
        let body = reply.text().await.unwrap();
        assert!(body.contains("<div id=\"root\">"), "{path}: {body}");
    }
}

#[tokio::test]
async fn built_assets_are_served_with_their_type_and_cached_for_good() {
    let app = server(false).await;
    let index = get(&app, "/").await.text().await.unwrap();
    let script = index.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("index.html loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let reply = get(&app, script).await;
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "text/javascript");
    assert_eq!(reply.headers()["cache-control"], "public, max-age=31536000, immutable");
    let etag = reply.headers()["etag"].to_str().unwrap().to_owned();

    let again = app.client.get(format!("{}{script}", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304, "an unchanged file is not sent twice");
}

#[tokio::test]
async fn a_missing_file_is_a_404_not_the_ui() {
    let app = server(false).await;
    let reply = get(&app, "/assets/gone-1234.js").await;
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn unknown_api_paths_stay_problem_json_404s_and_api_routes_win() {
    let app = server(false).await;
    for path in ["/api", "/api/v1", "/api/v1/nothing-here", "/api/v2/projects"] {
        let reply = app.send(Some(Role::Viewer), Method::GET, path, None, None).await;
        reply.expect_problem(404, None);
    }
    app.get(Role::Viewer, "/api/v1/projects").await.expect(200);
    let reply = get(&app, "/openapi.json").await;
    assert_eq!(reply.headers()["content-type"], "application/json");
    assert_eq!(get(&app, "/healthz").await.status(), 200);
    assert_eq!(get(&app, "/docs/").await.status(), 200);
    // Only reads reach the UI; a write to an unknown path is still a 404.
    let post = app.client.post(format!("{}/projects", app.base)).send().await.unwrap();
    assert_eq!(post.status(), 404);
}

#[tokio::test]
async fn without_demo_there_is_no_demo_token_endpoint() {
    let app = server(false).await;
    app.send(None, Method::GET, "/api/v1/demo/tokens", None, None).await.expect_problem(404, None);
    app.send(None, Method::POST, "/api/v1/demo/tokens", Some(json!({"role": "admin"})), None).await.expect_problem(404, None);
}

#[tokio::test]
async fn with_demo_anyone_may_sign_in_as_the_demo_user_of_a_role() {
    let app = server(true).await;
    let roles = app.send(None, Method::GET, "/api/v1/demo/tokens", None, None).await.expect(200);
    assert_eq!(roles.body["roles"], json!(["portfolio_manager", "finance", "viewer", "admin"]));

    let issued = app.send(None, Method::POST, "/api/v1/demo/tokens", Some(json!({"role": "finance"})), None).await.expect(201);
    assert_eq!(issued.body["sub"], "demo-finance");
    assert_eq!(issued.body["role"], "finance");
    let token = issued.body["token"].as_str().unwrap();

    // The token is a real local token with that role: finance may read the audit log.
    let audit = app.get_with_authorization("/api/v1/audit-log", &format!("Bearer {token}")).await;
    audit.expect(200);
}

#[tokio::test]
async fn a_demo_token_request_is_validated_like_any_body() {
    let app = server(true).await;
    app.send(None, Method::POST, "/api/v1/demo/tokens", Some(json!({"role": "superuser"})), None)
        .await
        .expect_problem(422, Some("/role"));
    app.send(None, Method::POST, "/api/v1/demo/tokens", Some(json!({"role": "viewer", "sub": "root"})), None)
        .await
        .expect_problem(422, None);
}

#[tokio::test]
async fn no_path_leads_out_of_the_build_folder() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = server(false).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Sent raw: an HTTP client would normalise the dots away.
    for path in ["/../Cargo.toml", "/assets/../../Cargo.toml", "/assets/..%2f..%2fCargo.toml", "/..%2fsrc%2fmain.rs"] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {}", answer.lines().next().unwrap_or(""));
        assert!(!answer.contains("[package]") && !answer.contains("fn main"), "{path} leaked a source file");
    }
}
