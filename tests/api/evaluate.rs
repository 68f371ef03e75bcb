//! `POST /api/v1/finance/evaluate`: Excel's financial functions, exactly, by
//! name, for any authenticated role; Excel's errors and bad input as 422
//! problems that say which argument is wrong and why.

use itbm::auth::Role::{Finance, Viewer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;

const PATH: &str = "/api/v1/finance/evaluate";

async fn value_of(app: &TestApp, function: &str, args: Value) -> String {
    let reply = app.post(Viewer, PATH, json!({ "function": function, "args": args })).await.expect(200);
    reply.body["value"].as_str().unwrap_or_else(|| panic!("a decimal string: {}", reply.text)).to_owned()
}

db_test!(async fn any_role_gets_excels_documented_results_as_exact_decimal_strings(app) {
    let xirr = value_of(&app, "XIRR", json!({
        "values": [-10000, 2750, 4250, 3250, 2750],
        "dates": ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"]
    })).await;
    assert_eq!(xirr, "0.3733625335188315", "Excel: 0.373362535, within its tolerance of the exact root");
    let npv = value_of(&app, "NPV", json!({ "rate": "0.1", "values": [-10000, "3000", 4200, 6800] })).await;
    assert_eq!(npv, "1188.4434123352230039", "Excel: $1,188.44");
    let irr = value_of(&app, "IRR", json!({ "values": [-70000, 12000, 15000, 18000, 21000, 26000] })).await;
    assert_eq!(irr, "0.0866309480365316", "Excel: 8.66%");
    let db = value_of(&app, "DB", json!({ "cost": 1000000, "salvage": 100000, "life": 6, "period": 1, "month": 7 })).await;
    assert_eq!(db, "186083.3333333333333333", "Excel: $186,083.33");
    let sln = value_of(&app, "SLN", json!({ "cost": 30000, "salvage": 7500, "life": 10 })).await;
    assert_eq!(sln, "2250", "an exact result stays exact");
});

db_test!(async fn names_are_case_insensitive_and_optional_arguments_take_excels_defaults(app) {
    let end = value_of(&app, "pmt", json!({ "rate": "0.0066666666666666666666666667", "nper": 10, "pv": 10000 })).await;
    assert!(end.starts_with("-1037.0320893591"), "Excel: ($1,037.03); got {end}");
    let explicit = value_of(&app, "Pmt", json!({ "rate": "0.0066666666666666666666666667", "nper": 10, "pv": 10000, "fv": null, "type": 0 })).await;
    assert_eq!(explicit, end);
    let beginning = value_of(&app, "PMT", json!({ "rate": "0.0066666666666666666666666667", "nper": 10, "pv": 10000, "type": 1 })).await;
    assert!(beginning.starts_with("-1030.1643271779"), "Excel: ($1,030.16); got {beginning}");
    let switching = value_of(&app, "vdb", json!({ "cost": 2400, "salvage": 300, "life": 10, "start_period": 0, "end_period": 0.875, "factor": 1.5 })).await;
    assert_eq!(switching, "315", "Excel: $315.00");
    let payback = value_of(&app, "payback", json!({ "values": [-1000, 300, 400, 500] })).await;
    assert_eq!(payback, "2.6");
    let eac = value_of(&app, "EAC", json!({ "rate": 0, "pv": 1200, "nper": 12 })).await;
    assert_eq!(eac, "100");
});

db_test!(async fn json_numbers_are_read_exactly_as_written(app) {
    // 28 significant digits: an f64 would keep 17.
    let body = br#"{"function": "SLN", "args": {"cost": 1.000000000000000000000000001, "salvage": 0, "life": 1}}"#;
    let reply = app.send_raw(Finance, Method::POST, PATH, "application/json", body.to_vec()).await.expect(200);
    assert_eq!(reply.body["value"], "1", "rounded to 16 places only at the end");
    let body = br#"{"function": "SLN", "args": {"cost": 0.1000000000000001, "salvage": 0, "life": 1}}"#;
    let reply = app.send_raw(Finance, Method::POST, PATH, "application/json", body.to_vec()).await.expect(200);
    assert_eq!(reply.body["value"], "0.1000000000000001");
});

db_test!(async fn a_result_that_does_not_exist_is_excels_error_explained(app) {
    // Receiving 1000 now and 100 a period as well: no interest rate fits.
    let reply = app.post(Viewer, PATH, json!({ "function": "RATE", "args": { "nper": 10, "pmt": 100, "pv": 1000 } })).await;
    let reply = reply.expect_problem(422, None);
    assert_eq!(reply.body["type"], "urn:itbm:problem:num");
    assert!(reply.body["detail"].as_str().unwrap().starts_with("#NUM!: no rate"), "{}", reply.text);
});

db_test!(async fn an_argument_outside_the_functions_domain_is_named_with_excels_error(app) {
    let reply = app.post(Viewer, PATH, json!({ "function": "SLN", "args": { "cost": 1000, "salvage": 100, "life": 0 } })).await;
    let reply = reply.expect_problem(422, Some("/args/life"));
    assert!(reply.body["errors"][0]["detail"].as_str().unwrap().starts_with("#DIV/0!"), "{}", reply.text);
    let reply = app.post(Viewer, PATH, json!({ "function": "IRR", "args": { "values": [100, 200] } })).await;
    let reply = reply.expect_problem(422, Some("/args/values"));
    assert!(reply.body["errors"][0]["detail"].as_str().unwrap().starts_with("#NUM!: values must contain at least one positive and one negative"));
    app.post(Viewer, PATH, json!({ "function": "IPMT", "args": { "rate": 0.01, "per": 13, "nper": 12, "pv": 1000 } }))
        .await
        .expect_problem(422, Some("/args/per"));
});

db_test!(async fn an_unknown_function_is_refused_with_the_list_of_known_ones(app) {
    let reply = app.post(Viewer, PATH, json!({ "function": "XIRRR", "args": {} })).await.expect_problem(422, Some("/function"));
    let detail = reply.body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("NPV, XNPV, IRR, XIRR, MIRR") && detail.contains("DISCOUNTED_PAYBACK, ROI, EAC"), "{detail}");
});

db_test!(async fn every_missing_unknown_or_malformed_argument_is_reported_at_its_pointer(app) {
    let reply = app
        .post(Viewer, PATH, json!({ "function": "PMT", "args": { "rate": "eight percent", "nper": 10, "bogus": 1, "type": 2 } }))
        .await
        .expect_problem(422, Some("/args/bogus"));
    for field in ["/args/rate", "/args/pv", "/args/type"] {
        assert!(reply.body["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == field), "{field} in {}", reply.text);
    }
    app.post(Viewer, PATH, json!({ "function": "XNPV", "args": { "rate": 0.1, "values": [-1, 2], "dates": ["2027-01-01", "2/1/2027"] } }))
        .await
        .expect_problem(422, Some("/args/dates/1"));
    app.post(Viewer, PATH, json!({ "function": "XNPV", "args": { "rate": 0.1, "values": [-1, 2], "dates": ["2027-01-01", "2026-12-31"] } }))
        .await
        .expect_problem(422, Some("/args/dates"));
    let too_many: Vec<i64> = (0..1001).collect();
    app.post(Viewer, PATH, json!({ "function": "IRR", "args": { "values": too_many } })).await.expect_problem(422, Some("/args/values"));
    app.post(Viewer, PATH, json!({ "function": "NPV", "args": { "rate": 0.1, "values": [1] }, "extra": true }))
        .await
        .expect_problem(422, None);
});

db_test!(async fn evaluation_needs_a_token(app) {
    let reply = app.send(None, Method::POST, PATH, Some(json!({ "function": "SLN", "args": {} })), None).await;
    reply.expect_problem(401, None);
});
