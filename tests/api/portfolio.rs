use itbm::auth::Role::{Admin, Finance, PortfolioManager, Viewer};
use serde_json::json;

use crate::db_test;
use crate::support::TestApp;

pub async fn portfolio(app: &TestApp) -> String {
    app.post(PortfolioManager, "/api/v1/portfolios", json!({ "name": format!("Portfolio {}", rand_suffix()) })).await.expect(201).id()
}

pub async fn project(app: &TestApp, portfolio_id: &str, name: &str) -> serde_json::Value {
    app.post(PortfolioManager, "/api/v1/projects", json!({ "name": name, "portfolio_id": portfolio_id })).await.expect(201).body
}

fn rand_suffix() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
}

db_test!(async fn a_project_is_created_in_a_portfolio_with_its_estimates_kept_exactly(app) {
    let portfolio_id = portfolio(&app).await;
    let created = app
        .post(PortfolioManager, "/api/v1/projects", json!({
            "name": "CRM replacement",
            "portfolio_id": portfolio_id,
            "estimates": [{ "fiscal_year": 2027, "capex": "1234567.89", "opex": 0.1, "benefit": "0.000000000001" }]
        }))
        .await
        .expect(201);
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.body["state"], "proposed");
    let id = created.id();
    let fetched = app.get(Viewer, &format!("/api/v1/projects/{id}")).await.expect(200);
    assert_eq!(fetched.body["estimates"][0]["capex"], "1234567.89");
    assert_eq!(fetched.body["estimates"][0]["opex"], "0.1");
    assert_eq!(fetched.body["estimates"][0]["benefit"], "0.000000000001");
});

db_test!(async fn project_lifecycle_allows_legal_steps_and_refuses_illegal_ones_with_409(app) {
    let portfolio_id = portfolio(&app).await;
    let id = project(&app, &portfolio_id, "Data platform").await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/projects/{id}/transitions");

    let refused = app.post(PortfolioManager, &path, json!({ "to": "completed" })).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("approved"), "{}", refused.text);
    assert_eq!(app.get(Viewer, &format!("/api/v1/projects/{id}")).await.body["state"], "proposed");

    for step in ["approved", "in_progress", "on_hold", "in_progress", "completed"] {
        app.post(PortfolioManager, &path, json!({ "to": step })).await.expect(200);
    }
    app.post(PortfolioManager, &path, json!({ "to": "in_progress" })).await.expect_problem(409, None);
    app.post(PortfolioManager, &path, json!({ "to": "finished" })).await.expect_problem(422, Some("/to"));
});

db_test!(async fn a_program_must_belong_to_the_projects_portfolio(app) {
    let a = portfolio(&app).await;
    let b = portfolio(&app).await;
    let program = app.post(PortfolioManager, "/api/v1/programs", json!({ "name": "Cloud", "portfolio_id": a })).await.expect(201).id();
    let before = app.count("projects").await;
    app.post(PortfolioManager, "/api/v1/projects", json!({ "name": "X", "portfolio_id": b, "program_id": program }))
        .await
        .expect_problem(422, Some("/program_id"));
    assert_eq!(app.count("projects").await, before);
});

db_test!(async fn lists_page_filter_and_sort(app) {
    let portfolio_id = portfolio(&app).await;
    for name in ["Charlie", "alpha", "Bravo", "delta", "Echo"] {
        project(&app, &portfolio_id, name).await;
    }
    let page = app.get(Viewer, "/api/v1/projects?per_page=2&page=2&sort=-name").await.expect(200);
    assert_eq!(page.body["total"], 5);
    let names: Vec<&str> = page.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Charlie", "Bravo"]);
    let found = app.get(Viewer, "/api/v1/projects?q=ALP").await.expect(200);
    assert_eq!(found.body["total"], 1);
    let none = app.get(Viewer, "/api/v1/projects?q=%25").await.expect(200);
    assert_eq!(none.body["total"], 0, "a % in a search is a literal, not a wildcard");
    let hostile = app.get(Viewer, "/api/v1/projects?state=proposed'%20OR%20'1'='1").await;
    hostile.expect_problem(400, Some("state"));
});

db_test!(async fn updates_honour_if_match_and_refuse_stale_versions_with_412(app) {
    let portfolio_id = portfolio(&app).await;
    let id = project(&app, &portfolio_id, "Intranet").await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/projects/{id}");
    let updated = app.patch(PortfolioManager, &path, json!({ "health": "amber" }), Some("\"1\"")).await.expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    app.patch(PortfolioManager, &path, json!({ "health": "red" }), Some("\"1\"")).await.expect_problem(412, None);
    assert_eq!(app.get(Viewer, &path).await.body["health"], "amber");
});

db_test!(async fn roles_without_the_right_get_403_and_change_nothing(app) {
    let before = app.count("portfolios").await;
    app.post(Finance, "/api/v1/portfolios", json!({ "name": "Nope" })).await.expect_problem(403, None);
    app.post(Viewer, "/api/v1/portfolios", json!({ "name": "Nope" })).await.expect_problem(403, None);
    assert_eq!(app.count("portfolios").await, before);
    app.post(Admin, "/api/v1/portfolios", json!({ "name": "Yes" })).await.expect(201);
});

db_test!(async fn every_change_is_in_the_audit_log_with_before_and_after(app) {
    let portfolio_id = portfolio(&app).await;
    let path = format!("/api/v1/portfolios/{portfolio_id}");
    app.patch(PortfolioManager, &path, json!({ "description": "Customer-facing" }), None).await.expect(200);
    let log = app.get(Finance, &format!("/api/v1/audit-log?entity=portfolio&entity_id={portfolio_id}")).await.expect(200);
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(entries[0]["before"]["description"], serde_json::Value::Null);
    assert_eq!(entries[0]["after"]["description"], "Customer-facing");
    assert_eq!(entries[0]["actor"], "test-portfolio_manager");
    app.get(PortfolioManager, "/api/v1/audit-log").await.expect_problem(403, None);
});
