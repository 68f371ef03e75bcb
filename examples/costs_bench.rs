//! Benchmark of cost reports and TBM allocation (see bench/costs.md).
//!
//! `costs_bench load`: a fresh database gets master data, allocation rules and
//! N ledger lines resampled from the FOCUS sample with a seed.
//! `costs_bench run`: times the month × cost center × service report cold
//! (building the Parquet copy from the database) and warm (scanning it), and a
//! full allocation run of every period; prints one JSON object per phase with
//! its time and peak resident memory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use itbm::auth::{Principal, Role};
use itbm::costs::reports::{self, ReportSpec};
use itbm::costs::runs::{self, NewRun};
use itbm::costs::Columnar;
use itbm::db::{Backend, Db, Value, query};
use itbm::finance::calendar::{FiscalCalendar, FiscalPeriod};
use rust_decimal::Decimal;

const CENTERS: usize = 40;
const FISCAL_YEAR: i32 = 2025;

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

struct FocusRow {
    cost: Decimal,
    service: usize,
    category: String,
    provider: String,
    vendor: usize,
    capex: bool,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn tower_of(category: &str) -> &'static str {
    match category {
        "Compute" => "tower-v4-compute",
        "Storage" => "tower-v4-storage",
        "Networking" => "tower-v4-network",
        "Databases" | "AI and Machine Learning" | "Integration" => "tower-v4-platform",
        "Security" | "Identity" => "tower-v4-security-compliance",
        "Management and Governance" => "tower-v4-it-management",
        _ => "tower-v4-application",
    }
}

/// Reads the FOCUS sample: costs, services, categories, providers and vendors.
fn read_focus(path: &str) -> anyhow::Result<(Vec<FocusRow>, Vec<(String, String)>, Vec<String>)> {
    let mut reader = csv::Reader::from_path(path)?;
    let headers = reader.headers()?.clone();
    let at = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| anyhow::anyhow!("no column {name}"));
    let (cost, service, category, provider, issuer, charge) =
        (at("BilledCost")?, at("ServiceName")?, at("ServiceCategory")?, at("ProviderName")?, at("InvoiceIssuerName")?, at("ChargeCategory")?);
    let mut services: Vec<(String, String)> = Vec::new();
    let mut vendors: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let r = record?;
        let Ok(amount) = r[cost].parse::<Decimal>() else { continue };
        let name = if r[service].is_empty() || &r[service] == "NULL" { "Other".to_owned() } else { r[service].to_owned() };
        let s = match services.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                services.push((name, r[category].to_owned()));
                services.len() - 1
            }
        };
        let v = match vendors.iter().position(|n| n == &r[issuer]) {
            Some(i) => i,
            None => {
                vendors.push(r[issuer].to_owned());
                vendors.len() - 1
            }
        };
        rows.push(FocusRow {
            cost: amount.round_dp(12),
            service: s,
            category: r[category].to_owned(),
            provider: r[provider].to_owned(),
            vendor: v,
            capex: r[charge].eq_ignore_ascii_case("Purchase"),
        });
    }
    Ok((rows, services, vendors))
}

async fn exec(db: &Db, sql: &str, values: Vec<Value>) -> anyhow::Result<()> {
    let mut q = query(sql.to_owned());
    for v in values {
        q = q.bind(v);
    }
    q.execute(&mut db.clone()).await?;
    Ok(())
}

async fn load(args: &[String]) -> anyhow::Result<()> {
    let url = arg(args, "--database-url").expect("--database-url");
    let lines: u64 = arg(args, "--lines").expect("--lines").replace('_', "").parse()?;
    let seed: u64 = arg(args, "--seed").unwrap_or_else(|| "1".into()).parse()?;
    let focus = arg(args, "--focus").unwrap_or_else(|| "../shared/data/focus/focus_sample_1000.csv".into());
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let (rows, services, vendors) = read_focus(&focus)?;
    let now = Utc::now();
    for (id, class) in [("ct-cloud", "opex"), ("ct-cloud-cap", "capex")] {
        exec(&db, "INSERT INTO cost_types (id, code, name, classification, created_at, updated_at) VALUES ($1, $1, $1, $2, $3, $3)",
            vec![id.into(), class.into(), now.into()]).await?;
    }
    for c in 0..CENTERS {
        exec(&db, "INSERT INTO cost_centers (id, code, name, created_at, updated_at) VALUES ($1, $1, $1, $2, $2)",
            vec![format!("cc-{c:02}").into(), now.into()]).await?;
    }
    for (i, (name, category)) in services.iter().enumerate() {
        exec(&db, "INSERT INTO services (id, code, name, kind, tower_id, created_at, updated_at) VALUES ($1, $1, $2, 'technical_service', $3, $4, $4)",
            vec![format!("svc-{i:02}").into(), name.as_str().into(), tower_of(category).into(), now.into()]).await?;
    }
    for (i, name) in vendors.iter().enumerate() {
        exec(&db, "INSERT INTO vendors (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
            vec![format!("vendor-{i:02}").into(), name.as_str().into(), now.into()]).await?;
    }
    let calendar = FiscalCalendar::new(1).expect("January");
    let start = calendar.year_start(FISCAL_YEAR);
    for m in 0..12u32 {
        let month = start + chrono::Months::new(m);
        exec(&db, "INSERT INTO exchange_rates (id, base_currency, quote_currency, month, rate_type, rate, created_at, updated_at) \
            VALUES ($1, 'EUR', 'USD', $2, 'average', $3, $4, $4)",
            vec![format!("rate-{m}").into(), month.format("%Y-%m").to_string().into(), Decimal::new(10_800 + i64::from(m) * 7, 4).into(), now.into()]).await?;
    }
    // Rules: every tower to its services, equal shares; every service to the cost
    // centers, half of them by fixed shares and half by headcount.
    let mut rng = Rng(seed ^ 0xA11C);
    let mut towers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, (_, category)) in services.iter().enumerate() {
        towers.entry(tower_of(category)).or_default().push(format!("svc-{i:02}"));
    }
    for (tower, svcs) in &towers {
        let targets: Vec<_> = svcs.iter().map(|s| serde_json::json!({"kind": "service", "id": s, "share": "1"})).collect();
        exec(&db, "INSERT INTO allocation_rules (id, name, source_kind, source_id, driver, chargeable, targets, created_at, updated_at) \
            VALUES ($1, $1, 'tower', $2, 'fixed', $3, $4, $5, $5)",
            vec![format!("rule-{tower}").into(), (*tower).into(), false.into(), serde_json::Value::from(targets).to_string().into(), now.into()]).await?;
    }
    for i in 0..services.len() {
        let headcount = i % 2 == 1;
        let chosen: Vec<usize> = (0..CENTERS).filter(|_| rng.below(3) == 0).collect();
        let targets: Vec<_> = chosen
            .into_iter()
            .map(|c| {
                if headcount {
                    serde_json::json!({"kind": "cost_center", "id": format!("cc-{c:02}")})
                } else {
                    serde_json::json!({"kind": "cost_center", "id": format!("cc-{c:02}"), "share": (1 + rng.below(100)).to_string()})
                }
            })
            .collect();
        let targets = if targets.is_empty() { vec![serde_json::json!({"kind": "cost_center", "id": "cc-00", "share": "1"})] } else { targets };
        exec(&db, "INSERT INTO allocation_rules (id, name, source_kind, source_id, driver, chargeable, targets, created_at, updated_at) \
            VALUES ($1, $1, 'service', $2, $3, $4, $5, $6, $6)",
            vec![format!("rule-svc-{i:02}").into(), format!("svc-{i:02}").into(), (if headcount { "headcount" } else { "fixed" }).into(),
                true.into(), serde_json::Value::from(targets).to_string().into(), now.into()]).await?;
    }
    for m in 1..=12u32 {
        let period = FiscalPeriod { year: FISCAL_YEAR, number: m }.to_string();
        for c in 0..CENTERS {
            exec(&db, "INSERT INTO cost_driver_values (driver, fiscal_period, node_kind, node_id, source, value, updated_at) \
                VALUES ('headcount', $1, 'cost_center', $2, 'bench', $3, $4)",
                vec![period.as_str().into(), format!("cc-{c:02}").into(), Decimal::from(5 + (c * 7) % 50).into(), now.into()]).await?;
        }
    }

    // The lines, resampled from the sample with the seed.
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut line = |i: u64| -> Line {
        let row = &rows[rng.below(rows.len() as u64) as usize];
        let date: NaiveDate = start + Duration::days(rng.below(365) as i64);
        let roll = rng.below(20);
        let (service, tower) = match roll {
            0 => (None, None),
            1 | 2 => (None, Some(tower_of(&row.category))),
            _ => (Some(format!("svc-{:02}", row.service)), Some(tower_of(&row.category))),
        };
        let currency = if rng.below(10) == 0 { "EUR" } else { "USD" };
        let tags = format!("{{\"env\":\"{}\",\"provider\":\"{}\"}}", ["prod", "dev", "test"][rng.below(3) as usize], row.provider);
        Line {
            id: format!("line-{i}"),
            date,
            period: calendar.period_of(date).to_string(),
            amount: row.cost,
            currency,
            cost_type: if row.capex { "ct-cloud-cap" } else { "ct-cloud" },
            cost_center: format!("cc-{:02}", rng.below(CENTERS as u64)),
            service,
            tower,
            vendor: format!("vendor-{:02}", row.vendor),
            tags,
            source_key: i.to_string(),
        }
    };
    match db.backend() {
        Backend::Sqlite => insert_lines(&db, lines, now, &mut line).await?,
        Backend::Postgres => copy_lines(&url, lines, now, &mut line).await?,
    }
    println!("{}", serde_json::json!({"phase": "load", "lines": lines, "seconds": started.elapsed().as_secs_f64()}));
    db.close().await;
    Ok(())
}

/// One generated ledger line.
struct Line {
    id: String,
    date: NaiveDate,
    period: String,
    amount: Decimal,
    currency: &'static str,
    cost_type: &'static str,
    cost_center: String,
    service: Option<String>,
    tower: Option<&'static str>,
    vendor: String,
    tags: String,
    source_key: String,
}

const LINE_COLUMNS: [&str; 16] = ["id", "entry_date", "fiscal_period", "amount", "currency", "cost_type_id", "cost_center_id",
    "service_id", "tower_id", "vendor_id", "tags", "source", "source_key", "created_by", "created_at", "updated_at"];

/// SQLite: multi-row INSERTs in transactions of 100,000 lines (the ledger's
/// generation trigger runs for every row, as in production).
async fn insert_lines(db: &Db, lines: u64, now: chrono::DateTime<Utc>, line: &mut impl FnMut(u64) -> Line) -> anyhow::Result<()> {
    const PER_STATEMENT: u64 = 15;
    let mut written = 0u64;
    while written < lines {
        let mut tx = db.begin().await?;
        let batch_end = (written + 100_000).min(lines);
        while written < batch_end {
            let n = PER_STATEMENT.min(batch_end - written);
            let mut sql = format!("INSERT INTO ledger_lines ({}) VALUES ", LINE_COLUMNS.join(", "));
            let mut values: Vec<Value> = Vec::with_capacity(n as usize * LINE_COLUMNS.len());
            for r in 0..n {
                let l = line(written + r);
                if r > 0 {
                    sql.push_str(", ");
                }
                let base = values.len();
                sql.push('(');
                sql.push_str(&(1..=LINE_COLUMNS.len()).map(|k| format!("${}", base + k)).collect::<Vec<_>>().join(", "));
                sql.push(')');
                values.extend([
                    Value::from(l.id),
                    Value::from(l.date),
                    Value::from(l.period),
                    Value::from(l.amount),
                    Value::from(l.currency),
                    Value::from(l.cost_type),
                    Value::from(l.cost_center),
                    Value::from(l.service),
                    Value::from(l.tower.map(str::to_owned)),
                    Value::from(l.vendor),
                    Value::from(l.tags),
                    Value::from("focus-bench"),
                    Value::from(l.source_key),
                    Value::from("bench"),
                    Value::from(now),
                    Value::from(now),
                ]);
            }
            let mut q = query(sql);
            for v in values {
                q = q.bind(v);
            }
            q.execute(&mut tx).await?;
            written += n;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// PostgreSQL: `COPY … FROM STDIN` in one transaction per 1,000,000 lines;
/// the ledger's statement-level generation trigger fires once per COPY.
async fn copy_lines(url: &str, lines: u64, now: chrono::DateTime<Utc>, line: &mut impl FnMut(u64) -> Line) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let pool = sqlx::postgres::PgPool::connect(url).await?;
    let now = now.to_rfc3339();
    let mut written = 0u64;
    while written < lines {
        let mut conn = pool.acquire().await?;
        let mut copy = conn.copy_in_raw(&format!("COPY ledger_lines ({}) FROM STDIN", LINE_COLUMNS.join(", "))).await?;
        let batch_end = (written + 1_000_000).min(lines);
        let mut buf = String::with_capacity(4 << 20);
        while written < batch_end {
            let l = line(written);
            // Text format: tab-separated, \N for NULL; no value holds a tab, newline or backslash.
            writeln!(
                buf,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\tfocus-bench\t{}\tbench\t{now}\t{now}",
                l.id, l.date, l.period, l.amount, l.currency, l.cost_type, l.cost_center,
                l.service.as_deref().unwrap_or("\\N"), l.tower.unwrap_or("\\N"), l.vendor, l.tags, l.source_key
            )?;
            written += 1;
            if buf.len() > (4 << 20) - 1024 {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                buf.reserve(4 << 20);
            }
        }
        if !buf.is_empty() {
            copy.send(buf.into_bytes()).await?;
        }
        copy.finish().await?;
    }
    pool.close().await;
    Ok(())
}

/// Peak resident memory since the last reset, in MiB (VmHWM).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn run(args: &[String]) -> anyhow::Result<()> {
    let url = arg(args, "--database-url").expect("--database-url");
    let dir = PathBuf::from(arg(args, "--columnar-dir").expect("--columnar-dir"));
    let rounds: usize = arg(args, "--rounds").unwrap_or_else(|| "3".into()).parse()?;
    let db = Db::connect(&url).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let columnar = Columnar::new(&dir);
    let spec = ReportSpec {
        group_by: vec!["fiscal_period".into(), "cost_center".into(), "service".into()],
        from_period: FiscalPeriod { year: FISCAL_YEAR, number: 1 },
        to_period: FiscalPeriod { year: FISCAL_YEAR, number: 12 },
        pivot_periods: false,
        filters: BTreeMap::new(),
    };
    let report = |phase: &str, seconds: f64, extra: serde_json::Value| {
        println!("{}", serde_json::json!({"phase": phase, "seconds": seconds, "peak_mib": peak_mib(), "detail": extra}));
    };
    reset_peak();
    let t = Instant::now();
    let r = reports::run(&db, &columnar, &spec).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    report("report_cold", t.elapsed().as_secs_f64(), serde_json::json!({"rows": r.rows.len(), "lines": r.lines, "total": r.total.to_string()}));
    for _ in 0..rounds {
        reset_peak();
        let t = Instant::now();
        let r = reports::run(&db, &columnar, &spec).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        report("report_warm", t.elapsed().as_secs_f64(), serde_json::json!({"rows": r.rows.len(), "total": r.total.to_string()}));
    }
    let who = Principal { subject: "bench".into(), roles: vec![Role::Admin], request_id: None };
    for _ in 0..rounds {
        reset_peak();
        let t = Instant::now();
        let mut allocated = Decimal::ZERO;
        let mut unallocated = Decimal::ZERO;
        for m in 1..=12 {
            let run = runs::run(&db, &columnar, &who, NewRun { fiscal_period: FiscalPeriod { year: FISCAL_YEAR, number: m } })
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            allocated += run.run.allocated_total;
            unallocated += run.run.unallocated_total;
        }
        report("allocation_12_periods", t.elapsed().as_secs_f64(),
            serde_json::json!({"allocated": allocated.to_string(), "unallocated": unallocated.to_string(), "sum": (allocated + unallocated).to_string()}));
    }
    // Rates for the DuckDB side, as the report used them.
    // A rate is of the calendar month a fiscal period starts in.
    let calendar = itbm::finance::calendar::load(&mut db.clone()).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut rates = String::from("fiscal_period,currency,rate\n");
    for m in 1..=12 {
        let period = FiscalPeriod { year: FISCAL_YEAR, number: m };
        let month = itbm::finance::rates::RateMonth::of(calendar.bounds(period).0);
        for rate in r.rates.iter().filter(|rate| rate.month == month) {
            rates.push_str(&format!("{period},{},{}\n", rate.from_currency, rate.rate));
        }
        rates.push_str(&format!("{period},USD,1\n"));
    }
    std::fs::write(dir.join("rates.csv"), rates)?;
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("load") => load(&args).await,
        Some("run") => run(&args).await,
        _ => anyhow::bail!("usage: costs_bench load --database-url URL --lines N [--seed S] [--focus CSV] | run --database-url URL --columnar-dir DIR [--rounds R]"),
    }
}
