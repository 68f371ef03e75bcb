//! Demand intake: a business case is drafted, submitted, reviewed and decided;
//! approval turns it into a project in one step.

use itbm::auth::Role::{Admin, Finance, PortfolioManager, Viewer};
use serde_json::{Value, json};

use crate::db_test;
use crate::portfolio::portfolio;
use crate::support::TestApp;

fn business_case(portfolio_id: Option<&str>) -> Value {
    json!({
        "title": "Customer self-service portal",
        "description": "Let customers change their own contracts",
        "portfolio_id": portfolio_id,
        "investment_category": "transform",
        "risk": 4,
        "requested_start": "2027-02-01",
        "currency": "EUR",
        "estimates": [
            { "fiscal_year": 2027, "capex": "1234567.89", "opex": "0.1", "benefit": "0" },
            { "fiscal_year": 2028, "capex": 0.2, "opex": "40000.000000000001", "benefit": "750000.50" }
        ]
    })
}

async fn create(app: &TestApp, body: Value) -> String {
    app.post(PortfolioManager, "/api/v1/demands", body).await.expect(201).id()
}

/// Moves a demand through `steps`, each of which must succeed.
async fn walk(app: &TestApp, id: &str, steps: &[&str]) -> Value {
    let mut last = Value::Null;
    for step in steps {
        last = app.post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": step })).await.expect(200).body;
    }
    last
}

async fn demand(app: &TestApp, id: &str) -> Value {
    app.get(Viewer, &format!("/api/v1/demands/{id}")).await.expect(200).body
}

db_test!(async fn an_approved_demand_becomes_an_approved_project_with_its_business_case(app) {
    let portfolio_id = portfolio(&app).await;
    let created = app.post(PortfolioManager, "/api/v1/demands", business_case(Some(&portfolio_id))).await.expect(201);
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.body["state"], "draft");
    assert_eq!(created.body["requester"], "test-portfolio_manager", "the requester defaults to the caller");
    assert_eq!(created.body["project_id"], Value::Null);
    let id = created.id();

    walk(&app, &id, &["submitted", "under_review"]).await;
    let approved = app
        .post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "approved", "note": "Strong case" }))
        .await
        .expect(200);
    assert_eq!(approved.body["state"], "approved");
    assert_eq!(approved.body["decision_note"], "Strong case");
    assert_eq!(approved.body["decided_by"], "test-portfolio_manager");
    assert!(approved.body["decided_at"].is_string());
    let project_id = approved.body["project_id"].as_str().expect("the answer names the new project").to_owned();

    let demand = demand(&app, &id).await;
    assert_eq!(demand["project_id"], project_id.as_str());
    let project = app.get(Viewer, &format!("/api/v1/projects/{project_id}")).await.expect(200).body;
    assert_eq!(project["state"], "approved");
    assert_eq!(project["demand_id"], id.as_str());
    assert_eq!(project["name"], "Customer self-service portal");
    assert_eq!(project["description"], "Let customers change their own contracts");
    assert_eq!(project["portfolio_id"], portfolio_id.as_str());
    assert_eq!(project["investment_category"], "transform");
    assert_eq!(project["risk"], 4);
    assert_eq!(project["currency"], "EUR");
    assert_eq!(project["start_date"], "2027-02-01");
    assert_eq!(project["owner"], "test-portfolio_manager", "the owner defaults to the requester");
    assert_eq!(project["estimates"], demand["estimates"]);
    assert_eq!(project["estimates"][0]["capex"], "1234567.89");
    assert_eq!(project["estimates"][1]["opex"], "40000.000000000001");

    let found = app.get(Viewer, "/api/v1/projects?q=self-service").await.expect(200);
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["items"][0]["id"], project_id.as_str());
});

db_test!(async fn a_demand_detail_totals_its_estimates_exactly(app) {
    let id = create(&app, business_case(None)).await;
    let detail = demand(&app, &id).await;
    assert_eq!(detail["totals"]["capex"], "1234568.09");
    assert_eq!(detail["totals"]["opex"], "40000.100000000001");
    assert_eq!(detail["totals"]["benefit"], "750000.50");
    assert_eq!(detail["estimates"][1]["capex"], "0.2");
});

db_test!(async fn a_new_demand_defaults_to_the_reporting_currency_and_refuses_an_unknown_one(app) {
    let created = app.post(PortfolioManager, "/api/v1/demands", json!({ "title": "Printer fleet refresh" })).await.expect(201);
    assert_eq!(created.body["currency"], "USD");
    assert_eq!(created.body["investment_category"], "grow");
    assert_eq!(created.body["risk"], 3);
    assert_eq!(created.body["totals"]["capex"], "0");

    let before = app.count("demands").await;
    app.post(PortfolioManager, "/api/v1/demands", json!({ "title": "X", "currency": "XXY" }))
        .await
        .expect_problem(422, Some("/currency"));
    app.post(PortfolioManager, "/api/v1/demands", json!({ "title": "X", "portfolio_id": "nope", "risk": 6 }))
        .await
        .expect_problem(422, Some("/portfolio_id"))
        .expect_problem(422, Some("/risk"));
    assert_eq!(app.count("demands").await, before);
});

db_test!(async fn illegal_transitions_are_refused_with_409_listing_the_legal_ones_and_change_nothing(app) {
    let portfolio_id = portfolio(&app).await;
    let id = create(&app, business_case(Some(&portfolio_id))).await;
    let path = format!("/api/v1/demands/{id}/transitions");
    let projects = app.count("projects").await;

    let refused = app.post(PortfolioManager, &path, json!({ "to": "approved" })).await.expect_problem(409, None);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("from draft to approved") && detail.contains("may move to submitted"), "{detail}");
    let unchanged = demand(&app, &id).await;
    assert_eq!(unchanged["state"], "draft");
    assert_eq!(unchanged["version"], 1);
    assert_eq!(app.count("projects").await, projects);

    walk(&app, &id, &["submitted", "under_review", "approved"]).await;
    let approved = demand(&app, &id).await;
    let refused = app.post(PortfolioManager, &path, json!({ "to": "rejected", "note": "changed my mind" })).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("none: it is final"), "{}", refused.text);
    assert_eq!(demand(&app, &id).await, approved);
    assert_eq!(app.count("projects").await, projects + 1);

    app.post(PortfolioManager, &path, json!({ "to": "accepted" })).await.expect_problem(422, Some("/to"));
});

db_test!(async fn a_submitted_demand_can_be_withdrawn_and_a_deferred_one_revisited(app) {
    let id = create(&app, business_case(None)).await;
    let back = walk(&app, &id, &["submitted", "draft"]).await;
    assert_eq!(back["state"], "draft");

    walk(&app, &id, &["submitted", "under_review"]).await;
    let deferred = app
        .post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "deferred", "note": "Next year" }))
        .await
        .expect(200);
    assert_eq!(deferred.body["decision_note"], "Next year");
    let revisited = walk(&app, &id, &["under_review"]).await;
    assert_eq!(revisited["state"], "under_review");
    assert_eq!(revisited["decision_note"], Value::Null, "a revisited demand is undecided again");
    let rejected = app
        .post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "rejected", "note": "No budget" }))
        .await
        .expect(200);
    assert_eq!(rejected.body["state"], "rejected");
    assert_eq!(rejected.body["project_id"], Value::Null);
});

db_test!(async fn approval_without_any_portfolio_is_refused_at_portfolio_id_and_creates_no_project(app) {
    let id = create(&app, business_case(None)).await;
    walk(&app, &id, &["submitted", "under_review"]).await;
    let path = format!("/api/v1/demands/{id}/transitions");
    let projects = app.count("projects").await;
    let before = demand(&app, &id).await;

    app.post(PortfolioManager, &path, json!({ "to": "approved" })).await.expect_problem(422, Some("/portfolio_id"));
    app.post(PortfolioManager, &path, json!({ "to": "approved", "portfolio_id": "no-such-portfolio" }))
        .await
        .expect_problem(422, Some("/portfolio_id"));
    assert_eq!(app.count("projects").await, projects);
    assert_eq!(demand(&app, &id).await, before, "the demand is still under review, unchanged");

    let portfolio_id = portfolio(&app).await;
    let approved = app
        .post(PortfolioManager, &path, json!({ "to": "approved", "portfolio_id": portfolio_id, "project_name": "Portal", "owner": "alice" }))
        .await
        .expect(200);
    assert_eq!(approved.body["portfolio_id"], portfolio_id.as_str(), "the demand records where it went");
    let project = app.get(Viewer, &format!("/api/v1/projects/{}", approved.body["project_id"].as_str().unwrap())).await.expect(200).body;
    assert_eq!(project["name"], "Portal");
    assert_eq!(project["owner"], "alice");
    assert_eq!(project["portfolio_id"], portfolio_id.as_str());
    assert_eq!(app.count("projects").await, projects + 1);
});

db_test!(async fn an_approval_whose_program_is_in_another_portfolio_changes_nothing(app) {
    let a = portfolio(&app).await;
    let b = portfolio(&app).await;
    let program = app.post(PortfolioManager, "/api/v1/programs", json!({ "name": "Cloud", "portfolio_id": b })).await.expect(201).id();
    let id = create(&app, business_case(Some(&a))).await;
    walk(&app, &id, &["submitted", "under_review"]).await;
    let projects = app.count("projects").await;
    let before = demand(&app, &id).await;
    app.post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "approved", "program_id": program }))
        .await
        .expect_problem(422, Some("/program_id"));
    assert_eq!(app.count("projects").await, projects);
    assert_eq!(demand(&app, &id).await, before);
});

db_test!(async fn project_fields_apply_only_to_an_approval(app) {
    let portfolio_id = portfolio(&app).await;
    let id = create(&app, business_case(None)).await;
    app.post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "submitted", "portfolio_id": portfolio_id }))
        .await
        .expect_problem(422, Some("/portfolio_id"));
    assert_eq!(demand(&app, &id).await["state"], "draft");
});

db_test!(async fn the_business_case_is_editable_only_while_draft_or_submitted(app) {
    let portfolio_id = portfolio(&app).await;
    let id = create(&app, business_case(Some(&portfolio_id))).await;
    let path = format!("/api/v1/demands/{id}");

    let edited = app.patch(PortfolioManager, &path, json!({ "risk": 2, "estimates": [{ "fiscal_year": 2027, "capex": "10", "opex": "1", "benefit": "5" }] }), Some("\"1\"")).await.expect(200);
    assert_eq!(edited.etag(), "\"2\"");
    assert_eq!(edited.body["totals"]["capex"], "10");
    walk(&app, &id, &["submitted"]).await;
    app.patch(PortfolioManager, &path, json!({ "description": null }), None).await.expect(200);

    walk(&app, &id, &["under_review"]).await;
    app.patch(PortfolioManager, &path, json!({ "risk": 5 }), None).await.expect_problem(409, None);
    walk(&app, &id, &["approved"]).await;
    let approved = demand(&app, &id).await;
    let refused = app.patch(PortfolioManager, &path, json!({ "title": "Renamed", "risk": 5 }), None).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("approved"), "{}", refused.text);
    assert_eq!(demand(&app, &id).await, approved);
});

db_test!(async fn only_draft_demands_can_be_deleted(app) {
    let id = create(&app, business_case(None)).await;
    walk(&app, &id, &["submitted"]).await;
    let path = format!("/api/v1/demands/{id}");
    app.delete(PortfolioManager, &path, None).await.expect_problem(409, None);
    assert_eq!(app.count("demands").await, 1);

    walk(&app, &id, &["draft"]).await;
    app.delete(Viewer, &path, None).await.expect_problem(403, None);
    app.delete(PortfolioManager, &path, Some("\"1\"")).await.expect_problem(412, None);
    app.delete(PortfolioManager, &path, None).await.expect(204);
    assert_eq!(app.count("demands").await, 0);
    assert_eq!(app.count("demand_estimates").await, 0);
    app.get(Viewer, &path).await.expect_problem(404, None);
});

db_test!(async fn estimates_are_validated_with_pointers_to_the_offending_year(app) {
    let body = json!({
        "title": "Data lake",
        "estimates": [
            { "fiscal_year": 2027, "capex": "1", "opex": "1", "benefit": "1" },
            { "fiscal_year": 2027, "capex": "-5", "opex": "1", "benefit": "1" }
        ]
    });
    app.post(PortfolioManager, "/api/v1/demands", body)
        .await
        .expect_problem(422, Some("/estimates/1/fiscal_year"))
        .expect_problem(422, Some("/estimates/1/capex"));
    assert_eq!(app.count("demands").await, 0);
    assert_eq!(app.count("demand_estimates").await, 0);

    let id = create(&app, business_case(None)).await;
    let before = demand(&app, &id).await;
    app.patch(PortfolioManager, &format!("/api/v1/demands/{id}"), json!({ "estimates": [{ "fiscal_year": 1999, "capex": "1", "opex": "-0.01", "benefit": "0" }] }), None)
        .await
        .expect_problem(422, Some("/estimates/0/opex"))
        .expect_problem(422, Some("/estimates/0/fiscal_year"));
    assert_eq!(demand(&app, &id).await, before);
});

db_test!(async fn viewers_and_finance_cannot_create_or_move_demands(app) {
    let id = create(&app, business_case(None)).await;
    for role in [Viewer, Finance] {
        app.post(role, "/api/v1/demands", business_case(None)).await.expect_problem(403, None);
        app.post(role, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "submitted" })).await.expect_problem(403, None);
    }
    assert_eq!(app.count("demands").await, 1);
    assert_eq!(demand(&app, &id).await["state"], "draft");
    app.post(Admin, "/api/v1/demands", business_case(None)).await.expect(201);
});

db_test!(async fn lists_filter_search_and_sort_demands(app) {
    let portfolio_id = portfolio(&app).await;
    for (title, category, risk) in [("charlie", "run", 1), ("Alpha", "grow", 5), ("bravo", "transform", 3)] {
        create(&app, json!({ "title": title, "investment_category": category, "risk": risk, "portfolio_id": portfolio_id })).await;
    }
    let other = create(&app, json!({ "title": "Delta", "requester": "bob" })).await;
    walk(&app, &other, &["submitted"]).await;

    let titles = |page: &Value| -> Vec<String> { page["items"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap().to_owned()).collect() };
    let sorted = app.get(Viewer, "/api/v1/demands?sort=title").await.expect(200).body;
    assert_eq!(titles(&sorted), ["Alpha", "bravo", "charlie", "Delta"]);
    let by_risk = app.get(Viewer, &format!("/api/v1/demands?sort=-risk&portfolio_id={portfolio_id}")).await.expect(200).body;
    assert_eq!(titles(&by_risk), ["Alpha", "bravo", "charlie"]);
    assert_eq!(titles(&app.get(Viewer, "/api/v1/demands?state=submitted").await.expect(200).body), ["Delta"]);
    assert_eq!(titles(&app.get(Viewer, "/api/v1/demands?requester=bob").await.expect(200).body), ["Delta"]);
    assert_eq!(titles(&app.get(Viewer, "/api/v1/demands?investment_category=transform").await.expect(200).body), ["bravo"]);
    assert_eq!(titles(&app.get(Viewer, "/api/v1/demands?q=ALPH").await.expect(200).body), ["Alpha"]);
    let page = app.get(Viewer, "/api/v1/demands?sort=title&per_page=2&page=2").await.expect(200).body;
    assert_eq!(page["total"], 4);
    assert_eq!(titles(&page), ["charlie", "Delta"]);
    app.get(Viewer, "/api/v1/demands?sort=budget").await.expect_problem(422, Some("sort"));
    app.get(Viewer, "/api/v1/demands?state=approved'--").await.expect_problem(400, Some("state"));
});

db_test!(async fn the_audit_log_records_every_step_of_the_review(app) {
    let portfolio_id = portfolio(&app).await;
    let id = create(&app, business_case(Some(&portfolio_id))).await;
    walk(&app, &id, &["submitted", "under_review"]).await;
    let approved = app
        .post(PortfolioManager, &format!("/api/v1/demands/{id}/transitions"), json!({ "to": "approved", "note": "Go" }))
        .await
        .expect(200);
    let project_id = approved.body["project_id"].as_str().unwrap();

    let log = app.get(Finance, &format!("/api/v1/audit-log?entity=demand&entity_id={id}&sort=id")).await.expect(200);
    let entries = log.body["items"].as_array().unwrap();
    let steps: Vec<(&str, &str, &str)> = entries
        .iter()
        .skip(1)
        .map(|e| (e["action"].as_str().unwrap(), e["before"]["state"].as_str().unwrap(), e["after"]["state"].as_str().unwrap()))
        .collect();
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(steps, [("transition", "draft", "submitted"), ("transition", "submitted", "under_review"), ("transition", "under_review", "approved")]);
    assert_eq!(entries[3]["after"]["note"], "Go");
    assert_eq!(entries[3]["after"]["project_id"], project_id);
    assert_eq!(entries[3]["actor"], "test-portfolio_manager");

    let project_log = app.get(Finance, &format!("/api/v1/audit-log?entity=project&entity_id={project_id}")).await.expect(200);
    assert_eq!(project_log.body["items"][0]["action"], "create");
});
