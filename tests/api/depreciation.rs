//! Depreciation: book and tax schedules for every convention, Excel's
//! documented DB, DDB and VDB figures coming out of asset schedules, values on
//! any date, and runs that post to the ledger once per asset and period.

use std::str::FromStr;

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

#[allow(clippy::too_many_arguments)]
fn asset(f: &Fixture, name: &str, cost: &str, salvage: &str, method: &str, convention: &str, life: i64, in_service: &str) -> Value {
    json!({
        "name": name,
        "kind": "hardware",
        "purchase_cost": cost,
        "residual_value": salvage,
        "currency": "USD",
        "acquisition_date": in_service,
        "in_service_date": in_service,
        "depreciation_method": method,
        "depreciation_convention": convention,
        "useful_life_months": life,
        "cost_center_id": f.cost_center_id,
        "cost_type_id": f.capex_type_id,
        "service_id": f.service_id,
    })
}

async fn create(app: &TestApp, body: Value) -> String {
    app.post(Finance, "/api/v1/assets", body).await.expect(201).id()
}

async fn schedule(app: &TestApp, id: &str, book: &str) -> Value {
    app.get(Viewer, &format!("/api/v1/assets/{id}/depreciation-schedule?book={book}")).await.expect(200).body
}

fn year_amounts(schedule: &Value) -> Vec<Decimal> {
    schedule["years"].as_array().unwrap().iter().map(|y| dec(&y["amount"])).collect()
}

db_test!(async fn schedules_add_up_to_cost_minus_salvage_exactly_for_every_convention(app) {
    let f = fixtures(&app).await;
    for convention in ["full_month", "half_year", "daily"] {
        for (method, cost, salvage, life, in_service) in [
            ("straight_line", "1999.99", "0", 36, "2026-01-17"),
            ("declining_balance", "52000.50", "2600", 60, "2026-06-30"),
            ("double_declining_balance", "1234.56", "100.01", 40, "2026-11-03"),
            ("sum_of_years_digits", "777.77", "7.77", 48, "2026-02-28"),
        ] {
            let id = create(&app, asset(&f, &format!("{method} {convention}"), cost, salvage, method, convention, life, in_service)).await;
            let s = schedule(&app, &id, "book").await;
            let periods = s["periods"].as_array().unwrap();
            let total: Decimal = periods.iter().map(|p| dec(&p["amount"])).sum();
            let expected = d(cost) - d(salvage);
            assert_eq!(total, expected, "{method} {convention}");
            assert_eq!(dec(&s["depreciable_amount"]), expected);
            assert_eq!(year_amounts(&s).into_iter().sum::<Decimal>(), expected, "{method} {convention}: years");
            assert_eq!(dec(&periods.last().unwrap()["book_value"]), d(salvage), "{method} {convention}: ends at salvage");
            assert!(periods.iter().all(|p| dec(&p["book_value"]) >= d(salvage)), "{method} {convention}: salvage floor");
            // Every amount but the last (which takes the residue) is in whole cents.
            assert!(periods.iter().all(|p| dec(&p["amount"]).scale() <= 2), "{method} {convention}");
        }
    }
    let full_month = create(&app, asset(&f, "Full month", "1200", "0", "straight_line", "full_month", 12, "2026-03-31")).await;
    let s = schedule(&app, &full_month, "book").await;
    assert_eq!(s["periods"][0]["fiscal_period"], "FY2026-P03", "the in-service month counts whole");
    assert_eq!(s["periods"].as_array().unwrap().len(), 12);
    let half_year = create(&app, asset(&f, "Half year", "1000", "0", "straight_line", "half_year", 36, "2026-10-05")).await;
    assert_eq!(year_amounts(&schedule(&app, &half_year, "book").await), [d("166.67"), d("333.33"), d("333.33"), d("166.67")]);
    let daily = create(&app, asset(&f, "Daily", "3100", "0", "straight_line", "daily", 31, "2026-01-17")).await;
    let s = schedule(&app, &daily, "book").await;
    assert_eq!(dec(&s["periods"][0]["amount"]), d("48.39"), "15 of January's 31 days");
    assert_eq!(dec(&s["periods"][1]["amount"]), d("100"));
    assert_eq!(dec(&s["periods"].as_array().unwrap().last().unwrap()["amount"]), d("51.61"), "the other 16 days, 31 months on");
});

db_test!(async fn excel_documented_db_ddb_and_vdb_figures_come_out_of_asset_schedules(app) {
    let f = fixtures(&app).await;
    // Excel's DB example: DB(1000000, 100000, 6, k, 7), the first year of 7 months
    // (in service in June of a calendar fiscal year).
    let db = create(&app, asset(&f, "DB", "1000000", "100000", "declining_balance", "full_month", 72, "2026-06-01")).await;
    let years = year_amounts(&schedule(&app, &db, "book").await);
    let excel = ["186083.33", "259639.42", "176814.44", "120410.64", "81999.64", "55841.76"].map(d);
    for (i, (ours, excel)) in years.iter().zip(excel).enumerate() {
        assert!((*ours - excel).abs() <= d("0.01"), "year {}: {ours} vs Excel's {excel}", i + 1);
    }
    assert_eq!(years.len(), 7, "Excel's period 7 covers the rest of the last year");
    assert_eq!(years.iter().copied().sum::<Decimal>(), d("900000"), "and the schedule ends at salvage");

    // Excel's DDB examples: DDB(2400, 300, 10, 1) = 480, DDB(2400, 300, 10, 2) = 384,
    // DDB(2400, 300, 10, 10) = 22.12; DDB(2400, 300, 120, 1) = 40 (the first month).
    let ddb = create(&app, asset(&f, "DDB", "2400", "300", "double_declining_balance", "full_month", 120, "2026-01-01")).await;
    let s = schedule(&app, &ddb, "book").await;
    let years = year_amounts(&s);
    assert_eq!(years[0], d("480"));
    assert_eq!(years[1], d("384"));
    assert_eq!(years[9], d("22.12"));
    assert_eq!(dec(&s["periods"][0]["amount"]), d("40"));

    // VDB switches to straight line when that is larger: VDB(2400, 0, 5, k−1, k)
    // = 960, 576, 345.60, 259.20, 259.20. With the half-year convention the first
    // year is VDB(2400, 0, 5, 0, 0.5) = 480, Excel's fractional period.
    let vdb = create(&app, asset(&f, "VDB", "2400", "0", "double_declining_balance", "full_month", 60, "2026-01-01")).await;
    assert_eq!(year_amounts(&schedule(&app, &vdb, "book").await), ["960", "576", "345.60", "259.20", "259.20"].map(d));
    let half = create(&app, asset(&f, "VDB half", "2400", "0", "double_declining_balance", "half_year", 60, "2026-04-15")).await;
    assert_eq!(year_amounts(&schedule(&app, &half, "book").await)[0], d("480"));
});

db_test!(async fn the_tax_schedule_follows_the_tax_settings_or_else_the_books(app) {
    let f = fixtures(&app).await;
    let mut body = asset(&f, "Server", "10000", "500", "straight_line", "full_month", 60, "2026-01-01");
    body["tax_depreciation"] = json!({ "method": "double_declining_balance", "convention": "half_year", "useful_life_months": 36 });
    let id = create(&app, body).await;
    let book = schedule(&app, &id, "book").await;
    let tax = schedule(&app, &id, "tax").await;
    assert_eq!(book["settings"]["source"], "book");
    assert_eq!(tax["settings"]["source"], "tax");
    assert_eq!(tax["settings"]["method"], "double_declining_balance");
    assert_eq!(dec(&tax["depreciable_amount"]), d("10000"), "tax salvage defaults to 0");
    assert_eq!(year_amounts(&book)[0], d("1900"));
    // Half of the first year of VDB(10000, 0, 3, 0, 1) = 6666.67.
    assert_eq!(year_amounts(&tax)[0], d("3333.33"));

    let plain = create(&app, asset(&f, "Laptop", "1500", "0", "straight_line", "full_month", 36, "2026-01-01")).await;
    let tax = schedule(&app, &plain, "tax").await;
    assert_eq!(tax["settings"]["source"], "book", "no tax settings: the tax schedule is the book schedule");
    assert_eq!(tax["periods"], schedule(&app, &plain, "book").await["periods"]);

    let mut refused = asset(&f, "Bad", "100", "0", "straight_line", "full_month", 12, "2026-01-01");
    refused["tax_depreciation"] = json!({ "method": "straight_line", "convention": "daily", "useful_life_months": 0, "residual_value": "200" });
    let reply = app.post(Finance, "/api/v1/assets", refused).await.expect_problem(422, Some("/tax_depreciation/useful_life_months"));
    assert!(reply.text.contains("/tax_depreciation/residual_value"), "{}", reply.text);

    let none = create(&app, json!({ "name": "Licence", "kind": "licence", "purchase_cost": "100" })).await;
    app.get(Viewer, &format!("/api/v1/assets/{none}/depreciation-schedule")).await.expect_problem(422, Some("book"));
});

db_test!(async fn an_asset_has_a_value_on_any_date_past_or_future(app) {
    let f = fixtures(&app).await;
    let id = create(&app, asset(&f, "Switch", "3100", "100", "straight_line", "full_month", 30, "2026-01-10")).await;
    let value = |date: &'static str| {
        let app = &app;
        let id = id.clone();
        async move { app.get(Viewer, &format!("/api/v1/assets/{id}/value?date={date}")).await.expect(200).body }
    };
    let before = value("2025-12-31").await;
    assert_eq!(dec(&before["book_value"]), d("3100"));
    assert_eq!(dec(&value("2026-01-31").await["book_value"]), d("3000"));
    let mid = value("2026-02-14").await;
    assert_eq!(dec(&mid["accumulated_depreciation"]), d("150"), "half of February accrued");
    assert_eq!(dec(&mid["book_value"]), d("2950"));
    assert_eq!(dec(&value("2040-01-01").await["book_value"]), d("100"), "after the life, the salvage value");
    app.get(Viewer, &format!("/api/v1/assets/{id}/value?date=someday")).await.expect_problem(400, None);
});

db_test!(async fn a_depreciation_run_posts_each_asset_and_period_once(app) {
    let f = fixtures(&app).await;
    let id = create(&app, asset(&f, "Storage", "1200", "0", "straight_line", "full_month", 12, "2026-01-20")).await;
    let mut unbooked = asset(&f, "Unbooked", "600", "0", "straight_line", "full_month", 12, "2026-01-01");
    unbooked["cost_type_id"] = Value::Null;
    let unbooked = create(&app, unbooked).await;

    app.post(Viewer, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P06" })).await.expect_problem(403, None);
    app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "2026-06" })).await.expect_problem(422, None);
    assert_eq!(app.count("ledger_lines").await, 0);

    let first = app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P06" })).await.expect(200);
    assert_eq!(first.body["lines_posted"], 6);
    assert_eq!(first.body["lines_already_posted"], 0);
    assert_eq!(first.body["posted"], json!([{ "currency": "USD", "amount": "600.00" }]));
    assert_eq!(first.body["skipped"][0]["asset_id"], unbooked);
    assert!(first.body["skipped"][0]["reason"].as_str().unwrap().contains("cost_type_id"));

    let again = app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P06" })).await.expect(200);
    assert_eq!(again.body["lines_posted"], 0, "{}", again.text);
    assert_eq!(again.body["lines_already_posted"], 6);
    assert_eq!(app.count("ledger_lines").await, 6);

    let later = app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2026-P08" })).await.expect(200);
    assert_eq!(later.body["lines_posted"], 2);
    let lines = app.get(Viewer, &format!("/api/v1/ledger/lines?asset_id={id}&sort=entry_date&per_page=100")).await.expect(200).body;
    let items = lines["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert_eq!(items[0]["source"], "depreciation");
    assert_eq!(items[0]["source_key"], format!("{id}:book:FY2026-P01"));
    assert_eq!(items[0]["entry_date"], "2026-01-31");
    assert_eq!(items[0]["cost_type_id"], f.capex_type_id);
    assert_eq!(items[0]["cost_center_id"], f.cost_center_id);
    assert_eq!(items[0]["service_id"], f.service_id);
    assert_eq!(items[7]["fiscal_period"], "FY2026-P08");
});

db_test!(
    /// A disposed asset depreciates through the period it was disposed in and
    /// no further: its schedule ends there and says what was left, its value
    /// afterwards is nothing (the carrying amount is written off), and runs
    /// post no later periods.
    async fn a_disposed_asset_stops_depreciating_on_its_disposal_date(app) {
        let f = fixtures(&app).await;
        let id = create(&app, asset(&f, "Old server", "2400", "0", "straight_line", "full_month", 24, "2026-01-05")).await;
        let steps = format!("/api/v1/assets/{id}/transitions");
        app.post(Finance, &steps, json!({ "to": "deployed" })).await.expect(200);
        // A disposal date belongs to a disposal, is not in the future, nor before service began.
        app.post(Finance, &steps, json!({ "to": "retired", "disposed_on": "2026-06-10" })).await.expect_problem(422, Some("/disposed_on"));
        app.post(Finance, &steps, json!({ "to": "retired" })).await.expect(200);
        for day in ["2025-12-31", "2999-01-01"] {
            app.post(Finance, &steps, json!({ "to": "disposed", "disposed_on": day })).await.expect_problem(422, Some("/disposed_on"));
        }
        let unchanged = app.get(Viewer, &format!("/api/v1/assets/{id}")).await.expect(200).body;
        assert_eq!((&unchanged["state"], &unchanged["disposed_on"]), (&json!("retired"), &Value::Null), "nothing changed");
        let disposed = app.post(Finance, &steps, json!({ "to": "disposed", "disposed_on": "2026-06-10" })).await.expect(200);
        assert_eq!(disposed.body["disposed_on"], "2026-06-10");

        let s = schedule(&app, &id, "book").await;
        let periods = s["periods"].as_array().unwrap();
        assert_eq!(periods.len(), 6, "January to June, the month of disposal included");
        assert_eq!(periods.last().unwrap()["fiscal_period"], "FY2026-P06");
        assert_eq!(dec(&s["not_depreciated"]), d("1800"));
        let depreciated: Decimal = periods.iter().map(|p| dec(&p["amount"])).sum();
        assert_eq!(depreciated + dec(&s["not_depreciated"]), dec(&s["depreciable_amount"]));

        let value = |date: &'static str| {
            let app = &app;
            let id = id.clone();
            async move { app.get(Viewer, &format!("/api/v1/assets/{id}/value?date={date}")).await.expect(200).body }
        };
        let before = value("2026-05-31").await;
        assert_eq!((dec(&before["book_value"]), dec(&before["written_off"])), (d("1900"), d("0")));
        let after = value("2027-03-01").await;
        assert_eq!(dec(&after["accumulated_depreciation"]), d("600"));
        assert_eq!((dec(&after["book_value"]), dec(&after["written_off"])), (d("0"), d("1800")));

        let run = app.post(Finance, "/api/v1/depreciation/runs", json!({ "through_period": "FY2027-P12" })).await.expect(200);
        assert_eq!(run.body["lines_posted"], 6, "{}", run.text);
        assert_eq!(run.body["posted"], json!([{ "currency": "USD", "amount": "600.00" }]));
    }
);
