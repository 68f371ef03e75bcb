//! Repeated reads may be answered from the read cache; they must never be
//! stale after a change, nor cross from one role to another.

use itbm::auth::Role::{Finance, PortfolioManager, Viewer};
use serde_json::json;

use crate::db_test;
use crate::portfolio::{portfolio, project};

db_test!(async fn a_list_read_again_after_a_change_shows_the_change(app) {
    let portfolio_id = portfolio(&app).await;
    let id = project(&app, &portfolio_id, "Billing").await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/projects?portfolio_id={portfolio_id}");
    assert_eq!(app.get(Viewer, &path).await.body["items"][0]["health"], "green");
    assert_eq!(app.get(Viewer, &path).await.body["items"][0]["health"], "green");
    app.patch(PortfolioManager, &format!("/api/v1/projects/{id}"), json!({ "health": "red" }), None).await.expect(200);
    assert_eq!(app.get(Viewer, &path).await.body["items"][0]["health"], "red");
    project(&app, &portfolio_id, "Billing 2").await;
    assert_eq!(app.get(Viewer, &path).await.body["total"], 2);
});

db_test!(async fn an_answer_read_by_one_role_is_not_given_to_another(app) {
    portfolio(&app).await;
    app.get(Finance, "/api/v1/audit-log").await.expect(200);
    app.get(Finance, "/api/v1/audit-log").await.expect(200);
    app.get(Viewer, "/api/v1/audit-log").await.expect_problem(403, None);
});

db_test!(async fn a_cached_answer_keeps_its_etag(app) {
    let portfolio_id = portfolio(&app).await;
    let path = format!("/api/v1/portfolios/{portfolio_id}");
    let first = app.get(Viewer, &path).await.expect(200);
    let second = app.get(Viewer, &path).await.expect(200);
    assert_eq!(first.etag(), second.etag());
    assert_eq!(second.content_type(), "application/json");
});
