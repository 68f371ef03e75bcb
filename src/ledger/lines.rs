//! Ledger lines: one posting of an amount against a cost type and cost center,
//! optionally attributed to a project, asset, vendor, service, cost pool and
//! tower. [`post_lines`] is the one way in for every source.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{Error, FieldError, Result};
use crate::finance::calendar::{self, FiscalCalendar, FiscalPeriod};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// The source of lines entered one by one through the API.
pub const MANUAL_SOURCE: &str = "manual";

/// Free-form labels of a line, such as `{"env": "prod"}`. A sorted map, so a
/// line's tags always serialise the same way.
pub type Tags = BTreeMap<String, String>;

const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 100;
const MAX_TAG_VALUE: usize = 1_000;
const MAX_SOURCE_KEY: usize = 200;
const MAX_SOURCE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LedgerLine {
    pub id: String,
    /// The date the cost was incurred (invoice or usage date).
    pub entry_date: NaiveDate,
    /// The fiscal period of `entry_date`, computed by the server.
    pub fiscal_period: FiscalPeriod,
    /// Negative for credits and adjustments.
    #[schema(value_type = String, example = "-125.50")]
    pub amount: Decimal,
    pub currency: String,
    pub cost_type_id: String,
    pub cost_center_id: String,
    pub project_id: Option<String>,
    pub asset_id: Option<String>,
    pub vendor_id: Option<String>,
    pub service_id: Option<String>,
    pub cost_pool_id: Option<String>,
    pub tower_id: Option<String>,
    pub description: Option<String>,
    pub tags: Tags,
    /// Who posted the line: `manual`, `csv`, a connector's name.
    pub source: String,
    /// The line's identity within its source; the ledger stores each
    /// `(source, source_key)` once.
    pub source_key: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A line to post. Every source builds these; the server adds the id, the
/// fiscal period and the bookkeeping.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLedgerLine {
    pub entry_date: NaiveDate,
    /// A decimal string or number, at most 12 decimals and 10^15 in magnitude;
    /// negative for credits.
    #[schema(value_type = String, example = "-125.50")]
    pub amount: Decimal,
    pub currency: String,
    pub cost_type_id: String,
    pub cost_center_id: String,
    pub project_id: Option<String>,
    pub asset_id: Option<String>,
    pub vendor_id: Option<String>,
    pub service_id: Option<String>,
    pub cost_pool_id: Option<String>,
    pub tower_id: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// The line's identity in its source, for idempotency. Generated when
    /// absent; for manual lines the `Idempotency-Key` header takes its place.
    pub source_key: Option<String>,
}

/// A change to a line. `source` and `source_key` are its identity and cannot
/// change: an unknown member such as `source_key` is refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerLinePatch {
    pub entry_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub cost_type_id: Option<String>,
    pub cost_center_id: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub asset_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub vendor_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub service_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub cost_pool_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub tower_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Replaces all tags when present.
    pub tags: Option<Tags>,
}

/// What a posting did.
#[derive(Debug, Default)]
pub struct PostOutcome {
    /// The lines stored, in the order given.
    pub inserted: Vec<LedgerLine>,
    /// Source keys of lines the ledger already held (or that appeared earlier
    /// in the same batch): skipped, not errors, so a source can resend safely.
    pub duplicates: Vec<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilter {
    /// Only lines of this fiscal period, e.g. `FY2027-P03`.
    #[param(value_type = Option<String>)]
    pub fiscal_period: Option<FiscalPeriod>,
    /// Only lines entered on or after this date.
    pub from: Option<NaiveDate>,
    /// Only lines entered on or before this date.
    pub to: Option<NaiveDate>,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
    pub project_id: Option<String>,
    pub asset_id: Option<String>,
    pub vendor_id: Option<String>,
    pub service_id: Option<String>,
    pub source: Option<String>,
    pub currency: Option<String>,
}

const COLUMNS: &str = "id, entry_date, fiscal_period, amount, currency, cost_type_id, cost_center_id, project_id, asset_id, \
    vendor_id, service_id, cost_pool_id, tower_id, description, tags, source, source_key, created_by, created_at, updated_at, version";

/// Only keys that order alike on both databases: the amount is TEXT on SQLite,
/// where it would sort as text, so it is not a sort key.
const SORT: Sortable = Sortable {
    keys: &[("entry_date", "entry_date"), ("created_at", "created_at"), ("fiscal_period", "fiscal_period")],
    default: "entry_date",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<LedgerLine> {
    let period: String = row.get("fiscal_period")?;
    Ok(LedgerLine {
        id: row.get("id")?,
        entry_date: row.get("entry_date")?,
        fiscal_period: period.parse().map_err(|e: String| anyhow::anyhow!("ledger line fiscal period: {e}"))?,
        amount: row.decimal("amount")?,
        currency: row.get("currency")?,
        cost_type_id: row.get("cost_type_id")?,
        cost_center_id: row.get("cost_center_id")?,
        project_id: row.get("project_id")?,
        asset_id: row.get("asset_id")?,
        vendor_id: row.get("vendor_id")?,
        service_id: row.get("service_id")?,
        cost_pool_id: row.get("cost_pool_id")?,
        tower_id: row.get("tower_id")?,
        description: row.get("description")?,
        tags: row.json("tags")?,
        source: row.get("source")?,
        source_key: row.get("source_key")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

fn tags_json(tags: &Tags) -> Result<String> {
    Ok(serde_json::to_string(tags).map_err(anyhow::Error::from)?)
}

/// Reference lookups remembered for one validation run, so a batch of
/// thousands of lines naming the same few cost centers asks once per id.
/// Keyed by field name, as each field refers to one kind of thing.
#[derive(Default)]
struct KnownRefs(HashMap<(&'static str, String), bool>);

impl KnownRefs {
    #[allow(clippy::too_many_arguments)]
    async fn check(
        &mut self,
        ex: &mut impl Executor,
        checks: &mut Checks,
        at: &str,
        field: &'static str,
        what: Ref,
        noun: &str,
        id: Option<&str>,
    ) -> Result<()> {
        let Some(id) = id else { return Ok(()) };
        let key = (field, id.to_owned());
        let found = match self.0.get(&key) {
            Some(found) => *found,
            None => {
                let found = refs::exists(ex, what, id).await?;
                self.0.insert(key, found);
                found
            }
        };
        if !found {
            checks.fail(format!("{at}/{field}"), format!("no {noun} has the id {id:?}"));
        }
        Ok(())
    }
}

/// Checks one line's fields and references; `at` prefixes every pointer.
async fn check_line(
    ex: &mut impl Executor,
    known: &mut KnownRefs,
    checks: &mut Checks,
    calendar: &FiscalCalendar,
    at: &str,
    line: &NewLedgerLine,
) -> Result<()> {
    let year = calendar.year_of(line.entry_date);
    if !(2000..=2100).contains(&year) {
        checks.fail(format!("{at}/entry_date"), "must fall in a fiscal year between 2000 and 2100");
    }
    checks.amount(&format!("{at}/amount"), line.amount, true);
    let currency_ok = line.currency.len() == 3 && line.currency.bytes().all(|b| b.is_ascii_uppercase());
    checks.currency_format(&format!("{at}/currency"), &line.currency);
    if currency_ok {
        known.check(ex, checks, at, "currency", Ref::Currency, "currency (ISO 4217)", Some(&line.currency)).await?;
    }
    for (field, value) in [("cost_type_id", &line.cost_type_id), ("cost_center_id", &line.cost_center_id)] {
        checks.text(&format!("{at}/{field}"), value, 100);
    }
    let cost_type = Some(line.cost_type_id.as_str()).filter(|v| !v.trim().is_empty());
    let cost_center = Some(line.cost_center_id.as_str()).filter(|v| !v.trim().is_empty());
    known.check(ex, checks, at, "cost_type_id", Ref::CostType, "cost type", cost_type).await?;
    known.check(ex, checks, at, "cost_center_id", Ref::CostCenter, "cost center", cost_center).await?;
    known.check(ex, checks, at, "project_id", Ref::Project, "project", line.project_id.as_deref()).await?;
    known.check(ex, checks, at, "asset_id", Ref::Asset, "asset", line.asset_id.as_deref()).await?;
    known.check(ex, checks, at, "vendor_id", Ref::Vendor, "vendor", line.vendor_id.as_deref()).await?;
    known.check(ex, checks, at, "service_id", Ref::Service, "service", line.service_id.as_deref()).await?;
    known.check(ex, checks, at, "cost_pool_id", Ref::CostPool, "cost pool", line.cost_pool_id.as_deref()).await?;
    known.check(ex, checks, at, "tower_id", Ref::Tower, "tower", line.tower_id.as_deref()).await?;
    checks.opt_text(&format!("{at}/description"), line.description.as_deref(), 2_000);
    check_tags(checks, &format!("{at}/tags"), &line.tags);
    if let Some(key) = line.source_key.as_deref() {
        checks.text(&format!("{at}/source_key"), key, MAX_SOURCE_KEY);
    }
    Ok(())
}

fn check_tags(checks: &mut Checks, at: &str, tags: &Tags) {
    if tags.len() > MAX_TAGS {
        checks.fail(at, format!("may hold at most {MAX_TAGS} tags"));
        return;
    }
    for (key, value) in tags {
        let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        if key.trim().is_empty() || key.chars().count() > MAX_TAG_KEY {
            checks.fail(pointer, format!("tag names must be 1 to {MAX_TAG_KEY} characters"));
        } else if value.chars().count() > MAX_TAG_VALUE {
            checks.fail(pointer, format!("tag values must be at most {MAX_TAG_VALUE} characters"));
        }
    }
}

/// Checks a source name: a short identifier such as `csv` or `aws-cur`.
pub fn check_source(source: &str) -> Result<()> {
    let ok = !source.is_empty()
        && source.len() <= MAX_SOURCE
        && source.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Validation(vec![FieldError::param(
            "source",
            format!("must be 1 to {MAX_SOURCE} letters, digits or - _ . :"),
        )]))
    }
}

async fn check_all(ex: &mut impl Executor, calendar: &FiscalCalendar, lines: &[NewLedgerLine]) -> Result<Vec<FieldError>> {
    let mut known = KnownRefs::default();
    let mut checks = Checks::new();
    for (i, line) in lines.iter().enumerate() {
        check_line(ex, &mut known, &mut checks, calendar, &format!("/{i}"), line).await?;
    }
    match checks.finish() {
        Ok(()) => Ok(Vec::new()),
        Err(Error::Validation(errors)) => Ok(errors),
        Err(other) => Err(other),
    }
}

/// Every problem with `lines`, without writing anything. Pointers lead into
/// the slice: `/3/amount` is the amount of `lines[3]`.
pub async fn check_lines(ex: &mut impl Executor, lines: &[NewLedgerLine]) -> Result<Vec<FieldError>> {
    let calendar = calendar::load(ex).await?;
    check_all(ex, &calendar, lines).await
}

/// Validates `lines` and stores those the ledger does not hold yet, in the
/// caller's transaction, auditing each. All or nothing: if any line is
/// invalid, the answer is a validation error whose pointers lead into `lines`
/// (`/3/amount`) and nothing is written. A line whose `(source, source_key)`
/// exists already is skipped and reported in [`PostOutcome::duplicates`]; a
/// line without `source_key` gets a generated one (and so is never a duplicate).
pub async fn post_lines(tx: &mut Tx, who: &Principal, source: &str, lines: Vec<NewLedgerLine>) -> Result<PostOutcome> {
    check_source(source)?;
    let calendar = calendar::load(tx).await?;
    let errors = check_all(tx, &calendar, &lines).await?;
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let now = Utc::now();
    let lines: Vec<LedgerLine> = lines
        .into_iter()
        .map(|input| LedgerLine {
            id: new_id(),
            entry_date: input.entry_date,
            fiscal_period: calendar.period_of(input.entry_date),
            amount: input.amount,
            currency: input.currency,
            cost_type_id: input.cost_type_id,
            cost_center_id: input.cost_center_id,
            project_id: input.project_id,
            asset_id: input.asset_id,
            vendor_id: input.vendor_id,
            service_id: input.service_id,
            cost_pool_id: input.cost_pool_id,
            tower_id: input.tower_id,
            description: input.description,
            tags: input.tags,
            source: source.to_owned(),
            source_key: input.source_key.unwrap_or_else(new_id),
            created_by: who.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    let mut outcome = PostOutcome::default();
    for chunk in lines.chunks(POST_ROWS_PER_STATEMENT) {
        let mut stored = insert_new(tx, chunk).await?;
        for line in chunk {
            // A key stored by this statement counts once; a second line with
            // it in the same batch is a duplicate, as is one stored before.
            if stored.remove(&line.source_key) {
                outcome.inserted.push(line.clone());
            } else {
                outcome.duplicates.push(line.source_key.clone());
            }
        }
    }
    let created: Vec<(&str, &LedgerLine)> = outcome.inserted.iter().map(|l| (l.id.as_str(), l)).collect();
    audit::record_created(tx, who, "ledger_line", &created).await?;
    Ok(outcome)
}

/// Lines per INSERT of [`post_lines`]: 20 parameters each, far below both
/// databases' limits, and few enough round trips that posting runs at the
/// speed of the database rather than of the network.
const POST_ROWS_PER_STATEMENT: usize = 500;

/// Inserts `lines` in one statement, skipping those whose (source, source_key)
/// the ledger holds already; answers the source keys it stored. ON CONFLICT DO
/// NOTHING makes the idempotency race-free: a line that a concurrent posting
/// stored first is a duplicate, not a failure.
async fn insert_new(tx: &mut Tx, lines: &[LedgerLine]) -> Result<std::collections::HashSet<String>> {
    const COLUMNS: usize = 20;
    let values: Vec<String> = (0..lines.len())
        .map(|r| {
            let p: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", r * COLUMNS + c)).collect();
            format!("({}, 1)", p.join(", "))
        })
        .collect();
    let mut q = query(format!(
        "INSERT INTO ledger_lines (id, entry_date, fiscal_period, amount, currency, cost_type_id, cost_center_id, \
         project_id, asset_id, vendor_id, service_id, cost_pool_id, tower_id, description, tags, source, source_key, \
         created_by, created_at, updated_at, version) VALUES {} \
         ON CONFLICT (source, source_key) DO NOTHING RETURNING source_key",
        values.join(", ")
    ));
    for line in lines {
        q = q
            .bind(&line.id)
            .bind(line.entry_date)
            .bind(line.fiscal_period.to_string())
            .bind(line.amount)
            .bind(&line.currency)
            .bind(&line.cost_type_id)
            .bind(&line.cost_center_id)
            .bind(line.project_id.clone())
            .bind(line.asset_id.clone())
            .bind(line.vendor_id.clone())
            .bind(line.service_id.clone())
            .bind(line.cost_pool_id.clone())
            .bind(line.tower_id.clone())
            .bind(line.description.clone())
            .bind(tags_json(&line.tags)?)
            .bind(&line.source)
            .bind(&line.source_key)
            .bind(&line.created_by)
            .bind(line.created_at)
            .bind(line.updated_at);
    }
    let rows = q.fetch_all(tx).await.map_err(|e| Error::from_write(e, "a ledger line with this id exists already", "/"))?;
    Ok(rows.iter().map(|r| r.get::<String>("source_key")).collect::<std::result::Result<_, _>>()?)
}

/// Moves validation errors of [`post_lines`] (pointers `/{index}/…` into its
/// input) to where the caller's client sent them, e.g. `/rows/4/amount`.
pub fn relocate_errors(err: Error, relocate: impl Fn(usize, &str, &str) -> FieldError) -> Error {
    match err {
        Error::Validation(errors) => Error::Validation(
            errors
                .into_iter()
                .map(|e| match e.pointer.as_deref().and_then(split_index) {
                    Some((index, rest)) => relocate(index, rest, &e.detail),
                    None => e,
                })
                .collect(),
        ),
        other => other,
    }
}

/// `/3/amount` → `(3, "/amount")`.
pub fn split_index(pointer: &str) -> Option<(usize, &str)> {
    let rest = pointer.strip_prefix('/')?;
    let (index, rest) = rest.find('/').map_or((rest, ""), |slash| (&rest[..slash], &rest[slash..]));
    index.parse().ok().map(|i| (i, rest))
}

/// Posts one manual line. With an idempotency key (the `Idempotency-Key`
/// header, else `source_key`) seen before, nothing is written and the stored
/// line comes back with `replayed = true`.
pub async fn create_manual(
    db: &Db,
    who: &Principal,
    idempotency_key: Option<String>,
    mut input: NewLedgerLine,
) -> Result<(LedgerLine, bool)> {
    if let Some(key) = idempotency_key {
        if input.source_key.as_ref().is_some_and(|given| *given != key) {
            return Err(Error::invalid("/source_key", "differs from the Idempotency-Key header; send one or the other"));
        }
        input.source_key = Some(key);
    }
    let mut tx = db.begin().await?;
    let key = input.source_key.clone();
    let outcome = post_lines(&mut tx, who, MANUAL_SOURCE, vec![input])
        .await
        .map_err(|e| relocate_errors(e, |_, rest, detail| FieldError::at(rest, detail)))?;
    let result = match outcome.inserted.into_iter().next() {
        Some(line) => (line, false),
        None => {
            let key = key.unwrap_or_default();
            let existing = find_by_source_key(&mut tx, MANUAL_SOURCE, &key).await?;
            (existing.ok_or_else(|| Error::not_found("ledger line", key))?, true)
        }
    };
    tx.commit().await?;
    Ok(result)
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<LedgerLine> {
    let row = query(format!("SELECT {COLUMNS} FROM ledger_lines WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("ledger line", id))
}

/// The line a source posted under `source_key`, if any.
pub async fn find_by_source_key(ex: &mut impl Executor, source: &str, source_key: &str) -> Result<Option<LedgerLine>> {
    let row = query(format!("SELECT {COLUMNS} FROM ledger_lines WHERE source = $1 AND source_key = $2"))
        .bind(source)
        .bind(source_key)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

fn filtered(filter: &LedgerFilter) -> Select {
    let mut select = Select::new(COLUMNS, "ledger_lines");
    select
        .filter_opt("fiscal_period = {}", filter.fiscal_period.map(|p| p.to_string()))
        .filter_opt("entry_date >= {}", filter.from)
        .filter_opt("entry_date <= {}", filter.to)
        .filter_opt("cost_center_id = {}", filter.cost_center_id.as_deref())
        .filter_opt("cost_type_id = {}", filter.cost_type_id.as_deref())
        .filter_opt("project_id = {}", filter.project_id.as_deref())
        .filter_opt("asset_id = {}", filter.asset_id.as_deref())
        .filter_opt("vendor_id = {}", filter.vendor_id.as_deref())
        .filter_opt("service_id = {}", filter.service_id.as_deref())
        .filter_opt("source = {}", filter.source.as_deref())
        .filter_opt("currency = {}", filter.currency.as_deref());
    select
}

pub async fn list(db: &Db, filter: &LedgerFilter, page: &PageParams) -> Result<Page<LedgerLine>> {
    filtered(filter).fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

/// What [`summary`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    FiscalPeriod,
    CostCenter,
    CostType,
    Project,
    Vendor,
    Service,
    Source,
}

impl GroupBy {
    fn key(self, line: &LedgerLine) -> Option<String> {
        match self {
            GroupBy::FiscalPeriod => Some(line.fiscal_period.to_string()),
            GroupBy::CostCenter => Some(line.cost_center_id.clone()),
            GroupBy::CostType => Some(line.cost_type_id.clone()),
            GroupBy::Project => line.project_id.clone(),
            GroupBy::Vendor => line.vendor_id.clone(),
            GroupBy::Service => line.service_id.clone(),
            GroupBy::Source => Some(line.source.clone()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// `fiscal_period`, `cost_center`, `cost_type`, `project`, `vendor`, `service` or `source`.
    #[param(value_type = String)]
    pub group_by: GroupBy,
}

/// One group's total in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryGroup {
    /// The group's value (an id, a period, a source); null for lines without one.
    pub key: Option<String>,
    pub currency: String,
    #[schema(value_type = String, example = "1250.00")]
    pub amount: Decimal,
    pub lines: i64,
}

/// Totals of the filtered lines per group and currency (amounts in different
/// currencies are never added). Summed in Rust: SQLite keeps amounts as text.
pub async fn summary(db: &Db, filter: &LedgerFilter, group_by: GroupBy) -> Result<Vec<SummaryGroup>> {
    let rows = filtered(filter).into_query("id").fetch_all(&mut db.clone()).await?;
    let mut groups: BTreeMap<(Option<String>, String), (Decimal, i64)> = BTreeMap::new();
    for row in &rows {
        let line = from_row(row)?;
        let total = groups.entry((group_by.key(&line), line.currency.clone())).or_default();
        total.0 += line.amount;
        total.1 += 1;
    }
    Ok(groups
        .into_iter()
        .map(|((key, currency), (amount, lines))| SummaryGroup { key, currency, amount, lines })
        .collect())
}

/// Changes a line. `If-Match` is required: ledger lines are money, and a
/// change made without seeing the current amount is refused (428).
pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: LedgerLinePatch) -> Result<LedgerLine> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, true)?;
    let b = &before;
    let candidate = NewLedgerLine {
        entry_date: input.entry_date.unwrap_or(b.entry_date),
        amount: input.amount.unwrap_or(b.amount),
        currency: input.currency.unwrap_or_else(|| b.currency.clone()),
        cost_type_id: input.cost_type_id.unwrap_or_else(|| b.cost_type_id.clone()),
        cost_center_id: input.cost_center_id.unwrap_or_else(|| b.cost_center_id.clone()),
        project_id: patch::apply(b.project_id.clone(), input.project_id),
        asset_id: patch::apply(b.asset_id.clone(), input.asset_id),
        vendor_id: patch::apply(b.vendor_id.clone(), input.vendor_id),
        service_id: patch::apply(b.service_id.clone(), input.service_id),
        cost_pool_id: patch::apply(b.cost_pool_id.clone(), input.cost_pool_id),
        tower_id: patch::apply(b.tower_id.clone(), input.tower_id),
        description: patch::apply(b.description.clone(), input.description),
        tags: input.tags.unwrap_or_else(|| b.tags.clone()),
        source_key: None,
    };
    let calendar = calendar::load(&mut tx).await?;
    let mut checks = Checks::new();
    check_line(&mut tx, &mut KnownRefs::default(), &mut checks, &calendar, "", &candidate).await?;
    checks.finish()?;
    let after = LedgerLine {
        fiscal_period: calendar.period_of(candidate.entry_date),
        entry_date: candidate.entry_date,
        amount: candidate.amount,
        currency: candidate.currency,
        cost_type_id: candidate.cost_type_id,
        cost_center_id: candidate.cost_center_id,
        project_id: candidate.project_id,
        asset_id: candidate.asset_id,
        vendor_id: candidate.vendor_id,
        service_id: candidate.service_id,
        cost_pool_id: candidate.cost_pool_id,
        tower_id: candidate.tower_id,
        description: candidate.description,
        tags: candidate.tags,
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    query(
        "UPDATE ledger_lines SET entry_date = $1, fiscal_period = $2, amount = $3, currency = $4, cost_type_id = $5, \
         cost_center_id = $6, project_id = $7, asset_id = $8, vendor_id = $9, service_id = $10, cost_pool_id = $11, \
         tower_id = $12, description = $13, tags = $14, updated_at = $15, version = $16 WHERE id = $17 AND version = $18",
    )
    .bind(after.entry_date)
    .bind(after.fiscal_period.to_string())
    .bind(after.amount)
    .bind(&after.currency)
    .bind(&after.cost_type_id)
    .bind(&after.cost_center_id)
    .bind(after.project_id.clone())
    .bind(after.asset_id.clone())
    .bind(after.vendor_id.clone())
    .bind(after.service_id.clone())
    .bind(after.cost_pool_id.clone())
    .bind(after.tower_id.clone())
    .bind(after.description.clone())
    .bind(tags_json(&after.tags)?)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(before.version)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "the change collides with another ledger line", "/"))
    .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Update, "ledger_line", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

const TABLE: patch::Table = patch::Table {
    name: "ledger_lines",
    entity: "ledger_line",
    duplicate: "the line exists already",
    reference: "/cost_center_id",
    in_use: "other records refer to the ledger line",
};

/// Removes a line (`If-Match` required). Its `(source, source_key)` becomes
/// free again, so the source may post the line anew.
pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, true)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_into_a_batch_split_into_index_and_rest() {
        assert_eq!(split_index("/3/amount"), Some((3, "/amount")));
        assert_eq!(split_index("/12"), Some((12, "")));
        assert_eq!(split_index("/tags/x"), None);
    }

    #[test]
    fn source_names_are_short_identifiers() {
        assert!(check_source("aws-cur:v2").is_ok());
        for bad in ["", "csv; DROP TABLE ledger_lines", "with space", &"x".repeat(101)] {
            assert!(check_source(bad).is_err(), "{bad}");
        }
    }
}
