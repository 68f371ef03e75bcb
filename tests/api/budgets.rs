//! Budgets: versions and their workflow, lines with optimistic concurrency,
//! the all-or-nothing bulk upsert, copies and totals.

use itbm::auth::Role::{Finance, PortfolioManager, Viewer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::db_test;
use crate::finance::{cost_center, cost_type};
use crate::support::TestApp;

/// The master data a budget line refers to.
struct Books {
    center: String,
    opex: String,
    capex: String,
}

async fn books(app: &TestApp) -> Books {
    Books { center: cost_center(app, "IT", None).await, opex: cost_type(app, "SAAS", "opex").await, capex: cost_type(app, "HW", "capex").await }
}

/// Creates a draft plan for `fiscal_year` and returns its id.
async fn version(app: &TestApp, name: &str, fiscal_year: i32) -> String {
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": name, "fiscal_year": fiscal_year })).await.expect(201).id()
}

fn line(period: &str, center: &str, cost_type: &str, amount: Value) -> Value {
    json!({ "fiscal_period": period, "cost_center_id": center, "cost_type_id": cost_type, "amount": amount })
}

async fn add_line(app: &TestApp, version_id: &str, body: Value) -> Value {
    app.post(Finance, &format!("/api/v1/budget-versions/{version_id}/lines"), body).await.expect(201).body
}

async fn transition(app: &TestApp, version_id: &str, to: &str) -> crate::support::Reply {
    app.post(Finance, &format!("/api/v1/budget-versions/{version_id}/transitions"), json!({ "to": to })).await
}

async fn put_lines(app: &TestApp, version_id: &str, cells: Value) -> crate::support::Reply {
    app.send(Some(Finance), Method::PUT, &format!("/api/v1/budget-versions/{version_id}/lines"), Some(cells), None).await
}

db_test!(async fn a_budget_version_is_submitted_approved_and_locked_and_records_its_approver(app) {
    let id = version(&app, "Plan 2027", 2027).await;
    let path = format!("/api/v1/budget-versions/{id}");
    let draft = app.get(Viewer, &path).await.expect(200);
    assert_eq!(draft.body["state"], "draft");
    assert_eq!(draft.body["kind"], "plan");
    assert_eq!(draft.body["currency"], "USD", "defaults to the reporting currency");

    let refused = transition(&app, &id, "approved").await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("submitted"), "{}", refused.text);
    assert_eq!(app.get(Viewer, &path).await.body["state"], "draft");

    transition(&app, &id, "submitted").await.expect(200);
    transition(&app, &id, "draft").await.expect(200);
    transition(&app, &id, "submitted").await.expect(200);
    let approved = transition(&app, &id, "approved").await.expect(200);
    assert_eq!(approved.body["approved_by"], "test-finance");
    assert!(approved.body["approved_at"].is_string());
    let locked = transition(&app, &id, "locked").await.expect(200);
    assert_eq!(locked.body["approved_by"], "test-finance");

    let final_refusal = transition(&app, &id, "draft").await.expect_problem(409, None);
    assert!(final_refusal.body["detail"].as_str().unwrap().contains("final"), "{}", final_refusal.text);
    app.post(PortfolioManager, &format!("{path}/transitions"), json!({ "to": "draft" })).await.expect_problem(403, None);
    assert_eq!(app.get(Viewer, &path).await.body["state"], "locked");
});

db_test!(async fn submitted_approved_and_locked_versions_refuse_line_changes_with_409_and_change_nothing(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let existing = add_line(&app, &id, line("FY2027-P01", &b.center, &b.opex, json!("100.00"))).await;
    let line_path = format!("/api/v1/budget-lines/{}", existing["id"].as_str().unwrap());

    for state in ["submitted", "approved", "locked"] {
        transition(&app, &id, state).await.expect(200);
        let refused = app
            .post(Finance, &format!("/api/v1/budget-versions/{id}/lines"), line("FY2027-P02", &b.center, &b.opex, json!("5")))
            .await
            .expect_problem(409, None);
        assert_eq!(refused.body["type"], "urn:itbm:problem:locked", "{state}");
        app.patch(Finance, &line_path, json!({ "amount": "999" }), Some("\"1\"")).await.expect_problem(409, None);
        app.delete(Finance, &line_path, Some("\"1\"")).await.expect_problem(409, None);
        put_lines(&app, &id, json!([line("FY2027-P01", &b.center, &b.opex, json!("1"))])).await.expect_problem(409, None);
        app.patch(Finance, &format!("/api/v1/budget-versions/{id}"), json!({ "name": "Renamed" }), None).await.expect_problem(409, None);
        app.delete(Finance, &format!("/api/v1/budget-versions/{id}"), None).await.expect_problem(409, None);

        assert_eq!(app.count("budget_lines").await, 1, "{state}");
        let unchanged = app.get(Viewer, &line_path).await.expect(200);
        assert_eq!(unchanged.body["amount"], "100.00", "{state}");
        assert_eq!(unchanged.etag(), "\"1\"");
        assert_eq!(app.get(Viewer, &format!("/api/v1/budget-versions/{id}")).await.body["name"], "Plan 2027");
    }
});

db_test!(async fn changing_or_deleting_a_budget_line_requires_a_current_if_match(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let created = add_line(&app, &id, line("FY2027-P03", &b.center, &b.opex, json!("250.00"))).await;
    let path = format!("/api/v1/budget-lines/{}", created["id"].as_str().unwrap());

    app.patch(Finance, &path, json!({ "amount": "300" }), None).await.expect_problem(428, None);
    app.patch(Finance, &path, json!({ "amount": "300" }), Some("\"7\"")).await.expect_problem(412, None);
    assert_eq!(app.get(Viewer, &path).await.body["amount"], "250.00");

    let updated = app.patch(Finance, &path, json!({ "amount": "300", "note": "licence uplift" }), Some("\"1\"")).await.expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    // Someone who read the cell before that change is told, not overwritten.
    let stale = app.patch(Finance, &path, json!({ "amount": "275" }), Some("\"1\"")).await.expect_problem(412, None);
    assert!(stale.body["detail"].as_str().unwrap().contains("someone else"), "{}", stale.text);
    assert_eq!(app.get(Viewer, &path).await.body["amount"], "300");

    app.delete(Finance, &path, None).await.expect_problem(428, None);
    app.delete(Finance, &path, Some("\"1\"")).await.expect_problem(412, None);
    assert_eq!(app.count("budget_lines").await, 1);
    app.delete(Finance, &path, Some("\"2\"")).await.expect(204);
    assert_eq!(app.count("budget_lines").await, 0);
});

db_test!(async fn a_bulk_upsert_with_one_bad_cell_writes_nothing(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let first = add_line(&app, &id, line("FY2027-P01", &b.center, &b.opex, json!("100"))).await;
    let first_path = format!("/api/v1/budget-lines/{}", first["id"].as_str().unwrap());

    let refused = put_lines(&app, &id, json!([
        line("FY2027-P01", &b.center, &b.opex, json!("150")),
        line("FY2026-P02", &b.center, &b.opex, json!("10")),
        line("FY2027-P03", &b.center, &b.capex, json!("-5")),
        line("FY2027-P04", "no-such-center", &b.capex, json!("5")),
        line("FY2027-P01", &b.center, &b.opex, json!("1")),
    ]))
    .await
    .expect_problem(422, Some("/2/amount"));
    let pointers: Vec<&str> = refused.body["errors"].as_array().unwrap().iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, ["/1/fiscal_period", "/2/amount", "/3/cost_center_id", "/4"]);
    assert_eq!(app.count("budget_lines").await, 1);
    assert_eq!(app.get(Viewer, &first_path).await.body["amount"], "100");

    let cells = json!([
        line("FY2027-P01", &b.center, &b.opex, json!("150")),
        line("FY2027-P02", &b.center, &b.opex, json!("10")),
        line("FY2027-P03", &b.center, &b.capex, json!("5.5")),
    ]);
    let done = put_lines(&app, &id, cells.clone()).await.expect(200);
    assert_eq!((done.body["created"].as_i64(), done.body["updated"].as_i64(), done.body["unchanged"].as_i64()), (Some(2), Some(1), Some(0)));
    assert_eq!(done.body["items"][0]["id"], first["id"]);
    assert_eq!(app.count("budget_lines").await, 3);
    let changed = app.get(Viewer, &first_path).await.expect(200);
    assert_eq!(changed.body["amount"], "150");
    assert_eq!(changed.etag(), "\"2\"");

    let again = put_lines(&app, &id, cells).await.expect(200);
    assert_eq!(again.body["unchanged"], 3);
    assert_eq!(app.count("budget_lines").await, 3);
});

db_test!(async fn a_period_outside_the_versions_fiscal_year_is_refused(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let path = format!("/api/v1/budget-versions/{id}/lines");
    app.post(Finance, &path, line("FY2026-P12", &b.center, &b.opex, json!("1"))).await.expect_problem(422, Some("/fiscal_period"));
    app.post(Finance, &path, line("2027-01", &b.center, &b.opex, json!("1"))).await.expect_problem(422, Some("/fiscal_period"));
    app.post(Finance, &path, line("FY2027-P13", &b.center, &b.opex, json!("1"))).await.expect_problem(422, Some("/fiscal_period"));
    assert_eq!(app.count("budget_lines").await, 0);

    let kept = add_line(&app, &id, line("FY2027-P12", &b.center, &b.opex, json!("1"))).await;
    let line_path = format!("/api/v1/budget-lines/{}", kept["id"].as_str().unwrap());
    app.patch(Finance, &line_path, json!({ "fiscal_period": "FY2028-P01" }), Some("\"1\"")).await.expect_problem(422, Some("/fiscal_period"));
    assert_eq!(app.get(Viewer, &line_path).await.body["fiscal_period"], "FY2027-P12");
});

db_test!(async fn budget_lines_name_each_unknown_reference_or_bad_amount(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let path = format!("/api/v1/budget-versions/{id}/lines");
    app.post(Finance, &path, line("FY2027-P01", "nope", &b.opex, json!("1"))).await.expect_problem(422, Some("/cost_center_id"));
    app.post(Finance, &path, line("FY2027-P01", &b.center, "nope", json!("1"))).await.expect_problem(422, Some("/cost_type_id"));
    let mut with_project = line("FY2027-P01", &b.center, &b.opex, json!("1"));
    with_project["project_id"] = json!("nope");
    app.post(Finance, &path, with_project).await.expect_problem(422, Some("/project_id"));
    let mut with_currency = line("FY2027-P01", &b.center, &b.opex, json!("1"));
    with_currency["currency"] = json!("QQQ");
    app.post(Finance, &path, with_currency).await.expect_problem(422, Some("/currency"));
    for amount in [json!("-0.01"), json!("1000000000000000.01"), json!("0.0000000000001"), json!("ten")] {
        app.post(Finance, &path, line("FY2027-P01", &b.center, &b.opex, amount)).await.expect_problem(422, Some("/amount"));
    }
    app.post(Finance, "/api/v1/budget-versions/nope/lines", line("FY2027-P01", &b.center, &b.opex, json!("1"))).await.expect_problem(404, None);
    assert_eq!(app.count("budget_lines").await, 0);
});

db_test!(async fn a_cell_holds_one_line(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    let path = format!("/api/v1/budget-versions/{id}/lines");
    add_line(&app, &id, line("FY2027-P01", &b.center, &b.opex, json!("1"))).await;
    app.post(Finance, &path, line("FY2027-P01", &b.center, &b.opex, json!("2"))).await.expect_problem(409, None);
    assert_eq!(app.count("budget_lines").await, 1);

    let portfolio_id = crate::portfolio::portfolio(&app).await;
    let project = crate::portfolio::project(&app, &portfolio_id, "ERP").await;
    let mut for_project = line("FY2027-P01", &b.center, &b.opex, json!("2"));
    for_project["project_id"] = project["id"].clone();
    add_line(&app, &id, for_project.clone()).await;
    app.post(Finance, &path, for_project).await.expect_problem(409, None);
    assert_eq!(app.count("budget_lines").await, 2);

    let by_project = app.get(Viewer, &format!("{path}?project_id={}", project["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(by_project.body["total"], 1);
    let by_period = app.get(Viewer, &format!("{path}?fiscal_period=FY2027-P01&cost_type_id={}", b.opex)).await.expect(200);
    assert_eq!(by_period.body["total"], 2);
    app.get(Viewer, &format!("{path}?fiscal_period=P01")).await.expect_problem(400, Some("fiscal_period"));
});

db_test!(async fn version_totals_sum_capex_and_opex_exactly_per_currency(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    add_line(&app, &id, line("FY2027-P01", &b.center, &b.opex, json!("0.1"))).await;
    add_line(&app, &id, line("FY2027-P02", &b.center, &b.opex, json!(0.2))).await;
    add_line(&app, &id, line("FY2027-P01", &b.center, &b.capex, json!("1234567.891234567891"))).await;
    let mut in_euro = line("FY2027-P02", &b.center, &b.capex, json!("10"));
    in_euro["currency"] = json!("EUR");
    add_line(&app, &id, in_euro).await;

    let detail = app.get(Viewer, &format!("/api/v1/budget-versions/{id}")).await.expect(200);
    let totals = detail.body["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 2);
    assert_eq!(totals[0]["currency"], "EUR");
    assert_eq!(totals[0]["capex"], "10");
    assert_eq!(totals[1]["currency"], "USD");
    assert_eq!(totals[1]["opex"], "0.3");
    assert_eq!(totals[1]["capex"], "1234567.891234567891");
    assert_eq!(totals[1]["total"], "1234568.191234567891");
    assert_eq!(totals[1]["lines"], 3);
});

db_test!(async fn copying_a_version_starts_a_draft_reforecast_with_all_its_lines(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    put_lines(&app, &id, json!([
        line("FY2027-P01", &b.center, &b.opex, json!("100")),
        line("FY2027-P02", &b.center, &b.capex, json!("200")),
    ]))
    .await
    .expect(200);
    for step in ["submitted", "approved", "locked"] {
        transition(&app, &id, step).await.expect(200);
    }

    let copy = app.post(Finance, &format!("/api/v1/budget-versions/{id}/copy"), json!({ "name": "Q1 reforecast" })).await.expect(201);
    assert_eq!(copy.body["state"], "draft");
    assert_eq!(copy.body["kind"], "reforecast");
    assert_eq!(copy.body["fiscal_year"], 2027);
    assert_eq!(copy.body["approved_by"], Value::Null);
    let original = app.get(Viewer, &format!("/api/v1/budget-versions/{id}")).await.expect(200);
    assert_eq!(copy.body["totals"], original.body["totals"]);
    assert_eq!(app.count("budget_lines").await, 4);

    let copied_lines = app.get(Viewer, &format!("/api/v1/budget-versions/{}/lines", copy.id())).await.expect(200);
    let copied_line = &copied_lines.body["items"][0];
    app.patch(Finance, &format!("/api/v1/budget-lines/{}", copied_line["id"].as_str().unwrap()), json!({ "amount": "120" }), Some("\"1\""))
        .await
        .expect(200);
    let original_lines = app.get(Viewer, &format!("/api/v1/budget-versions/{id}/lines?fiscal_period=FY2027-P01")).await.expect(200);
    assert_eq!(original_lines.body["items"][0]["amount"], "100");

    app.post(Finance, &format!("/api/v1/budget-versions/{id}/copy"), json!({ "name": "Q1 reforecast" })).await.expect_problem(409, None);
    assert_eq!(app.count("budget_versions").await, 2);
    assert_eq!(app.count("budget_lines").await, 4);

    // A draft can be thrown away with its lines; the locked original stays.
    app.delete(Finance, &format!("/api/v1/budget-versions/{}", copy.id()), Some("\"1\"")).await.expect(204);
    assert_eq!(app.count("budget_versions").await, 1);
    assert_eq!(app.count("budget_lines").await, 2);
});

db_test!(async fn the_fiscal_start_month_is_fixed_once_budget_lines_exist(app) {
    app.patch(Finance, "/api/v1/settings", json!({ "fiscal_year_start_month": 4 }), None).await.expect(200);
    app.patch(Finance, "/api/v1/settings", json!({ "fiscal_year_start_month": 1 }), None).await.expect(200);

    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    add_line(&app, &id, line("FY2027-P01", &b.center, &b.opex, json!("1"))).await;
    let refused = app.patch(Finance, "/api/v1/settings", json!({ "fiscal_year_start_month": 7 }), None).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("budget lines"), "{}", refused.text);
    assert_eq!(app.get(Viewer, "/api/v1/settings").await.body["fiscal_year_start_month"], 1);
    // Other settings stay changeable, and restating the same month is no change.
    app.patch(Finance, "/api/v1/settings", json!({ "reporting_currency": "EUR", "fiscal_year_start_month": 1 }), None).await.expect(200);

    app.delete(Finance, &format!("/api/v1/cost-centers/{}", b.center), None).await.expect_problem(409, None);
    app.delete(Finance, &format!("/api/v1/cost-types/{}", b.opex), None).await.expect_problem(409, None);
});

db_test!(async fn budget_versions_are_unique_per_fiscal_year_and_validated(app) {
    version(&app, "Plan", 2027).await;
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": "Plan", "fiscal_year": 2027 })).await.expect_problem(409, None);
    version(&app, "Plan", 2028).await;
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": "X", "fiscal_year": 1999 })).await.expect_problem(422, Some("/fiscal_year"));
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": "X", "fiscal_year": 2027, "currency": "QQQ" }))
        .await
        .expect_problem(422, Some("/currency"));
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": "X", "fiscal_year": 2027, "kind": "wish" })).await.expect_problem(422, Some("/kind"));
    assert_eq!(app.count("budget_versions").await, 2);
    let listed = app.get(Viewer, "/api/v1/budget-versions?fiscal_year=2028").await.expect(200);
    assert_eq!(listed.body["total"], 1);
});

db_test!(async fn portfolio_managers_cannot_write_budgets(app) {
    let b = books(&app).await;
    let id = version(&app, "Plan 2027", 2027).await;
    app.post(PortfolioManager, "/api/v1/budget-versions", json!({ "name": "Mine", "fiscal_year": 2027 })).await.expect_problem(403, None);
    app.post(PortfolioManager, &format!("/api/v1/budget-versions/{id}/lines"), line("FY2027-P01", &b.center, &b.opex, json!("1")))
        .await
        .expect_problem(403, None);
    app.send(Some(PortfolioManager), Method::PUT, &format!("/api/v1/budget-versions/{id}/lines"), Some(json!([])), None)
        .await
        .expect_problem(403, None);
    app.post(PortfolioManager, &format!("/api/v1/budget-versions/{id}/copy"), json!({ "name": "Copy" })).await.expect_problem(403, None);
    assert_eq!(app.count("budget_versions").await, 1);
    assert_eq!(app.count("budget_lines").await, 0);
});
