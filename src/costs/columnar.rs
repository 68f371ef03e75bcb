//! A columnar copy of the ledger: one Parquet file per fiscal period, which
//! polars scans lazily for reports and allocation runs.
//!
//! Why: reports group millions of lines by a few columns. Row stores (and
//! SQLite's decimal TEXT in particular) make that slow; a columnar file with
//! the amount as a 128-bit Decimal lets polars read only the columns a report
//! needs and sum exactly. Per period, because periods are what reports select
//! and what changes (new months arrive; old months rarely change), so a change
//! rewrites one month, not the ledger.
//!
//! Consistency: a trigger on `ledger_lines` (migration 0010) bumps
//! `ledger_generations.generation` of every period a write touches, whoever
//! writes. A file is named after the generation it holds
//! (`ledger-FY2027-P03-g42.parquet`); a reader takes the current generation
//! first and then the rows, so a file can only be labelled older than its
//! content, never newer: at worst it is rebuilt once more than needed. Files
//! of older generations are deleted when a newer one is written. The copy is
//! a cache in the data directory: deleting it is always safe.
//!
//! Columns: `fiscal_period`, `currency`, `cost_center`, `cost_type`,
//! `capex_opex`, `project`, `service`, `tower`, `cost_pool`, `vendor`,
//! `provider` (the line's `provider` tag, else its source), one `tag:<key>`
//! column per tag key used in the period, and `amount` as Decimal(38, 12),
//! the ledger's finest scale, in the line's own currency.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::db::{Db, query};
use crate::error::{Error, Result};
use crate::finance::calendar::FiscalPeriod;

/// The scale of `amount` in the files: the ledger accepts at most 12 decimals.
pub const AMOUNT_SCALE: u32 = 12;
/// Plain string columns of every file, in order.
pub const TEXT_COLUMNS: &[&str] = &[
    "fiscal_period",
    "currency",
    "cost_center",
    "cost_type",
    "capex_opex",
    "project",
    "service",
    "tower",
    "cost_pool",
    "vendor",
    "provider",
];

/// The Parquet copies of one server, under `<data dir>/ledger-columnar`.
pub struct Columnar {
    dir: PathBuf,
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub(crate) fn polars_error(e: PolarsError) -> Error {
    Error::Internal(anyhow::anyhow!("columnar ledger: {e}"))
}

impl Columnar {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Columnar { dir: dir.into(), building: Mutex::new(HashMap::new()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The up-to-date file of `period`, built if needed; `None` when the
    /// period never had a line.
    pub async fn period_file(&self, db: &Db, period: FiscalPeriod) -> Result<Option<PathBuf>> {
        let name = period.to_string();
        let Some(generation) = generation(db, &name).await? else { return Ok(None) };
        let path = self.dir.join(format!("ledger-{name}-g{generation}.parquet"));
        if path.exists() {
            return Ok(Some(path));
        }
        let lock = {
            let mut building = self.building.lock().map_err(|_| Error::Internal(anyhow::anyhow!("poisoned lock")))?;
            building.entry(name.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        if path.exists() {
            return Ok(Some(path));
        }
        let df = load_period(db, &name).await?;
        let dir = self.dir.clone();
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_file(&dir, &name, &target, df))
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("columnar build task: {e}")))??;
        Ok(Some(path))
    }

    /// Lazy scans of `periods` that exist, each with at least `columns`
    /// (missing tag columns become nulls), concatenated.
    pub async fn scan(&self, db: &Db, periods: &[FiscalPeriod], columns: &[String]) -> Result<Option<LazyFrame>> {
        let mut frames = Vec::new();
        for period in periods {
            let Some(path) = self.period_file(db, *period).await? else { continue };
            frames.push(path);
        }
        if frames.is_empty() {
            return Ok(None);
        }
        let columns = columns.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut lazy = Vec::new();
            for path in frames {
                let mut lf = LazyFrame::scan_parquet(PlRefPath::new(path.to_string_lossy().as_ref()), ScanArgsParquet::default())
                    .map_err(polars_error)?;
                let schema = lf.collect_schema().map_err(polars_error)?;
                let exprs: Vec<Expr> = columns
                    .iter()
                    .map(|c| {
                        if schema.contains(c) {
                            col(c.as_str())
                        } else {
                            lit(NULL).cast(DataType::String).alias(c.as_str())
                        }
                    })
                    .collect();
                lazy.push(lf.select(exprs));
            }
            concat(lazy, UnionArgs::default()).map(Some).map_err(polars_error)
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("columnar scan task: {e}")))?
    }
}

async fn generation(db: &Db, period: &str) -> Result<Option<i64>> {
    let row = query("SELECT generation FROM ledger_generations WHERE fiscal_period = $1")
        .bind(period)
        .fetch_optional(&mut db.clone())
        .await?;
    Ok(row.map(|r| r.get::<i64>("generation")).transpose()?)
}

/// Reads every line of `period` into columns.
async fn load_period(db: &Db, period: &str) -> Result<DataFrame> {
    let rows = query(
        "SELECT l.fiscal_period, l.currency, l.cost_center_id, l.cost_type_id, t.classification, l.project_id, \
         l.service_id, l.tower_id, l.cost_pool_id, l.vendor_id, l.source, l.tags, l.amount \
         FROM ledger_lines l JOIN cost_types t ON t.id = l.cost_type_id WHERE l.fiscal_period = $1",
    )
    .bind(period)
    .fetch_all(&mut db.clone())
    .await?;
    let n = rows.len();
    let mut text: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(n); TEXT_COLUMNS.len()];
    let mut tags: Vec<BTreeMap<String, String>> = Vec::with_capacity(n);
    let mut amounts: Vec<i128> = Vec::with_capacity(n);
    for row in &rows {
        let line_tags: BTreeMap<String, String> = row.json("tags")?;
        let provider = line_tags.get("provider").cloned().or(Some(row.get::<String>("source")?));
        let values: [Option<String>; 11] = [
            Some(row.get("fiscal_period")?),
            Some(row.get("currency")?),
            Some(row.get("cost_center_id")?),
            Some(row.get("cost_type_id")?),
            Some(row.get("classification")?),
            row.get("project_id")?,
            row.get("service_id")?,
            row.get("tower_id")?,
            row.get("cost_pool_id")?,
            row.get("vendor_id")?,
            provider,
        ];
        for (column, value) in text.iter_mut().zip(values) {
            column.push(value);
        }
        amounts.push(to_mantissa(row.decimal("amount")?)?);
        tags.push(line_tags);
    }
    let keys: BTreeSet<&String> = tags.iter().flat_map(|t| t.keys()).collect();
    let mut columns: Vec<Column> = TEXT_COLUMNS.iter().zip(text).map(|(name, values)| Column::new((*name).into(), values)).collect();
    for key in keys {
        let values: Vec<Option<&str>> = tags.iter().map(|t| t.get(key).map(String::as_str)).collect();
        columns.push(Column::new(format!("tag:{key}").into(), values));
    }
    let amount = Int128Chunked::from_vec("amount".into(), amounts)
        .into_decimal(38, AMOUNT_SCALE as usize)
        .map_err(polars_error)?;
    columns.push(amount.into_series().into_column());
    DataFrame::new(n, columns).map_err(polars_error)
}

/// The amount as a mantissa at [`AMOUNT_SCALE`].
pub fn to_mantissa(amount: Decimal) -> Result<i128> {
    let mut a = amount;
    a.rescale(AMOUNT_SCALE);
    if a.scale() != AMOUNT_SCALE {
        return Err(Error::Internal(anyhow::anyhow!("the amount {amount} does not fit the columnar scale")));
    }
    Ok(a.mantissa())
}

/// A Decimal from a polars decimal mantissa, dropping trailing zeros first so
/// large sums still fit rust_decimal's 96 bits.
pub fn from_mantissa(mut mantissa: i128, mut scale: u32) -> Result<Decimal> {
    while scale > 0 && mantissa % 10 == 0 && mantissa.unsigned_abs() > (1u128 << 95) {
        mantissa /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale)
        .map(|d| d.normalize())
        .map_err(|_| Error::Internal(anyhow::anyhow!("a total of {mantissa}e-{scale} exceeds the decimal range")))
}

fn write_file(dir: &Path, period: &str, target: &Path, mut df: DataFrame) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    let tmp = target.with_extension(format!("tmp-{}", crate::patch::new_id()));
    let file = std::fs::File::create(&tmp).map_err(|e| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", tmp.display())))?;
    ParquetWriter::new(file).finish(&mut df).map_err(polars_error)?;
    std::fs::rename(&tmp, target).map_err(|e| Error::Internal(anyhow::anyhow!("cannot rename {}: {e}", tmp.display())))?;
    // Older generations of the period are stale now.
    let prefix = format!("ledger-{period}-g");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(".parquet") && path != target {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mantissas_round_trip_and_large_sums_shed_trailing_zeros() {
        for s in ["0", "-125.50", "0.000000000001", "999999999999999.999999999999"] {
            let d: Decimal = s.parse().unwrap();
            assert_eq!(from_mantissa(to_mantissa(d).unwrap(), AMOUNT_SCALE).unwrap(), d);
        }
        let big = 10i128.pow(30); // 10^18 at scale 12
        assert_eq!(from_mantissa(big, 12).unwrap(), Decimal::from(1_000_000_000_000_000_000i128));
    }
}
