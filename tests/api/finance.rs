//! Finance master data: settings and the fiscal calendar, currencies and
//! exchange rates, cost centers and cost types, the TBM taxonomy, vendors and
//! services.

use itbm::auth::Role::{Admin, Finance, PortfolioManager, Viewer};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;


/// Creates a cost center through the API and returns its id.
pub async fn cost_center(app: &TestApp, code: &str, parent_id: Option<&str>) -> String {
    app.post(Finance, "/api/v1/cost-centers", json!({ "code": code, "name": format!("Cost center {code}"), "parent_id": parent_id }))
        .await
        .expect(201)
        .id()
}

/// Creates a cost type (`capex` or `opex`) through the API and returns its id.
pub async fn cost_type(app: &TestApp, code: &str, classification: &str) -> String {
    app.post(Finance, "/api/v1/cost-types", json!({ "code": code, "name": format!("Cost type {code}"), "classification": classification }))
        .await
        .expect(201)
        .id()
}

fn rate(base: &str, quote: &str, month: &str, rate: Value) -> Value {
    json!({ "base_currency": base, "quote_currency": quote, "month": month, "rate_type": "average", "rate": rate })
}

db_test!(async fn settings_are_readable_by_everyone_and_changed_by_finance_within_limits(app) {
    let settings = app.get(Viewer, "/api/v1/settings").await.expect(200);
    assert_eq!(settings.body["reporting_currency"], "USD");
    assert_eq!(settings.body["fiscal_year_start_month"], 1);
    let etag = settings.etag();

    app.patch(Finance, "/api/v1/settings", json!({ "reporting_currency": "QQQ" }), None).await.expect_problem(422, Some("/reporting_currency"));
    app.patch(Finance, "/api/v1/settings", json!({ "fiscal_year_start_month": 13 }), None)
        .await
        .expect_problem(422, Some("/fiscal_year_start_month"));
    app.patch(PortfolioManager, "/api/v1/settings", json!({ "reporting_currency": "EUR" }), None).await.expect_problem(403, None);
    let unchanged = app.get(Viewer, "/api/v1/settings").await.expect(200);
    assert_eq!(unchanged.etag(), etag);
    assert_eq!(unchanged.body["reporting_currency"], "USD");

    let changed = app
        .patch(Admin, "/api/v1/settings", json!({ "reporting_currency": "EUR", "fiscal_year_start_month": 7 }), Some(&etag))
        .await
        .expect(200);
    assert_eq!(changed.body["reporting_currency"], "EUR");
    app.patch(Finance, "/api/v1/settings", json!({ "reporting_currency": "GBP" }), Some(&etag)).await.expect_problem(412, None);

    let periods = app.get(Viewer, "/api/v1/fiscal-years/2027/periods").await.expect(200);
    assert_eq!(periods.body[0]["id"], "FY2027-P01");
    assert_eq!(periods.body[0]["start_date"], "2026-07-01");
    assert_eq!(periods.body[11]["end_date"], "2027-06-30");
});

db_test!(async fn the_fiscal_calendar_lists_twelve_periods_per_year(app) {
    let periods = app.get(Viewer, "/api/v1/fiscal-years/2027/periods").await.expect(200);
    let periods = periods.body.as_array().unwrap().clone();
    assert_eq!(periods.len(), 12);
    assert_eq!(periods[2]["id"], "FY2027-P03");
    assert_eq!(periods[2]["start_date"], "2027-03-01");
    assert_eq!(periods[2]["end_date"], "2027-03-31");
    app.get(Viewer, "/api/v1/fiscal-years/1999/periods").await.expect_problem(422, Some("year"));
    app.get(Viewer, "/api/v1/fiscal-years/next/periods").await.expect_problem(422, Some("year"));
    let current = app.get(Viewer, "/api/v1/fiscal-periods/current").await.expect(200);
    assert_eq!(current.body["number"].as_u64().map(|n| (1..=12).contains(&n)), Some(true));
});

db_test!(async fn currencies_are_the_read_only_iso_4217_list(app) {
    let all = app.get(Viewer, "/api/v1/currencies?per_page=500").await.expect(200);
    assert!(all.body["total"].as_i64().unwrap() > 150);
    let euro = app.get(Viewer, "/api/v1/currencies?q=euro").await.expect(200);
    assert_eq!(euro.body["items"][0]["code"], "EUR");
    assert_eq!(app.get(Viewer, "/api/v1/currencies/JPY").await.expect(200).body["minor_units"], 0);
    app.get(Viewer, "/api/v1/currencies/QQQ").await.expect_problem(404, None);
    let before = app.count("currencies").await;
    app.post(Admin, "/api/v1/currencies", json!({ "code": "QQQ", "name": "Nope", "minor_units": 2 })).await.expect_problem(405, None);
    assert_eq!(app.count("currencies").await, before);
});

db_test!(async fn zero_negative_absurd_or_overprecise_exchange_rates_are_refused_at_rate(app) {
    for bad in [json!("0"), json!(0), json!("-1.2"), json!("1000000000"), json!("1e12"), json!("0.0000000000001"), json!("abc")] {
        app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", bad.clone()))
            .await
            .expect_problem(422, Some("/rate"));
    }
    assert_eq!(app.count("exchange_rates").await, 0);

    let created = app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.0875"))).await.expect(201);
    assert_eq!(created.body["rate"], "1.0875");
    assert_eq!(created.body["month"], "2027-01");
    let path = format!("/api/v1/exchange-rates/{}", created.id());
    app.patch(Finance, &path, json!({ "rate": "-1" }), None).await.expect_problem(422, Some("/rate"));
    assert_eq!(app.get(Viewer, &path).await.body["rate"], "1.0875");
    let exact = app.patch(Finance, &path, json!({ "rate": 1.000000000001 }), Some("\"1\"")).await.expect(200);
    assert_eq!(exact.body["rate"], "1.000000000001");
});

db_test!(async fn exchange_rates_name_unknown_or_identical_currencies(app) {
    app.post(Finance, "/api/v1/exchange-rates", rate("QQQ", "USD", "2027-01", json!("2"))).await.expect_problem(422, Some("/base_currency"));
    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "usd", "2027-01", json!("2"))).await.expect_problem(422, Some("/quote_currency"));
    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "EUR", "2027-01", json!("1"))).await.expect_problem(422, Some("/quote_currency"));
    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-13", json!("1"))).await.expect_problem(422, Some("/month"));
    let mut wrong_type = rate("EUR", "USD", "2027-01", json!("1"));
    wrong_type["rate_type"] = json!("spot");
    app.post(Finance, "/api/v1/exchange-rates", wrong_type).await.expect_problem(422, Some("/rate_type"));
    assert_eq!(app.count("exchange_rates").await, 0);
});

db_test!(async fn a_second_rate_for_the_same_pair_month_and_type_is_a_409(app) {
    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.08"))).await.expect(201);
    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.09"))).await.expect_problem(409, None);
    assert_eq!(app.count("exchange_rates").await, 1);
    let mut closing = rate("EUR", "USD", "2027-01", json!("1.09"));
    closing["rate_type"] = json!("closing");
    app.post(Finance, "/api/v1/exchange-rates", closing).await.expect(201);
    app.post(Finance, "/api/v1/exchange-rates", rate("GBP", "USD", "2027-02", json!("1.27"))).await.expect(201);

    let eur = app.get(Viewer, "/api/v1/exchange-rates?base=EUR&month=2027-01").await.expect(200);
    assert_eq!(eur.body["total"], 2);
    let february = app.get(Viewer, "/api/v1/exchange-rates?month=2027-02&quote=USD").await.expect(200);
    assert_eq!(february.body["items"][0]["base_currency"], "GBP");
    app.get(Viewer, "/api/v1/exchange-rates?sort=rate").await.expect_problem(422, Some("sort"));
});

db_test!(async fn a_cost_center_cannot_become_its_own_ancestor(app) {
    let group = cost_center(&app, "GRP", None).await;
    let it = cost_center(&app, "IT", Some(&group)).await;
    let infra = cost_center(&app, "INFRA", Some(&it)).await;

    let path = format!("/api/v1/cost-centers/{group}");
    app.patch(Finance, &path, json!({ "parent_id": infra }), None).await.expect_problem(422, Some("/parent_id"));
    app.patch(Finance, &path, json!({ "parent_id": group }), None).await.expect_problem(422, Some("/parent_id"));
    app.patch(Finance, &path, json!({ "parent_id": "no-such-id" }), None).await.expect_problem(422, Some("/parent_id"));
    let unchanged = app.get(Viewer, &path).await.expect(200);
    assert_eq!(unchanged.body["parent_id"], Value::Null);
    assert_eq!(unchanged.etag(), "\"1\"");

    let children = app.get(Viewer, &format!("/api/v1/cost-centers?parent_id={group}")).await.expect(200);
    assert_eq!(children.body["total"], 1);
    assert_eq!(children.body["items"][0]["code"], "IT");
    let roots = app.get(Viewer, "/api/v1/cost-centers?root=true").await.expect(200);
    assert_eq!(roots.body["total"], 1);

    // Moving a subtree elsewhere is fine, and so is clearing the parent.
    app.patch(Finance, &format!("/api/v1/cost-centers/{infra}"), json!({ "parent_id": group }), None).await.expect(200);
    app.patch(Finance, &format!("/api/v1/cost-centers/{it}"), json!({ "parent_id": null }), None).await.expect(200);
    app.patch(Finance, &path, json!({ "parent_id": it }), None).await.expect(200);
});

db_test!(async fn a_cost_center_in_use_cannot_be_deleted(app) {
    let parent = cost_center(&app, "OPS", None).await;
    let child = cost_center(&app, "OPS-NET", Some(&parent)).await;
    app.delete(Finance, &format!("/api/v1/cost-centers/{parent}"), None).await.expect_problem(409, None);
    assert_eq!(app.count("cost_centers").await, 2);
    app.delete(Finance, &format!("/api/v1/cost-centers/{child}"), Some("\"1\"")).await.expect(204);
    app.delete(Finance, &format!("/api/v1/cost-centers/{parent}"), None).await.expect(204);
    app.get(Viewer, &format!("/api/v1/cost-centers/{parent}")).await.expect_problem(404, None);
});

db_test!(async fn duplicate_codes_and_names_are_refused_with_409(app) {
    cost_center(&app, "FIN", None).await;
    app.post(Finance, "/api/v1/cost-centers", json!({ "code": "FIN", "name": "Again" })).await.expect_problem(409, None);
    assert_eq!(app.count("cost_centers").await, 1);

    cost_type(&app, "LIC", "opex").await;
    app.post(Finance, "/api/v1/cost-types", json!({ "code": "LIC", "name": "Again", "classification": "capex" })).await.expect_problem(409, None);
    assert_eq!(app.count("cost_types").await, 1);

    app.post(Finance, "/api/v1/vendors", json!({ "name": "Acme" })).await.expect(201);
    app.post(Finance, "/api/v1/vendors", json!({ "name": "Acme" })).await.expect_problem(409, None);
    assert_eq!(app.count("vendors").await, 1);

    app.post(Finance, "/api/v1/services", json!({ "code": "CRM", "name": "CRM", "kind": "application" })).await.expect(201);
    app.post(Finance, "/api/v1/services", json!({ "code": "CRM", "name": "Other", "kind": "business_service" })).await.expect_problem(409, None);
    assert_eq!(app.count("services").await, 1);
});

db_test!(async fn cost_types_are_capex_or_opex(app) {
    app.post(Finance, "/api/v1/cost-types", json!({ "code": "X", "name": "X", "classification": "both" })).await.expect_problem(422, Some("/classification"));
    app.post(Finance, "/api/v1/cost-types", json!({ "code": " ", "name": "X", "classification": "opex" })).await.expect_problem(422, Some("/code"));
    assert_eq!(app.count("cost_types").await, 0);
    let hw = cost_type(&app, "HW", "capex").await;
    cost_type(&app, "SAAS", "opex").await;
    let capex = app.get(Viewer, "/api/v1/cost-types?classification=capex").await.expect(200);
    assert_eq!(capex.body["total"], 1);
    assert_eq!(capex.body["items"][0]["id"], hw.as_str());
});

db_test!(async fn the_tbm_taxonomy_is_listed_per_version(app) {
    let towers = app.get(Viewer, "/api/v1/tbm/towers?taxonomy_version=v5&per_page=100").await.expect(200);
    assert_eq!(towers.body["total"], 11);
    assert!(towers.body["items"].as_array().unwrap().iter().all(|t| t["taxonomy_version"] == "v5"));
    let pools = app.get(Viewer, "/api/v1/tbm/cost-pools?taxonomy_version=v4").await.expect(200);
    assert_eq!(pools.body["total"], 9);
    app.get(Viewer, "/api/v1/tbm/towers?taxonomy_version=v6").await.expect_problem(400, Some("taxonomy_version"));
});

db_test!(async fn services_may_sit_in_a_tbm_tower_that_exists(app) {
    app.post(Finance, "/api/v1/services", json!({ "code": "MAIL", "name": "Mail", "kind": "technical_service", "tower_id": "tower-v9-nowhere" }))
        .await
        .expect_problem(422, Some("/tower_id"));
    assert_eq!(app.count("services").await, 0);
    let mail = app
        .post(Finance, "/api/v1/services", json!({ "code": "MAIL", "name": "Mail", "kind": "technical_service", "tower_id": "tower-v5-end-user" }))
        .await
        .expect(201);
    let found = app.get(Viewer, "/api/v1/services?tower_id=tower-v5-end-user&kind=technical_service").await.expect(200);
    assert_eq!(found.body["items"][0]["id"], mail.id().as_str());
});

db_test!(async fn portfolio_managers_and_viewers_cannot_write_finance_data(app) {
    for role in [PortfolioManager, Viewer] {
        app.post(role, "/api/v1/cost-centers", json!({ "code": "X", "name": "X" })).await.expect_problem(403, None);
        app.post(role, "/api/v1/cost-types", json!({ "code": "X", "name": "X", "classification": "opex" })).await.expect_problem(403, None);
        app.post(role, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.1"))).await.expect_problem(403, None);
        app.post(role, "/api/v1/vendors", json!({ "name": "X" })).await.expect_problem(403, None);
        app.post(role, "/api/v1/services", json!({ "code": "X", "name": "X", "kind": "application" })).await.expect_problem(403, None);
        app.patch(role, "/api/v1/settings", json!({ "fiscal_year_start_month": 4 }), None).await.expect_problem(403, None);
    }
    for table in ["cost_centers", "cost_types", "exchange_rates", "vendors", "services"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    assert_eq!(app.get(Viewer, "/api/v1/settings").await.body["fiscal_year_start_month"], 1);
});

db_test!(async fn finance_changes_are_audited_with_before_and_after(app) {
    let id = app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.08"))).await.expect(201).id();
    app.patch(Finance, &format!("/api/v1/exchange-rates/{id}"), json!({ "rate": "1.09" }), None).await.expect(200);
    let log = app.get(Finance, &format!("/api/v1/audit-log?entity=exchange_rate&entity_id={id}")).await.expect(200);
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["before"]["rate"], "1.08");
    assert_eq!(entries[0]["after"]["rate"], "1.09");
    assert_eq!(entries[0]["actor"], "test-finance");
});

db_test!(async fn conversion_rates_come_from_the_pair_its_inverse_or_identity(app) {
    use itbm::finance::rates::{RateType, rate_for};
    use rust_decimal::Decimal;

    app.post(Finance, "/api/v1/exchange-rates", rate("EUR", "USD", "2027-01", json!("1.25"))).await.expect(201);
    app.post(Finance, "/api/v1/exchange-rates", rate("GBP", "JPY", "2027-01", json!("3"))).await.expect(201);
    let mut db = app.db.clone();
    let january = "2027-01".parse().unwrap();
    let dec = |s: &str| Some(s.parse::<Decimal>().unwrap());

    assert_eq!(rate_for(&mut db, "EUR", "USD", january, RateType::Average).await.unwrap(), dec("1.25"));
    assert_eq!(rate_for(&mut db, "USD", "EUR", january, RateType::Average).await.unwrap(), dec("0.8"));
    assert_eq!(rate_for(&mut db, "JPY", "GBP", january, RateType::Average).await.unwrap(), dec("0.333333333333"));
    assert_eq!(rate_for(&mut db, "CHF", "CHF", january, RateType::Budget).await.unwrap(), dec("1"));
    assert_eq!(rate_for(&mut db, "EUR", "USD", january, RateType::Closing).await.unwrap(), None);
    assert_eq!(rate_for(&mut db, "EUR", "USD", "2027-02".parse().unwrap(), RateType::Average).await.unwrap(), None);
});
