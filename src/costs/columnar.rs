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
//! column per tag key used in the period, and `amount` at scale 12, the
//! ledger's finest, in the line's own currency: Decimal(18, 12) (a Parquet
//! INT64, cheap to decode and sum) when every amount of the period fits,
//! else Decimal(38, 12). Strings are dictionary-encoded (a period has a few
//! dozen cost centers, not a million). One row group per 131,072 lines, so
//! readers decode row groups in parallel and a file is written batch by batch.
//!
//! Building a file streams the period's rows from the database and turns
//! each batch of lines into columns at once, so memory holds the period as
//! compact columns, never as a million decoded rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::db::{Db, Row, query};
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
/// Clones share the locks that keep two builds of a period from racing.
#[derive(Clone)]
pub struct Columnar {
    dir: PathBuf,
    building: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

pub(crate) fn polars_error(e: PolarsError) -> Error {
    Error::Internal(anyhow::anyhow!("columnar ledger: {e}"))
}

impl Columnar {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Columnar { dir: dir.into(), building: Arc::new(Mutex::new(HashMap::new())) }
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
        let frames = load_period(db, &name).await?;
        let dir = self.dir.clone();
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_file(&dir, &name, &target, frames))
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("columnar build task: {e}")))??;
        Ok(Some(path))
    }

    /// Lazy scans of `periods` that exist, each with at least `columns`
    /// (missing tag columns become nulls), concatenated.
    pub async fn scan(&self, db: &Db, periods: &[FiscalPeriod], columns: &[String]) -> Result<Option<LazyFrame>> {
        // Periods that need a (re)build are built concurrently, one per core:
        // each streams from its own connection and converts on its own task.
        let permits = Arc::new(tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
        let mut tasks = Vec::new();
        for period in periods {
            let (this, db, permits, period) = (self.clone(), db.clone(), permits.clone(), *period);
            tasks.push(tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.map_err(|e| Error::Internal(anyhow::anyhow!("columnar build: {e}")))?;
                this.period_file(&db, period).await
            }));
        }
        let mut frames = Vec::new();
        for task in tasks {
            let path = task.await.map_err(|e| Error::Internal(anyhow::anyhow!("columnar build task: {e}")))??;
            frames.extend(path);
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
                        if c == "amount" {
                            // Files hold Decimal(18, 12) or (38, 12); one type for the union.
                            col("amount").cast(DataType::Decimal(38, AMOUNT_SCALE as usize))
                        } else if schema.contains(c) {
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

/// Lines per batch read from the database, and per Parquet row group.
const BATCH_ROWS: usize = 131_072;

/// The columns of up to [`BATCH_ROWS`] lines, filled row by row.
#[derive(Default)]
struct Batch {
    len: usize,
    text: Vec<Vec<Option<String>>>,
    /// Per tag key, one value per line of the batch.
    tags: BTreeMap<String, Vec<Option<String>>>,
    amounts: Vec<i128>,
}

impl Batch {
    fn push(&mut self, row: &Row) -> Result<()> {
        if self.text.is_empty() {
            self.text = vec![Vec::with_capacity(BATCH_ROWS); TEXT_COLUMNS.len()];
            self.amounts.reserve(BATCH_ROWS);
        }
        let line_tags: BTreeMap<String, String> = row.json("tags")?;
        let provider = match line_tags.get("provider") {
            Some(p) => p.clone(),
            None => row.get("source")?,
        };
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
            Some(provider),
        ];
        for (column, value) in self.text.iter_mut().zip(values) {
            column.push(value);
        }
        for (key, value) in line_tags {
            let column = self.tags.entry(key).or_default();
            column.resize(self.len, None);
            column.push(Some(value));
        }
        self.amounts.push(to_mantissa(row.decimal("amount")?)?);
        self.len += 1;
        Ok(())
    }

    /// The batch as a frame (tag columns of the keys it saw), emptied.
    fn take(&mut self) -> Result<DataFrame> {
        let Batch { len, text, tags, amounts } = std::mem::take(self);
        let mut columns: Vec<Column> =
            TEXT_COLUMNS.iter().zip(text).map(|(name, values)| Column::new((*name).into(), values)).collect();
        for (key, mut values) in tags {
            values.resize(len, None);
            columns.push(Column::new(format!("tag:{key}").into(), values));
        }
        let amount = Int128Chunked::from_vec("amount".into(), amounts)
            .into_decimal(38, AMOUNT_SCALE as usize)
            .map_err(polars_error)?;
        columns.push(amount.into_series().into_column());
        DataFrame::new(len, columns).map_err(polars_error)
    }
}

/// Reads every line of `period` into columnar batches, streaming the rows
/// from the database: only one batch of lines is ever held as rows, the rest
/// as compact columns.
async fn load_period(db: &Db, period: &str) -> Result<Vec<DataFrame>> {
    let mut frames = Vec::new();
    let mut batch = Batch::default();
    query(
        "SELECT l.fiscal_period, l.currency, l.cost_center_id, l.cost_type_id, t.classification, l.project_id, \
         l.service_id, l.tower_id, l.cost_pool_id, l.vendor_id, l.source, l.tags, l.amount \
         FROM ledger_lines l JOIN cost_types t ON t.id = l.cost_type_id WHERE l.fiscal_period = $1",
    )
    .bind(period)
    .for_each_row(db, |row| {
        batch.push(&row)?;
        if batch.len == BATCH_ROWS {
            frames.push(batch.take()?);
        }
        Ok::<(), Error>(())
    })
    .await?;
    if batch.len > 0 || frames.is_empty() {
        frames.push(batch.take()?);
    }
    Ok(frames)
}

/// The batches under one schema (every tag key any batch saw, sorted, null
/// where a batch had none) with the amount at the smallest exact precision:
/// Decimal(18, 12), a Parquet INT64 that readers sum as 64-bit integers, when
/// every amount of the period has at most 6 integer digits, else Decimal(38, 12).
fn unify(frames: Vec<DataFrame>) -> Result<Vec<DataFrame>> {
    let keys: BTreeSet<String> = frames
        .iter()
        .flat_map(|f| f.get_column_names().into_iter().filter(|n| n.starts_with("tag:")).map(|n| n.to_string()).collect::<Vec<_>>())
        .collect();
    let mut fits_i64 = true;
    for f in &frames {
        let amounts = f.column("amount").map_err(polars_error)?.decimal().map_err(polars_error)?;
        fits_i64 &= amounts.physical().iter().flatten().all(|m| m.unsigned_abs() < 1_000_000_000_000_000_000);
    }
    let precision = if fits_i64 { 18 } else { 38 };
    frames
        .into_iter()
        .map(|f| {
            let mut exprs: Vec<Expr> = TEXT_COLUMNS.iter().map(|c| col(*c)).collect();
            for key in &keys {
                let present = f.get_column_names().iter().any(|n| n.as_str() == key);
                exprs.push(if present { col(key.as_str()) } else { lit(NULL).cast(DataType::String).alias(key.as_str()) });
            }
            exprs.push(col("amount").cast(DataType::Decimal(precision, AMOUNT_SCALE as usize)));
            f.lazy().select(exprs).collect().map_err(polars_error)
        })
        .collect()
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

fn write_file(dir: &Path, period: &str, target: &Path, frames: Vec<DataFrame>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    let frames = unify(frames)?;
    let tmp = target.with_extension(format!("tmp-{}", crate::patch::new_id()));
    let file = std::fs::File::create(&tmp).map_err(|e| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", tmp.display())))?;
    let write = || -> PolarsResult<()> {
        let mut writer = ParquetWriter::new(std::io::BufWriter::new(file)).batched(frames[0].schema())?;
        for frame in &frames {
            // One row group per batch.
            writer.write_batch(frame)?;
        }
        writer.finish()?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(polars_error(e));
    }
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

    fn frame(tag: Option<(&str, &str)>, amount: &str) -> DataFrame {
        let mut batch = Batch::default();
        batch.text = TEXT_COLUMNS.iter().map(|c| vec![Some(format!("{c}-value"))]).collect();
        if let Some((key, value)) = tag {
            batch.tags.insert(key.into(), vec![Some(value.into())]);
        }
        batch.amounts.push(to_mantissa(amount.parse().unwrap()).unwrap());
        batch.len = 1;
        batch.take().unwrap()
    }

    #[test]
    fn batches_share_one_schema_with_the_smallest_exact_amount_type() {
        let frames = unify(vec![frame(Some(("env", "prod")), "999999.999999999999"), frame(Some(("team", "a")), "-1.5")]).unwrap();
        for f in &frames {
            let names: Vec<&str> = f.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(&names[TEXT_COLUMNS.len()..], ["tag:env", "tag:team", "amount"]);
            assert_eq!(f.column("amount").unwrap().dtype(), &DataType::Decimal(18, 12));
        }
        assert_eq!(frames[1].column("tag:env").unwrap().null_count(), 1);
        let frames = unify(vec![frame(None, "1000000"), frame(None, "2")]).unwrap();
        assert_eq!(frames[0].column("amount").unwrap().dtype(), &DataType::Decimal(38, 12), "10^18 at scale 12 needs 19 digits");
    }
}
