//! Asset lifecycle cost: TCO per asset and per service, and the refresh
//! forecast, written into a draft budget version once per asset.

use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate, Utc};
use itbm::auth::Role::{Finance, Viewer};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::db_test;
use crate::ledger::{Fixture, fixtures};
use crate::support::TestApp;

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("a decimal string, got {v}"))).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn laptop(f: &Fixture, name: &str, cost: &str, life: i64) -> Value {
    json!({
        "name": name, "kind": "hardware", "purchase_cost": cost, "currency": "USD",
        "acquisition_date": "2026-01-01", "in_service_date": "2026-01-01",
        "depreciation_method": "straight_line", "useful_life_months": life,
        "cost_center_id": f.cost_center_id, "cost_type_id": f.capex_type_id, "service_id": f.service_id,
    })
}

async fn line(app: &TestApp, f: &Fixture, date: &str, amount: &str, cost_type: &str, asset: Option<&str>, service: Option<&str>) {
    let body = json!({ "entry_date": date, "amount": amount, "currency": "USD", "cost_type_id": cost_type,
        "cost_center_id": f.cost_center_id, "asset_id": asset, "service_id": service });
    app.post(Finance, "/api/v1/ledger/lines", body).await.expect(201);
}

db_test!(async fn tco_adds_acquisition_and_running_costs_and_subtracts_the_residual_value(app) {
    let f = fixtures(&app).await;
    let booked = app.post(Finance, "/api/v1/assets", laptop(&f, "Booked", "1200", 12)).await.expect(201).id();
    let older = app.post(Finance, "/api/v1/assets", laptop(&f, "Bought before the ledger", "500", 10)).await.expect(201).id();
    line(&app, &f, "2026-01-01", "1200", &f.capex_type_id, Some(&booked), None).await;
    line(&app, &f, "2026-03-10", "100", &f.opex_type_id, Some(&booked), None).await;
    line(&app, &f, "2026-02-01", "50", &f.opex_type_id, None, Some(&f.service_id)).await;
    line(&app, &f, "2026-08-01", "70", &f.opex_type_id, Some(&booked), None).await;
    // Depreciation spreads the acquisition: it never counts again.
    app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P06" })).await.expect(200);

    let tco = app.get(Viewer, &format!("/api/v1/assets/{booked}/tco?as_of=2026-06-30")).await.expect(200).body;
    assert_eq!(tco["currency"], "USD");
    assert_eq!(dec(&tco["acquisition"]), d("1200"));
    assert_eq!(dec(&tco["acquisition_from_purchase_cost"]), d("0"));
    assert_eq!(dec(&tco["running_costs"]), d("100"), "the August invoice is after as_of");
    assert_eq!(dec(&tco["residual_value"]), d("600"), "half of a year's life is left");
    assert_eq!(dec(&tco["tco"]), d("700"));
    assert_eq!(tco["months_in_service"], 6);
    assert_eq!(dec(&tco["monthly_tco"]), d("116.67"));
    assert!(tco["itsm_effort"].is_null() && tco["itom_usage_share"].is_null(), "hooks without data say null, not 0");

    let tco = app.get(Viewer, &format!("/api/v1/assets/{older}/tco?as_of=2026-06-30")).await.expect(200).body;
    assert_eq!(dec(&tco["acquisition_from_purchase_cost"]), d("500"));
    assert_eq!(dec(&tco["residual_value"]), d("200"));
    assert_eq!(dec(&tco["tco"]), d("300"));

    let service = app.get(Viewer, &format!("/api/v1/services/{}/tco?as_of=2026-06-30", f.service_id)).await.expect(200).body;
    assert_eq!(service["assets"], 2);
    assert_eq!(dec(&service["acquisition"]), d("1700"));
    assert_eq!(dec(&service["running_costs"]), d("150"));
    assert_eq!(dec(&service["residual_value"]), d("800"));
    assert_eq!(dec(&service["tco"]), d("1050"));
    assert_eq!(dec(&service["monthly_tco"]), d("175"));
    app.get(Viewer, "/api/v1/services/nope/tco").await.expect_problem(404, None);
});

fn at_end_of_life(f: &Fixture, name: &str, end_of_life: NaiveDate) -> Value {
    json!({
        "name": name, "kind": "hardware", "purchase_cost": "1000", "currency": "USD",
        "end_of_life": end_of_life, "cost_center_id": f.cost_center_id, "cost_type_id": f.capex_type_id,
    })
}

db_test!(async fn the_refresh_forecast_is_written_into_a_draft_budget_version_once_per_asset(app) {
    let f = fixtures(&app).await;
    let today = Utc::now().date_naive();
    let soon = today + Months::new(2);
    let create = |body: Value| {
        let app = &app;
        async move { app.post(Finance, "/api/v1/assets", body).await.expect(201).id() }
    };
    let due = create(at_end_of_life(&f, "Due soon", soon)).await;
    let later = create(at_end_of_life(&f, "Due later", today + Months::new(20))).await;
    let overdue = create(at_end_of_life(&f, "Overdue", today - Months::new(1))).await;
    let retired = create(at_end_of_life(&f, "Retired", soon)).await;
    app.post(Finance, &format!("/api/v1/assets/{retired}/transitions"), json!({ "to": "retired" })).await.expect(200);

    let forecast = app.get(Viewer, "/api/v1/assets/refresh-forecast?months=12&uplift_percent=10").await.expect(200).body;
    let items = forecast["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["asset_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [overdue.as_str(), due.as_str()], "in end-of-life order; retired and later ones are not due");
    assert_eq!(items[0]["overdue"], true);
    let current = format!("FY{}-P{:02}", today.year(), today.month());
    assert_eq!(items[0]["fiscal_period"], current, "an overdue replacement is planned now");
    assert_eq!(dec(&items[1]["replacement_cost"]), d("1100"));
    assert_eq!(forecast["totals"], json!([{ "currency": "USD", "amount": "2200.00" }]));
    let wider = app.get(Viewer, "/api/v1/assets/refresh-forecast?months=24").await.expect(200).body;
    assert!(wider["items"].as_array().unwrap().iter().any(|i| i["asset_id"] == later));
    app.get(Viewer, "/api/v1/assets/refresh-forecast?months=0").await.expect_problem(422, Some("months"));

    let version = app
        .post(Finance, "/api/v1/budget-versions", json!({ "name": "Refresh plan", "fiscal_year": today.year() }))
        .await
        .expect(201)
        .id();
    // What was planned in the overdue asset's cell stays; the replacement adds to it.
    let planned = app
        .post(Finance, &format!("/api/v1/budget-versions/{version}/lines"), json!({
            "fiscal_period": current, "cost_center_id": f.cost_center_id, "cost_type_id": f.capex_type_id, "amount": "1000"
        }))
        .await
        .expect(201)
        .id();
    let body = json!({ "budget_version_id": version, "months": 12, "uplift_percent": 10 });
    app.post(Viewer, "/api/v1/assets/refresh-forecast/budget", body.clone()).await.expect_problem(403, None);
    let written = app.post(Finance, "/api/v1/assets/refresh-forecast/budget", body.clone()).await.expect(200).body;
    let added: Vec<&str> = written["added"].as_array().unwrap().iter().map(|a| a["asset_id"].as_str().unwrap()).collect();
    assert!(added.contains(&overdue.as_str()), "{written}");
    let due_in_year = soon.year() == today.year();
    assert_eq!(added.contains(&due.as_str()), due_in_year, "{written}");
    assert_eq!(written["outside_fiscal_year"].as_array().unwrap().iter().any(|a| a == &json!(due)), !due_in_year);
    assert_eq!(written["lines_updated"], 1);
    let line = app.get(Viewer, &format!("/api/v1/budget-lines/{planned}")).await.expect(200).body;
    assert_eq!(dec(&line["amount"]), d("2100"));

    let again = app.post(Finance, "/api/v1/assets/refresh-forecast/budget", body.clone()).await.expect(200).body;
    assert_eq!(again["added"], json!([]), "each asset's replacement is added once");
    assert!(again["already_in_version"].as_array().unwrap().iter().any(|a| a == &json!(overdue)));
    assert_eq!(dec(&app.get(Viewer, &format!("/api/v1/budget-lines/{planned}")).await.body["amount"]), d("2100"));

    app.post(Finance, &format!("/api/v1/budget-versions/{version}/transitions"), json!({ "to": "submitted" })).await.expect(200);
    app.post(Finance, "/api/v1/assets/refresh-forecast/budget", body).await.expect_problem(409, None);
});
