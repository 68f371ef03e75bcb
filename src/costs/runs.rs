//! Allocation runs: one fiscal period's ledger, converted into the reporting
//! currency, pushed through the rules, checked for conservation and stored
//! with every flow; then showback and chargeback statements per consumer.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use polars::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::columnar::{Columnar, from_mantissa, polars_error};
use super::convert::{Converter, RateUsed};
use super::drivers;
use super::engine::{self, Allocation, Flow, Node, NodeKind, WeighedRule};
use super::rules::{self, Driver};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::finance::calendar::FiscalPeriod;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocationRun {
    pub id: String,
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
    /// The reporting currency every amount of the run is in.
    pub currency: String,
    /// The period's ledger, converted.
    #[schema(value_type = String)]
    pub ledger_total: Decimal,
    /// What reached consumers.
    #[schema(value_type = String)]
    pub allocated_total: Decimal,
    /// What stayed unallocated; `allocated_total + unallocated_total = ledger_total`.
    #[schema(value_type = String)]
    pub unallocated_total: Decimal,
    pub ledger_lines: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A run with what stayed unallocated, where and why, and the rates used.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AllocationRunDetail)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: AllocationRun,
    pub unallocated: Vec<Flow>,
    pub rates: Vec<RateUsed>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunFilter {
    #[param(value_type = Option<String>)]
    pub fiscal_period: Option<FiscalPeriod>,
}

const COLUMNS: &str =
    "id, fiscal_period, currency, ledger_total, allocated_total, unallocated_total, ledger_lines, created_by, created_at";
const SORT: Sortable = Sortable { keys: &[("created_at", "created_at"), ("fiscal_period", "fiscal_period")], default: "-created_at", tie_break: "id" };

fn from_row(row: &Row) -> Result<AllocationRun> {
    let period: String = row.get("fiscal_period")?;
    Ok(AllocationRun {
        id: row.get("id")?,
        fiscal_period: period.parse().map_err(|e: String| anyhow::anyhow!("run period: {e}"))?,
        currency: row.get("currency")?,
        ledger_total: row.decimal("ledger_total")?,
        allocated_total: row.decimal("allocated_total")?,
        unallocated_total: row.decimal("unallocated_total")?,
        ledger_lines: row.get("ledger_lines")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
    })
}

fn flow_from_row(row: &Row) -> Result<Flow> {
    Ok(Flow {
        step: row.get("step")?,
        source_kind: row.get("source_kind")?,
        source_id: row.get("source_id")?,
        target_kind: row.get("target_kind")?,
        target_id: row.get("target_id")?,
        rule_id: row.get("rule_id")?,
        chargeable: row.get("chargeable")?,
        amount: row.decimal("amount")?,
    })
}

/// Seeds of a period: the ledger grouped by where each line enters the
/// model. A line enters at the most specific node it names: its service,
/// else its tower, else its cost pool; a line naming none is unmapped.
pub struct Seeds {
    pub seeds: Vec<(Option<Node>, Decimal)>,
    pub lines: i64,
}

/// Reads and converts the seeds of `period` from the columnar copy.
pub async fn seeds(db: &Db, columnar: &Columnar, converter: &mut Converter, period: FiscalPeriod) -> Result<Seeds> {
    let columns: Vec<String> = ["cost_pool", "tower", "service", "currency", "amount"].iter().map(|s| s.to_string()).collect();
    let Some(lf) = columnar.scan(db, &[period], &columns).await? else {
        return Ok(Seeds { seeds: Vec::new(), lines: 0 });
    };
    let df = tokio::task::spawn_blocking(move || {
        lf.group_by([col("cost_pool"), col("tower"), col("service"), col("currency")])
            .agg([col("amount").sum(), len().cast(DataType::Int64).alias("lines")])
            .collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
            .map_err(polars_error)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("seed task: {e}")))??;
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        Ok(df.column(name).map_err(polars_error)?.str().map_err(polars_error)?.iter().map(|v| v.map(str::to_owned)).collect())
    };
    let (pools, towers, services, currencies) = (text("cost_pool")?, text("tower")?, text("service")?, text("currency")?);
    let amounts = df.column("amount").map_err(polars_error)?.decimal().map_err(polars_error)?;
    let scale = amounts.scale() as u32;
    let mantissas: Vec<Option<i128>> = amounts.physical().iter().collect();
    let lines: i64 = df.column("lines").map_err(polars_error)?.i64().map_err(polars_error)?.iter().flatten().sum();
    let pairs: Vec<(FiscalPeriod, String)> = currencies.iter().flatten().map(|c| (period, c.clone())).collect();
    converter.prepare(pairs).await?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let currency = currencies[i].as_deref().unwrap_or_default();
        let amount = from_mantissa(mantissas[i].unwrap_or(0), scale)?;
        let node = if let Some(id) = &services[i] {
            Some(Node { kind: NodeKind::Service, id: id.clone() })
        } else if let Some(id) = &towers[i] {
            Some(Node { kind: NodeKind::Tower, id: id.clone() })
        } else {
            pools[i].as_ref().map(|id| Node { kind: NodeKind::CostPool, id: id.clone() })
        };
        out.push((node, converter.convert(period, currency, amount)?));
    }
    // Deterministic order whatever order polars grouped in.
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(Seeds { seeds: out, lines })
}

/// Every rule with its targets weighed for `period`, sorted by kind and id.
pub async fn weighed_rules(ex: &mut impl Executor, period: FiscalPeriod) -> Result<BTreeMap<Node, WeighedRule>> {
    let rules = rules::all(ex).await?;
    let mut data: HashMap<(Driver, Option<String>), HashMap<(NodeKind, String), Decimal>> = HashMap::new();
    let mut out = BTreeMap::new();
    for rule in rules {
        let key = (rule.driver, rule.metric.clone());
        if rule.driver != Driver::Fixed && !data.contains_key(&key) {
            data.insert(key.clone(), drivers::values(ex, rule.driver, rule.metric.as_deref(), period).await?);
        }
        let mut targets: Vec<(Node, Decimal)> = rule
            .targets
            .iter()
            .map(|t| {
                let weight = match rule.driver {
                    Driver::Fixed => t.share.unwrap_or_default(),
                    _ => data.get(&key).and_then(|v| v.get(&(t.kind, t.id.clone()))).copied().unwrap_or_default(),
                };
                (Node { kind: t.kind, id: t.id.clone() }, weight)
            })
            .collect();
        targets.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(
            Node { kind: rule.source_kind, id: rule.source_id.clone() },
            WeighedRule { rule_id: rule.id.clone(), chargeable: rule.chargeable, targets },
        );
    }
    Ok(out)
}

/// Allocates `period` and stores the run.
pub async fn run(db: &Db, columnar: &Columnar, who: &Principal, input: NewRun) -> Result<RunDetail> {
    let period = input.fiscal_period;
    let mut converter = Converter::new(db).await?;
    let seeds = seeds(db, columnar, &mut converter, period).await?;
    let rules = weighed_rules(&mut db.clone(), period).await?;
    let allocation = engine::allocate(&seeds.seeds, &rules, converter.minor_units)
        .map_err(|e| Error::invalid("/fiscal_period", format!("the rules cannot be applied: {e}")))?;
    if !engine::conserved(&allocation) {
        return Err(Error::Internal(anyhow::anyhow!("allocation of {period} does not conserve money; nothing stored")));
    }
    let run = AllocationRun {
        id: new_id(),
        fiscal_period: period,
        currency: converter.currency.clone(),
        ledger_total: allocation.ledger_total,
        allocated_total: allocation.allocated_total,
        unallocated_total: allocation.unallocated_total,
        ledger_lines: seeds.lines,
        created_by: who.subject.clone(),
        created_at: Utc::now(),
    };
    store(db, who, &run, &allocation).await?;
    Ok(RunDetail { unallocated: unallocated(&allocation.flows), run, rates: converter.used() })
}

fn unallocated(flows: &[Flow]) -> Vec<Flow> {
    flows.iter().filter(|f| f.target_kind == "unallocated").cloned().collect()
}

async fn store(db: &Db, who: &Principal, run: &AllocationRun, allocation: &Allocation) -> Result<()> {
    let mut tx = db.begin().await?;
    query(
        "INSERT INTO allocation_runs (id, fiscal_period, currency, ledger_total, allocated_total, unallocated_total, \
         ledger_lines, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&run.id)
    .bind(run.fiscal_period.to_string())
    .bind(&run.currency)
    .bind(run.ledger_total)
    .bind(run.allocated_total)
    .bind(run.unallocated_total)
    .bind(run.ledger_lines)
    .bind(&run.created_by)
    .bind(run.created_at)
    .execute(&mut tx)
    .await?;
    for (seq, f) in allocation.flows.iter().enumerate() {
        query(
            "INSERT INTO allocation_flows (run_id, seq, step, source_kind, source_id, target_kind, target_id, rule_id, \
             chargeable, amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&run.id)
        .bind(seq as i64)
        .bind(f.step)
        .bind(&f.source_kind)
        .bind(&f.source_id)
        .bind(&f.target_kind)
        .bind(&f.target_id)
        .bind(f.rule_id.clone())
        .bind(f.chargeable)
        .bind(f.amount)
        .execute(&mut tx)
        .await?;
    }
    audit::record(&mut tx, who, Action::Create, "allocation_run", &run.id, None::<&()>, Some(run)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: &Db, filter: &RunFilter, page: &PageParams) -> Result<Page<AllocationRun>> {
    let mut select = Select::new(COLUMNS, "allocation_runs");
    select.filter_opt("fiscal_period = {}", filter.fiscal_period.map(|p| p.to_string()));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(db: &Db, id: &str) -> Result<AllocationRun> {
    let row = query(format!("SELECT {COLUMNS} FROM allocation_runs WHERE id = $1")).bind(id).fetch_optional(&mut db.clone()).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("allocation run", id))
}

pub async fn flows(db: &Db, id: &str) -> Result<Vec<Flow>> {
    get(db, id).await?;
    let rows = query(
        "SELECT step, source_kind, source_id, target_kind, target_id, rule_id, chargeable, amount FROM allocation_flows \
         WHERE run_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut db.clone())
    .await?;
    rows.iter().map(flow_from_row).collect()
}

pub async fn detail(db: &Db, id: &str) -> Result<RunDetail> {
    let run = get(db, id).await?;
    let flows = flows(db, id).await?;
    let mut converter = Converter::new(db).await?;
    let currencies = query("SELECT DISTINCT currency FROM ledger_lines WHERE fiscal_period = $1")
        .bind(run.fiscal_period.to_string())
        .fetch_all(&mut db.clone())
        .await?;
    let pairs: Vec<(FiscalPeriod, String)> =
        currencies.iter().map(|r| r.get::<String>("currency").map(|c| (run.fiscal_period, c))).collect::<Result<_, _>>()?;
    // Rates may have been removed since; the detail shows those still known.
    let _ = converter.prepare(pairs).await;
    Ok(RunDetail { unallocated: unallocated(&flows), run, rates: converter.used() })
}

/// Showback shows a consumer everything allocated to it; chargeback bills
/// only what chargeable rules placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    #[default]
    Showback,
    Chargeback,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// `showback` (default) or `chargeback`.
    #[param(value_type = Option<String>)]
    pub kind: Option<StatementKind>,
}

/// What one consumer received from one service, tower or pool by one rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    pub source_kind: String,
    pub source_id: String,
    /// The source's code and name, for reading.
    pub source_name: String,
    pub rule_id: Option<String>,
    pub chargeable: bool,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// A consumer's statement for one run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    pub run_id: String,
    pub kind: StatementKind,
    #[schema(value_type = String)]
    pub fiscal_period: FiscalPeriod,
    pub currency: String,
    pub cost_center_id: String,
    pub cost_center_code: String,
    pub cost_center_name: String,
    pub lines: Vec<StatementLine>,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// The statements of every consumer of a run (or of one, when `only` is set).
pub async fn statements(db: &Db, run_id: &str, kind: StatementKind, only: Option<&str>) -> Result<Vec<Statement>> {
    let run = get(db, run_id).await?;
    let mut conn = db.clone();
    let names = names(&mut conn).await?;
    let centers = query("SELECT id, code, name FROM cost_centers").fetch_all(&mut conn).await?;
    let mut center_names = HashMap::new();
    for row in &centers {
        center_names.insert(row.get::<String>("id")?, (row.get::<String>("code")?, row.get::<String>("name")?));
    }
    if let Some(id) = only {
        if !center_names.contains_key(id) {
            return Err(Error::not_found("cost center", id));
        }
    }
    let mut by_center: BTreeMap<String, Vec<StatementLine>> = BTreeMap::new();
    for f in flows(db, run_id).await? {
        if f.target_kind != "cost_center" || only.is_some_and(|o| o != f.target_id) {
            continue;
        }
        if kind == StatementKind::Chargeback && !f.chargeable {
            continue;
        }
        let source_name = names.get(&(f.source_kind.clone(), f.source_id.clone())).cloned().unwrap_or_else(|| f.source_id.clone());
        by_center.entry(f.target_id.clone()).or_default().push(StatementLine {
            source_kind: f.source_kind,
            source_id: f.source_id,
            source_name,
            rule_id: f.rule_id,
            chargeable: f.chargeable,
            amount: f.amount,
        });
    }
    if let Some(id) = only {
        by_center.entry(id.to_owned()).or_default();
    }
    Ok(by_center
        .into_iter()
        .map(|(id, mut lines)| {
            lines.sort_by(|a, b| (&a.source_kind, &a.source_id).cmp(&(&b.source_kind, &b.source_id)));
            let (code, name) = center_names.get(&id).cloned().unwrap_or_default();
            Statement {
                run_id: run.id.clone(),
                kind,
                fiscal_period: run.fiscal_period,
                currency: run.currency.clone(),
                total: lines.iter().map(|l| l.amount).sum(),
                cost_center_id: id,
                cost_center_code: code,
                cost_center_name: name,
                lines,
            }
        })
        .collect())
}

async fn names(ex: &mut impl Executor) -> Result<HashMap<(String, String), String>> {
    let mut out = HashMap::new();
    for (kind, table) in [("cost_pool", "tbm_cost_pools"), ("tower", "tbm_towers"), ("service", "services")] {
        for row in query(format!("SELECT id, code, name FROM {table}")).fetch_all(ex).await? {
            out.insert(
                (kind.to_owned(), row.get::<String>("id")?),
                format!("{} {}", row.get::<String>("code")?, row.get::<String>("name")?),
            );
        }
    }
    Ok(out)
}
