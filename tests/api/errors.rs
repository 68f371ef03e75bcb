//! Every refusal is RFC 9457 problem+json with the right status, and names the
//! field that is wrong.

use itbm::auth::Role::PortfolioManager;
use reqwest::Method;

use crate::db_test;

db_test!(async fn malformed_json_is_a_400_problem_and_writes_nothing(app) {
    let reply = app.send_raw(PortfolioManager, Method::POST, "/api/v1/portfolios", "application/json", b"{\"name\": ".to_vec()).await;
    reply.expect_problem(400, None);
    assert_eq!(app.count("portfolios").await, 0);
});

db_test!(async fn a_wrong_type_is_a_422_naming_the_member(app) {
    let reply = app.send_raw(PortfolioManager, Method::POST, "/api/v1/portfolios", "application/json", br#"{"name": 42}"#.to_vec()).await;
    reply.expect_problem(422, Some("/name"));
    let reply = app.send_raw(PortfolioManager, Method::POST, "/api/v1/portfolios", "application/json", br#"{"name": "A", "colour": "red"}"#.to_vec()).await;
    reply.expect_problem(422, None);
    assert_eq!(app.count("portfolios").await, 0);
});

db_test!(async fn a_body_that_is_not_json_is_refused(app) {
    app.send_raw(PortfolioManager, Method::POST, "/api/v1/portfolios", "text/plain", b"name=A".to_vec()).await.expect_problem(400, Some("content-type"));
});

db_test!(async fn an_oversized_body_is_a_413(app) {
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    app.send_raw(PortfolioManager, Method::POST, "/api/v1/portfolios", "application/json", huge.into_bytes()).await.expect_problem(413, None);
    assert_eq!(app.count("portfolios").await, 0);
});

db_test!(async fn unknown_routes_and_methods_are_problems_too(app) {
    app.get(PortfolioManager, "/api/v1/nothing-here").await.expect_problem(404, None);
    app.send(Some(PortfolioManager), Method::PUT, "/api/v1/portfolios", None, None).await.expect_problem(405, None);
});

db_test!(async fn operations_endpoints_answer_without_a_token(app) {
    let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let request_id = ready.headers().get("x-request-id").expect("every response carries a request id");
    assert!(!request_id.is_empty());
});
