//! TBM cost allocation, showback and chargeback, and cost reports.

use std::collections::BTreeMap;

use itbm::auth::Role::{Finance, Viewer};
use itbm::db::query;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::{Reply, TestApp};

fn d(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("a decimal string, got {v}")).parse().unwrap()
}

/// A tiny seeded generator, so every failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SERVICES: [&str; 4] = ["svc-email", "svc-crm", "svc-erp", "svc-web"];
const CENTERS: [&str; 4] = ["cc-sales", "cc-finance", "cc-hr", "cc-ops"];
const TOWERS: [&str; 3] = ["tower-v4-compute", "tower-v4-storage", "tower-v4-network"];
const POOLS: [&str; 3] = ["pool-v4-hardware", "pool-v4-software", "pool-v4-staffing"];

/// Cost centers, cost types, services and a EUR rate, made with SQL and the API.
async fn world(app: &TestApp) {
    let mut db = app.db.clone();
    let now = chrono::Utc::now();
    for id in CENTERS {
        query("INSERT INTO cost_centers (id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id)
            .bind(id.to_uppercase())
            .bind(format!("Center {id}"))
            .bind(now)
            .execute(&mut db)
            .await
            .unwrap();
    }
    for (id, class) in [("ct-hw", "capex"), ("ct-cloud", "opex")] {
        query("INSERT INTO cost_types (id, code, name, classification, created_at, updated_at) VALUES ($1, $1, $1, $2, $3, $3)")
            .bind(id)
            .bind(class)
            .bind(now)
            .execute(&mut db)
            .await
            .unwrap();
    }
    for id in SERVICES {
        query("INSERT INTO services (id, code, name, kind, created_at, updated_at) VALUES ($1, $1, $1, 'application', $2, $2)")
            .bind(id)
            .bind(now)
            .execute(&mut db)
            .await
            .unwrap();
    }
    for month in ["2027-01", "2027-02", "2027-03"] {
        app.post(Finance, "/api/v1/exchange-rates", json!({
            "base_currency": "EUR", "quote_currency": "USD", "month": month, "rate_type": "average", "rate": "1.0875"
        }))
        .await
        .expect(201);
    }
}

/// Imports lines as CSV; each tuple is (date, amount, currency, pool, tower, service, tags).
async fn import(app: &TestApp, lines: &[(String, String, &str, Option<&str>, Option<&str>, Option<&str>, String)], start: usize) {
    let mut csv = String::from("entry_date,amount,currency,cost_type,cost_center,source_key,cost_pool,tower,service,tags\n");
    for (i, (date, amount, currency, pool, tower, service, tags)) in lines.iter().enumerate() {
        let cost_type = if i % 3 == 0 { "ct-hw" } else { "ct-cloud" };
        let center = CENTERS[i % CENTERS.len()];
        let tags = tags.replace('"', "\"\"");
        csv.push_str(&format!(
            "{date},{amount},{currency},{cost_type},{center},k{},{},{},{},\"{tags}\"\n",
            start + i,
            pool.unwrap_or(""),
            tower.unwrap_or(""),
            service.unwrap_or("")
        ));
    }
    let reply = app.send_raw(Finance, reqwest::Method::POST, "/api/v1/ledger/imports", "text/csv", csv.into_bytes()).await;
    reply.expect(200);
}

type Line = (String, String, &'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>, String);

/// Random lines in January to March 2027, in USD and EUR, entering the model
/// at pools, towers, services or nowhere, with random `env` tags.
fn random_lines(rng: &mut Rng, n: usize) -> Vec<Line> {
    (0..n)
        .map(|_| {
            let month = 1 + rng.below(3);
            let cents = rng.below(2_000_000) as i64 - 200_000;
            let amount = Decimal::new(cents, 2).to_string();
            let currency = if rng.below(4) == 0 { "EUR" } else { "USD" };
            let (mut pool, mut tower, mut service) = (None, None, None);
            match rng.below(4) {
                0 => pool = Some(POOLS[rng.below(3) as usize]),
                1 => tower = Some(TOWERS[rng.below(3) as usize]),
                2 => service = Some(SERVICES[rng.below(4) as usize]),
                _ => {}
            }
            let tags = match rng.below(3) {
                0 => "{\"env\":\"prod\"}".to_string(),
                1 => "{\"env\":\"dev\",\"team\":\"web\"}".to_string(),
                _ => "{}".to_string(),
            };
            (format!("2027-{month:02}-{:02}", 1 + rng.below(28)), amount, currency, pool, tower, service, tags)
        })
        .collect()
}

/// The converted total of `lines` in `period` (1-based month of 2027), as the server must compute it.
fn expected_total(lines: &[Line], month: Option<u32>) -> Decimal {
    let rate: Decimal = "1.0875".parse().unwrap();
    lines
        .iter()
        .filter(|l| month.is_none_or(|m| l.0.starts_with(&format!("2027-{m:02}"))))
        .map(|l| {
            let a: Decimal = l.1.parse().unwrap();
            if l.2 == "EUR" { a * rate } else { a }
        })
        .sum()
}

/// Random rules: pools to towers or services, towers to services or
/// centers, services to centers, with fixed shares or headcount.
async fn random_rules(app: &TestApp, rng: &mut Rng) {
    let mut sources: Vec<(&str, &str, Vec<(&str, &str)>)> = Vec::new();
    for pool in POOLS {
        let mut targets: Vec<(&str, &str)> = TOWERS.iter().map(|t| ("tower", *t)).collect();
        targets.extend(SERVICES.iter().map(|s| ("service", *s)));
        sources.push(("cost_pool", pool, targets));
    }
    for tower in TOWERS {
        let mut targets: Vec<(&str, &str)> = SERVICES.iter().map(|s| ("service", *s)).collect();
        targets.extend(CENTERS.iter().map(|c| ("cost_center", *c)));
        sources.push(("tower", tower, targets));
    }
    for service in SERVICES {
        sources.push(("service", service, CENTERS.iter().map(|c| ("cost_center", *c)).collect()));
    }
    for (kind, id, candidates) in sources {
        if rng.below(6) == 0 {
            continue; // left without a rule: its money is reported unallocated
        }
        let mut chosen: Vec<(&str, &str)> = candidates.into_iter().filter(|_| rng.below(2) == 0).collect();
        if chosen.is_empty() {
            chosen.push(("cost_center", CENTERS[0]));
        }
        let headcount = kind == "service" && rng.below(3) == 0;
        let targets: Vec<Value> = chosen
            .iter()
            .map(|(k, t)| {
                if headcount {
                    json!({"kind": k, "id": t})
                } else {
                    json!({"kind": k, "id": t, "share": Decimal::new(rng.below(10_000) as i64 + 1, rng.below(3) as u32).to_string()})
                }
            })
            .collect();
        let driver = if headcount { "headcount" } else { "fixed" };
        app.post(Finance, "/api/v1/costs/allocation/rules", json!({
            "name": format!("{kind} {id}"), "source_kind": kind, "source_id": id, "driver": driver,
            "chargeable": rng.below(2) == 0, "targets": targets
        }))
        .await
        .expect(201);
    }
}

async fn put_headcount(app: &TestApp, period: &str, counts: &[(&str, &str)]) {
    let values: Vec<Value> = counts.iter().map(|(c, v)| json!({"node_kind": "cost_center", "node_id": c, "value": v})).collect();
    app.send(Some(Finance), reqwest::Method::PUT, "/api/v1/costs/drivers", Some(json!({
        "driver": "headcount", "fiscal_period": period, "source": "hr", "values": values
    })), None)
    .await
    .expect(200);
}

/// Every node passes on exactly what it received; consumers plus unallocated
/// equal the ledger.
fn assert_conserved(run: &Value, flows: &[Value]) {
    let mut net: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for f in flows {
        let amount = d(&f["amount"]);
        *net.entry((f["source_kind"].as_str().unwrap().into(), f["source_id"].as_str().unwrap().into())).or_default() -= amount;
        *net.entry((f["target_kind"].as_str().unwrap().into(), f["target_id"].as_str().unwrap().into())).or_default() += amount;
    }
    let mut consumers = Decimal::ZERO;
    let mut unallocated = Decimal::ZERO;
    for ((kind, id), amount) in &net {
        match kind.as_str() {
            "ledger" => assert_eq!(-*amount, d(&run["ledger_total"])),
            "cost_center" => consumers += amount,
            "unallocated" => unallocated += amount,
            _ => assert!(amount.is_zero(), "{kind} {id} kept {amount}"),
        }
    }
    assert_eq!(consumers, d(&run["allocated_total"]));
    assert_eq!(unallocated, d(&run["unallocated_total"]));
    assert_eq!(consumers + unallocated, d(&run["ledger_total"]));
}

db_test!(
    /// Seeded random ledgers and rule sets: every run conserves money to the
    /// cent, the ledger total is the converted ledger, and the statements add
    /// up to what reached consumers.
    async fn allocation_conserves_money_for_random_rules_and_amounts(app) {
        world(&app).await;
        for seed in 1..=4u64 {
            let mut rng = Rng(seed);
            query("DELETE FROM allocation_rules").execute(&mut app.db.clone()).await.unwrap();
            let lines = random_lines(&mut rng, 60);
            import(&app, &lines, seed as usize * 1000).await;
            random_rules(&app, &mut rng).await;
            put_headcount(&app, "FY2027-P01", &[("cc-sales", "12"), ("cc-hr", "3.5")]).await;
            let all: Vec<Line> = {
                // Lines of earlier seeds are still in the ledger.
                let mut all = Vec::new();
                for s in 1..=seed {
                    all.extend(random_lines(&mut Rng(s), 60));
                }
                all
            };
            for (month, period) in [(1, "FY2027-P01"), (2, "FY2027-P02")] {
                let run = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": period})).await.expect(201).body;
                assert_eq!(d(&run["ledger_total"]), expected_total(&all, Some(month)), "seed {seed} {period}");
                let id = run["id"].as_str().unwrap();
                let flows = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/flows")).await.expect(200).body;
                assert_conserved(&run, flows.as_array().unwrap());
                let statements = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements")).await.expect(200).body;
                let shown: Decimal = statements.as_array().unwrap().iter().map(|s| d(&s["total"])).sum();
                assert_eq!(shown, d(&run["allocated_total"]));
                let charged = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements?kind=chargeback")).await.expect(200).body;
                let charged_total: Decimal = charged.as_array().unwrap().iter().map(|s| d(&s["total"])).sum();
                let chargeable: Decimal = flows
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["target_kind"] == "cost_center" && f["chargeable"] == true)
                    .map(|f| d(&f["amount"]))
                    .sum();
                assert_eq!(charged_total, chargeable);
            }
        }
    }
);

db_test!(
    /// 100.00 split three ways by equal shares: 33.34, 33.33, 33.33, the odd
    /// cent to the first target by id; a service without a rule and lines
    /// without a TBM mapping are reported unallocated, with their reasons.
    async fn the_odd_cent_goes_to_the_first_target_and_the_rest_is_reported(app) {
        world(&app).await;
        let lines: Vec<Line> = vec![
            ("2027-01-10".into(), "100.00".into(), "USD", None, None, Some("svc-email"), "{}".into()),
            ("2027-01-11".into(), "40.00".into(), "USD", None, None, Some("svc-crm"), "{}".into()),
            ("2027-01-12".into(), "2.50".into(), "USD", None, None, None, "{}".into()),
        ];
        import(&app, &lines, 0).await;
        let targets: Vec<Value> = ["cc-finance", "cc-hr", "cc-sales"].iter().map(|c| json!({"kind": "cost_center", "id": c, "share": "1"})).collect();
        app.post(Finance, "/api/v1/costs/allocation/rules", json!({
            "name": "E-mail by thirds", "source_kind": "service", "source_id": "svc-email", "driver": "fixed", "chargeable": true, "targets": targets
        }))
        .await
        .expect(201);
        let run = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": "FY2027-P01"})).await.expect(201).body;
        assert_eq!(d(&run["ledger_total"]), "142.50".parse().unwrap());
        assert_eq!(d(&run["allocated_total"]), "100.00".parse().unwrap());
        assert_eq!(d(&run["unallocated_total"]), "42.50".parse().unwrap());
        let reasons: BTreeMap<String, Decimal> =
            run["unallocated"].as_array().unwrap().iter().map(|f| (f["target_id"].as_str().unwrap().to_owned(), d(&f["amount"]))).collect();
        assert_eq!(reasons["no_rule"], "40.00".parse().unwrap());
        assert_eq!(reasons["unmapped"], "2.50".parse().unwrap());
        let id = run["id"].as_str().unwrap();
        let finance = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-finance?kind=chargeback")).await.expect(200).body;
        assert_eq!(d(&finance["total"]), "33.34".parse().unwrap());
        assert_eq!(finance["lines"][0]["source_name"], "svc-email svc-email");
        let hr = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-hr")).await.expect(200).body;
        assert_eq!(d(&hr["total"]), "33.33".parse().unwrap());
        let ops = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-ops")).await.expect(200).body;
        assert_eq!(d(&ops["total"]), Decimal::ZERO);
        app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-nope")).await.expect_problem(404, None);
    }
);

db_test!(
    /// Rules send money down the layers only, to targets that exist, with
    /// shares exactly when the driver is fixed; one rule per source; nothing
    /// is written when refused.
    async fn invalid_rules_are_refused_with_the_field_named(app) {
        world(&app).await;
        let base = json!({"name": "r", "source_kind": "service", "source_id": "svc-email", "driver": "fixed",
            "targets": [{"kind": "cost_center", "id": "cc-hr", "share": "1"}]});
        let with = |path: &str, value: Value| {
            let mut body = base.clone();
            let (head, last) = path.rsplit_once('/').unwrap();
            body.pointer_mut(head).unwrap().as_object_mut().unwrap().insert(last.to_owned(), value);
            body
        };
        for (body, field) in [
            (with("/targets/0/kind", json!("tower")), "/targets/0/kind"),
            (with("/targets/0/id", json!("cc-nope")), "/targets/0/id"),
            (with("/targets/0/share", json!("-1")), "/targets/0/share"),
            (with("/driver", json!("headcount")), "/targets/0/share"),
            (with("/source_id", json!("svc-nope")), "/source_id"),
            (with("/source_kind", json!("cost_center")), "/source_kind"),
        ] {
            app.post(Finance, "/api/v1/costs/allocation/rules", body).await.expect_problem(422, Some(field));
        }
        assert_eq!(app.count("allocation_rules").await, 0);
        app.post(Viewer, "/api/v1/costs/allocation/rules", base.clone()).await.expect_problem(403, None);
        let rule = app.post(Finance, "/api/v1/costs/allocation/rules", base.clone()).await.expect(201);
        app.post(Finance, "/api/v1/costs/allocation/rules", base.clone()).await.expect_problem(409, None);
        let path = format!("/api/v1/costs/allocation/rules/{}", rule.id());
        let changed = app.patch(Finance, &path, json!({"chargeable": true}), Some(&rule.etag())).await.expect(200);
        assert_eq!(changed.body["chargeable"], true);
        app.delete(Finance, &path, Some(&changed.etag())).await.expect(204);
    }
);

async fn report(app: &TestApp, spec: Value) -> Value {
    app.post(Viewer, "/api/v1/costs/reports/run", spec).await.expect(200).body
}

async fn download(app: &TestApp, format: &str, spec: &Value) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .client
        .post(format!("{}/api/v1/costs/reports/export?format={format}", app.base))
        .bearer_auth(app.token(Viewer).await)
        .json(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

db_test!(
    /// For random groupings, filters and pivots, a report's total is the
    /// ledger's converted total exactly, and its rows add up to its totals.
    async fn report_totals_equal_ledger_totals(app) {
        world(&app).await;
        let mut rng = Rng(7);
        let lines = random_lines(&mut rng, 150);
        import(&app, &lines, 0).await;
        let dims = ["cost_center", "service", "tower", "cost_pool", "capex_opex", "currency", "provider", "tag:env", "vendor", "project"];
        let everything = expected_total(&lines, None);
        for case in 0..12 {
            let mut group_by: Vec<&str> = dims.iter().copied().filter(|_| rng.below(3) == 0).collect();
            let pivot = rng.below(2) == 0;
            if !pivot && rng.below(2) == 0 {
                group_by.push("fiscal_period");
            }
            let spec = json!({"group_by": group_by, "from_period": "FY2027-P01", "to_period": "FY2027-P03", "pivot_periods": pivot});
            let r = report(&app, spec.clone()).await;
            assert_eq!(d(&r["total"]), everything, "case {case}: {spec}");
            assert_eq!(r["lines"], 150);
            let rows_total: Decimal = r["rows"].as_array().unwrap().iter().map(|row| d(&row["total"])).sum();
            assert_eq!(rows_total, everything);
            let columns = r["columns"].as_array().unwrap().len();
            assert_eq!(columns, if pivot { 3 } else { 1 });
            for (i, total) in r["totals"].as_array().unwrap().iter().enumerate() {
                let column: Decimal = r["rows"].as_array().unwrap().iter().map(|row| d(&row["amounts"][i])).sum();
                assert_eq!(column, d(total));
                if pivot {
                    assert_eq!(d(total), expected_total(&lines, Some(i as u32 + 1)));
                }
            }
        }
        // A filter keeps exactly the lines it names.
        let r = report(&app, json!({"group_by": ["currency"], "from_period": "FY2027-P01", "to_period": "FY2027-P03",
            "filters": {"currency": ["EUR"]}})).await;
        let eur: Decimal = lines.iter().filter(|l| l.2 == "EUR").map(|l| l.1.parse::<Decimal>().unwrap() * "1.0875".parse::<Decimal>().unwrap()).sum();
        assert_eq!(d(&r["total"]), eur);
        let r = report(&app, json!({"group_by": ["service"], "from_period": "FY2027-P01", "to_period": "FY2027-P01",
            "filters": {"service": [null]}})).await;
        let unmapped: Decimal = expected_total(&lines.iter().filter(|l| l.5.is_none()).cloned().collect::<Vec<_>>(), Some(1));
        assert_eq!(d(&r["total"]), unmapped);
        assert!(r["rows"].as_array().unwrap().iter().all(|row| row["keys"][0].is_null()));
    }
);

db_test!(
    /// A change to the ledger shows in the next report: the columnar copy of
    /// the period is rebuilt when its generation moves on.
    async fn reports_follow_ledger_changes(app) {
        world(&app).await;
        let lines: Vec<Line> = vec![("2027-02-03".into(), "10.00".into(), "USD", None, None, Some("svc-web"), "{}".into())];
        import(&app, &lines, 0).await;
        let spec = json!({"group_by": ["service"], "from_period": "FY2027-P02", "to_period": "FY2027-P02"});
        assert_eq!(d(&report(&app, spec.clone()).await["total"]), "10".parse().unwrap());
        let more: Vec<Line> = vec![("2027-02-04".into(), "5.25".into(), "USD", None, None, Some("svc-web"), "{}".into())];
        import(&app, &more, 1).await;
        assert_eq!(d(&report(&app, spec.clone()).await["total"]), "15.25".parse().unwrap());
        query("DELETE FROM ledger_lines WHERE source_key = 'k0'").execute(&mut app.db.clone()).await.unwrap();
        assert_eq!(d(&report(&app, spec.clone()).await["total"]), "5.25".parse().unwrap());
        query("UPDATE ledger_lines SET amount = $1 WHERE source_key = 'k1'")
            .bind("7.75".parse::<Decimal>().unwrap())
            .execute(&mut app.db.clone())
            .await
            .unwrap();
        assert_eq!(d(&report(&app, spec.clone()).await["total"]), "7.75".parse().unwrap());
    }
);

db_test!(
    /// CSV, Parquet and XLSX exports read back to the report's numbers.
    async fn exports_parse_back_to_the_same_numbers(app) {
        world(&app).await;
        let mut rng = Rng(11);
        let lines = random_lines(&mut rng, 80);
        import(&app, &lines, 0).await;
        let spec = json!({"group_by": ["service", "capex_opex"], "from_period": "FY2027-P01", "to_period": "FY2027-P03", "pivot_periods": true});
        let r = report(&app, spec.clone()).await;
        let rows = r["rows"].as_array().unwrap();

        let (headers, csv) = download(&app, "csv", &spec).await;
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let head: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(head, ["service", "capex_opex", "FY2027-P01", "FY2027-P02", "FY2027-P03", "total", "lines"]);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len() + 1);
        for (record, row) in records.iter().zip(rows) {
            assert_eq!(record[5].parse::<Decimal>().unwrap(), d(&row["total"]));
        }
        assert_eq!(&records[rows.len()][0], "total");
        assert_eq!(records[rows.len()][5].parse::<Decimal>().unwrap(), d(&r["total"]));

        let (_, parquet) = download(&app, "parquet", &spec).await;
        use polars::prelude::*;
        let df = ParquetReader::new(std::io::Cursor::new(parquet)).finish().unwrap();
        let totals = df.column("total").unwrap().decimal().unwrap();
        let scale = totals.scale() as u32;
        let sum: i128 = totals.physical().iter().flatten().sum();
        assert_eq!(Decimal::from_i128_with_scale(sum, scale), d(&r["total"]));
        assert_eq!(df.height(), rows.len());

        let (_, xlsx) = download(&app, "xlsx", &spec).await;
        let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut sheet = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
        // The total column (F) of every row and of the total row holds the
        // double nearest the exact amount, which is what Excel reads and shows.
        let cell = |row: usize| -> f64 {
            let name = format!("<c r=\"F{row}\"");
            let at = sheet.find(&name).unwrap_or_else(|| panic!("cell {name}"));
            let v = &sheet[at..];
            let start = v.find("<v>").unwrap() + 3;
            v[start..start + v[start..].find("</v>").unwrap()].parse().unwrap()
        };
        use rust_decimal::prelude::ToPrimitive;
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(cell(i + 2), d(&row["total"]).to_f64().unwrap());
        }
        assert_eq!(cell(rows.len() + 2), d(&r["total"]).to_f64().unwrap());
    }
);

db_test!(
    /// Saved definitions: created, listed, run, exported by name, changed
    /// with If-Match and removed; a bad spec is refused at its pointer.
    async fn saved_report_definitions_run_and_export(app) {
        world(&app).await;
        import(&app, &[("2027-03-01".into(), "99.99".into(), "EUR", Some("pool-v4-hardware"), None, None, "{}".into())], 0).await;
        let spec = json!({"group_by": ["cost_pool"], "from_period": "FY2027-P03", "to_period": "FY2027-P03"});
        app.post(Finance, "/api/v1/costs/reports/definitions", json!({"name": "bad", "spec": {
            "group_by": ["colour"], "from_period": "FY2027-P03", "to_period": "FY2027-P01"}}))
            .await
            .expect_problem(422, Some("/spec/group_by/0"));
        app.post(Viewer, "/api/v1/costs/reports/definitions", json!({"name": "Pools", "spec": spec})).await.expect_problem(403, None);
        let created = app.post(Finance, "/api/v1/costs/reports/definitions", json!({"name": "Pools by month", "spec": spec})).await.expect(201);
        let path = format!("/api/v1/costs/reports/definitions/{}", created.id());
        let listed = app.get(Viewer, "/api/v1/costs/reports/definitions").await.expect(200);
        assert_eq!(listed.body["total"], 1);
        let result = app.get(Viewer, &format!("{path}/result")).await.expect(200).body;
        assert_eq!(d(&result["total"]), "108.739125".parse().unwrap());
        assert_eq!(result["rates"][0]["rate"], "1.0875");
        let response = app.client.get(format!("{}{path}/export?format=csv", app.base)).bearer_auth(app.token(Viewer).await).send().await.unwrap();
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"Pools_by_month.csv\"");
        let renamed = app.patch(Finance, &path, json!({"name": "Pools"}), Some(&created.etag())).await.expect(200);
        app.patch(Finance, &path, json!({"name": "stale"}), Some(&created.etag())).await.expect_problem(412, None);
        app.delete(Finance, &path, Some(&renamed.etag())).await.expect(204);
        app.get(Viewer, &path).await.expect_problem(404, None);
    }
);

db_test!(
    /// A currency without a rate for the period makes a report or run fail
    /// with 422 naming the currency and month, and stores nothing.
    async fn a_missing_rate_is_named_and_nothing_is_stored(app) {
        world(&app).await;
        import(&app, &[("2027-04-01".into(), "10".into(), "EUR", None, None, Some("svc-web"), "{}".into())], 0).await;
        let r: Reply = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": "FY2027-P04"})).await;
        let r = r.expect_problem(422, Some("/"));
        assert!(r.text.contains("EUR") && r.text.contains("2027-04"), "{}", r.text);
        assert_eq!(app.count("allocation_runs").await, 0);
        app.post(Viewer, "/api/v1/costs/reports/run", json!({"from_period": "FY2027-P04", "to_period": "FY2027-P04"}))
            .await
            .expect_problem(422, Some("/"));
    }
);

/// The demo organisation's last complete month: allocation conserves money,
/// reaches every business unit, and its showback report adds up and exports.
async fn demo_allocation_and_showback_add_up(backend: crate::support::Backend) {
    let app = TestApp::start_with(backend, |c| c.demo = true).await;
    let current = app.get(Viewer, "/api/v1/fiscal-periods/current").await.expect(200).body;
    let id: String = current["id"].as_str().unwrap().to_owned();
    let period: itbm::finance::calendar::FiscalPeriod = id.parse().unwrap();
    let last = if period.number == 1 {
        format!("FY{}-P12", period.year - 1)
    } else {
        format!("FY{}-P{:02}", period.year, period.number - 1)
    };
    let run = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": last})).await.expect(201).body;
    let run_id = run["id"].as_str().unwrap();
    let flows = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{run_id}/flows")).await.expect(200).body;
    assert_conserved(&run, flows.as_array().unwrap());
    assert!(d(&run["allocated_total"]) > Decimal::ZERO);
    assert!(d(&run["allocated_total"]) > d(&run["unallocated_total"]), "{run}");
    let statements = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{run_id}/statements")).await.expect(200).body;
    let codes: Vec<&str> = statements.as_array().unwrap().iter().map(|s| s["cost_center_code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 5, "{codes:?}");
    let charged = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{run_id}/statements?kind=chargeback")).await.expect(200).body;
    assert!(charged.as_array().unwrap().iter().any(|s| d(&s["total"]) > Decimal::ZERO));
    let spec = json!({"group_by": ["tower"], "from_period": last, "to_period": last});
    let report = report(&app, spec.clone()).await;
    assert_eq!(d(&report["total"]), d(&run["ledger_total"]));
    let (_, csv) = download(&app, "xlsx", &spec).await;
    assert!(csv.starts_with(b"PK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_allocation_and_showback_add_up_sqlite() {
    demo_allocation_and_showback_add_up(crate::support::Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_allocation_and_showback_add_up_postgres() {
    demo_allocation_and_showback_add_up(crate::support::Backend::Postgres).await
}

db_test!(
    /// Utilisation sent by an ITOM sync weighs a tower's services; a resend
    /// replaces the source's values; bad values are refused by pointer.
    async fn itom_utilisation_weighs_a_towers_services(app) {
        world(&app).await;
        import(&app, &[("2027-01-05".into(), "90.00".into(), "USD", None, Some("tower-v4-compute"), None, "{}".into())], 0).await;
        let targets = json!([{"kind": "service", "id": "svc-email"}, {"kind": "service", "id": "svc-crm"}]);
        app.post(Finance, "/api/v1/costs/allocation/rules", json!({
            "name": "Compute by use", "source_kind": "tower", "source_id": "tower-v4-compute", "driver": "utilisation", "targets": targets
        }))
        .await
        .expect(201);
        let put = |values: Value| {
            json!({"driver": "utilisation", "fiscal_period": "FY2027-P01", "source": "itom:prometheus", "values": values})
        };
        let send = |body: Value| app.send(Some(Finance), reqwest::Method::PUT, "/api/v1/costs/drivers", Some(body), None);
        send(put(json!([{"node_kind": "service", "node_id": "svc-email", "value": "-1"}]))).await.expect_problem(422, Some("/values/0/value"));
        let mut fixed = put(json!([]));
        fixed["driver"] = json!("fixed");
        send(fixed).await.expect_problem(422, Some("/driver"));
        send(put(json!([{"node_kind": "service", "node_id": "svc-email", "value": "5"}]))).await.expect(200);
        send(put(json!([{"node_kind": "service", "node_id": "svc-email", "value": "2"}, {"node_kind": "service", "node_id": "svc-crm", "value": "1"}])))
            .await
            .expect(200);
        let stored = app.get(Viewer, "/api/v1/costs/drivers?driver=utilisation&fiscal_period=FY2027-P01").await.expect(200).body;
        assert_eq!(stored[0]["values"].as_array().unwrap().len(), 2);
        let run = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": "FY2027-P01"})).await.expect(201).body;
        let flows = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{}/flows", run["id"].as_str().unwrap())).await.expect(200).body;
        let to = |id: &str| flows.as_array().unwrap().iter().find(|f| f["target_id"] == id && f["source_kind"] == "tower").map(|f| d(&f["amount"]));
        assert_eq!(to("svc-email"), Some("60.00".parse().unwrap()));
        assert_eq!(to("svc-crm"), Some("30.00".parse().unwrap()));
        // The services have no rules: their money is reported, not lost.
        assert_eq!(d(&run["unallocated_total"]), "90.00".parse().unwrap());
    }
);

db_test!(
    /// A shared service allocates to the applications that use it, which
    /// allocate on to consumers: the engine lets the shared service send
    /// first, and the money arrives whole. Rules that would make services
    /// allocate in a circle are refused, naming the target and the circle.
    async fn shared_services_allocate_to_applications_and_circles_are_refused(app) {
        world(&app).await;
        let lines: Vec<Line> = vec![
            ("2027-01-10".into(), "900.00".into(), "USD", None, None, Some("svc-web"), "{}".into()),
            ("2027-01-11".into(), "100.00".into(), "USD", None, None, Some("svc-crm"), "{}".into()),
        ];
        import(&app, &lines, 0).await;
        let rule = |source: &str, targets: Vec<(&str, &str, &str)>| {
            let targets: Vec<Value> = targets.into_iter().map(|(kind, id, share)| json!({"kind": kind, "id": id, "share": share})).collect();
            json!({"name": format!("{source} out"), "source_kind": "service", "source_id": source, "driver": "fixed", "chargeable": true, "targets": targets})
        };
        // svc-web hosts svc-crm and svc-erp; each application is used by one consumer.
        app.post(Finance, "/api/v1/costs/allocation/rules", rule("svc-web", vec![("service", "svc-crm", "2"), ("service", "svc-erp", "1")])).await.expect(201);
        app.post(Finance, "/api/v1/costs/allocation/rules", rule("svc-crm", vec![("cost_center", "cc-sales", "1")])).await.expect(201);
        let erp = app.post(Finance, "/api/v1/costs/allocation/rules", rule("svc-erp", vec![("cost_center", "cc-finance", "1")])).await.expect(201);

        let run = app.post(Finance, "/api/v1/costs/allocation/runs", json!({"fiscal_period": "FY2027-P01"})).await.expect(201).body;
        assert_eq!((d(&run["allocated_total"]), d(&run["unallocated_total"])), ("1000.00".parse().unwrap(), Decimal::ZERO));
        let id = run["id"].as_str().unwrap();
        let flows = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/flows")).await.expect(200).body;
        assert_conserved(&run, flows.as_array().unwrap());
        let sales = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-sales")).await.expect(200).body;
        assert_eq!(d(&sales["total"]), "700.00".parse().unwrap(), "its own 100.00 and two thirds of hosting");
        let finance = app.get(Viewer, &format!("/api/v1/costs/allocation/runs/{id}/statements/cc-finance")).await.expect(200).body;
        assert_eq!(d(&finance["total"]), "300.00".parse().unwrap());

        // svc-erp → svc-web would close svc-web → svc-erp → svc-web.
        let circle = app
            .patch(Finance, &format!("/api/v1/costs/allocation/rules/{}", erp.id()), json!({"targets": [{"kind": "service", "id": "svc-web", "share": "1"}]}), Some(&erp.etag()))
            .await
            .expect_problem(422, Some("/targets/0/id"));
        assert!(circle.text.contains("svc-erp → svc-web → svc-erp"), "{}", circle.text);
        app.post(Finance, "/api/v1/costs/allocation/rules", rule("svc-email", vec![("service", "svc-email", "1")]))
            .await
            .expect_problem(422, Some("/targets/0/id"));
        // Only the utilisation driver names a metric.
        let mut with_metric = rule("svc-email", vec![("cost_center", "cc-hr", "1")]);
        with_metric["metric"] = json!("cpu_seconds");
        app.post(Finance, "/api/v1/costs/allocation/rules", with_metric).await.expect_problem(422, Some("/metric"));
        assert_eq!(app.count("allocation_rules").await, 3, "nothing written when refused");
    }
);
