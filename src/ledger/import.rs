//! CSV import of ledger lines, all or nothing: every row is parsed, resolved
//! and validated before anything is written, a refusal lists every problem by
//! row and column (`/rows/5/amount`, data rows numbered from 1), and an
//! accepted file is posted in one transaction through [`post_lines`], so a
//! file imported twice stores its lines once.
//!
//! Columns (header names, any order, case-insensitive):
//! `entry_date` (YYYY-MM-DD), `amount`, `currency`, `cost_type` and
//! `cost_center` (code or id), `source_key` (the line's idempotency key) are
//! required; `project` (code or id), `vendor` (name or id), `service` (code or
//! id), `asset` (asset tag or id), `cost_pool` and `tower` (id, code, or
//! `version:code` such as `v5:COMPUTE` where a code exists in several taxonomy
//! versions), `description` and `tags` (a JSON object of strings) are optional.

use std::collections::HashMap;

use chrono::NaiveDate;
use csv::ByteRecord;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::lines::{MANUAL_SOURCE, NewLedgerLine, Tags, check_lines, check_source, post_lines, split_index};
use crate::auth::Principal;
use crate::db::{Db, Executor, query};
use crate::error::{Error, FieldError, Result};

/// Largest CSV body accepted: a month of detailed cloud billing fits.
pub const MAX_IMPORT_BODY: usize = 50 * 1024 * 1024;
/// A refusal lists at most this many problems, so a file with a systematic
/// error yields a readable answer rather than a megabyte of them.
const MAX_REPORTED_ERRORS: usize = 1_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The source the lines are posted as (default `csv`); with each row's
    /// `source_key` it identifies a line, so re-importing a file is harmless.
    pub source: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcome {
    /// Lines stored.
    pub inserted: usize,
    /// Rows whose `source_key` the ledger held already: skipped.
    pub duplicates: usize,
    /// Data rows read (blank rows aside).
    pub rows: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    EntryDate,
    Amount,
    Currency,
    CostType,
    CostCenter,
    Project,
    Vendor,
    Service,
    Asset,
    CostPool,
    Tower,
    Description,
    Tags,
    SourceKey,
}

impl Column {
    const ALL: [Column; 14] = [
        Column::EntryDate,
        Column::Amount,
        Column::Currency,
        Column::CostType,
        Column::CostCenter,
        Column::Project,
        Column::Vendor,
        Column::Service,
        Column::Asset,
        Column::CostPool,
        Column::Tower,
        Column::Description,
        Column::Tags,
        Column::SourceKey,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::EntryDate => "entry_date",
            Column::Amount => "amount",
            Column::Currency => "currency",
            Column::CostType => "cost_type",
            Column::CostCenter => "cost_center",
            Column::Project => "project",
            Column::Vendor => "vendor",
            Column::Service => "service",
            Column::Asset => "asset",
            Column::CostPool => "cost_pool",
            Column::Tower => "tower",
            Column::Description => "description",
            Column::Tags => "tags",
            Column::SourceKey => "source_key",
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::EntryDate | Column::Amount | Column::Currency | Column::CostType | Column::CostCenter | Column::SourceKey
        )
    }

    /// For columns naming master data: its table, the human-readable column
    /// accepted besides the id, and what it is called.
    fn lookup(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            Column::CostType => ("cost_types", "code", "cost type"),
            Column::CostCenter => ("cost_centers", "code", "cost center"),
            Column::Project => ("projects", "code", "project"),
            Column::Vendor => ("vendors", "name", "vendor"),
            Column::Service => ("services", "code", "service"),
            Column::Asset => ("assets", "asset_tag", "asset"),
            Column::CostPool => ("tbm_cost_pools", "code", "cost pool"),
            Column::Tower => ("tbm_towers", "code", "tower"),
            _ => return None,
        })
    }

    /// Whether codes repeat across TBM taxonomy versions.
    fn is_taxonomy(self) -> bool {
        matches!(self, Column::CostPool | Column::Tower)
    }

    /// The column a field of [`NewLedgerLine`] came from (`cost_center_id` → `cost_center`).
    fn of_field(field: &str) -> &str {
        field.strip_suffix("_id").unwrap_or(field)
    }
}

/// Where a data row is: its number among data rows (from 1) and its line in
/// the file (from 1, the header being line 1 unless it spans several).
#[derive(Debug, Clone, Copy)]
struct RowAt {
    row: usize,
    line: u64,
}

impl RowAt {
    fn error(self, column: &str, detail: impl std::fmt::Display) -> (usize, FieldError) {
        let pointer = if column.is_empty() { format!("/rows/{}", self.row) } else { format!("/rows/{}/{column}", self.row) };
        let what = if column.is_empty() { String::new() } else { format!("{column} ") };
        (self.row, FieldError::at(pointer, format!("data row {} (line {} of the file): {what}{detail}", self.row, self.line)))
    }
}

/// Ids of master data named by code, name or id, remembered per import.
#[derive(Default)]
struct Resolver {
    known: HashMap<(Column, String), std::result::Result<String, String>>,
}

impl Resolver {
    async fn resolve(&mut self, ex: &mut impl Executor, column: Column, text: &str) -> Result<std::result::Result<String, String>> {
        if let Some(answer) = self.known.get(&(column, text.to_owned())) {
            return Ok(answer.clone());
        }
        let Some((table, alternative, noun)) = column.lookup() else {
            return Err(anyhow::anyhow!("column {} names no master data", column.name()).into());
        };
        // The table and column names are constants above; only `text` comes
        // from the file, and it is bound.
        let by_id = query(format!("SELECT id FROM {table} WHERE id = $1")).bind(text).fetch_optional(ex).await?;
        let answer = match by_id {
            Some(row) => Ok(row.get::<String>("id")?),
            None => {
                let rows = match text.split_once(':').filter(|_| column.is_taxonomy()) {
                    Some((version, code)) => {
                        query(format!("SELECT id FROM {table} WHERE taxonomy_version = $1 AND code = $2 ORDER BY id"))
                            .bind(version)
                            .bind(code)
                            .fetch_all(ex)
                            .await?
                    }
                    None => {
                        query(format!("SELECT id FROM {table} WHERE {alternative} = $1 ORDER BY id")).bind(text).fetch_all(ex).await?
                    }
                };
                match rows.as_slice() {
                    [] => Err(format!("{text:?}: no {noun} has this id or {alternative}")),
                    [one] => Ok(one.get::<String>("id")?),
                    _ => Err(format!(
                        "{text:?} names a {noun} in several taxonomy versions; write version:code, e.g. \"v5:{text}\", or the id"
                    )),
                }
            }
        };
        self.known.insert((column, text.to_owned()), answer.clone());
        Ok(answer)
    }
}

/// Maps header names to columns; refuses unknown, repeated and missing ones.
fn read_header(header: &ByteRecord) -> Result<Vec<Column>> {
    let mut columns = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
        match Column::ALL.iter().find(|c| c.name() == name) {
            Some(c) if columns.contains(c) => errors.push(FieldError::at(format!("/header/{i}"), format!("column {name:?} appears twice"))),
            Some(c) => columns.push(*c),
            None => {
                let known: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
                errors.push(FieldError::at(
                    format!("/header/{i}"),
                    format!("unknown column {name:?}; the columns are {}", known.join(", ")),
                ))
            }
        }
    }
    for required in Column::ALL.iter().filter(|c| c.required() && !columns.contains(c)) {
        errors.push(FieldError::at("/header", format!("the required column {:?} is missing", required.name())));
    }
    if errors.is_empty() { Ok(columns) } else { Err(Error::Validation(errors)) }
}

/// One parsed data row: the text of each column present and non-empty.
struct Cells<'a> {
    values: HashMap<Column, &'a str>,
}

impl Cells<'_> {
    fn get(&self, column: Column) -> Option<&str> {
        self.values.get(&column).copied()
    }
}

fn parse_amount(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) { Decimal::from_scientific(text).ok() } else { Decimal::from_str_exact(text).ok() }
}

/// Imports a CSV file of ledger lines as `source`. See the module doc.
pub async fn import_csv(db: &Db, who: &Principal, source: &str, body: &[u8]) -> Result<ImportOutcome> {
    check_source(source)?;
    if source == MANUAL_SOURCE {
        return Err(Error::Validation(vec![FieldError::param(
            "source",
            "\"manual\" is reserved for lines entered one by one; name the file's origin, e.g. \"csv\" or \"erp\"",
        )]));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(body);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(record) => record.map_err(unreadable)?,
        None => return Err(Error::invalid("/header", "the file is empty: it needs a header row and data rows")),
    };
    let columns = read_header(&header)?;

    // Resolve and write in one transaction, so nothing a row names can vanish
    // between the check and the write.
    let mut tx = db.begin().await?;
    let mut resolver = Resolver::default();
    let mut lines: Vec<NewLedgerLine> = Vec::new();
    let mut line_rows: Vec<RowAt> = Vec::new();
    let mut errors: Vec<(usize, FieldError)> = Vec::new();
    let mut rows = 0;
    for (index, record) in records.enumerate() {
        let record = record.map_err(unreadable)?;
        let at = RowAt { row: index + 1, line: record.position().map_or(0, |p| p.line()) };
        if record.iter().all(|field| field.is_empty()) {
            continue;
        }
        rows += 1;
        if record.len() != columns.len() {
            errors.push(at.error("", format_args!("has {} fields; the header has {}", record.len(), columns.len())));
            continue;
        }
        let mut cells = Cells { values: HashMap::new() };
        let mut row_ok = true;
        for (column, raw) in columns.iter().zip(record.iter()) {
            match std::str::from_utf8(raw) {
                Ok("") => {}
                Ok(text) => {
                    cells.values.insert(*column, text);
                }
                Err(_) => {
                    errors.push(at.error(column.name(), "is not valid UTF-8"));
                    row_ok = false;
                }
            }
        }
        if !row_ok {
            continue;
        }
        match parse_row(&mut tx, &mut resolver, at, &cells).await? {
            Ok(line) => {
                lines.push(line);
                line_rows.push(at);
            }
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    if rows == 0 {
        return Err(Error::invalid("/rows", "the file has a header but no data rows"));
    }

    let relocate = |e: FieldError| match e.pointer.as_deref().and_then(split_index) {
        Some((i, rest)) => {
            let field = rest.trim_start_matches('/').split('/').next().unwrap_or("");
            let detail = e.detail.clone();
            line_rows[i].error(Column::of_field(field), detail)
        }
        None => (0, e),
    };
    if !errors.is_empty() {
        // Report the other rows' problems too, so one round of fixes suffices.
        errors.extend(check_lines(&mut tx, &lines).await?.into_iter().map(relocate));
        return Err(refusal(errors));
    }
    let outcome = match post_lines(&mut tx, who, source, lines).await {
        Ok(outcome) => outcome,
        Err(Error::Validation(found)) => return Err(refusal(found.into_iter().map(relocate).collect())),
        Err(other) => return Err(other),
    };
    tx.commit().await?;
    Ok(ImportOutcome { inserted: outcome.inserted.len(), duplicates: outcome.duplicates.len(), rows })
}

/// Turns one row's cells into a line, or says everything wrong with them.
async fn parse_row(
    ex: &mut impl Executor,
    resolver: &mut Resolver,
    at: RowAt,
    cells: &Cells<'_>,
) -> Result<std::result::Result<NewLedgerLine, Vec<(usize, FieldError)>>> {
    let mut errors = Vec::new();
    let required = |column: Column, errors: &mut Vec<(usize, FieldError)>| {
        let value = cells.get(column);
        if value.is_none() {
            errors.push(at.error(column.name(), "is required"));
        }
        value
    };
    let entry_date = required(Column::EntryDate, &mut errors).and_then(|text| {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if date.is_none() {
            errors.push(at.error("entry_date", format_args!("{} is not a date in the form YYYY-MM-DD", quoted(text))));
        }
        date
    });
    let amount = required(Column::Amount, &mut errors).and_then(|text| {
        let amount = parse_amount(text);
        if amount.is_none() {
            errors.push(at.error("amount", format_args!("{} is not a decimal number such as -125.50", quoted(text))));
        }
        amount
    });
    let currency = required(Column::Currency, &mut errors).map(str::to_owned);
    let source_key = required(Column::SourceKey, &mut errors).map(str::to_owned);
    let cost_type = required(Column::CostType, &mut errors);
    let cost_center = required(Column::CostCenter, &mut errors);

    let mut ids: HashMap<Column, String> = HashMap::new();
    let named = [
        (Column::CostType, cost_type),
        (Column::CostCenter, cost_center),
        (Column::Project, cells.get(Column::Project)),
        (Column::Vendor, cells.get(Column::Vendor)),
        (Column::Service, cells.get(Column::Service)),
        (Column::Asset, cells.get(Column::Asset)),
        (Column::CostPool, cells.get(Column::CostPool)),
        (Column::Tower, cells.get(Column::Tower)),
    ];
    for (column, text) in named {
        if let Some(text) = text {
            match resolver.resolve(ex, column, text).await? {
                Ok(id) => {
                    ids.insert(column, id);
                }
                Err(why) => errors.push(at.error(column.name(), why)),
            }
        }
    }
    let tags = match cells.get(Column::Tags) {
        None => Some(Tags::new()),
        Some(text) => {
            let tags = serde_json::from_str::<Tags>(text).ok();
            if tags.is_none() {
                errors.push(at.error("tags", "must be a JSON object of strings, such as {\"env\": \"prod\"}"));
            }
            tags
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let (Some(entry_date), Some(amount), Some(currency), Some(tags), Some(cost_type_id), Some(cost_center_id)) =
        (entry_date, amount, currency, tags, ids.remove(&Column::CostType), ids.remove(&Column::CostCenter))
    else {
        return Err(anyhow::anyhow!("a CSV row without errors lacks a required value").into());
    };
    Ok(Ok(NewLedgerLine {
        entry_date,
        amount,
        currency,
        cost_type_id,
        cost_center_id,
        project_id: ids.remove(&Column::Project),
        asset_id: ids.remove(&Column::Asset),
        vendor_id: ids.remove(&Column::Vendor),
        service_id: ids.remove(&Column::Service),
        cost_pool_id: ids.remove(&Column::CostPool),
        tower_id: ids.remove(&Column::Tower),
        description: cells.get(Column::Description).map(str::to_owned),
        tags,
        source_key,
    }))
}

/// A value quoted for an error message, shortened if long.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX { format!("{:?}…", text.chars().take(MAX).collect::<String>()) } else { format!("{text:?}") }
}

/// The 422 for a refused file: errors by row, at most [`MAX_REPORTED_ERRORS`].
fn refusal(mut errors: Vec<(usize, FieldError)>) -> Error {
    errors.sort_by_key(|(row, _)| *row);
    let total = errors.len();
    let mut listed: Vec<FieldError> = errors.into_iter().take(MAX_REPORTED_ERRORS).map(|(_, e)| e).collect();
    if total > MAX_REPORTED_ERRORS {
        listed.push(FieldError::at("/rows", format!("… and {} more problems not listed here", total - MAX_REPORTED_ERRORS)));
    }
    Error::Validation(listed)
}

fn unreadable(err: csv::Error) -> Error {
    Error::BadRequest { detail: format!("the CSV could not be read: {err}"), errors: vec![] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_keep_every_digit_and_accept_exponents() {
        assert_eq!(parse_amount("0.00000080000").unwrap().to_string(), "0.00000080000");
        assert_eq!(parse_amount("-125.50").unwrap().to_string(), "-125.50");
        assert_eq!(parse_amount("1.5E-7").unwrap(), Decimal::from_str("0.00000015").unwrap());
        assert!(parse_amount("1,234.56").is_none());
        assert!(parse_amount("twelve").is_none());
    }

    #[test]
    fn the_header_must_name_known_columns_once_and_all_required_ones() {
        let ok = ByteRecord::from(vec!["Entry_Date", "amount", "currency", "cost_type", "cost_center", "source_key"]);
        assert_eq!(read_header(&ok).unwrap().len(), 6);
        let bad = ByteRecord::from(vec!["entry_date", "amount", "amount", "colour"]);
        let Err(Error::Validation(errors)) = read_header(&bad) else { panic!("refused") };
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, ["/header/2", "/header/3", "/header", "/header", "/header", "/header"]);
    }
}
