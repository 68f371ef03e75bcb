//! Prioritisation: scoring frameworks and rankings, the exact optimiser
//! (checked against brute force on seeded instances), its refusals, and
//! scenarios compared and approved into budget versions.

use std::collections::HashMap;

use itbm::auth::Role::{PortfolioManager, Viewer};
use itbm_optimiser::generate::{Shape, instance};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::db_test;
use crate::finance::{cost_center, cost_type};
use crate::portfolio::portfolio;
use crate::support::TestApp;

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("a decimal string, got {v}")).parse().unwrap()
}

/// A project with estimates `(year, capex, opex, benefit)`; returns its id.
async fn project(app: &TestApp, portfolio_id: &str, name: &str, estimates: &[(i32, Decimal, Decimal, Decimal)]) -> String {
    let estimates: Vec<Value> = estimates
        .iter()
        .map(|(y, c, o, b)| json!({ "fiscal_year": y, "capex": c.to_string(), "opex": o.to_string(), "benefit": b.to_string() }))
        .collect();
    app.post(PortfolioManager, "/api/v1/projects", json!({ "name": name, "portfolio_id": portfolio_id, "estimates": estimates })).await.expect(201).id()
}

async fn optimise(app: &TestApp, portfolio_id: &str, body: Value) -> crate::support::Reply {
    app.post(PortfolioManager, &format!("/api/v1/portfolios/{portfolio_id}/optimise"), body).await
}

fn d(v: i64) -> Decimal {
    Decimal::from(v)
}

db_test!(async fn the_optimiser_agrees_with_brute_force_on_seeded_instances(app) {
    for seed in 0..5u64 {
        let shape = Shape { items: 7, years: 2, budget_percent: 35 + 10 * seed as i64, dependencies_per_100: 30, exclusions_per_100: 20, flags: seed % 2 == 0 };
        let p = instance(1000 + seed, shape);
        let portfolio_id = portfolio(&app).await;
        // With a discount rate of 0 an item's NPV is its benefit minus its
        // costs: put benefit in the last year so the NPV is the instance's value.
        let mut ids = Vec::new();
        for item in &p.items {
            let cost: Decimal = item.capex.iter().chain(&item.opex).copied().sum();
            let estimates: Vec<_> = (0..2)
                .map(|y| (2027 + y as i32, item.capex[y], item.opex[y], if y == 1 { item.value + cost } else { Decimal::ZERO }))
                .collect();
            ids.push(project(&app, &portfolio_id, &item.key, &estimates).await);
        }
        let year_amounts = |b: &Vec<Option<Decimal>>| -> Vec<Value> {
            b.iter().enumerate().map(|(y, v)| json!({ "fiscal_year": 2027 + y as i32, "amount": v.unwrap().to_string() })).collect()
        };
        let body = json!({
            "objective": "npv",
            "first_fiscal_year": 2027,
            "years": 2,
            "discount_rate": "0",
            "capex_budget": year_amounts(&p.capex_budget),
            "opex_budget": year_amounts(&p.opex_budget),
            "must_fund": p.items.iter().zip(&ids).filter(|(i, _)| i.must_fund).map(|(_, id)| id.clone()).collect::<Vec<_>>(),
            "must_not": p.items.iter().zip(&ids).filter(|(i, _)| i.must_not).map(|(_, id)| id.clone()).collect::<Vec<_>>(),
            "dependencies": p.dependencies.iter().map(|(a, b)| json!({ "item_id": ids[*a], "needs": ids[*b] })).collect::<Vec<_>>(),
            "exclusions": p.exclusions.iter().map(|g| g.iter().map(|i| ids[*i].clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        });
        let reply = optimise(&app, &portfolio_id, body).await.expect(200);
        let (best, _) = itbm_optimiser::brute_force(&p).expect("feasible");
        assert_eq!(dec(&reply.body["objective_value"]), best, "seed {seed}: {}", reply.text);
        assert_eq!(reply.body["status"], "optimal");
        // The chosen set respects every budget, recomputed from the answer.
        let chosen: Vec<bool> = ids.iter().map(|id| reply.body["selected"].as_array().unwrap().iter().any(|s| s["item_id"] == *id)).collect();
        assert!(itbm_optimiser::is_feasible(&p, &chosen), "seed {seed}");
        for y in reply.body["years"].as_array().unwrap() {
            assert!(dec(&y["capex"]) <= dec(&y["capex_budget"]) && dec(&y["opex"]) <= dec(&y["opex_budget"]));
        }
        // Every item left out says why.
        let excluded = reply.body["excluded"].as_array().unwrap();
        assert_eq!(excluded.len() + chosen.iter().filter(|c| **c).count(), ids.len());
        assert!(excluded.iter().all(|e| !e["reasons"].as_array().unwrap().is_empty()));
        assert!(dec(&reply.body["greedy"]["gain"]) >= Decimal::ZERO);
    }
});

db_test!(async fn each_excluded_item_names_the_constraint_that_kept_it_out_and_the_frontier_rises(app) {
    let portfolio_id = portfolio(&app).await;
    let big = project(&app, &portfolio_id, "Big bet", &[(2027, d(600), d(0), d(0)), (2028, d(0), d(0), d(2000))]).await;
    let small = project(&app, &portfolio_id, "Quick win", &[(2027, d(300), d(0), d(0)), (2028, d(0), d(0), d(1000))]).await;
    let rival = project(&app, &portfolio_id, "Rival platform", &[(2027, d(100), d(0), d(0)), (2028, d(0), d(0), d(900))]).await;
    let dud = project(&app, &portfolio_id, "Dud", &[(2027, d(0), d(50), d(0))]).await;
    let reply = optimise(&app, &portfolio_id, json!({
        "objective": "npv", "first_fiscal_year": 2027, "years": 2, "discount_rate": "0",
        "capex_budget": [{ "fiscal_year": 2027, "amount": "800" }],
        "exclusions": [[small.clone(), rival.clone()]],
        "frontier_points": 4,
        "save_as_scenario": "Optimised"
    }))
    .await
    .expect(200);
    let selected: Vec<&str> = reply.body["selected"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    // Big bet (1400) + Rival (800) beat Big bet + Quick win (exclusive) and
    // Quick win + Rival.
    assert_eq!(selected, ["Big bet", "Rival platform"], "{}", reply.text);
    assert_eq!(dec(&reply.body["objective_value"]), d(2200));
    let reasons: HashMap<String, Value> = reply.body["excluded"].as_array().unwrap().iter().map(|e| (e["item_id"].as_str().unwrap().to_owned(), e["reasons"].clone())).collect();
    let quick: Vec<&str> = reasons[&small].as_array().unwrap().iter().map(|r| r["constraint"].as_str().unwrap()).collect();
    assert_eq!(quick, ["exclusion", "capex_budget"], "{}", reply.text);
    assert_eq!(reasons[&small][1]["fiscal_year"], 2027);
    assert_eq!(dec(&reasons[&small][1]["excess"]), d(200));
    assert_eq!(reasons[&dud][0]["constraint"], "lower_value");
    let frontier: Vec<Decimal> = reply.body["frontier"].as_array().unwrap().iter().map(|p| dec(&p["objective_value"])).collect();
    // Budgets 200, 400, 600, 800: Rival alone until Big bet fits, then both.
    assert_eq!(frontier, [d(800), d(800), d(1400), d(2200)], "{}", reply.text);
    let _ = big;

    // The chosen set was saved as a scenario.
    let scenario_id = reply.body["scenario_id"].as_str().unwrap();
    let scenario = app.get(Viewer, &format!("/api/v1/scenarios/{scenario_id}")).await.expect(200);
    let included: Vec<&str> = scenario.body["items"].as_array().unwrap().iter().filter(|i| i["included"] == true).map(|i| i["item_id"].as_str().unwrap()).collect();
    assert_eq!(included.len(), 2);
    assert!(included.contains(&rival.as_str()));
});

db_test!(async fn infeasible_constraints_and_dependency_cycles_are_refused_with_422_naming_them(app) {
    let portfolio_id = portfolio(&app).await;
    let a = project(&app, &portfolio_id, "Alpha", &[(2027, d(500), d(0), d(900))]).await;
    let b = project(&app, &portfolio_id, "Beta", &[(2027, d(400), d(0), d(900))]).await;
    let c = project(&app, &portfolio_id, "Gamma", &[(2027, d(10), d(0), d(90))]).await;
    let base = json!({ "objective": "npv", "first_fiscal_year": 2027, "capex_budget": [{ "fiscal_year": 2027, "amount": "800" }], "save_as_scenario": "Never" });

    // Two must-funds that together exceed the CapEx budget.
    let mut body = base.clone();
    body["must_fund"] = json!([a, b]);
    let refused = optimise(&app, &portfolio_id, body).await.expect_problem(422, Some("/capex_budget/0/amount"));
    let text = refused.text.clone();
    assert!(text.contains("/must_fund/0") && text.contains("/must_fund/1") && text.contains("by 100"), "{text}");

    // A must-fund item that needs a must-not item.
    let mut body = base.clone();
    body["must_fund"] = json!([c]);
    body["must_not"] = json!([a]);
    body["dependencies"] = json!([{ "item_id": c, "needs": a }]);
    let refused = optimise(&app, &portfolio_id, body).await.expect_problem(422, Some("/must_not/0"));
    assert!(refused.text.contains("Gamma") && refused.text.contains("Alpha"), "{}", refused.text);

    // A dependency cycle, named.
    let mut body = base.clone();
    body["dependencies"] = json!([{ "item_id": a, "needs": b }, { "item_id": b, "needs": c }, { "item_id": c, "needs": a }]);
    let refused = optimise(&app, &portfolio_id, body).await.expect_problem(422, Some("/dependencies"));
    let detail = refused.body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("cycle") && detail.contains("Alpha") && detail.contains("Beta") && detail.contains("Gamma"), "{detail}");

    // An id that is not a candidate, and a viewer, are refused too; nothing was saved.
    let mut body = base.clone();
    body["must_fund"] = json!(["no-such-item"]);
    optimise(&app, &portfolio_id, body).await.expect_problem(422, Some("/must_fund/0"));
    app.post(Viewer, &format!("/api/v1/portfolios/{portfolio_id}/optimise"), base.clone()).await.expect_problem(403, None);
    assert_eq!(app.count("scenarios").await, 0);
});

db_test!(async fn a_weighted_framework_scores_items_with_contributions_and_ranks_them_with_a_stated_tie_break(app) {
    let portfolio_id = portfolio(&app).await;
    let goal = app.post(PortfolioManager, "/api/v1/goals", json!({ "name": "Grow online sales" })).await.expect(201).id();
    let cheap = project(&app, &portfolio_id, "Cheap", &[(2027, d(100), d(0), d(0))]).await;
    let dear = project(&app, &portfolio_id, "Dear", &[(2027, d(900), d(0), d(0))]).await;
    let aligned = app
        .post(PortfolioManager, "/api/v1/projects", json!({ "name": "Aligned", "portfolio_id": portfolio_id, "goals": [{ "goal_id": goal, "weight": "0.5" }] }))
        .await
        .expect(201)
        .id();
    let framework = app
        .post(PortfolioManager, "/api/v1/scoring-frameworks", json!({
            "name": "Value and fit",
            "criteria": [
                { "key": "value", "name": "Business value", "weight": "3", "scale_min": "1", "scale_max": "5", "direction": "higher_is_better" },
                { "key": "alignment", "name": "Strategic fit", "weight": "1", "scale_min": "0", "scale_max": "1", "direction": "higher_is_better", "source": "alignment" }
            ]
        }))
        .await
        .expect(201)
        .id();
    let scores = format!("/api/v1/scoring-frameworks/{framework}/scores");
    let put = |item: String, value: &str| {
        let body = json!({ "values": { "value": value } });
        let path = format!("{scores}/project/{item}");
        let app = &app;
        async move { app.send(Some(PortfolioManager), Method::PUT, &path, Some(body), None).await }
    };
    let s = put(aligned.clone(), "3").await.expect(200);
    // 100 × (3 × 0.5 + 1 × 0.5) / 4 = 50: value gives 37.5, alignment 12.5.
    assert_eq!(dec(&s.body["score"]), d(50));
    assert_eq!(dec(&s.body["contributions"][0]["contribution"]), Decimal::new(375, 1));
    assert_eq!(dec(&s.body["contributions"][1]["contribution"]), Decimal::new(125, 1));
    put(dear.clone(), "5").await.expect(200);
    put(cheap.clone(), "5").await.expect(200);
    put(cheap.clone(), "9").await.expect_problem(422, Some("/values/value"));

    let ranking = app.get(Viewer, &format!("/api/v1/scoring-frameworks/{framework}/ranking?portfolio_id={portfolio_id}")).await.expect(200);
    let order: Vec<&str> = ranking.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    // Cheap and Dear tie at 75: the cheaper first.
    assert_eq!(order, ["Cheap", "Dear", "Aligned"]);
    assert!(ranking.body["tie_break"].as_str().unwrap().contains("lower total cost"));

    // The built-in WSJF framework.
    let wsjf = app
        .send(Some(PortfolioManager), Method::PUT, &format!("/api/v1/scoring-frameworks/wsjf/scores/project/{dear}"), Some(json!({ "values": {
            "business_value": "8", "time_criticality": "5", "risk_reduction": "3", "job_size": "4" } })), None)
        .await
        .expect(200);
    assert_eq!(dec(&wsjf.body["score"]), d(4));
    assert_eq!(wsjf.body["contributions"][3]["role"], "divisor");
    app.delete(PortfolioManager, "/api/v1/scoring-frameworks/wsjf", None).await.expect_problem(409, None);
});

db_test!(async fn scenarios_are_compared_and_an_approved_one_becomes_budget_versions_that_match_it(app) {
    let portfolio_id = portfolio(&app).await;
    let center = cost_center(&app, "IT", None).await;
    let capex = cost_type(&app, "HW", "capex").await;
    let opex = cost_type(&app, "SAAS", "opex").await;
    let crm = project(&app, &portfolio_id, "CRM", &[(2027, Decimal::new(120_000_01, 2), d(10_000), d(0)), (2028, d(0), d(12_000), d(90_000))]).await;
    let erp = project(&app, &portfolio_id, "ERP", &[(2027, d(300_000), d(0), d(0)), (2028, d(50_000), d(30_000), d(200_000))]).await;
    let demand = app
        .post(PortfolioManager, "/api/v1/demands", json!({ "title": "Chatbot", "portfolio_id": portfolio_id, "risk": 4,
            "estimates": [{ "fiscal_year": 2027, "capex": "0", "opex": "24000", "benefit": "30000" }] }))
        .await
        .expect(201)
        .id();
    app.post(PortfolioManager, &format!("/api/v1/demands/{demand}/transitions"), json!({ "to": "submitted" })).await.expect(200);

    let scenarios = format!("/api/v1/portfolios/{portfolio_id}/scenarios");
    let lean = app
        .post(PortfolioManager, &scenarios, json!({ "name": "Lean", "first_fiscal_year": 2027, "years": 2, "items": [
            { "item_id": crm, "included": true },
            { "item_id": demand, "included": true, "funding": "0.5" },
            { "item_id": erp, "included": false }
        ] }))
        .await
        .expect(201);
    let bold = app
        .post(PortfolioManager, &scenarios, json!({ "name": "Bold", "first_fiscal_year": 2027, "years": 2, "items": [
            { "item_id": crm, "included": true, "shift_years": 1 },
            { "item_id": erp, "included": true }
        ] }))
        .await
        .expect(201);
    let (lean_id, bold_id) = (lean.id(), bold.id());
    let compared = app.get(Viewer, &format!("/api/v1/scenarios/compare?ids={lean_id},{bold_id}")).await.expect(200);
    let lean_sum = &compared.body[0];
    assert_eq!(lean_sum["years"][0]["fiscal_year"], 2027);
    assert_eq!(dec(&lean_sum["years"][0]["capex"]), Decimal::new(120_000_01, 2));
    assert_eq!(dec(&lean_sum["years"][0]["opex"]), d(22_000), "CRM's OpEx and half the chatbot's");
    assert_eq!(dec(&lean_sum["years"][0]["benefit"]), d(15_000));
    assert_eq!(dec(&lean_sum["years"][1]["opex"]), d(12_000));
    let bold_sum = &compared.body[1];
    // CRM moved a year later: its 2027 CapEx lands in 2028; its 2028 OpEx leaves the horizon.
    assert_eq!(dec(&bold_sum["years"][1]["capex"]), Decimal::new(170_000_01, 2));
    assert!(bold_sum["npv"].is_string() && bold_sum["risk"].is_string() && bold_sum["alignment"].is_string());

    // Approval makes the plan: one draft version per year whose totals match.
    let approved = app
        .post(PortfolioManager, &format!("/api/v1/scenarios/{lean_id}/approve"), json!({ "cost_center_id": center, "capex_cost_type_id": capex, "opex_cost_type_id": opex }))
        .await
        .expect(200);
    assert_eq!(approved.body["scenario"]["state"], "approved");
    let versions = approved.body["budget_versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    for (k, v) in versions.iter().enumerate() {
        assert_eq!(v["fiscal_year"], 2027 + k as i64);
        assert_eq!(v["state"], "draft");
        let fetched = app.get(Viewer, &format!("/api/v1/budget-versions/{}", v["id"].as_str().unwrap())).await.expect(200);
        let totals = &fetched.body["totals"][0];
        assert_eq!(dec(&totals["capex"]), dec(&lean_sum["years"][k]["capex"]), "{}", fetched.text);
        assert_eq!(dec(&totals["opex"]), dec(&lean_sum["years"][k]["opex"]), "{}", fetched.text);
    }
    // The CRM lines carry the project; the demand's are without one.
    let lines = app.get(Viewer, &format!("/api/v1/budget-versions/{}/lines?per_page=100", versions[0]["id"].as_str().unwrap())).await.expect(200);
    let items = lines.body["items"].as_array().unwrap();
    assert!(items.iter().any(|l| l["project_id"] == crm.as_str()));
    assert!(items.iter().any(|l| l["project_id"].is_null() && l["note"].as_str().unwrap().contains("Chatbot")));

    // An approved scenario no longer changes; a second approval is refused.
    app.send(Some(PortfolioManager), Method::PUT, &format!("/api/v1/scenarios/{lean_id}/items"), Some(json!({ "items": [] })), None)
        .await
        .expect_problem(409, None);
    app.post(PortfolioManager, &format!("/api/v1/scenarios/{lean_id}/approve"), json!({ "cost_center_id": center, "capex_cost_type_id": capex, "opex_cost_type_id": opex }))
        .await
        .expect_problem(409, None);
    // A cost type of the wrong classification is refused, and nothing is written.
    let before = app.count("budget_versions").await;
    app.post(PortfolioManager, &format!("/api/v1/scenarios/{bold_id}/approve"), json!({ "cost_center_id": center, "capex_cost_type_id": opex, "opex_cost_type_id": opex }))
        .await
        .expect_problem(422, Some("/capex_cost_type_id"));
    assert_eq!(app.count("budget_versions").await, before);
});

db_test!(
    /// The value map shows each open item's cost, benefit, risk and its NPV at
    /// the finance settings' discount rate, each year discounted at its end.
    async fn the_value_map_shows_cost_benefit_risk_and_npv_at_the_settings_rate(app) {
        let portfolio_id = portfolio(&app).await;
        let id = project(&app, &portfolio_id, "CRM rollout", &[(2027, d(100), d(10), d(0)), (2028, d(0), d(10), d(242))]).await;
        let map = app.get(Viewer, &format!("/api/v1/portfolios/{portfolio_id}/value-map")).await.expect(200);
        assert_eq!(map.body["discount_rate"], "0.08");
        let item = map.body["items"].as_array().unwrap().iter().find(|i| i["item_id"] == id.as_str()).expect("the project").clone();
        assert_eq!(dec(&item["cost"]), d(120));
        assert_eq!(dec(&item["benefit"]), d(242));
        assert_eq!(item["risk"], 3);
        // -110 / 1.08 + 232 / 1.08² = 97.0508…, rounded to cents.
        assert_eq!(dec(&item["npv"]), "97.05".parse::<Decimal>().unwrap());
        app.get(Viewer, "/api/v1/portfolios/no-such-portfolio/value-map").await.expect_problem(404, None);
    }
);
