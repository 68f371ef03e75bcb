//! Report exports: CSV (streamed in chunks as it is written), Parquet (typed:
//! amounts stay Decimal(38, s)) and XLSX (amounts as Excel numbers).
//!
//! CSV and Parquet keep every digit. XLSX cells are IEEE doubles, Excel's own
//! number type: amounts are exact to 15 significant digits, which covers every
//! cent of amounts below 10^13; for exact figures, use CSV or Parquet.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use polars::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::columnar::polars_error;
use super::reports::ReportResult;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Parquet,
    Xlsx,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv`, `parquet` or `xlsx`.
    #[param(value_type = String)]
    pub format: ExportFormat,
}

/// Rows per chunk of a streamed CSV body.
const CSV_CHUNK_ROWS: usize = 2_000;

fn header(result: &ReportResult) -> Vec<String> {
    let mut h: Vec<String> = result.group_by.clone();
    h.extend(result.columns.iter().cloned());
    if result.columns.len() > 1 {
        h.push("total".into());
    }
    h.push("lines".into());
    h
}

fn csv_record(keys: &[Option<String>], amounts: &[Decimal], total: Decimal, lines: i64, pivoted: bool) -> Vec<String> {
    let mut r: Vec<String> = keys.iter().map(|k| k.clone().unwrap_or_default()).collect();
    r.extend(amounts.iter().map(|a| a.to_string()));
    if pivoted {
        r.push(total.to_string());
    }
    r.push(lines.to_string());
    r
}

fn csv_chunk(records: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(&r).map_err(|e| Error::Internal(e.into()))?;
    }
    w.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("csv: {e}")))
}

/// The export as a response with a file name.
pub fn respond(result: ReportResult, format: ExportFormat, name: &str) -> Result<Response> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let (content_type, ext, body) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv", csv_body(result)?),
        ExportFormat::Parquet => ("application/vnd.apache.parquet", "parquet", Body::from(parquet_bytes(&result)?)),
        ExportFormat::Xlsx => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", Body::from(xlsx_bytes(&result)?)),
    };
    Ok((
        [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}.{ext}\""))],
        body,
    )
        .into_response())
}

/// The CSV as a stream of chunks: a header, rows in chunks, then a `total` row.
fn csv_body(result: ReportResult) -> Result<Body> {
    let pivoted = result.columns.len() > 1;
    let head = csv_chunk(std::iter::once(header(&result)))?;
    let mut total_keys = vec![None; result.group_by.len()];
    if let Some(first) = total_keys.first_mut() {
        *first = Some("total".to_owned());
    }
    let tail = csv_chunk(std::iter::once(csv_record(&total_keys, &result.totals, result.total, result.lines, pivoted)))?;
    let rows = result.rows;
    let chunks = rows.chunks(CSV_CHUNK_ROWS).map(|c| c.to_vec()).collect::<Vec<_>>();
    let body = futures_util::stream::iter(
        std::iter::once(Ok::<_, std::io::Error>(head))
            .chain(chunks.into_iter().map(move |chunk| {
                csv_chunk(chunk.iter().map(|r| csv_record(&r.keys, &r.amounts, r.total, r.lines, pivoted)))
                    .map_err(|e| std::io::Error::other(e.to_string()))
            }))
            .chain(std::iter::once(Ok(tail))),
    );
    Ok(Body::from_stream(body))
}

/// The scale that holds every amount of the result exactly.
fn result_scale(result: &ReportResult) -> u32 {
    result.rows.iter().flat_map(|r| r.amounts.iter().chain(std::iter::once(&r.total))).map(|a| a.scale()).max().unwrap_or(2).max(2)
}

fn decimal_column(name: &str, values: impl Iterator<Item = Decimal>, scale: u32) -> Result<Column> {
    let mantissas: Vec<i128> = values
        .map(|mut v| {
            v.rescale(scale);
            v.mantissa()
        })
        .collect();
    Ok(Int128Chunked::from_vec(name.into(), mantissas)
        .into_decimal(38, scale as usize)
        .map_err(polars_error)?
        .into_series()
        .into_column())
}

/// The rows (no total row: Parquet readers sum themselves) as typed columns.
pub fn parquet_bytes(result: &ReportResult) -> Result<Vec<u8>> {
    let scale = result_scale(result);
    let mut columns = Vec::new();
    for (i, d) in result.group_by.iter().enumerate() {
        let values: Vec<Option<&str>> = result.rows.iter().map(|r| r.keys[i].as_deref()).collect();
        columns.push(Column::new(d.as_str().into(), values));
    }
    for (i, c) in result.columns.iter().enumerate() {
        columns.push(decimal_column(c, result.rows.iter().map(|r| r.amounts[i]), scale)?);
    }
    if result.columns.len() > 1 {
        columns.push(decimal_column("total", result.rows.iter().map(|r| r.total), scale)?);
    }
    columns.push(Column::new("lines".into(), result.rows.iter().map(|r| r.lines).collect::<Vec<i64>>()));
    let mut df = DataFrame::new(result.rows.len(), columns).map_err(polars_error)?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut df).map_err(polars_error)?;
    Ok(out)
}

/// One sheet: a header row, the rows, a bold total row.
pub fn xlsx_bytes(result: &ReportResult) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| Error::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut book = Workbook::new();
    let money = Format::new().set_num_format("#,##0.00");
    let bold = Format::new().set_bold();
    let bold_money = Format::new().set_bold().set_num_format("#,##0.00");
    let sheet = book.add_worksheet_with_constant_memory();
    sheet.set_name("report").map_err(err)?;
    let pivoted = result.columns.len() > 1;
    for (c, h) in header(result).iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold).map_err(err)?;
    }
    let number = |d: &Decimal| d.to_f64().unwrap_or(f64::NAN);
    let width = result.group_by.len();
    let mut write_row = |row: u32, keys: &[Option<String>], amounts: &[Decimal], total: Decimal, lines: i64, fmt: &Format, text: Option<&Format>| -> Result<()> {
        for (c, k) in keys.iter().enumerate() {
            let value = k.as_deref().unwrap_or("");
            match text {
                Some(f) => sheet.write_string_with_format(row, c as u16, value, f).map_err(err)?,
                None => sheet.write_string(row, c as u16, value).map_err(err)?,
            };
        }
        let mut c = width;
        for a in amounts {
            sheet.write_number_with_format(row, c as u16, number(a), fmt).map_err(err)?;
            c += 1;
        }
        if pivoted {
            sheet.write_number_with_format(row, c as u16, number(&total), fmt).map_err(err)?;
            c += 1;
        }
        sheet.write_number(row, c as u16, lines as f64).map_err(err)?;
        Ok(())
    };
    for (i, r) in result.rows.iter().enumerate() {
        write_row(i as u32 + 1, &r.keys, &r.amounts, r.total, r.lines, &money, None)?;
    }
    let mut total_keys = vec![None; width];
    if let Some(first) = total_keys.first_mut() {
        *first = Some("total".to_owned());
    }
    write_row(result.rows.len() as u32 + 1, &total_keys, &result.totals, result.total, result.lines, &bold_money, Some(&bold))?;
    book.save_to_buffer().map_err(err)
}
