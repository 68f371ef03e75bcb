//! Cost reports: the ledger grouped by any dimensions, filtered, with periods
//! as columns and totals, in the reporting currency.
//!
//! polars groups the columnar copy by the requested dimensions plus period and
//! currency, summing 128-bit decimals exactly; the (small) grouped result is
//! then converted in Rust at each period's rate and folded into rows. As the
//! conversion is exact and distributes over the sum, the report's total is the
//! ledger's converted total to the last digit.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::columnar::{Columnar, from_mantissa, polars_error};
use super::convert::{Converter, RateUsed};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::finance::calendar::FiscalPeriod;
use crate::validate::Checks;

/// Dimensions a report can group and filter by; `tag:<key>` for a tag.
pub const DIMENSIONS: &[&str] = &[
    "fiscal_period",
    "cost_center",
    "cost_type",
    "capex_opex",
    "project",
    "service",
    "tower",
    "cost_pool",
    "vendor",
    "provider",
    "currency",
];

const MAX_PERIODS: usize = 120;
const MAX_FILTER_VALUES: usize = 1_000;

/// What a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// Dimensions to group by, in column order: `fiscal_period`, `cost_center`,
    /// `cost_type`, `capex_opex`, `project`, `service`, `tower`, `cost_pool`,
    /// `vendor`, `provider` (the line's `provider` tag, else its source),
    /// `currency` (the original currency), or `tag:<key>`.
    #[serde(default)]
    pub group_by: Vec<String>,
    #[schema(value_type = String, example = "FY2027-P01")]
    pub from_period: FiscalPeriod,
    #[schema(value_type = String, example = "FY2027-P12")]
    pub to_period: FiscalPeriod,
    /// One amount column per period (then `fiscal_period` cannot be a group).
    #[serde(default)]
    pub pivot_periods: bool,
    /// Per dimension, the values to keep; `null` in the list keeps lines without one.
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<Option<String>>>,
}

/// One row: its group's values and amounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    /// The values of `group_by`, in order; null where lines have none.
    pub keys: Vec<Option<String>>,
    /// One per column of the report (one per period when pivoted, else one).
    #[schema(value_type = Vec<String>)]
    pub amounts: Vec<Decimal>,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub lines: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportResult {
    pub currency: String,
    pub group_by: Vec<String>,
    /// Amount column names: the periods when pivoted, else `["amount"]`.
    pub columns: Vec<String>,
    pub rows: Vec<ReportRow>,
    /// Column totals.
    #[schema(value_type = Vec<String>)]
    pub totals: Vec<Decimal>,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub lines: i64,
    pub rates: Vec<RateUsed>,
}

fn is_dimension(d: &str) -> bool {
    DIMENSIONS.contains(&d) || d.strip_prefix("tag:").is_some_and(|k| !k.is_empty() && k.chars().count() <= 100)
}

/// The periods from `from` to `to`, inclusive.
pub fn period_range(from: FiscalPeriod, to: FiscalPeriod) -> Vec<FiscalPeriod> {
    let mut out = Vec::new();
    let mut p = from;
    while p <= to && out.len() <= MAX_PERIODS {
        out.push(p);
        p = if p.number == 12 { FiscalPeriod { year: p.year + 1, number: 1 } } else { FiscalPeriod { year: p.year, number: p.number + 1 } };
    }
    out
}

pub fn check(spec: &ReportSpec) -> Result<()> {
    let mut checks = Checks::new();
    if spec.group_by.len() > 8 {
        checks.fail("/group_by", "at most 8 dimensions");
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, d) in spec.group_by.iter().enumerate() {
        if !is_dimension(d) {
            checks.fail(format!("/group_by/{i}"), format!("unknown dimension; use one of {} or tag:<key>", DIMENSIONS.join(", ")));
        } else if !seen.insert(d) {
            checks.fail(format!("/group_by/{i}"), "appears twice");
        }
    }
    if spec.pivot_periods && spec.group_by.iter().any(|d| d == "fiscal_period") {
        checks.fail("/pivot_periods", "periods are columns already; remove fiscal_period from group_by");
    }
    if spec.from_period > spec.to_period {
        checks.fail("/to_period", "must not be before from_period");
    } else if period_range(spec.from_period, spec.to_period).len() > MAX_PERIODS {
        checks.fail("/to_period", format!("a report spans at most {MAX_PERIODS} periods"));
    }
    for (d, values) in &spec.filters {
        let at = format!("/filters/{}", d.replace('~', "~0").replace('/', "~1"));
        if !is_dimension(d) {
            checks.fail(at, "unknown dimension");
        } else if values.is_empty() || values.len() > MAX_FILTER_VALUES {
            checks.fail(at, format!("give 1 to {MAX_FILTER_VALUES} values"));
        }
    }
    checks.finish()
}

/// Runs `spec` over the columnar ledger.
pub async fn run(db: &Db, columnar: &Columnar, spec: &ReportSpec) -> Result<ReportResult> {
    check(spec)?;
    let periods = period_range(spec.from_period, spec.to_period);
    let mut converter = Converter::new(db).await?;
    let mut needed: Vec<String> = spec.group_by.clone();
    for d in spec.filters.keys().chain(["fiscal_period".to_string(), "currency".to_string()].iter()) {
        if !needed.contains(d) {
            needed.push(d.clone());
        }
    }
    let mut scan_columns = needed.clone();
    scan_columns.push("amount".into());
    let columns: Vec<String> =
        if spec.pivot_periods { periods.iter().map(|p| p.to_string()).collect() } else { vec!["amount".into()] };
    let empty = ReportResult {
        currency: converter.currency.clone(),
        group_by: spec.group_by.clone(),
        totals: vec![Decimal::ZERO; columns.len()],
        columns: columns.clone(),
        rows: Vec::new(),
        total: Decimal::ZERO,
        lines: 0,
        rates: Vec::new(),
    };
    let Some(lf) = columnar.scan(db, &periods, &scan_columns).await? else { return Ok(empty) };
    let keys: Vec<String> = {
        let mut k = spec.group_by.clone();
        for extra in ["fiscal_period", "currency"] {
            if !k.iter().any(|d| d == extra) {
                k.push(extra.into());
            }
        }
        k
    };
    let filters = spec.filters.clone();
    let group_keys = keys.clone();
    let df = tokio::task::spawn_blocking(move || {
        let mut lf = lf;
        for (d, values) in &filters {
            let mut cond: Option<Expr> = None;
            for v in values {
                let e = match v {
                    Some(v) => col(d.as_str()).eq(lit(v.clone())),
                    None => col(d.as_str()).is_null(),
                };
                cond = Some(match cond {
                    Some(c) => c.or(e),
                    None => e,
                });
            }
            if let Some(c) = cond {
                lf = lf.filter(c);
            }
        }
        let by: Vec<Expr> = group_keys.iter().map(|k| col(k.as_str())).collect();
        let df = lf
            .group_by(by)
            .agg([col("amount").sum(), len().cast(DataType::Int64).alias("lines")])
            .collect_with_engine(Engine::Streaming)
            .map_err(polars_error)?
            .unwrap_single();
        Ok::<_, Error>(df)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("report task: {e}")))??;

    let mut key_columns: Vec<Vec<Option<String>>> = Vec::new();
    for k in &keys {
        let c = df.column(k).map_err(polars_error)?.str().map_err(polars_error)?;
        key_columns.push(c.iter().map(|v| v.map(str::to_owned)).collect());
    }
    let amounts = df.column("amount").map_err(polars_error)?.decimal().map_err(polars_error)?;
    let scale = amounts.scale() as u32;
    let mantissas: Vec<Option<i128>> = amounts.physical().iter().collect();
    let counts: Vec<i64> = df.column("lines").map_err(polars_error)?.i64().map_err(polars_error)?.iter().map(|v| v.unwrap_or(0)).collect();
    let period_at = keys.iter().position(|k| k == "fiscal_period").expect("period is a key");
    let currency_at = keys.iter().position(|k| k == "currency").expect("currency is a key");
    let parse_period = |s: &Option<String>| -> Result<FiscalPeriod> {
        s.as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| Error::Internal(anyhow::anyhow!("columnar period: {e}")))
    };
    let mut pairs = Vec::new();
    for i in 0..df.height() {
        pairs.push((parse_period(&key_columns[period_at][i])?, key_columns[currency_at][i].clone().unwrap_or_default()));
    }
    converter.prepare(pairs.clone()).await?;

    let n_groups = spec.group_by.len();
    let mut rows: BTreeMap<Vec<Option<String>>, (Vec<Decimal>, i64)> = BTreeMap::new();
    for i in 0..df.height() {
        let (period, currency) = &pairs[i];
        let amount = converter.convert(*period, currency, from_mantissa(mantissas[i].unwrap_or(0), scale)?)?;
        let group: Vec<Option<String>> = (0..n_groups).map(|k| key_columns[k][i].clone()).collect();
        let column = if spec.pivot_periods { periods.iter().position(|p| p == period).unwrap_or(0) } else { 0 };
        let entry = rows.entry(group).or_insert_with(|| (vec![Decimal::ZERO; columns.len()], 0));
        entry.0[column] += amount;
        entry.1 += counts[i];
    }
    let mut totals = vec![Decimal::ZERO; columns.len()];
    let mut lines = 0;
    let rows: Vec<ReportRow> = rows
        .into_iter()
        .map(|(keys, (amounts, n))| {
            for (t, a) in totals.iter_mut().zip(&amounts) {
                *t += a;
            }
            lines += n;
            ReportRow { keys, total: amounts.iter().sum::<Decimal>().normalize(), amounts: amounts.into_iter().map(|a| a.normalize()).collect(), lines: n }
        })
        .collect();
    Ok(ReportResult {
        currency: converter.currency.clone(),
        group_by: spec.group_by.clone(),
        columns,
        rows,
        total: totals.iter().sum::<Decimal>().normalize(),
        totals: totals.into_iter().map(|t| t.normalize()).collect(),
        lines,
        rates: converter.used(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FiscalPeriod {
        s.parse().unwrap()
    }

    #[test]
    fn period_ranges_cross_year_ends() {
        let r = period_range(p("FY2026-P11"), p("FY2027-P02"));
        assert_eq!(r.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["FY2026-P11", "FY2026-P12", "FY2027-P01", "FY2027-P02"]);
    }

    #[test]
    fn unknown_dimensions_and_pivoting_a_grouped_period_are_refused() {
        let spec = ReportSpec {
            group_by: vec!["cost_center".into(), "colour".into(), "fiscal_period".into()],
            from_period: p("FY2027-P01"),
            to_period: p("FY2027-P03"),
            pivot_periods: true,
            filters: BTreeMap::new(),
        };
        let Err(Error::Validation(errors)) = check(&spec) else { panic!("accepted") };
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.clone()).collect();
        assert!(pointers.contains(&"/group_by/1".to_string()) && pointers.contains(&"/pivot_periods".to_string()), "{pointers:?}");
        assert!(is_dimension("tag:env") && !is_dimension("tag:"));
    }
}
