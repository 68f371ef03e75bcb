//! Budget lines: the amount a draft budget version plans for one cell, that is
//! one fiscal period, cost center, cost type and (optionally) project. A cell
//! holds at most one line. Changing or deleting a line needs the ETag the
//! client read, so two people editing one cell never overwrite each other
//! unknowingly.

use std::collections::{HashMap, HashSet};
use std::mem::{Discriminant, discriminant};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{BudgetVersion, get as get_version, lock_draft};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{Error, FieldError, Result};
use crate::finance::calendar::FiscalPeriod;
use crate::finance::check_currency;
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// Most cells one bulk request may carry; larger plans are sent in parts.
pub const MAX_BULK_CELLS: usize = 5_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetLine {
    pub id: String,
    pub budget_version_id: String,
    pub fiscal_period: FiscalPeriod,
    pub cost_center_id: String,
    pub cost_type_id: String,
    pub project_id: Option<String>,
    #[schema(value_type = String, example = "12500.00")]
    pub amount: Decimal,
    pub currency: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A new line; in a bulk upsert, the content of one cell.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudgetLine {
    /// Must lie in the version's fiscal year.
    pub fiscal_period: FiscalPeriod,
    pub cost_center_id: String,
    pub cost_type_id: String,
    pub project_id: Option<String>,
    /// Not negative: a budget plans spending, credits belong to the ledger.
    #[schema(value_type = String, example = "12500.00")]
    pub amount: Decimal,
    /// Defaults to the version's currency.
    pub currency: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLinePatch {
    pub fiscal_period: Option<FiscalPeriod>,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetLineFilter {
    #[param(value_type = Option<String>, example = "FY2027-P03")]
    pub fiscal_period: Option<FiscalPeriod>,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
    pub project_id: Option<String>,
}

/// What a bulk upsert did, with the resulting lines in the order of the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkUpsertResult {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub items: Vec<BudgetLine>,
}

const COLUMNS: &str = "id, budget_version_id, fiscal_period, cost_center_id, cost_type_id, project_id, amount, currency, \
    note, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[
        ("fiscal_period", "fiscal_period"),
        ("cost_center_id", "cost_center_id"),
        ("cost_type_id", "cost_type_id"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "fiscal_period",
    tie_break: "id",
};
const DUPLICATE: &str = "this cell (fiscal period, cost center, cost type, project) already has a line: change that line instead";

fn from_row(row: &Row) -> Result<BudgetLine> {
    let period: String = row.get("fiscal_period")?;
    Ok(BudgetLine {
        id: row.get("id")?,
        budget_version_id: row.get("budget_version_id")?,
        fiscal_period: period.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?,
        cost_center_id: row.get("cost_center_id")?,
        cost_type_id: row.get("cost_type_id")?,
        project_id: row.get("project_id")?,
        amount: row.decimal("amount")?,
        currency: row.get("currency")?,
        note: row.get("note")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

/// The cell a line fills; a version holds at most one line per cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Cell {
    fiscal_period: FiscalPeriod,
    cost_center_id: String,
    cost_type_id: String,
    project_id: Option<String>,
}

impl BudgetLine {
    fn cell(&self) -> Cell {
        Cell {
            fiscal_period: self.fiscal_period,
            cost_center_id: self.cost_center_id.clone(),
            cost_type_id: self.cost_type_id.clone(),
            project_id: self.project_id.clone(),
        }
    }

    /// A new line of `version` from a request, with the version's currency by default.
    fn new(version: &BudgetVersion, input: NewBudgetLine) -> BudgetLine {
        let now = Utc::now();
        BudgetLine {
            id: new_id(),
            budget_version_id: version.id.clone(),
            fiscal_period: input.fiscal_period,
            cost_center_id: input.cost_center_id,
            cost_type_id: input.cost_type_id,
            project_id: input.project_id,
            amount: input.amount,
            currency: input.currency.map(|c| c.trim().to_owned()).unwrap_or_else(|| version.currency.clone()),
            note: input.note,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

pub async fn list(db: &Db, version_id: &str, filter: &BudgetLineFilter, page: &PageParams) -> Result<Page<BudgetLine>> {
    let mut db = db.clone();
    get_version(&mut db, version_id).await?;
    let mut select = Select::new(COLUMNS, "budget_lines");
    select
        .filter("budget_version_id = {}", version_id)
        .filter_opt("fiscal_period = {}", filter.fiscal_period.map(|p| p.to_string()))
        .filter_opt("cost_center_id = {}", filter.cost_center_id.as_deref())
        .filter_opt("cost_type_id = {}", filter.cost_type_id.as_deref())
        .filter_opt("project_id = {}", filter.project_id.as_deref());
    select.fetch_page(&mut db, page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<BudgetLine> {
    let row = query(format!("SELECT {COLUMNS} FROM budget_lines WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("budget line", id))
}

/// Remembers references already found to exist, so a bulk request of many
/// cells on few cost centers looks each one up once.
#[derive(Default)]
struct KnownRefs {
    found: HashSet<(Discriminant<Ref>, String)>,
}

impl KnownRefs {
    async fn check(&mut self, ex: &mut impl Executor, checks: &mut Checks, pointer: &str, what: Ref, id: Option<&str>) -> Result<()> {
        let Some(id) = id else { return Ok(()) };
        let key = (discriminant(&what), id.to_owned());
        if self.found.contains(&key) {
            return Ok(());
        }
        if refs::exists(ex, what, id).await? {
            self.found.insert(key);
            Ok(())
        } else if what == Ref::Currency {
            check_currency(ex, checks, pointer, id).await
        } else {
            refs::check(ex, checks, pointer, what, Some(id)).await
        }
    }
}

/// Checks one line against its version, adding problems under `at` (the
/// line's JSON pointer: empty for a single line, `/3` for a bulk cell).
async fn validate(ex: &mut impl Executor, known: &mut KnownRefs, checks: &mut Checks, at: &str, line: &BudgetLine, version: &BudgetVersion) -> Result<()> {
    if line.fiscal_period.year != version.fiscal_year {
        checks.fail(
            format!("{at}/fiscal_period"),
            format!("{} is not in FY{}, the fiscal year of budget version {:?}", line.fiscal_period, version.fiscal_year, version.name),
        );
    }
    checks.amount(&format!("{at}/amount"), line.amount, false);
    checks.opt_text(&format!("{at}/note"), line.note.as_deref(), 2_000);
    known.check(ex, checks, &format!("{at}/cost_center_id"), Ref::CostCenter, Some(&line.cost_center_id)).await?;
    known.check(ex, checks, &format!("{at}/cost_type_id"), Ref::CostType, Some(&line.cost_type_id)).await?;
    known.check(ex, checks, &format!("{at}/project_id"), Ref::Project, line.project_id.as_deref()).await?;
    known.check(ex, checks, &format!("{at}/currency"), Ref::Currency, Some(&line.currency)).await?;
    Ok(())
}

async fn validate_one(ex: &mut impl Executor, line: &BudgetLine, version: &BudgetVersion) -> Result<()> {
    let mut checks = Checks::new();
    validate(ex, &mut KnownRefs::default(), &mut checks, "", line, version).await?;
    checks.finish()
}

async fn insert(tx: &mut Tx, line: &BudgetLine) -> Result<()> {
    query(
        "INSERT INTO budget_lines (id, budget_version_id, fiscal_period, cost_center_id, cost_type_id, project_id, amount, \
         currency, note, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&line.id)
    .bind(&line.budget_version_id)
    .bind(line.fiscal_period.to_string())
    .bind(&line.cost_center_id)
    .bind(&line.cost_type_id)
    .bind(line.project_id.clone())
    .bind(line.amount)
    .bind(&line.currency)
    .bind(line.note.clone())
    .bind(line.created_at)
    .bind(line.updated_at)
    .bind(line.version)
    .execute(tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/cost_center_id"))?;
    Ok(())
}

/// Writes `after` over the stored line at version `expected`; a line changed
/// meanwhile is a 412.
async fn overwrite(tx: &mut Tx, after: &BudgetLine, expected: i64) -> Result<()> {
    query(
        "UPDATE budget_lines SET fiscal_period = $1, cost_center_id = $2, cost_type_id = $3, project_id = $4, amount = $5, \
         currency = $6, note = $7, updated_at = $8, version = $9 WHERE id = $10 AND version = $11",
    )
    .bind(after.fiscal_period.to_string())
    .bind(&after.cost_center_id)
    .bind(&after.cost_type_id)
    .bind(after.project_id.clone())
    .bind(after.amount)
    .bind(&after.currency)
    .bind(after.note.clone())
    .bind(after.updated_at)
    .bind(after.version)
    .bind(&after.id)
    .bind(expected)
    .execute(tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/cost_center_id"))
    .and_then(Error::ensure_updated)
}

pub async fn create(db: &Db, who: &Principal, version_id: &str, input: NewBudgetLine) -> Result<BudgetLine> {
    let mut tx = db.begin().await?;
    let version = lock_draft(&mut tx, version_id).await?;
    let line = BudgetLine::new(&version, input);
    validate_one(&mut tx, &line, &version).await?;
    insert(&mut tx, &line).await?;
    audit::record(&mut tx, who, Action::Create, "budget_line", &line.id, None::<&()>, Some(&line)).await?;
    tx.commit().await?;
    Ok(line)
}

/// Changes a line. `If-Match` is required: without it 428, when stale 412.
pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: BudgetLinePatch) -> Result<BudgetLine> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, true)?;
    let version = lock_draft(&mut tx, &before.budget_version_id).await?;
    let after = BudgetLine {
        fiscal_period: input.fiscal_period.unwrap_or(before.fiscal_period),
        cost_center_id: input.cost_center_id.unwrap_or_else(|| before.cost_center_id.clone()),
        cost_type_id: input.cost_type_id.unwrap_or_else(|| before.cost_type_id.clone()),
        project_id: patch::apply(before.project_id.clone(), input.project_id),
        amount: input.amount.unwrap_or(before.amount),
        currency: input.currency.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.currency.clone()),
        note: patch::apply(before.note.clone(), input.note),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate_one(&mut tx, &after, &version).await?;
    overwrite(&mut tx, &after, before.version).await?;
    audit::record(&mut tx, who, Action::Update, "budget_line", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a line. `If-Match` is required: without it 428, when stale 412.
pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, true)?;
    lock_draft(&mut tx, &before.budget_version_id).await?;
    query("DELETE FROM budget_lines WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(before.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Delete, "budget_line", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets every cell of `cells` in one transaction: a cell that has a line gets
/// the new amount, currency and note; one that has none gets a new line. If
/// any cell is invalid, nothing is written and the 422 points at each bad
/// member (`/2/amount`).
pub async fn upsert_all(db: &Db, who: &Principal, version_id: &str, cells: Vec<NewBudgetLine>) -> Result<BulkUpsertResult> {
    if cells.len() > MAX_BULK_CELLS {
        return Err(Error::Validation(vec![FieldError::at(
            "",
            format!("{} cells are more than the {MAX_BULK_CELLS} one request may set", cells.len()),
        )]));
    }
    let mut tx = db.begin().await?;
    let version = lock_draft(&mut tx, version_id).await?;
    let wanted: Vec<BudgetLine> = cells.into_iter().map(|cell| BudgetLine::new(&version, cell)).collect();

    let mut checks = Checks::new();
    let mut known = KnownRefs::default();
    let mut first_seen: HashMap<Cell, usize> = HashMap::new();
    for (i, line) in wanted.iter().enumerate() {
        validate(&mut tx, &mut known, &mut checks, &format!("/{i}"), line, &version).await?;
        if let Some(first) = first_seen.insert(line.cell(), i) {
            checks.fail(format!("/{i}"), format!("sets the same cell as /{first}"));
        }
    }
    checks.finish()?;

    let rows = query(format!("SELECT {COLUMNS} FROM budget_lines WHERE budget_version_id = $1"))
        .bind(version_id)
        .fetch_all(&mut tx)
        .await?;
    let mut existing: HashMap<Cell, BudgetLine> =
        rows.iter().map(from_row).map(|line| line.map(|l| (l.cell(), l))).collect::<Result<_>>()?;

    let mut result = BulkUpsertResult { created: 0, updated: 0, unchanged: 0, items: Vec::with_capacity(wanted.len()) };
    for line in wanted {
        match existing.remove(&line.cell()) {
            None => {
                insert(&mut tx, &line).await?;
                audit::record(&mut tx, who, Action::Create, "budget_line", &line.id, None::<&()>, Some(&line)).await?;
                result.created += 1;
                result.items.push(line);
            }
            Some(before) if before.amount == line.amount && before.currency == line.currency && before.note == line.note => {
                result.unchanged += 1;
                result.items.push(before);
            }
            Some(before) => {
                let after = BudgetLine {
                    amount: line.amount,
                    currency: line.currency,
                    note: line.note,
                    updated_at: line.updated_at,
                    version: before.version + 1,
                    ..before.clone()
                };
                overwrite(&mut tx, &after, before.version).await?;
                audit::record(&mut tx, who, Action::Update, "budget_line", &after.id, Some(&before), Some(&after)).await?;
                result.updated += 1;
                result.items.push(after);
            }
        }
    }
    tx.commit().await?;
    Ok(result)
}

/// Adds one line to draft `version` within the caller's transaction, after
/// the same checks as [`create`]; for generated plans (an approved scenario).
pub(crate) async fn create_in(tx: &mut Tx, who: &Principal, version: &BudgetVersion, input: NewBudgetLine) -> Result<BudgetLine> {
    super::ensure_editable(version)?;
    let line = BudgetLine::new(version, input);
    validate_one(tx, &line, version).await?;
    insert(tx, &line).await?;
    audit::record(tx, who, Action::Create, "budget_line", &line.id, None::<&()>, Some(&line)).await?;
    Ok(line)
}

/// Copies every line of version `from` into version `to` (new ids, version 1);
/// returns how many.
pub(super) async fn copy_all(tx: &mut Tx, from: &str, to: &str) -> Result<usize> {
    let rows = query(format!("SELECT {COLUMNS} FROM budget_lines WHERE budget_version_id = $1 ORDER BY fiscal_period, id"))
        .bind(from)
        .fetch_all(tx)
        .await?;
    let now = Utc::now();
    for row in &rows {
        let source = from_row(row)?;
        let copy = BudgetLine {
            id: new_id(),
            budget_version_id: to.to_owned(),
            created_at: now,
            updated_at: now,
            version: 1,
            ..source
        };
        insert(tx, &copy).await?;
    }
    Ok(rows.len())
}

/// Adds `amount` (in `currency`) to a draft version's cell, creating the line
/// when the cell has none; the caller has locked the version
/// ([`super::lock_draft`]) and converted `amount` into the currency of the
/// cell's line if it has one ([`cell_currency`]). Audited; returns the line
/// and whether it is new. For writers that add to a plan, such as the refresh
/// forecast, where overwriting a cell would lose what others planned in it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_to_cell(
    tx: &mut Tx,
    who: &Principal,
    version: &BudgetVersion,
    fiscal_period: FiscalPeriod,
    cost_center_id: &str,
    cost_type_id: &str,
    project_id: Option<&str>,
    amount: Decimal,
    currency: &str,
    note: &str,
) -> Result<(BudgetLine, bool)> {
    let existing = find_cell(tx, &version.id, fiscal_period, cost_center_id, cost_type_id, project_id).await?;
    match existing {
        Some(before) => {
            let after = BudgetLine { amount: before.amount + amount, updated_at: Utc::now(), version: before.version + 1, ..before.clone() };
            validate_one(tx, &after, version).await?;
            overwrite(tx, &after, before.version).await?;
            audit::record(tx, who, Action::Update, "budget_line", &after.id, Some(&before), Some(&after)).await?;
            Ok((after, false))
        }
        None => {
            let line = BudgetLine::new(
                version,
                NewBudgetLine {
                    fiscal_period,
                    cost_center_id: cost_center_id.to_owned(),
                    cost_type_id: cost_type_id.to_owned(),
                    project_id: project_id.map(str::to_owned),
                    amount,
                    currency: Some(currency.to_owned()),
                    note: Some(note.to_owned()),
                },
            );
            validate_one(tx, &line, version).await?;
            insert(tx, &line).await?;
            audit::record(tx, who, Action::Create, "budget_line", &line.id, None::<&()>, Some(&line)).await?;
            Ok((line, true))
        }
    }
}

/// The currency of a cell's line, if the cell has one.
pub(crate) async fn cell_currency(
    ex: &mut impl Executor,
    version_id: &str,
    fiscal_period: FiscalPeriod,
    cost_center_id: &str,
    cost_type_id: &str,
    project_id: Option<&str>,
) -> Result<Option<String>> {
    Ok(find_cell(ex, version_id, fiscal_period, cost_center_id, cost_type_id, project_id).await?.map(|l| l.currency))
}

async fn find_cell(
    ex: &mut impl Executor,
    version_id: &str,
    fiscal_period: FiscalPeriod,
    cost_center_id: &str,
    cost_type_id: &str,
    project_id: Option<&str>,
) -> Result<Option<BudgetLine>> {
    let row = query(format!(
        "SELECT {COLUMNS} FROM budget_lines WHERE budget_version_id = $1 AND fiscal_period = $2 AND cost_center_id = $3 \
         AND cost_type_id = $4 AND COALESCE(project_id, '') = $5"
    ))
    .bind(version_id)
    .bind(fiscal_period.to_string())
    .bind(cost_center_id)
    .bind(cost_type_id)
    .bind(project_id.unwrap_or(""))
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(from_row).transpose()
}
