//! The demo organisation loaded by `itbm serve --demo`: a mid-sized company's IT
//! with two years of history, so that a newcomer sees a living system: a cost
//! center hierarchy, vendors and services on the TBM towers, portfolios of
//! projects in every state, a demand pipeline, budgets, 500 assets and 50,000
//! ledger lines whose actuals track the budgets, and a scoring framework with
//! scores for the open projects and pending demands.
//!
//! Building is pure and deterministic: a fixed seed, and dates relative to
//! today. Writing bypasses the domain functions for speed (one transaction,
//! multi-row INSERTs), so every row is built to satisfy the domain's rules
//! itself; enum texts come from the domain's own enums where they exist.

mod allocation;
mod assets;
mod batch;
mod budgets;
mod demand;
mod finance;
mod ledger;
mod months;
mod portfolio;
mod prioritisation;
mod spend;

use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngCore, SeedableRng};
use rust_decimal::Decimal;

use crate::db::{Db, Tx, query};
use crate::finance::calendar::{self, FiscalCalendar};
use batch::Table;

/// The seed of every random choice: the same day builds the same organisation.
const SEED: u64 = 0x17B0_2026;

/// Loads the demo organisation unless the database already holds projects.
pub async fn load_if_empty(db: &Db) -> anyhow::Result<()> {
    let started = Instant::now();
    // One transaction: a failed load leaves nothing behind, and on SQLite the
    // write lock taken up front keeps a second loader from racing this one.
    let mut tx = db.begin().await?;
    let projects: i64 = query("SELECT COUNT(*) AS n FROM projects").fetch_one(&mut tx).await?.get("n")?;
    if projects > 0 {
        tracing::info!(projects, "demo organisation not loaded: the database holds projects already");
        return Ok(());
    }
    let calendar = calendar::load(&mut tx).await?;
    let currency = crate::finance::settings::reporting_currency(&mut tx).await?;
    let mut ctx = Context::new(Utc::now(), calendar, currency);
    let tables = build(&mut ctx);
    let built = started.elapsed();
    let count = |name: &str| tables.iter().find(|t| t.name() == name).map_or(0, Table::len);
    let (projects, demands, assets, ledger_lines, budget_lines) =
        (count("projects"), count("demands"), count("assets"), count("ledger_lines"), count("budget_lines"));
    let mut rows = write(&mut tx, tables).await.map_err(|e| anyhow::anyhow!("cannot load the demo organisation: {e}"))?;
    rows += prioritisation::write(&mut tx, &mut ctx).await.map_err(|e| anyhow::anyhow!("cannot load the demo scores: {e}"))?;
    // A blended internal labour rate, so synchronised ITSM effort shows in TCO.
    query("UPDATE settings SET labour_rate = $1 WHERE id = 1").bind(rust_decimal::Decimal::new(9500, 2)).execute(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(
        projects,
        demands,
        assets,
        ledger_lines,
        budget_lines,
        rows,
        build_ms = built.as_millis() as u64,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo organisation loaded"
    );
    Ok(())
}

/// Every table of the demo, in an order that satisfies the foreign keys.
fn build(ctx: &mut Context) -> Vec<Table> {
    let (org, mut tables) = finance::build(ctx);
    let spend = spend::SpendModel::build(ctx, &org);
    let mut portfolio = portfolio::build(ctx, &org);
    tables.append(&mut portfolio.tables);
    tables.extend(demand::build(ctx, &org, &portfolio));
    tables.append(&mut portfolio.project_tables);
    let (asset_tables, purchases) = assets::build(ctx, &org);
    tables.extend(asset_tables);
    let (ledger_lines, actuals) = ledger::build(ctx, &org, &spend, &portfolio.projects, &purchases);
    tables.extend(budgets::build(ctx, &org, &spend, &portfolio.projects, &actuals));
    tables.push(ledger_lines);
    tables.extend(allocation::build(ctx, &org));
    tables
}

async fn write(tx: &mut Tx, tables: Vec<Table>) -> Result<usize, crate::db::DbError> {
    let mut rows = 0;
    for table in tables {
        let (name, started) = (table.name(), Instant::now());
        let written = table.write(tx).await?;
        tracing::debug!(table = name, rows = written, elapsed_ms = started.elapsed().as_millis() as u64, "demo table written");
        rows += written;
    }
    Ok(rows)
}

/// What every part of the demo builds with: the random source, the dates it is
/// relative to and the organisation's settings.
pub(crate) struct Context {
    pub rng: StdRng,
    ids: StdRng,
    id_millis: u64,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub this_month: NaiveDate,
    /// The first month of the ledger: 24 months up to this one.
    pub first_month: NaiveDate,
    pub fiscal_year: i32,
    pub calendar: FiscalCalendar,
    /// The reporting currency, in which the demo plans and mostly spends.
    pub currency: String,
}

impl Context {
    fn new(now: DateTime<Utc>, calendar: FiscalCalendar, currency: String) -> Self {
        let today = now.date_naive();
        let this_month = months::start_of(today);
        let midnight = today.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        Context {
            rng: StdRng::seed_from_u64(SEED),
            // Ids draw from their own stream, so adding a row elsewhere does not
            // change every amount after it.
            ids: StdRng::seed_from_u64(SEED.rotate_left(32)),
            id_millis: midnight.timestamp_millis() as u64,
            now,
            today,
            this_month,
            first_month: months::add(this_month, -23),
            fiscal_year: calendar.year_of(today),
            calendar,
            currency,
        }
    }

    /// A UUIDv7, like every id in `itbm`, made from today and the seed.
    pub fn id(&mut self) -> String {
        self.id_millis += 1;
        let mut random = [0u8; 10];
        self.ids.fill_bytes(&mut random);
        uuid::Builder::from_unix_timestamp_millis(self.id_millis, &random).into_uuid().to_string()
    }
}

/// One of `items`, which must not be empty.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    items.choose(rng).expect("a choice among no items")
}

/// An amount rounded to thousands, as business cases are written.
pub(crate) fn rounded_thousands(cents: i64) -> Decimal {
    Decimal::new((cents + 50_000) / 100_000 * 100_000, 2)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};
    use std::str::FromStr;

    use super::*;
    use crate::finance::calendar::FiscalPeriod;

    fn context(now: DateTime<Utc>) -> Context {
        Context::new(now, FiscalCalendar::new(1).unwrap(), "USD".into())
    }

    #[test]
    fn the_same_day_builds_the_same_organisation() {
        let now = Utc::now();
        let first = build(&mut context(now));
        let second = build(&mut context(now));
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        query(sql.to_owned()).fetch_one(&mut db.clone()).await.unwrap().get("n").unwrap()
    }

    async fn distinct(db: &Db, sql: &str) -> BTreeSet<String> {
        let rows = query(sql.to_owned()).fetch_all(&mut db.clone()).await.unwrap();
        rows.iter().map(|r| r.get::<String>("v").unwrap()).collect()
    }

    /// Loads the demo into an empty, migrated database and checks it reads as a
    /// living organisation; a second load changes nothing.
    async fn a_demo_loads_once(db: &Db, backend: &str) {
        let started = Instant::now();
        load_if_empty(db).await.unwrap();
        eprintln!("demo loaded on {backend} in {} ms", started.elapsed().as_millis());

        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM projects").await, 40);
        let states = distinct(db, "SELECT DISTINCT state AS v FROM projects").await;
        assert_eq!(states.len(), 6, "{states:?}");
        assert_eq!(distinct(db, "SELECT DISTINCT health AS v FROM projects").await.len(), 3);
        assert_eq!(distinct(db, "SELECT DISTINCT investment_category AS v FROM projects").await.len(), 3);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM demands").await, 60);
        let demand_states = distinct(db, "SELECT DISTINCT state AS v FROM demands").await;
        let expected: BTreeSet<String> =
            ["draft", "submitted", "under_review", "approved", "rejected", "deferred"].map(String::from).into();
        assert_eq!(demand_states, expected);
        assert!(count(db, "SELECT COUNT(*) AS n FROM demands WHERE state = 'approved'").await > 0);
        let unlinked = "SELECT COUNT(*) AS n FROM demands d WHERE d.state = 'approved' \
                        AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.demand_id = d.id)";
        assert_eq!(count(db, unlinked).await, 0, "every approved demand became a project");
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM assets").await, 500);
        assert_eq!(distinct(db, "SELECT DISTINCT state AS v FROM assets").await.len(), 7);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM asset_source_ids WHERE source = 'demo'").await, 500);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM budget_versions").await, 3);
        let budget_lines = count(db, "SELECT COUNT(*) AS n FROM budget_lines").await;
        assert!((300..=6_000).contains(&budget_lines), "{budget_lines} budget lines");
        let wrong_project = "SELECT COUNT(*) AS n FROM ledger_lines l JOIN projects p ON p.id = l.project_id \
                             WHERE p.state IN ('proposed', 'cancelled')";
        assert_eq!(count(db, wrong_project).await, 0, "only approved and running projects spend");

        let lines = query("SELECT entry_date, fiscal_period, amount, currency, tags FROM ledger_lines")
            .fetch_all(&mut db.clone())
            .await
            .unwrap();
        assert_eq!(lines.len(), ledger::LINES);
        let calendar = calendar::load(&mut db.clone()).await.unwrap();
        let rates: HashMap<(String, String), Decimal> =
            query("SELECT quote_currency, month, rate FROM exchange_rates").fetch_all(&mut db.clone()).await.unwrap().iter()
                .map(|r| ((r.get("quote_currency").unwrap(), r.get("month").unwrap()), r.decimal("rate").unwrap()))
                .collect();
        let mut actual_by_year: HashMap<i32, Decimal> = HashMap::new();
        let mut credits = 0;
        for line in &lines {
            let date: NaiveDate = line.get("entry_date").unwrap();
            let period = FiscalPeriod::from_str(&line.get::<String>("fiscal_period").unwrap()).unwrap();
            assert_eq!(period, calendar.period_of(date), "the period of a line booked on {date}");
            let tags: serde_json::Value = line.json("tags").unwrap();
            assert!(tags.is_object());
            let mut amount = line.decimal("amount").unwrap();
            let currency: String = line.get("currency").unwrap();
            if currency != "USD" {
                amount /= rates[&(currency, date.format("%Y-%m").to_string())];
            }
            credits += usize::from(amount.is_sign_negative());
            *actual_by_year.entry(period.year).or_default() += amount;
        }
        assert!(credits > 20, "{credits} credit notes");

        let last_year = calendar.year_of(Utc::now().date_naive()) - 1;
        let plan = query("SELECT l.amount FROM budget_lines l JOIN budget_versions v ON v.id = l.budget_version_id WHERE v.name = $1")
            .bind(format!("FY{last_year} Plan"))
            .fetch_all(&mut db.clone())
            .await
            .unwrap()
            .iter()
            .map(|r| r.decimal("amount").unwrap())
            .sum::<Decimal>();
        let ratio = actual_by_year[&last_year] / plan;
        assert!(ratio > Decimal::new(90, 2) && ratio < Decimal::new(115, 2), "last year's actuals are {ratio} of plan");

        reports_are_not_trivial(db).await;

        let started = Instant::now();
        load_if_empty(db).await.unwrap();
        assert!(started.elapsed().as_secs() < 2, "a second load only looks");
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM projects").await, 40);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM ledger_lines").await, ledger::LINES as i64);
    }

    /// The finance reports of the demo organisation have something to show:
    /// book and tax schedules, TCO, a refresh forecast and a variance report
    /// with converted currencies.
    async fn reports_are_not_trivial(db: &Db) {
        use crate::assets::depreciation::{self, Book};
        use crate::assets::lifecycle_cost::{self, TcoQuery, refresh};
        use crate::finance::analytics::variance::{self, VarianceQuery};

        let taxed = query("SELECT id FROM assets WHERE tax_depreciation_method IS NOT NULL AND in_service_date IS NOT NULL LIMIT 1")
            .fetch_one(&mut db.clone())
            .await
            .unwrap()
            .get::<String>("id")
            .unwrap();
        let book = depreciation::schedule_of(db, &taxed, Book::Book).await.unwrap();
        let tax = depreciation::schedule_of(db, &taxed, Book::Tax).await.unwrap();
        assert_eq!(tax.settings.source, Book::Tax);
        assert_ne!(book.years[0].amount, tax.years[0].amount, "tax depreciates faster than the books");

        let hosting = query("SELECT id FROM services WHERE code = 'HOST'").fetch_one(&mut db.clone()).await.unwrap().get::<String>("id").unwrap();
        let tco = lifecycle_cost::of_service(db, &hosting, &TcoQuery::default()).await.unwrap();
        assert!(tco.assets > 0 && tco.acquisition > Decimal::ZERO && tco.running_costs > Decimal::ZERO, "{tco:?}");

        let forecast = refresh::forecast(db, &refresh::RefreshQuery::default()).await.unwrap();
        assert!(!forecast.items.is_empty(), "some assets reach end of life within a year");

        let year = calendar::load(&mut db.clone()).await.unwrap().year_of(Utc::now().date_naive());
        let q = VarianceQuery {
            fiscal_year: year,
            budget_version_id: None,
            forecast_version_id: None,
            through_period: None,
            group_by: Some("cost_center".into()),
            rate_type: None,
            include_depreciation: None,
        };
        let report = variance::report(db, &q).await.unwrap();
        assert!(report.forecast_version.is_some() && report.rows.len() > 5, "{} rows", report.rows.len());
        assert!(report.totals.actual > Decimal::ZERO && !report.rates_used.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_loads_once_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("x.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        a_demo_loads_once(&db, "SQLite").await;
        db.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_loads_once_on_postgresql() {
        let url = std::env::var("ITBM_TEST_POSTGRES_URL").unwrap_or_else(|_| {
            format!("postgres://{}@127.0.0.1:5432/test", std::env::var("USER").unwrap_or_else(|_| "postgres".into()))
        });
        let schema = format!("demo_{}", uuid::Uuid::now_v7().simple());
        let admin = Db::connect(&url).await.expect("PostgreSQL must be reachable");
        query(format!("CREATE SCHEMA {schema}")).execute(&mut admin.clone()).await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let db = Db::connect(&format!("{url}{sep}options=-c%20search_path%3D{schema}")).await.unwrap();
        // Run the checks in a task of their own so that a failure still drops the schema.
        let outcome = tokio::spawn(async move {
            db.migrate().await.unwrap();
            a_demo_loads_once(&db, "PostgreSQL").await;
            db.close().await;
        })
        .await;
        query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin.clone()).await.unwrap();
        admin.close().await;
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure.into_panic());
        }
    }
}
