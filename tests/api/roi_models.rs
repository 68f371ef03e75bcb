//! ROI models: the built-in `roi-dcf` (the default) and `roi-montecarlo`,
//! installed at first start, evaluated by any reader through the API, each
//! call in the plugin's invocation log.

use itbm::auth::Role::{Admin, Finance, PortfolioManager, Viewer};
use serde_json::{Value, json};

use crate::db_test;
use crate::plugins::{manifest, pack, trusted_vendor, upload, wasm};
use crate::portfolio::portfolio;
use crate::support::TestApp;

/// numpy-financial's example: −40,000 then 5,000, 8,000, 12,000 and 30,000,
/// as costs and benefits.
fn five_years() -> Value {
    json!([
        { "label": "FY2027", "costs": "40000", "benefits": "0" },
        { "label": "FY2028", "costs": "0", "benefits": "5000" },
        { "label": "FY2029", "costs": "0", "benefits": "8000" },
        { "label": "FY2030", "costs": "0", "benefits": "12000" },
        { "label": "FY2031", "costs": "0", "benefits": "30000" }
    ])
}

fn metric<'a>(evaluation: &'a Value, name: &str) -> &'a Value {
    let metrics = evaluation["metrics"].as_array().expect("metrics");
    &metrics.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no metric {name} in {evaluation}"))["value"]
}

async fn evaluate(app: &TestApp, model: &str, body: Value) -> Value {
    app.post(Viewer, &format!("/api/v1/roi-models/{model}/evaluate"), body).await.expect(200).body
}

db_test!(async fn the_built_in_models_are_installed_signed_at_first_start(app) {
    let listed = app.get(Admin, "/api/v1/plugins?kind=roi-model&sort=key").await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    let keys: Vec<&str> = items.iter().map(|p| p["manifest"]["id"].as_str().unwrap()).collect();
    assert_eq!(keys, ["roi-dcf", "roi-montecarlo"]);
    assert!(items.iter().all(|p| p["builtin"] == true && p["enabled"] == true && p["signed_by"].is_null()), "{}", listed.text);

    // Any reader sees the models and what they compute.
    let models = app.get(Viewer, "/api/v1/roi-models").await.expect(200);
    assert_eq!(models.body[0]["model"], "roi-dcf");
    assert!(models.body[0]["description"]["metrics"].as_array().unwrap().iter().any(|m| m == "irr"));
    assert!(models.body[1]["description"]["params_schema"].as_str().unwrap().contains("pert"));
});

db_test!(async fn roi_dcf_values_a_five_year_project_exactly(app) {
    let evaluation = evaluate(&app, "roi-dcf", json!({ "periods": five_years(), "discount_rate": "0.08", "currency": "EUR" })).await;
    let result = &evaluation["evaluation"];
    assert_eq!(result["model"], "roi-dcf");
    assert_eq!(result["currency"], "EUR");
    // numpy-financial: npf.npv(0.08, [-40000, 5000, 8000, 12000, 30000]) = 3065.22266817
    assert_eq!(metric(result, "npv"), "3065.22", "rounded half to even to cents");
    // Cumulative −40,000, −35,000, −27,000, −15,000, +15,000: half of year 4's 30,000 pays back.
    assert_eq!(metric(result, "payback-years"), "3.5");
    assert_eq!(metric(result, "roi"), "0.375");
    assert_eq!(metric(result, "total-costs"), "40000");
    assert_eq!(metric(result, "total-benefits"), "55000");
    let irr: f64 = metric(result, "irr").as_str().unwrap().parse().unwrap();
    assert!((irr - 0.10582).abs() < 1e-4, "numpy-financial's IRR is 0.1058…, got {irr}");
    let discounted: f64 = metric(result, "discounted-payback-years").as_str().unwrap().parse().unwrap();
    assert!((3.5..5.0).contains(&discounted), "{discounted}");
    assert!(result["percentiles"].as_array().unwrap().is_empty());

    let invocation = &evaluation["invocation"];
    assert_eq!((invocation["operation"].as_str(), invocation["outcome"].as_str()), (Some("evaluate"), Some("ok")));
    assert_eq!(invocation["instance_id"], Value::Null);
    assert_eq!(invocation["requested_by"], "test-viewer");
    let log = app.get(Admin, &format!("/api/v1/plugins/{}/invocations", result["plugin_id"].as_str().unwrap())).await.expect(200);
    assert_eq!(log.body["items"][0]["id"], invocation["id"]);
});

db_test!(async fn a_metric_that_does_not_exist_has_no_value_and_the_explanation_says_why(app) {
    let never_recovers = json!([{ "label": "Y1", "costs": "100", "benefits": "0" }, { "label": "Y2", "costs": "10", "benefits": "20" }]);
    let result = evaluate(&app, "roi-dcf", json!({ "periods": never_recovers })).await["evaluation"].clone();
    assert_eq!(metric(&result, "payback-years"), &Value::Null);
    assert!(result["explanation"].as_str().unwrap().contains("payback-years: none"), "{result}");
    assert_eq!(result["discount_rate"], "0.08", "the finance setting's default");
    assert_eq!(result["currency"], "USD", "the reporting currency");
});

db_test!(async fn bad_input_is_refused_at_its_field_and_a_models_own_refusal_at_params(app) {
    let path = "/api/v1/roi-models/roi-dcf/evaluate";
    let refused = app
        .post(Viewer, path, json!({
            "periods": [{ "label": "Y1", "costs": "-5", "benefits": "0" }],
            "periods_per_year": 3, "discount_rate": "-1", "currency": "euro"
        }))
        .await
        .expect_problem(422, Some("/periods/0/costs"));
    for pointer in ["/periods_per_year", "/discount_rate", "/currency"] {
        assert!(refused.body["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == pointer), "{pointer}: {}", refused.text);
    }
    app.post(Viewer, path, json!({ "periods": [] })).await.expect_problem(422, Some("/periods"));
    app.post(Viewer, path, json!({ "periods": five_years(), "currency": "XYZ" })).await.expect_problem(422, Some("/currency"));
    assert_eq!(app.count("plugin_invocations").await, 0, "the model was not called");

    let params = app.post(Viewer, path, json!({ "periods": five_years(), "params": { "runs": 5 } })).await.expect_problem(422, Some("/params"));
    assert!(params.text.contains("no parameters"), "{}", params.text);
    assert_eq!(app.count("plugin_invocations").await, 1, "the model's refusal is logged");
    app.post(Viewer, "/api/v1/roi-models/no-such-model/evaluate", json!({ "periods": five_years() })).await.expect_problem(404, None);
});

db_test!(async fn monte_carlo_is_deterministic_for_a_seed_and_labels_its_statistics(app) {
    let body = |seed: u64| json!({ "periods": five_years(), "discount_rate": "0.08", "params": { "seed": seed, "runs": 2000 } });
    let first = evaluate(&app, "roi-montecarlo", body(7)).await["evaluation"].clone();
    let again = evaluate(&app, "roi-montecarlo", body(7)).await["evaluation"].clone();
    let other = evaluate(&app, "roi-montecarlo", body(8)).await["evaluation"].clone();
    assert_eq!(first["percentiles"], again["percentiles"]);
    assert_eq!(first["metrics"], again["metrics"]);
    assert_ne!(first["percentiles"], other["percentiles"]);

    let p: Vec<f64> = first["percentiles"].as_array().unwrap().iter().map(|p| p["value"].as_str().unwrap().parse().unwrap()).collect();
    let ranks: Vec<u64> = first["percentiles"].as_array().unwrap().iter().map(|p| p["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, [10, 50, 90]);
    assert!(p[0] < p[1] && p[1] < p[2], "{p:?}");
    let probability: f64 = metric(&first, "probability-npv-positive").as_str().unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&probability));
    assert_eq!(metric(&first, "npv"), "3065.22", "the exact NPV of the estimates, as roi-dcf has it");
    assert!(first["explanation"].as_str().unwrap().contains("floating point"), "{first}");
});

db_test!(async fn monte_carlo_without_uncertainty_gives_the_exact_npv_at_every_percentile(app) {
    let fixed = json!({ "distribution": "fixed" });
    let body = json!({ "periods": five_years(), "discount_rate": "0.08", "params": { "runs": 50, "costs": fixed, "benefits": fixed } });
    let result = evaluate(&app, "roi-montecarlo", body).await["evaluation"].clone();
    for percentile in result["percentiles"].as_array().unwrap() {
        assert_eq!(percentile["value"], "3065.22", "{result}");
    }
    assert_eq!(metric(&result, "probability-npv-positive"), "1");

    let bad = json!({ "periods": five_years(), "params": { "runs": 0 } });
    app.post(Viewer, "/api/v1/roi-models/roi-montecarlo/evaluate", bad).await.expect_problem(422, Some("/params"));
    let pert = json!({ "periods": five_years(), "params": { "costs": { "distribution": "pert", "low": 1.2, "high": 1.5 } } });
    app.post(Viewer, "/api/v1/roi-models/roi-montecarlo/evaluate", pert).await.expect_problem(422, Some("/params"));
});

db_test!(async fn a_projects_roi_comes_from_its_yearly_estimates_at_the_finance_discount_rate(app) {
    let portfolio_id = portfolio(&app).await;
    let project = app
        .post(PortfolioManager, "/api/v1/projects", json!({
            "name": "Data platform", "portfolio_id": portfolio_id,
            "estimates": [
                { "fiscal_year": 2027, "capex": "30000", "opex": "10000", "benefit": "0" },
                { "fiscal_year": 2028, "capex": "0", "opex": "0", "benefit": "5000" },
                { "fiscal_year": 2029, "capex": "0", "opex": "0", "benefit": "8000" },
                { "fiscal_year": 2031, "capex": "0", "opex": "0", "benefit": "42000" }
            ]
        }))
        .await
        .expect(201)
        .id();
    let path = format!("/api/v1/projects/{project}/roi");
    let roi = app.get(Viewer, &path).await.expect(200).body["evaluation"].clone();
    // FY2030 has no estimate: a year of zero. 8 % is the default discount rate.
    let direct = evaluate(&app, "roi-dcf", json!({ "periods": [
        { "label": "FY2027", "costs": "40000", "benefits": "0" }, { "label": "FY2028", "costs": "0", "benefits": "5000" },
        { "label": "FY2029", "costs": "0", "benefits": "8000" }, { "label": "FY2030", "costs": "0", "benefits": "0" },
        { "label": "FY2031", "costs": "0", "benefits": "42000" }
    ], "discount_rate": "0.08" })).await["evaluation"].clone();
    assert_eq!(roi["metrics"], direct["metrics"]);

    let settings = app.get(Finance, "/api/v1/settings").await.expect(200);
    app.patch(Admin, "/api/v1/settings", json!({ "discount_rate": "0.12" }), Some(&settings.etag())).await.expect(200);
    let dearer = app.get(Viewer, &path).await.expect(200).body["evaluation"].clone();
    assert_eq!(dearer["discount_rate"], "0.12");
    let npv = |e: &Value| metric(e, "npv").as_str().unwrap().parse::<f64>().unwrap();
    assert!(npv(&dearer) < npv(&roi));
    let mc = app.get(Viewer, &format!("{path}?model=roi-montecarlo")).await.expect(200).body["evaluation"].clone();
    assert_eq!(mc["model"], "roi-montecarlo");

    let bare = app.post(PortfolioManager, "/api/v1/projects", json!({ "name": "No case", "portfolio_id": portfolio_id })).await.expect(201).id();
    app.get(Viewer, &format!("/api/v1/projects/{bare}/roi")).await.expect_problem(422, Some("/estimates"));
    app.get(Viewer, "/api/v1/projects/no-such-project/roi").await.expect_problem(404, None);
});

db_test!(async fn a_disabled_model_is_refused_and_a_vendor_cannot_take_a_built_in_id(app) {
    let models = app.get(Admin, "/api/v1/plugins?kind=roi-model&sort=key").await.expect(200);
    let dcf = models.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(Admin, &format!("/api/v1/plugins/{dcf}/disable"), json!({})).await.expect(200);
    app.post(Viewer, "/api/v1/roi-models/roi-dcf/evaluate", json!({ "periods": five_years() })).await.expect_problem(409, None);
    app.post(Admin, &format!("/api/v1/plugins/{dcf}/enable"), json!({})).await.expect(200);
    evaluate(&app, "roi-dcf", json!({ "periods": five_years() })).await;

    let key = trusted_vendor(&app).await;
    let mut impostor = manifest("roi-dcf");
    impostor["vendor"] = "Someone else".into();
    upload(&app, pack(&impostor, &wasm("roi-dcf"), Some(&key))).await.expect_problem(409, None);
});

db_test!(async fn a_newer_binary_replaces_an_older_built_in_and_keeps_its_log(app) {
    evaluate(&app, "roi-dcf", json!({ "periods": five_years() })).await;
    // Make the installed roi-dcf look like an older release.
    let row = itbm::db::query("SELECT id, manifest FROM plugins WHERE plugin_key = 'roi-dcf'").fetch_one(&mut app.db.clone()).await.unwrap();
    let (id, manifest): (String, String) = (row.get("id").unwrap(), row.get("manifest").unwrap());
    let older = manifest.replace("\"version\":\"1.0.0\"", "\"version\":\"0.9.0\"");
    assert_ne!(older, manifest);
    itbm::db::query("UPDATE plugins SET manifest = $1, plugin_version = '0.9.0', component_sha256 = 'old' WHERE id = $2")
        .bind(older)
        .bind(id.as_str())
        .execute(&mut app.db.clone())
        .await
        .unwrap();

    let outcomes = itbm::plugins::builtin::install_all(&app.db).await.unwrap();
    let dcf = outcomes.iter().find(|(key, _, _)| key == "roi-dcf").unwrap();
    assert_eq!(dcf.2, itbm::plugins::builtin::Outcome::Upgraded { from: "0.9.0".into() });
    let shown = app.get(Admin, &format!("/api/v1/plugins/{id}")).await.expect(200);
    assert_eq!(shown.body["manifest"]["version"], "1.0.0");
    assert_eq!(app.get(Admin, &format!("/api/v1/plugins/{id}/invocations")).await.expect(200).body["items"].as_array().unwrap().len(), 1);
    let again = itbm::plugins::builtin::install_all(&app.db).await.unwrap();
    assert!(again.iter().all(|(_, _, outcome)| *outcome == itbm::plugins::builtin::Outcome::Current), "{again:?}");
});
