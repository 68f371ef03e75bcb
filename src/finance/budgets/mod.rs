//! Budget versions: a named plan or reforecast of one fiscal year, moving
//! draft → submitted → approved → locked (a submitted version may be returned
//! to draft). Only a draft version's lines may change, so an approved budget is
//! the budget that was approved.

pub mod http;
pub mod lines;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::check_currency;
use super::cost_types::Classification;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{ConflictKind, Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetKind {
    /// The budget set before the year starts.
    Plan,
    /// A revision during the year.
    Reforecast,
}

crate::text_enum!(BudgetKind { Plan = "plan", Reforecast = "reforecast" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetState {
    Draft,
    Submitted,
    Approved,
    Locked,
}

crate::text_enum!(BudgetState { Draft = "draft", Submitted = "submitted", Approved = "approved", Locked = "locked" });

impl crate::lifecycle::Lifecycle for BudgetState {
    /// The states a version may move to from this one. Submitted may go back
    /// to draft (returned for rework); locked is final.
    fn next(self) -> &'static [BudgetState] {
        use BudgetState::*;
        match self {
            Draft => &[Submitted],
            Submitted => &[Approved, Draft],
            Approved => &[Locked],
            Locked => &[],
        }
    }
}

impl BudgetState {
    /// Whether the version's lines and details may change.
    pub fn is_editable(self) -> bool {
        self == BudgetState::Draft
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetVersion {
    pub id: String,
    pub name: String,
    /// Fiscal year, named after the calendar year it ends in.
    pub fiscal_year: i32,
    pub kind: BudgetKind,
    pub state: BudgetState,
    /// The default currency of its lines.
    pub currency: String,
    pub description: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The sum of a version's lines in one currency. Lines are never converted
/// here: converting needs a rate choice that belongs to reports.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CurrencyTotals {
    pub currency: String,
    #[schema(value_type = String, example = "120000.00")]
    pub capex: Decimal,
    #[schema(value_type = String, example = "480000.00")]
    pub opex: Decimal,
    #[schema(value_type = String, example = "600000.00")]
    pub total: Decimal,
    pub lines: i64,
}

/// A version with the totals of its lines, one entry per currency used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetVersionDetail {
    #[serde(flatten)]
    pub version: BudgetVersion,
    pub totals: Vec<CurrencyTotals>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudgetVersion {
    pub name: String,
    pub fiscal_year: i32,
    /// Defaults to plan.
    pub kind: Option<BudgetKind>,
    /// Defaults to the reporting currency.
    pub currency: Option<String>,
    pub description: Option<String>,
}

/// Changes to a draft version. The fiscal year is fixed: its lines' periods
/// belong to it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetVersionPatch {
    pub name: Option<String>,
    pub kind: Option<BudgetKind>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetTransition {
    pub to: BudgetState,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyBudgetVersion {
    pub name: String,
    /// Defaults to reforecast.
    pub kind: Option<BudgetKind>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetVersionFilter {
    /// Case-insensitive search in the name.
    pub q: Option<String>,
    pub fiscal_year: Option<i32>,
    pub kind: Option<BudgetKind>,
    pub state: Option<BudgetState>,
}

const COLUMNS: &str =
    "id, name, fiscal_year, kind, state, currency, description, approved_by, approved_at, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[
        ("name", "LOWER(name)"),
        ("fiscal_year", "fiscal_year"),
        ("kind", "kind"),
        ("state", "state"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "-fiscal_year,name",
    tie_break: "id",
};
const DUPLICATE: &str = "a budget version with this name exists already for the fiscal year";

fn from_row(row: &Row) -> Result<BudgetVersion> {
    Ok(BudgetVersion {
        id: row.get("id")?,
        name: row.get("name")?,
        fiscal_year: row.get::<i64>("fiscal_year")? as i32,
        kind: BudgetKind::from_db(&row.get::<String>("kind")?)?,
        state: BudgetState::from_db(&row.get::<String>("state")?)?,
        currency: row.get("currency")?,
        description: row.get("description")?,
        approved_by: row.get("approved_by")?,
        approved_at: row.get("approved_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &BudgetVersionFilter, page: &PageParams) -> Result<Page<BudgetVersion>> {
    let mut select = Select::new(COLUMNS, "budget_versions");
    select
        .search("name", filter.q.as_deref())
        .filter_opt("fiscal_year = {}", filter.fiscal_year)
        .filter_opt("kind = {}", filter.kind.map(BudgetKind::as_str))
        .filter_opt("state = {}", filter.state.map(BudgetState::as_str));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<BudgetVersion> {
    let row = query(format!("SELECT {COLUMNS} FROM budget_versions WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("budget version", id))
}

pub async fn get_detail(ex: &mut impl Executor, id: &str) -> Result<BudgetVersionDetail> {
    let version = get(ex, id).await?;
    let totals = totals(ex, id).await?;
    Ok(BudgetVersionDetail { version, totals })
}

/// Sums a version's lines per currency into CapEx and OpEx, in Rust, exactly.
pub async fn totals(ex: &mut impl Executor, id: &str) -> Result<Vec<CurrencyTotals>> {
    let rows = query(
        "SELECT l.amount, l.currency, t.classification FROM budget_lines l \
         JOIN cost_types t ON t.id = l.cost_type_id WHERE l.budget_version_id = $1",
    )
    .bind(id)
    .fetch_all(ex)
    .await?;
    let mut by_currency: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
    for row in &rows {
        let currency: String = row.get("currency")?;
        let amount = row.decimal("amount")?;
        let entry = by_currency.entry(currency.clone()).or_insert_with(|| CurrencyTotals {
            currency,
            capex: Decimal::ZERO,
            opex: Decimal::ZERO,
            total: Decimal::ZERO,
            lines: 0,
        });
        match Classification::from_db(&row.get::<String>("classification")?)? {
            Classification::Capex => entry.capex += amount,
            Classification::Opex => entry.opex += amount,
        }
        entry.total += amount;
        entry.lines += 1;
    }
    Ok(by_currency.into_values().collect())
}

/// Refuses a change to `version`'s lines or details unless it is a draft.
pub(crate) fn ensure_editable(version: &BudgetVersion) -> Result<()> {
    if version.state.is_editable() {
        Ok(())
    } else {
        Err(Error::conflict(
            ConflictKind::Locked,
            format!(
                "budget version {:?} is {}; only a draft version can change (a submitted one can be returned to draft)",
                version.name, version.state
            ),
        ))
    }
}

/// Reads version `id` for a change to its lines, refusing unless it is a
/// draft. The no-op update takes the version's row lock, so a concurrent
/// transition (submit, approve) waits for this transaction or makes it fail:
/// no line slips into a version after it left draft.
pub(crate) async fn lock_draft(tx: &mut Tx, id: &str) -> Result<BudgetVersion> {
    let touched = query("UPDATE budget_versions SET state = state WHERE id = $1 AND state = $2")
        .bind(id)
        .bind(BudgetState::Draft.as_str())
        .execute(tx)
        .await?;
    let version = get(tx, id).await?;
    if touched == 0 {
        ensure_editable(&version)?;
    }
    Ok(version)
}

async fn validate(ex: &mut impl Executor, v: &BudgetVersion) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &v.name, 200);
    checks.opt_text("/description", v.description.as_deref(), 10_000);
    checks.check((2000..=2100).contains(&v.fiscal_year), "/fiscal_year", "must be a year between 2000 and 2100");
    check_currency(ex, &mut checks, "/currency", &v.currency).await?;
    checks.finish()
}

async fn insert(tx: &mut Tx, v: &BudgetVersion) -> Result<()> {
    query(
        "INSERT INTO budget_versions (id, name, fiscal_year, kind, state, currency, description, approved_by, approved_at, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)",
    )
    .bind(&v.id)
    .bind(&v.name)
    .bind(i64::from(v.fiscal_year))
    .bind(v.kind.as_str())
    .bind(v.state.as_str())
    .bind(&v.currency)
    .bind(v.description.clone())
    .bind(v.approved_by.clone())
    .bind(v.approved_at)
    .bind(v.created_at)
    .bind(v.updated_at)
    .execute(tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/currency"))?;
    Ok(())
}

fn new_draft(name: String, fiscal_year: i32, kind: BudgetKind, currency: String, description: Option<String>) -> BudgetVersion {
    let now = Utc::now();
    BudgetVersion {
        id: new_id(),
        name: name.trim().to_owned(),
        fiscal_year,
        kind,
        state: BudgetState::Draft,
        currency,
        description,
        approved_by: None,
        approved_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

pub async fn create(db: &Db, who: &Principal, input: NewBudgetVersion) -> Result<BudgetVersionDetail> {
    let mut tx = db.begin().await?;
    let detail = create_in(&mut tx, who, input).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Creates a draft version within the caller's transaction, so a larger
/// change (approving a scenario into a plan) is all or nothing.
pub(crate) async fn create_in(tx: &mut Tx, who: &Principal, input: NewBudgetVersion) -> Result<BudgetVersionDetail> {
    let currency = match input.currency {
        Some(c) => c.trim().to_owned(),
        None => super::settings::reporting_currency(tx).await?,
    };
    let version =
        new_draft(input.name, input.fiscal_year, input.kind.unwrap_or(BudgetKind::Plan), currency, input.description);
    validate(tx, &version).await?;
    insert(tx, &version).await?;
    let detail = BudgetVersionDetail { version, totals: Vec::new() };
    audit::record(tx, who, Action::Create, "budget_version", &detail.version.id, None::<&()>, Some(&detail)).await?;
    Ok(detail)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: BudgetVersionPatch) -> Result<BudgetVersionDetail> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    ensure_editable(&before)?;
    let after = BudgetVersion {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        kind: input.kind.unwrap_or(before.kind),
        currency: input.currency.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.currency.clone()),
        description: patch::apply(before.description.clone(), input.description),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&mut tx, &after).await?;
    query(
        "UPDATE budget_versions SET name = $1, kind = $2, currency = $3, description = $4, updated_at = $5, version = $6 \
         WHERE id = $7 AND version = $8",
    )
    .bind(&after.name)
    .bind(after.kind.as_str())
    .bind(&after.currency)
    .bind(after.description.clone())
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(before.version)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/currency"))
    .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Update, "budget_version", id, Some(&before), Some(&after)).await?;
    let totals = totals(&mut tx, id).await?;
    tx.commit().await?;
    Ok(BudgetVersionDetail { version: after, totals })
}

/// Moves a version through its workflow, refusing illegal steps with a 409
/// that lists the legal ones. Approval records who approved and when.
pub async fn transition(db: &Db, who: &Principal, id: &str, if_match: IfMatch, step: BudgetTransition) -> Result<BudgetVersion> {
    let mut checks = Checks::new();
    checks.opt_text("/reason", step.reason.as_deref(), 2_000);
    checks.finish()?;
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    crate::lifecycle::check_step("a budget version", before.state, step.to)?;
    let now = Utc::now();
    let (approved_by, approved_at) = if step.to == BudgetState::Approved {
        (Some(who.subject.clone()), Some(now))
    } else {
        (before.approved_by.clone(), before.approved_at)
    };
    let after = BudgetVersion { state: step.to, approved_by, approved_at, updated_at: now, version: before.version + 1, ..before.clone() };
    query(
        "UPDATE budget_versions SET state = $1, approved_by = $2, approved_at = $3, updated_at = $4, version = $5 \
         WHERE id = $6 AND version = $7",
    )
    .bind(after.state.as_str())
    .bind(after.approved_by.clone())
    .bind(after.approved_at)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(before.version)
    .execute(&mut tx)
    .await
    .map_err(Error::from)
    .and_then(Error::ensure_updated)?;
    let record = serde_json::json!({ "state": after.state, "reason": step.reason });
    audit::record(&mut tx, who, Action::Transition, "budget_version", id, Some(&serde_json::json!({ "state": before.state })), Some(&record))
        .await?;
    if after.state == BudgetState::Approved {
        let event = serde_json::to_value(&after).map_err(anyhow::Error::from)?;
        crate::plugins::outbox::emit(&mut tx, crate::plugins::outbox::Kind::BudgetApproved, id, event).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Starts a new draft (a reforecast unless told otherwise) from version `id`
/// in any state, with all its lines, in one transaction.
pub async fn copy(db: &Db, who: &Principal, id: &str, input: CopyBudgetVersion) -> Result<BudgetVersionDetail> {
    let mut tx = db.begin().await?;
    let source = get(&mut tx, id).await?;
    let version = new_draft(
        input.name,
        source.fiscal_year,
        input.kind.unwrap_or(BudgetKind::Reforecast),
        source.currency.clone(),
        input.description.or_else(|| source.description.clone()),
    );
    validate(&mut tx, &version).await?;
    insert(&mut tx, &version).await?;
    let copied = lines::copy_all(&mut tx, id, &version.id).await?;
    let totals = totals(&mut tx, &version.id).await?;
    let detail = BudgetVersionDetail { version, totals };
    let record = serde_json::json!({ "version": &detail, "copied_from": id, "lines_copied": copied });
    audit::record(&mut tx, who, Action::Create, "budget_version", &detail.version.id, None::<&()>, Some(&record)).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Deletes a draft version with its lines. Versions that left draft are the
/// record of what was submitted or approved, and stay.
pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get_detail(&mut tx, id).await?;
    if_match.check(before.version.version, false)?;
    ensure_editable(&before.version)?;
    // Its lines go with it (ON DELETE CASCADE).
    query("DELETE FROM budget_versions WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(before.version.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Delete, "budget_version", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lifecycle::Lifecycle;
    use super::BudgetState::*;

    #[test]
    fn a_budget_is_approved_only_after_submission_and_locked_only_after_approval() {
        assert_eq!(Draft.next(), [Submitted]);
        assert!(Submitted.next().contains(&Approved));
        assert!(Submitted.next().contains(&Draft));
        assert_eq!(Approved.next(), [Locked]);
        assert!(Locked.next().is_empty());
    }

    #[test]
    fn only_drafts_are_editable() {
        assert!(Draft.is_editable());
        assert!(![Submitted, Approved, Locked].iter().any(|s| s.is_editable()));
    }
}
