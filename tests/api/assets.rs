use itbm::auth::Role::{Finance, PortfolioManager, Viewer};
use serde_json::{Value, json};

use crate::db_test;
use crate::ledger::{Fixture, fixtures};
use crate::support::{Reply, TestApp};

fn laptop(f: &Fixture, tag: &str) -> Value {
    json!({
        "name": format!("Laptop {tag}"),
        "kind": "hardware",
        "asset_tag": tag,
        "serial_number": format!("SN-{tag}"),
        "model": "ThinkPad X1",
        "vendor_id": f.vendor_id,
        "purchase_cost": "1499.00",
        "currency": "USD",
        "acquisition_date": "2026-01-10",
        "in_service_date": "2026-01-15",
        "depreciation_method": "straight_line",
        "useful_life_months": 36,
        "residual_value": "100.00",
        "cost_center_id": f.cost_center_id,
        "service_id": f.service_id,
    })
}

async fn create(app: &TestApp, body: Value) -> Reply {
    app.post(Finance, "/api/v1/assets", body).await
}

db_test!(async fn an_asset_is_registered_with_its_cost_depreciation_and_source_ids(app) {
    let f = fixtures(&app).await;
    let mut body = laptop(&f, "A-0001");
    body["source_ids"] = json!([{ "source": "intune", "external_id": "dev-42" }, { "source": "cmdb", "external_id": "CI0001" }]);
    let created = create(&app, body).await.expect(201);
    assert_eq!(created.etag(), "\"1\"");
    let fetched = app.get(Viewer, &format!("/api/v1/assets/{}", created.id())).await.expect(200);
    assert_eq!(fetched.body["purchase_cost"], "1499.00");
    assert_eq!(fetched.body["residual_value"], "100.00");
    assert_eq!(fetched.body["state"], "in_stock", "a registered asset starts in stock unless told otherwise");
    assert_eq!(fetched.body["depreciation_convention"], "full_month");
    assert_eq!(fetched.body["source_ids"], json!([
        { "source": "cmdb", "external_id": "CI0001" },
        { "source": "intune", "external_id": "dev-42" },
    ]));
    let minimal = create(&app, json!({ "name": "Office licence", "kind": "licence" })).await.expect(201);
    assert_eq!(minimal.body["currency"], "USD", "the reporting currency is the default");
    assert_eq!(minimal.body["residual_value"], "0");
    assert_eq!(minimal.body["depreciation_method"], "none");
});

db_test!(async fn a_negative_purchase_cost_is_refused(app) {
    let f = fixtures(&app).await;
    let mut body = laptop(&f, "A-0002");
    body["purchase_cost"] = json!("-1.00");
    body["residual_value"] = json!("0");
    create(&app, body).await.expect_problem(422, Some("/purchase_cost"));
    assert_eq!(app.count("assets").await, 0);
});

db_test!(async fn a_residual_value_above_the_purchase_cost_is_refused(app) {
    let f = fixtures(&app).await;
    let mut body = laptop(&f, "A-0003");
    body["residual_value"] = json!("1500.00");
    create(&app, body).await.expect_problem(422, Some("/residual_value"));

    let mut body = laptop(&f, "A-0003");
    body["residual_value"] = json!("-1");
    create(&app, body).await.expect_problem(422, Some("/residual_value"));

    let mut body = laptop(&f, "A-0003");
    body["in_service_date"] = json!("2026-01-01");
    body["useful_life_months"] = json!(601);
    body["vendor_id"] = json!("nope");
    let refused = create(&app, body).await.expect_problem(422, Some("/in_service_date"));
    assert!(refused.text.contains("/useful_life_months") && refused.text.contains("/vendor_id"), "{}", refused.text);

    let mut body = laptop(&f, "A-0003");
    body["useful_life_months"] = Value::Null;
    create(&app, body).await.expect_problem(422, Some("/useful_life_months"));
    assert_eq!(app.count("assets").await, 0);
});

db_test!(async fn asset_tags_and_source_ids_each_name_one_asset(app) {
    let f = fixtures(&app).await;
    let mut first = laptop(&f, "A-0010");
    first["source_ids"] = json!([{ "source": "intune", "external_id": "dev-1" }]);
    create(&app, first).await.expect(201);

    let mut same_source_id = laptop(&f, "A-0011");
    same_source_id["source_ids"] = json!([{ "source": "intune", "external_id": "dev-1" }]);
    let refused = create(&app, same_source_id).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("dev-1"), "{}", refused.text);
    create(&app, laptop(&f, "A-0010")).await.expect_problem(409, None);
    let mut twice = laptop(&f, "A-0012");
    twice["source_ids"] = json!([{ "source": "x", "external_id": "1" }, { "source": "x", "external_id": "1" }]);
    create(&app, twice).await.expect_problem(422, Some("/source_ids/1"));
    assert_eq!(app.count("assets").await, 1);
    assert_eq!(app.count("asset_source_ids").await, 1);

    let mut other_source = laptop(&f, "A-0013");
    other_source["source_ids"] = json!([{ "source": "cmdb", "external_id": "dev-1" }]);
    create(&app, other_source).await.expect(201);
});

db_test!(async fn asset_lifecycle_refuses_illegal_steps_with_409_listing_the_legal_ones(app) {
    let f = fixtures(&app).await;
    let mut body = laptop(&f, "A-0020");
    body["state"] = json!("requested");
    let id = create(&app, body).await.expect(201).id();
    let path = format!("/api/v1/assets/{id}/transitions");

    let refused = app.post(Finance, &path, json!({ "to": "deployed" })).await.expect_problem(409, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("ordered, disposed"), "{}", refused.text);
    assert_eq!(app.get(Viewer, &format!("/api/v1/assets/{id}")).await.body["state"], "requested");

    for step in ["ordered", "in_stock", "deployed", "in_maintenance", "deployed", "retired", "disposed"] {
        let moved = app.post(Finance, &path, json!({ "to": step, "reason": "test" })).await.expect(200);
        assert_eq!(moved.body["state"], step);
    }
    let last = app.post(Finance, &path, json!({ "to": "in_stock" })).await.expect_problem(409, None);
    assert!(last.body["detail"].as_str().unwrap().contains("final"), "{}", last.text);
    app.post(Finance, &path, json!({ "to": "cancelled" })).await.expect_problem(422, Some("/to"));
});

db_test!(async fn asset_changes_need_if_match_and_refuse_stale_versions(app) {
    let f = fixtures(&app).await;
    let id = create(&app, laptop(&f, "A-0030")).await.expect(201).id();
    let path = format!("/api/v1/assets/{id}");
    app.patch(Finance, &path, json!({ "model": "X2" }), None).await.expect_problem(428, None);
    let updated = app
        .patch(Finance, &path, json!({ "model": "X2", "source_ids": [{ "source": "cmdb", "external_id": "CI9" }] }), Some("\"1\""))
        .await
        .expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    assert_eq!(updated.body["source_ids"][0]["external_id"], "CI9");
    app.patch(Finance, &path, json!({ "model": "X3" }), Some("\"1\"")).await.expect_problem(412, None);
    app.patch(Finance, &path, json!({ "state": "disposed" }), Some("\"2\"")).await.expect_problem(422, None);
    app.patch(Finance, &path, json!({ "purchase_cost": "-5" }), Some("\"2\"")).await.expect_problem(422, Some("/purchase_cost"));
    let current = app.get(Viewer, &path).await.expect(200);
    assert_eq!(current.body["model"], "X2");
    assert_eq!(current.body["state"], "in_stock");
    assert_eq!(current.body["purchase_cost"], "1499.00");
    assert_eq!(current.etag(), "\"2\"");
});

db_test!(async fn assets_are_filtered_searched_and_sorted_with_missing_dates_last(app) {
    let f = fixtures(&app).await;
    for (tag, end_of_life, kind) in [("A-1", Some("2027-01-01"), "hardware"), ("A-2", None, "hardware"), ("A-3", Some("2026-06-30"), "software")] {
        let mut body = laptop(&f, tag);
        body["end_of_life"] = json!(end_of_life);
        body["kind"] = json!(kind);
        create(&app, body).await.expect(201);
    }
    let tags = |reply: &Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|a| a["asset_tag"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(tags(&app.get(Viewer, "/api/v1/assets?sort=end_of_life").await.expect(200)), ["A-3", "A-1", "A-2"]);
    assert_eq!(tags(&app.get(Viewer, "/api/v1/assets?sort=-end_of_life").await.expect(200)), ["A-1", "A-3", "A-2"]);
    assert_eq!(tags(&app.get(Viewer, "/api/v1/assets?end_of_life_before=2026-12-31").await.expect(200)), ["A-3"]);
    assert_eq!(tags(&app.get(Viewer, "/api/v1/assets?kind=software").await.expect(200)), ["A-3"]);
    assert_eq!(tags(&app.get(Viewer, "/api/v1/assets?q=sn-a-2").await.expect(200)), ["A-2"]);
    assert_eq!(tags(&app.get(Viewer, &format!("/api/v1/assets?vendor_id={}&state=in_stock&sort=-asset_tag", f.vendor_id)).await.expect(200)), ["A-3", "A-2", "A-1"]);
    for hostile in ["x'%20OR%20'1'='1", "%25", "_"] {
        let found = app.get(Viewer, &format!("/api/v1/assets?q={hostile}&cost_center_id={hostile}")).await.expect(200);
        assert_eq!(found.body["total"], 0);
    }
    app.get(Viewer, "/api/v1/assets?state=lost").await.expect_problem(400, Some("state"));
    app.get(Viewer, "/api/v1/assets?sort=purchase_cost").await.expect_problem(422, Some("sort"));
    assert_eq!(app.count("assets").await, 3);
});

db_test!(async fn connectors_find_assets_by_source_id_serial_or_tag(app) {
    let f = fixtures(&app).await;
    let mut body = laptop(&f, "A-0040");
    body["source_ids"] = json!([{ "source": "aws", "external_id": "i-0abc" }]);
    let id = create(&app, body).await.expect(201).id();
    let mut db = app.db.clone();
    let found = itbm::assets::find_by_source(&mut db, "aws", "i-0abc").await.unwrap().expect("found by source id");
    assert_eq!(found.id, id);
    assert!(itbm::assets::find_by_source(&mut db, "azure", "i-0abc").await.unwrap().is_none());
    let by_serial = itbm::assets::find_by_serial_or_tag(&mut db, Some("SN-A-0040"), None).await.unwrap();
    assert_eq!(by_serial.len(), 1);
    let by_tag = itbm::assets::find_by_serial_or_tag(&mut db, None, Some("A-0040")).await.unwrap();
    assert_eq!(by_tag[0].source_ids[0].external_id, "i-0abc");
    assert!(itbm::assets::find_by_serial_or_tag(&mut db, Some("none"), Some("none")).await.unwrap().is_empty());
});

db_test!(async fn an_asset_with_ledger_lines_cannot_be_deleted(app) {
    let f = fixtures(&app).await;
    let id = create(&app, laptop(&f, "A-0050")).await.expect(201).id();
    app.post(Finance, "/api/v1/ledger/lines", json!({
        "entry_date": "2026-01-10", "amount": "1499.00", "currency": "USD",
        "cost_type_id": f.capex_type_id, "cost_center_id": f.cost_center_id, "asset_id": id,
    }))
    .await
    .expect(201);
    app.delete(Finance, &format!("/api/v1/assets/{id}"), None).await.expect_problem(409, None);
    assert_eq!(app.count("assets").await, 1);
    let spare = create(&app, laptop(&f, "A-0051")).await.expect(201).id();
    app.delete(Finance, &format!("/api/v1/assets/{spare}"), Some("\"1\"")).await.expect(204);
    assert_eq!(app.count("assets").await, 1);
});

db_test!(async fn only_finance_and_admin_write_assets(app) {
    let f = fixtures(&app).await;
    let id = create(&app, laptop(&f, "A-0060")).await.expect(201).id();
    let path = format!("/api/v1/assets/{id}");
    for role in [Viewer, PortfolioManager] {
        app.post(role, "/api/v1/assets", laptop(&f, "A-0061")).await.expect_problem(403, None);
        app.patch(role, &path, json!({ "model": "X" }), Some("\"1\"")).await.expect_problem(403, None);
        app.post(role, &format!("{path}/transitions"), json!({ "to": "deployed" })).await.expect_problem(403, None);
        app.delete(role, &path, Some("\"1\"")).await.expect_problem(403, None);
    }
    assert_eq!(app.count("assets").await, 1);
    let current = app.get(Viewer, &path).await.expect(200);
    assert_eq!(current.body["state"], "in_stock");
    assert_eq!(current.etag(), "\"1\"");
});
