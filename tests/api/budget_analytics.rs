//! Budget analytics: budget versus forecast versus actual with variance, burn
//! rate, run-rate forecast and EAC, foreign currencies converted at each
//! period's rate (and the rates shown), and project and demand financials.

use std::str::FromStr;

use itbm::auth::Role::{Finance, PortfolioManager, Viewer};
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

async fn rate(app: &TestApp, base: &str, quote: &str, month: &str, rate: &str) {
    app.post(Finance, "/api/v1/exchange-rates", json!({ "base_currency": base, "quote_currency": quote, "month": month, "rate_type": "average", "rate": rate }))
        .await
        .expect(201);
}

async fn version(app: &TestApp, name: &str, kind: &str) -> String {
    app.post(Finance, "/api/v1/budget-versions", json!({ "name": name, "fiscal_year": 2026, "kind": kind })).await.expect(201).id()
}

#[allow(clippy::too_many_arguments)]
async fn budget_line(app: &TestApp, version: &str, period: &str, center: &str, cost_type: &str, amount: &str, currency: &str, project: Option<&str>) {
    let body = json!({ "fiscal_period": period, "cost_center_id": center, "cost_type_id": cost_type, "amount": amount, "currency": currency, "project_id": project });
    app.post(Finance, &format!("/api/v1/budget-versions/{version}/lines"), body).await.expect(201);
}

async fn actual(app: &TestApp, f: &Fixture, date: &str, amount: &str, currency: &str, cost_type: &str, project: Option<&str>) {
    let body = json!({ "entry_date": date, "amount": amount, "currency": currency, "cost_type_id": cost_type, "cost_center_id": f.cost_center_id, "project_id": project });
    app.post(Finance, "/api/v1/ledger/lines", body).await.expect(201);
}

/// A FY2026 plan and reforecast and three months of actuals, some in EUR.
async fn books(app: &TestApp, f: &Fixture) -> (String, String) {
    // 1 USD = 0.8 EUR in January and February (EUR → USD 1.25, the inverse);
    // 1 EUR = 1.10 USD in March.
    rate(app, "USD", "EUR", "2026-01", "0.8").await;
    rate(app, "USD", "EUR", "2026-02", "0.8").await;
    rate(app, "EUR", "USD", "2026-03", "1.10").await;
    let plan = version(app, "Plan", "plan").await;
    for period in ["FY2026-P01", "FY2026-P02", "FY2026-P03", "FY2026-P04"] {
        budget_line(app, &plan, period, &f.cost_center_id, &f.opex_type_id, "1000", "USD", None).await;
    }
    budget_line(app, &plan, "FY2026-P02", &f.cost_center_id, &f.capex_type_id, "500", "EUR", None).await;
    let reforecast = version(app, "Reforecast", "reforecast").await;
    budget_line(app, &reforecast, "FY2026-P04", &f.cost_center_id, &f.opex_type_id, "1200", "USD", None).await;
    actual(app, f, "2026-01-15", "900", "USD", &f.opex_type_id, None).await;
    actual(app, f, "2026-02-10", "400", "EUR", &f.opex_type_id, None).await;
    actual(app, f, "2026-03-03", "1100", "USD", &f.opex_type_id, None).await;
    actual(app, f, "2026-03-20", "100", "EUR", &f.capex_type_id, None).await;
    (plan, reforecast)
}

db_test!(async fn variance_converts_other_currencies_at_each_periods_rate_and_lists_the_rates(app) {
    let f = fixtures(&app).await;
    let (plan, reforecast) = books(&app, &f).await;
    let report = app
        .get(Viewer, &format!("/api/v1/budget-analytics/variance?fiscal_year=2026&budget_version_id={plan}&through_period=FY2026-P03"))
        .await
        .expect(200)
        .body;
    assert_eq!(report["currency"], "USD");
    assert_eq!(report["forecast_version"]["id"], reforecast, "the year's reforecast by default");
    assert_eq!(report["elapsed_periods"], 3);
    let rows = report["rows"].as_array().unwrap();
    let row = |period: &str| rows.iter().find(|r| r["fiscal_period"] == period).unwrap_or_else(|| panic!("{period}: {report}"));
    assert_eq!(dec(&row("FY2026-P01")["actual"]), d("900"));
    assert_eq!(dec(&row("FY2026-P01")["variance_percent"]), d("-10"));
    // February: 1000 USD + 500 EUR × 1.25 budgeted; 400 EUR × 1.25 spent.
    assert_eq!(dec(&row("FY2026-P02")["budget"]), d("1625"));
    assert_eq!(dec(&row("FY2026-P02")["actual"]), d("500"));
    assert_eq!(dec(&row("FY2026-P02")["variance"]), d("-1125"));
    assert_eq!(dec(&row("FY2026-P02")["variance_percent"]), d("-69.23"));
    // March: 1100 USD + 100 EUR × 1.10.
    assert_eq!(dec(&row("FY2026-P03")["actual"]), d("1210"));
    assert_eq!(dec(&row("FY2026-P03")["variance_percent"]), d("21"));
    assert_eq!(dec(&row("FY2026-P04")["budget_to_date"]), d("0"));
    assert_eq!(dec(&row("FY2026-P04")["forecast"]), d("1200"));

    let t = &report["totals"];
    assert_eq!(dec(&t["budget"]), d("4625"));
    assert_eq!(dec(&t["budget_to_date"]), d("3625"));
    assert_eq!(dec(&t["actual"]), d("2610"));
    assert_eq!(dec(&t["variance"]), d("-1015"));
    assert_eq!(dec(&t["burn_rate"]), d("870"));
    assert_eq!(dec(&t["run_rate_forecast"]), d("10440"), "2610 + 870 × 9");
    assert_eq!(dec(&t["eac"]), d("3810"), "actuals plus the reforecast of April");
    assert_eq!(dec(&t["variance_at_completion"]), d("-815"));
    assert_eq!(report["eac_basis"], "forecast");

    let rates = report["rates_used"].as_array().unwrap();
    assert_eq!(rates.len(), 2, "{}", report["rates_used"]);
    assert_eq!(rates[0]["from_currency"], "EUR");
    assert_eq!(rates[0]["month"], "2026-02");
    assert_eq!(dec(&rates[0]["rate"]), d("1.25"), "derived from the USD → EUR rate");
    assert_eq!(rates[1]["month"], "2026-03");
    assert_eq!(dec(&rates[1]["rate"]), d("1.10"));

    let by_type = app
        .get(Viewer, &format!("/api/v1/budget-analytics/variance?fiscal_year=2026&budget_version_id={plan}&through_period=FY2026-P03&group_by=cost_type,cost_center"))
        .await
        .expect(200)
        .body;
    let rows = by_type["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let capex = rows.iter().find(|r| r["cost_type_id"] == f.capex_type_id).unwrap();
    assert_eq!(dec(&capex["actual"]), d("110"));
    assert_eq!(capex["cost_center_id"], f.cost_center_id);
    assert!(capex["fiscal_period"].is_null());
    assert_eq!(dec(&by_type["totals"]["actual"]), d("2610"), "the same total however it is grouped");
});

db_test!(async fn depreciation_counts_as_actual_only_when_asked(app) {
    let f = fixtures(&app).await;
    let (plan, _) = books(&app, &f).await;
    app.post(Finance, "/api/v1/assets", json!({
        "name": "Server", "kind": "hardware", "purchase_cost": "1200", "currency": "USD", "in_service_date": "2026-01-01",
        "depreciation_method": "straight_line", "useful_life_months": 12,
        "cost_center_id": f.cost_center_id, "cost_type_id": f.capex_type_id,
    }))
    .await
    .expect(201);
    app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P03" })).await.expect(200);
    let path = format!("/api/v1/budget-analytics/variance?fiscal_year=2026&budget_version_id={plan}&through_period=FY2026-P03");
    let report = app.get(Viewer, &path).await.expect(200).body;
    assert_eq!(dec(&report["totals"]["actual"]), d("2610"), "depreciation restates purchases: not counted by default");
    let with = app.get(Viewer, &format!("{path}&include_depreciation=true")).await.expect(200).body;
    assert_eq!(dec(&with["totals"]["actual"]), d("2910"));
});

db_test!(async fn a_missing_rate_is_a_422_naming_the_currency_and_period_never_a_silent_one(app) {
    let f = fixtures(&app).await;
    let (plan, _) = books(&app, &f).await;
    actual(&app, &f, "2026-01-20", "50", "GBP", &f.opex_type_id, None).await;
    let reply = app
        .get(Viewer, &format!("/api/v1/budget-analytics/variance?fiscal_year=2026&budget_version_id={plan}&through_period=FY2026-P03"))
        .await
        .expect_problem(422, Some("rate_type"));
    assert!(reply.text.contains("GBP") && reply.text.contains("2026-01") && reply.text.contains("FY2026-P01"), "{}", reply.text);

    app.get(Viewer, "/api/v1/budget-analytics/variance?fiscal_year=2026&group_by=vendor").await.expect_problem(422, Some("group_by"));
    app.get(Viewer, &format!("/api/v1/budget-analytics/variance?fiscal_year=2027&budget_version_id={plan}"))
        .await
        .expect_problem(422, Some("budget_version_id"));
    app.get(Viewer, "/api/v1/budget-analytics/variance?fiscal_year=2030").await.expect_problem(422, Some("budget_version_id"));
});

db_test!(async fn project_and_demand_financials_are_time_phased_from_plan_budget_and_ledger(app) {
    let f = fixtures(&app).await;
    rate(&app, "USD", "EUR", "2026-02", "0.8").await;
    let portfolio = crate::portfolio::portfolio(&app).await;
    let project = app
        .post(PortfolioManager, "/api/v1/projects", json!({
            "name": "Warehouse scanners", "portfolio_id": portfolio,
            "estimates": [
                { "fiscal_year": 2026, "capex": "1000", "opex": "200", "benefit": "300" },
                { "fiscal_year": 2027, "capex": "0", "opex": "200", "benefit": "900" }
            ]
        }))
        .await
        .expect(201)
        .id();
    let plan = version(&app, "Plan", "plan").await;
    budget_line(&app, &plan, "FY2026-P01", &f.cost_center_id, &f.capex_type_id, "300", "USD", Some(&project)).await;
    actual(&app, &f, "2026-02-05", "250", "EUR", &f.capex_type_id, Some(&project)).await;
    actual(&app, &f, "2026-02-06", "40", "USD", &f.opex_type_id, Some(&project)).await;
    actual(&app, &f, "2026-02-07", "999", "USD", &f.opex_type_id, None).await;

    let fin = app.get(Viewer, &format!("/api/v1/projects/{project}/financials")).await.expect(200).body;
    assert_eq!(fin["currency"], "USD");
    let y = &fin["years"][0];
    assert_eq!(y["fiscal_year"], 2026);
    assert_eq!(dec(&y["plan"]["total"]), d("1200"));
    assert_eq!(dec(&y["plan"]["benefit"]), d("300"));
    assert_eq!(dec(&y["budget"]["capex"]), d("300"));
    assert_eq!(y["budget_version"]["id"], plan);
    assert_eq!(dec(&y["actual"]["capex"]), d("312.50"));
    assert_eq!(dec(&y["actual"]["opex"]), d("40"));
    assert_eq!(dec(&y["actual"]["total"]), d("352.50"));
    assert_eq!(fin["years"][1]["fiscal_year"], 2027);
    let periods = fin["periods"].as_array().unwrap();
    assert_eq!(periods[0]["fiscal_period"], "FY2026-P01");
    assert_eq!(dec(&periods[0]["budget"]["total"]), d("300"));
    assert_eq!(periods[1]["fiscal_period"], "FY2026-P02");
    assert_eq!(dec(&periods[1]["actual"]["total"]), d("352.50"));
    assert_eq!(dec(&fin["totals"]["plan"]["benefit"]), d("1200"));
    assert_eq!(fin["rates_used"][0]["month"], "2026-02");

    // What ROI models read: costs and benefits per year, both positive.
    use itbm::finance::analytics::project_financials::{CashFlowBasis, YearCashFlow, yearly_cash_flows};
    let plan = yearly_cash_flows(&app.db, &project, CashFlowBasis::Plan).await.unwrap();
    assert_eq!(plan, [
        YearCashFlow { fiscal_year: 2026, costs: d("1200"), benefits: d("300") },
        YearCashFlow { fiscal_year: 2027, costs: d("200"), benefits: d("900") },
    ]);
    let actual = yearly_cash_flows(&app.db, &project, CashFlowBasis::Actual).await.unwrap();
    assert_eq!(actual[0].costs, d("352.50"));
    assert_eq!(actual[0].benefits, d("300"), "benefits always come from the plan");

    let demand = app
        .post(PortfolioManager, "/api/v1/demands", json!({
            "title": "Scanner refresh", "investment_category": "run", "risk": 2,
            "estimates": [{ "fiscal_year": 2027, "capex": "5000", "opex": "0", "benefit": "7000" }]
        }))
        .await
        .expect(201)
        .id();
    let fin = app.get(Viewer, &format!("/api/v1/demands/{demand}/financials")).await.expect(200).body;
    assert!(fin["project_id"].is_null());
    assert_eq!(dec(&fin["years"][0]["plan"]["capex"]), d("5000"));
    assert_eq!(dec(&fin["totals"]["actual"]["total"]), d("0"));
    app.get(Viewer, "/api/v1/projects/nope/financials").await.expect_problem(404, None);
});
