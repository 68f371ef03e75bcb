use itbm::auth::Role::{self, Admin, Finance, PortfolioManager, Viewer};
use itbm::db::query;
use reqwest::Method;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::{Reply, TestApp};

/// Finance master data made with SQL, independent of the finance API.
pub struct Fixture {
    pub cost_center_id: String,
    pub capex_type_id: String,
    pub opex_type_id: String,
    pub vendor_id: String,
    pub service_id: String,
}

pub async fn fixtures(app: &TestApp) -> Fixture {
    fixtures_in(&app.db).await
}

pub async fn fixtures_in(db: &itbm::db::Db) -> Fixture {
    let mut db = db.clone();
    let now = chrono::Utc::now();
    query("INSERT INTO cost_centers (id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind("cc-it-ops")
        .bind("IT-OPS")
        .bind("IT Operations")
        .bind(now)
        .execute(&mut db)
        .await
        .unwrap();
    for (id, code, classification) in [("ct-hw", "HW", "capex"), ("ct-cloud", "CLOUD", "opex")] {
        query("INSERT INTO cost_types (id, code, name, classification, created_at, updated_at) VALUES ($1, $2, $2, $3, $4, $4)")
            .bind(id)
            .bind(code)
            .bind(classification)
            .bind(now)
            .execute(&mut db)
            .await
            .unwrap();
    }
    query("INSERT INTO vendors (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)")
        .bind("vendor-acme")
        .bind("Acme Cloud")
        .bind(now)
        .execute(&mut db)
        .await
        .unwrap();
    query("INSERT INTO services (id, code, name, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind("svc-crm")
        .bind("CRM")
        .bind("Customer relationship management")
        .bind("application")
        .bind(now)
        .execute(&mut db)
        .await
        .unwrap();
    Fixture {
        cost_center_id: "cc-it-ops".into(),
        capex_type_id: "ct-hw".into(),
        opex_type_id: "ct-cloud".into(),
        vendor_id: "vendor-acme".into(),
        service_id: "svc-crm".into(),
    }
}

fn line(f: &Fixture, date: &str, amount: &str) -> Value {
    json!({
        "entry_date": date,
        "amount": amount,
        "currency": "USD",
        "cost_type_id": f.opex_type_id,
        "cost_center_id": f.cost_center_id,
    })
}

async fn post_line(app: &TestApp, body: Value) -> Reply {
    app.post(Finance, "/api/v1/ledger/lines", body).await
}

/// Posts a line with an `Idempotency-Key` header.
async fn post_keyed(app: &TestApp, key: &str, body: Value) -> Reply {
    let response = app
        .client
        .post(format!("{}/api/v1/ledger/lines", app.base))
        .bearer_auth(app.token(Finance).await)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

async fn import(app: &TestApp, role: Role, csv: &str) -> Reply {
    app.send_raw(role, Method::POST, "/api/v1/ledger/imports", "text/csv", csv.as_bytes().to_vec()).await
}

fn error_pointers(reply: &Reply) -> Vec<String> {
    reply.body["errors"].as_array().unwrap().iter().filter_map(|e| e["pointer"].as_str().map(str::to_owned)).collect()
}

db_test!(async fn a_manual_line_keeps_its_amount_to_the_last_digit(app) {
    let f = fixtures(&app).await;
    for amount in ["0.00000080000", "-125.50", "999999999999999.999999999999"] {
        let created = post_line(&app, line(&f, "2026-03-15", amount)).await.expect(201);
        assert_eq!(created.etag(), "\"1\"");
        assert_eq!(created.headers["location"], format!("/api/v1/ledger/lines/{}", created.id()));
        let fetched = app.get(Viewer, &format!("/api/v1/ledger/lines/{}", created.id())).await.expect(200);
        assert_eq!(fetched.body["amount"], amount);
        assert_eq!(fetched.body["source"], "manual");
        assert!(!fetched.body["source_key"].as_str().unwrap().is_empty(), "a source key is generated");
    }
    let numeric = post_line(&app, json!({ "entry_date": "2026-03-15", "amount": 0.1, "currency": "USD",
        "cost_type_id": f.opex_type_id, "cost_center_id": f.cost_center_id })).await.expect(201);
    assert_eq!(numeric.body["amount"], "0.1", "a JSON number is read exactly, not as a float");
});

db_test!(async fn the_fiscal_period_is_computed_from_the_entry_date_and_the_calendar(app) {
    let f = fixtures(&app).await;
    query("UPDATE settings SET fiscal_year_start_month = 7").execute(&mut app.db.clone()).await.unwrap();
    let august = post_line(&app, line(&f, "2026-08-15", "10")).await.expect(201);
    assert_eq!(august.body["fiscal_period"], "FY2027-P02");
    let june = post_line(&app, line(&f, "2026-06-30", "10")).await.expect(201);
    assert_eq!(june.body["fiscal_period"], "FY2026-P12");

    let moved = app
        .patch(Finance, &format!("/api/v1/ledger/lines/{}", june.id()), json!({ "entry_date": "2026-07-01" }), Some("\"1\""))
        .await
        .expect(200);
    assert_eq!(moved.body["fiscal_period"], "FY2027-P01", "moving the date moves the period");
    let period = app.get(Viewer, "/api/v1/ledger/lines?fiscal_period=FY2027-P01").await.expect(200);
    assert_eq!(period.body["total"], 1);
    app.get(Viewer, "/api/v1/ledger/lines?fiscal_period=2027-01").await.expect_problem(400, Some("fiscal_period"));
});

db_test!(async fn the_same_idempotency_key_twice_stores_one_line(app) {
    let f = fixtures(&app).await;
    let first = post_keyed(&app, "inv-2026-0042", line(&f, "2026-03-01", "1200.00")).await.expect(201);
    assert_eq!(first.headers["idempotent-replayed"], "false");
    assert_eq!(first.body["source_key"], "inv-2026-0042");
    let again = post_keyed(&app, "inv-2026-0042", line(&f, "2026-03-01", "1200.00")).await.expect(200);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.id(), first.id());
    assert_eq!(app.count("ledger_lines").await, 1);

    // A source_key in the body works the same way.
    let mut keyed = line(&f, "2026-03-02", "5");
    keyed["source_key"] = json!("k-7");
    post_line(&app, keyed.clone()).await.expect(201);
    post_line(&app, keyed).await.expect(200);
    assert_eq!(app.count("ledger_lines").await, 2);

    let mut conflicting = line(&f, "2026-03-02", "5");
    conflicting["source_key"] = json!("k-8");
    post_keyed(&app, "k-9", conflicting).await.expect_problem(422, Some("/source_key"));
    assert_eq!(app.count("ledger_lines").await, 2);
});

db_test!(async fn a_csv_file_is_imported_with_codes_names_and_ids(app) {
    let f = fixtures(&app).await;
    let portfolio = crate::portfolio::portfolio(&app).await;
    let project = crate::portfolio::project(&app, &portfolio, "Cloud migration").await;
    let project_code = project["code"].as_str().unwrap();
    // A BOM, CRLF line ends, a quoted field with a comma, quotes and a line break.
    let csv = format!(
        "\u{feff}entry_date,amount,currency,cost_type,cost_center,project,vendor,service,tower,cost_pool,description,tags,source_key\r\n\
         2026-01-31,0.00000080000,USD,CLOUD,IT-OPS,{project_code},Acme Cloud,CRM,v5:COMPUTE,pool-v5-cloud,\"Compute, \"\"spot\"\"\r\nJanuary\",\"{{\"\"env\"\":\"\"prod\"\"}}\",bill-1\r\n\
         2026-02-28,-125.50,USD,ct-hw,cc-it-ops,,vendor-acme,,,,Credit note,,bill-2\r\n\
         \r\n\
         2026-03-31,42,EUR,HW,IT-OPS,,,,,,,,bill-3\r\n"
    );
    let reply = import(&app, Finance, &csv).await.expect(200);
    assert_eq!(reply.body, json!({ "inserted": 3, "duplicates": 0, "rows": 3 }));

    let listed = app.get(Viewer, "/api/v1/ledger/lines?source=csv&sort=entry_date").await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["amount"], "0.00000080000");
    assert_eq!(items[0]["project_id"], project["id"]);
    assert_eq!(items[0]["vendor_id"], f.vendor_id);
    assert_eq!(items[0]["service_id"], f.service_id);
    assert_eq!(items[0]["tower_id"], "tower-v5-compute");
    assert_eq!(items[0]["cost_pool_id"], "pool-v5-cloud");
    assert_eq!(items[0]["description"], "Compute, \"spot\"\r\nJanuary");
    assert_eq!(items[0]["tags"], json!({ "env": "prod" }));
    assert_eq!(items[0]["fiscal_period"], "FY2026-P01");
    assert_eq!(items[1]["amount"], "-125.50");
    assert_eq!(items[1]["cost_type_id"], f.capex_type_id);
    assert_eq!(items[2]["currency"], "EUR");
    assert_eq!(items[2]["source_key"], "bill-3");
});

db_test!(async fn importing_the_same_file_twice_inserts_nothing_the_second_time(app) {
    fixtures(&app).await;
    let csv = "entry_date,amount,currency,cost_type,cost_center,source_key\n\
               2026-01-31,10.00,USD,CLOUD,IT-OPS,a\n\
               2026-01-31,20.00,USD,CLOUD,IT-OPS,b\n";
    import(&app, Finance, csv).await.expect(200);
    let again = import(&app, Finance, csv).await.expect(200);
    assert_eq!(again.body, json!({ "inserted": 0, "duplicates": 2, "rows": 2 }));
    assert_eq!(app.count("ledger_lines").await, 2);

    // The same keys from another source are other lines.
    let other = app.send_raw(Finance, Method::POST, "/api/v1/ledger/imports?source=erp", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(other.expect(200).body["inserted"], 2);
    assert_eq!(app.count("ledger_lines").await, 4);
});

db_test!(async fn a_csv_with_bad_rows_is_refused_whole_naming_each_row_and_column(app) {
    fixtures(&app).await;
    let csv = "entry_date,amount,currency,cost_type,cost_center,source_key\n\
               2026-01-31,10.00,USD,CLOUD,IT-OPS,ok-1\n\
               2026-01-31,12,50,USD,CLOUD,IT-OPS,too-many-fields\n\
               2026-01-31,ten,USD,CLOUD,IT-OPS,bad-amount\n\
               2026-01-31,10.00,USD,CLOUD,NO-SUCH-CC,bad-cost-center\n\
               31/01/2026,10.00,USD,CLOUD,IT-OPS,bad-date\n\
               2026-01-31,100000000000000000000,USD,CLOUD,IT-OPS,too-large\n\
               2026-01-31,0.0000000000001,XXX,CLOUD,IT-OPS,too-precise\n";
    let refused = import(&app, Finance, csv).await.expect_problem(422, Some("/rows/3/amount"));
    assert_eq!(
        error_pointers(&refused),
        ["/rows/2", "/rows/3/amount", "/rows/4/cost_center", "/rows/5/entry_date", "/rows/6/amount", "/rows/7/amount", "/rows/7/currency"]
    );
    let details: Vec<&str> = refused.body["errors"].as_array().unwrap().iter().map(|e| e["detail"].as_str().unwrap()).collect();
    assert!(details[1].starts_with("data row 3 (line 4 of the file): amount \"ten\""), "{}", details[1]);
    assert!(details[2].contains("NO-SUCH-CC"), "{}", details[2]);
    assert_eq!(app.count("ledger_lines").await, 0, "not even the good row is written");
});

db_test!(async fn a_csv_with_unknown_or_missing_columns_is_refused_by_name(app) {
    fixtures(&app).await;
    let csv = "entry_date,amount,currency,cost_type,cost_centre,colour\n2026-01-31,1,USD,CLOUD,IT-OPS,red\n";
    let refused = import(&app, Finance, csv).await.expect_problem(422, Some("/header/4"));
    assert!(refused.text.contains("unknown column \\\"colour\\\""), "{}", refused.text);
    assert!(refused.text.contains("\\\"source_key\\\" is missing"), "{}", refused.text);
    import(&app, Finance, "").await.expect_problem(422, Some("/header"));
    import(&app, Finance, "entry_date,amount,currency,cost_type,cost_center,source_key\n").await.expect_problem(422, Some("/rows"));
    let json = app.send_raw(Finance, Method::POST, "/api/v1/ledger/imports", "application/json", b"{}".to_vec()).await;
    json.expect_problem(400, Some("content-type"));
    app.send_raw(Finance, Method::POST, "/api/v1/ledger/imports?source=manual", "text/csv", csv.as_bytes().to_vec())
        .await
        .expect_problem(422, Some("source"));
    assert_eq!(app.count("ledger_lines").await, 0);
});

db_test!(async fn a_csv_import_may_be_larger_than_a_json_body(app) {
    fixtures(&app).await;
    // 2 MiB is over the 1 MiB JSON limit but within the import's: the body is
    // read and its one row judged on its merits.
    let csv = format!(
        "entry_date,amount,currency,cost_type,cost_center,description,source_key\n2026-01-31,1,USD,CLOUD,IT-OPS,{},big\n",
        "x".repeat(2 * 1024 * 1024)
    );
    import(&app, Finance, &csv).await.expect_problem(422, Some("/rows/1/description"));
    assert_eq!(app.count("ledger_lines").await, 0);
});

db_test!(async fn ledger_changes_need_if_match_and_refuse_stale_versions(app) {
    let f = fixtures(&app).await;
    let id = post_line(&app, line(&f, "2026-03-15", "100.00")).await.expect(201).id();
    let path = format!("/api/v1/ledger/lines/{id}");

    app.patch(Finance, &path, json!({ "amount": "1" }), None).await.expect_problem(428, None);
    let updated = app.patch(Finance, &path, json!({ "amount": "-100.00", "tags": { "fix": "sign" } }), Some("\"1\"")).await.expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    app.patch(Finance, &path, json!({ "amount": "5" }), Some("\"1\"")).await.expect_problem(412, None);
    app.patch(Finance, &path, json!({ "source_key": "mine" }), Some("\"2\"")).await.expect_problem(422, None);
    app.patch(Finance, &path, json!({ "source": "csv" }), Some("\"2\"")).await.expect_problem(422, None);
    app.patch(Finance, &path, json!({ "cost_center_id": "nope" }), Some("\"2\"")).await.expect_problem(422, Some("/cost_center_id"));
    let current = app.get(Viewer, &path).await.expect(200);
    assert_eq!(current.body["amount"], "-100.00");
    assert_eq!(current.body["source"], "manual");
    assert_eq!(current.etag(), "\"2\"");

    app.delete(Finance, &path, None).await.expect_problem(428, None);
    app.delete(Finance, &path, Some("\"1\"")).await.expect_problem(412, None);
    assert_eq!(app.count("ledger_lines").await, 1);
    app.delete(Finance, &path, Some("\"2\"")).await.expect(204);
    app.get(Viewer, &path).await.expect_problem(404, None);
});

db_test!(async fn absurd_magnitudes_excess_decimals_and_unknown_references_are_refused(app) {
    let f = fixtures(&app).await;
    for amount in ["100000000000000000000", "1000000000000000.01", "0.0000000000001"] {
        post_line(&app, line(&f, "2026-03-15", amount)).await.expect_problem(422, Some("/amount"));
    }
    let raw = format!(
        r#"{{"entry_date":"2026-03-15","amount":1e20,"currency":"USD","cost_type_id":"{}","cost_center_id":"{}"}}"#,
        f.opex_type_id, f.cost_center_id
    );
    app.send_raw(Finance, Method::POST, "/api/v1/ledger/lines", "application/json", raw.into_bytes())
        .await
        .expect_problem(422, Some("/amount"));
    let mut unknown = line(&f, "2026-03-15", "1");
    unknown["currency"] = json!("XXX");
    unknown["cost_center_id"] = json!("nope");
    unknown["project_id"] = json!("nope");
    unknown["tags"] = json!({ "env": 3 });
    post_line(&app, unknown.clone()).await.expect_problem(422, Some("/tags/env"));
    unknown["tags"] = json!({});
    let refused = post_line(&app, unknown).await.expect_problem(422, Some("/currency"));
    assert_eq!(error_pointers(&refused), ["/currency", "/cost_center_id", "/project_id"]);
    post_line(&app, line(&f, "1999-12-31", "1")).await.expect_problem(422, Some("/entry_date"));
    assert_eq!(app.count("ledger_lines").await, 0);
});

db_test!(async fn lines_are_filtered_by_period_dates_and_dimensions(app) {
    let f = fixtures(&app).await;
    for (date, amount) in [("2026-01-10", "1"), ("2026-02-10", "2"), ("2026-03-10", "3")] {
        post_line(&app, line(&f, date, amount)).await.expect(201);
    }
    let mut capex = line(&f, "2026-02-20", "4");
    capex["cost_type_id"] = json!(f.capex_type_id);
    capex["vendor_id"] = json!(f.vendor_id);
    post_line(&app, capex).await.expect(201);

    let between = app.get(Viewer, "/api/v1/ledger/lines?from=2026-02-01&to=2026-02-28&sort=-entry_date").await.expect(200);
    let amounts: Vec<&str> = between.body["items"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["4", "2"]);
    let by_type = app.get(Viewer, &format!("/api/v1/ledger/lines?cost_type_id={}", f.capex_type_id)).await.expect(200);
    assert_eq!(by_type.body["total"], 1);
    let by_vendor = app.get(Viewer, &format!("/api/v1/ledger/lines?vendor_id={}&currency=USD", f.vendor_id)).await.expect(200);
    assert_eq!(by_vendor.body["total"], 1);
    let page = app.get(Viewer, "/api/v1/ledger/lines?per_page=3&page=2").await.expect(200);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["total"], 4);

    let summary = app.get(Viewer, "/api/v1/ledger/summary?group_by=cost_type").await.expect(200);
    assert_eq!(summary.body, json!([
        { "key": f.opex_type_id, "currency": "USD", "amount": "6", "lines": 3 },
        { "key": f.capex_type_id, "currency": "USD", "amount": "4", "lines": 1 },
    ]));
});

db_test!(async fn sql_metacharacters_in_filter_values_are_harmless(app) {
    let f = fixtures(&app).await;
    post_line(&app, line(&f, "2026-03-15", "1")).await.expect(201);
    for hostile in ["x'%20OR%20'1'='1", "%27%3B%20DROP%20TABLE%20ledger_lines%3B--", "%25"] {
        let found = app.get(Viewer, &format!("/api/v1/ledger/lines?cost_center_id={hostile}&source={hostile}")).await.expect(200);
        assert_eq!(found.body["total"], 0);
    }
    app.get(Viewer, "/api/v1/ledger/lines?sort=amount").await.expect_problem(422, Some("sort"));
    app.get(Viewer, "/api/v1/ledger/lines?sort=entry_date;DROP%20TABLE%20ledger_lines").await.expect_problem(422, Some("sort"));
    app.get(Viewer, "/api/v1/ledger/lines?from=yesterday").await.expect_problem(400, Some("from"));
    assert_eq!(app.count("ledger_lines").await, 1);
});

db_test!(async fn only_finance_and_admin_write_the_ledger(app) {
    let f = fixtures(&app).await;
    let id = post_line(&app, line(&f, "2026-03-15", "1")).await.expect(201).id();
    let path = format!("/api/v1/ledger/lines/{id}");
    let csv = "entry_date,amount,currency,cost_type,cost_center,source_key\n2026-01-31,1,USD,CLOUD,IT-OPS,a\n";
    for role in [Viewer, PortfolioManager] {
        app.post(role, "/api/v1/ledger/lines", line(&f, "2026-03-15", "1")).await.expect_problem(403, None);
        import(&app, role, csv).await.expect_problem(403, None);
        app.patch(role, &path, json!({ "amount": "2" }), Some("\"1\"")).await.expect_problem(403, None);
        app.delete(role, &path, Some("\"1\"")).await.expect_problem(403, None);
    }
    assert_eq!(app.count("ledger_lines").await, 1);
    assert_eq!(app.get(Viewer, &path).await.expect(200).body["amount"], "1");
    app.post(Admin, "/api/v1/ledger/lines", line(&f, "2026-03-15", "1")).await.expect(201);
    import(&app, Admin, csv).await.expect(200);
});

db_test!(async fn every_ledger_change_is_audited(app) {
    let f = fixtures(&app).await;
    let id = post_line(&app, line(&f, "2026-03-15", "1.50")).await.expect(201).id();
    app.patch(Finance, &format!("/api/v1/ledger/lines/{id}"), json!({ "amount": "2.50" }), Some("\"1\"")).await.expect(200);
    let log = app.get(Finance, &format!("/api/v1/audit-log?entity=ledger_line&entity_id={id}")).await.expect(200);
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(entries[0]["before"]["amount"], "1.50");
    assert_eq!(entries[0]["after"]["amount"], "2.50");
    assert_eq!(entries[1]["action"], "create");
});
