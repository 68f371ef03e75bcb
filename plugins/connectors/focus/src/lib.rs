//! FinOps FOCUS cost and usage files over HTTP into ledger lines.
//!
//! Configuration: `files` (URLs of CSV files, plain or gzip: gzip is told by
//! its magic bytes, whatever the name or headers say), `cost_column`
//! (default `BilledCost`), `default_currency`, `cost_center_tag`,
//! `page_size`. Secret `token`, sent as a bearer token when set.
//!
//! One full-refresh stream, `cost_and_usage`, producing `ledger-line`
//! records (see `src/sync/README.md`): a row's key is its file's name and
//! its row number (`focus-2024-09.csv#17`), so a file that is republished
//! unchanged changes nothing. The checkpoint is `{file, row}`; each page
//! fetches its file again (the host keeps no state between calls), so a page
//! is many rows (default 1000).
//!
//! The quirks handled, from the FOCUS sample data and the specification's
//! examples:
//! - columns mapped by header name, case-insensitively (`SkuPriceid`), with
//!   the names of FOCUS 1.0-preview and 1.3 mapped to the 1.0–1.2 names; a
//!   UTF-8 byte-order mark before the first header is dropped;
//! - missing values as empty cells and as the literal `NULL`;
//! - enum values in any case (`Usage-based` → `Usage-Based`);
//! - timestamps as RFC 3339 (`2023-01-01T00:00:00Z`), as
//!   `YYYY-MM-DD HH:MM:SS`, and as US short dates (`5/1/25`);
//! - amounts with a currency sign, thousands separators and spaces
//!   (`"$10,000.00 "`), in parentheses for negatives, and credits as minus;
//! - `Tags` as a JSON object (values that are not strings become JSON text);
//! - `x_` custom columns and columns FOCUS does not define (such as `Id`)
//!   are kept with the row; unknown columns are logged once per file.

use std::io::Read;

use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http};
use serde_json::{Map, Value};

const STREAM: &str = "cost_and_usage";

#[derive(serde::Deserialize)]
struct Settings {
    files: Vec<String>,
    cost_column: Option<String>,
    default_currency: Option<String>,
    cost_center_tag: Option<String>,
    page_size: Option<usize>,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Checkpoint {
    file: usize,
    row: usize,
}

/// The FOCUS 1.0 to 1.2 columns, by their canonical names.
const FOCUS_COLUMNS: &[&str] = &[
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory",
    "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit",
    "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
    "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
];

/// Names of FOCUS 1.0-preview (0.5) and 1.3 for the columns above.
const RENAMED: &[(&str, &str)] = &[
    ("Provider", "ProviderName"),
    ("Publisher", "PublisherName"),
    ("InvoiceIssuer", "InvoiceIssuerName"),
    ("ChargeType", "ChargeCategory"),
    ("UsageQuantity", "ConsumedQuantity"),
    ("UsageUnit", "ConsumedUnit"),
    ("AmortizedCost", "EffectiveCost"),
    ("Region", "RegionName"),
    ("ServiceProviderName", "ProviderName"),
];

/// Columns whose values are enums, with their values as the specification spells them.
const ENUMS: &[(&str, &[&str])] = &[
    ("ChargeCategory", &["Usage", "Purchase", "Tax", "Credit", "Adjustment"]),
    ("ChargeClass", &["Correction"]),
    ("ChargeFrequency", &["One-Time", "Recurring", "Usage-Based"]),
    ("PricingCategory", &["Standard", "Dynamic", "Committed", "Other"]),
    ("CommitmentDiscountCategory", &["Spend", "Usage"]),
    ("CommitmentDiscountStatus", &["Used", "Unused"]),
    ("CapacityReservationStatus", &["Used", "Unused"]),
];

/// FOCUS columns kept on the ledger line (as `columns`), besides tags, `x_`
/// and unknown columns; the ledger line holds at most 50 labels.
const KEPT: &[&str] = &[
    "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ServiceSubcategory",
    "ChargeCategory", "ChargeClass", "ChargeFrequency", "PricingCategory", "BillingAccountId", "BillingAccountName",
    "SubAccountId", "SubAccountName", "ResourceId", "ResourceName", "ResourceType", "RegionId", "SkuId", "SkuPriceId",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "BilledCost", "EffectiveCost", "ListCost",
    "ContractedCost", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "InvoiceId",
    "CommitmentDiscountId", "CommitmentDiscountStatus",
];

/// The canonical name of a header: a FOCUS column by any case or older
/// name, an `x_` column as it is, anything else as it is (unknown).
fn canonical(header: &str) -> (String, bool) {
    let header = header.trim().trim_start_matches('\u{feff}').trim();
    if let Some(known) = FOCUS_COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(header)) {
        return ((*known).to_owned(), true);
    }
    if let Some((_, new)) = RENAMED.iter().find(|(old, _)| old.eq_ignore_ascii_case(header)) {
        return ((*new).to_owned(), true);
    }
    (header.to_owned(), header.starts_with("x_") || header.starts_with("X_"))
}

/// A cell's value, or none for an empty cell or `NULL`.
fn present(cell: &str) -> Option<&str> {
    let cell = cell.trim();
    if cell.is_empty() || cell.eq_ignore_ascii_case("null") { None } else { Some(cell) }
}

/// An amount as a plain decimal string: `"$10,000.00 "` → `10000.00`,
/// `(12.50)` → `-12.50`. None when it is not a number.
pub fn amount(text: &str) -> Option<String> {
    let mut t = text.trim().to_owned();
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') {
        negative = true;
        t = t[1..t.len() - 1].trim().to_owned();
    }
    if let Some(rest) = t.strip_prefix('-') {
        negative = !negative;
        t = rest.trim().to_owned();
    }
    let t: String = t.chars().filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ',' | ' ' | '\u{a0}')).collect();
    let valid = !t.is_empty()
        && (t.chars().all(|c| c.is_ascii_digit() || c == '.')
            || t.parse::<f64>().is_ok() && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')));
    if !valid || t.matches('.').count() > 1 {
        return None;
    }
    Some(if negative { format!("-{t}") } else { t })
}

/// A timestamp or date cell as `YYYY-MM-DD`: RFC 3339, `YYYY-MM-DD HH:MM:SS`,
/// or a US short date `M/D/YY` or `M/D/YYYY`.
pub fn date(text: &str) -> Option<String> {
    let t = text.trim();
    if t.len() >= 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' {
        let d = &t[..10];
        return d.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() }).then(|| d.to_owned());
    }
    let parts: Vec<&str> = t.split(' ').next()?.split('/').collect();
    if parts.len() != 3 {
        return None;
    }
    let month: u32 = parts[0].parse().ok()?;
    let day: u32 = parts[1].parse().ok()?;
    let mut year: u32 = parts[2].parse().ok()?;
    if parts[2].len() == 2 {
        year += 2000;
    }
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// The value of an enum column as the specification spells it.
fn normalised(column: &str, value: &str) -> String {
    ENUMS
        .iter()
        .find(|(c, _)| *c == column)
        .and_then(|(_, values)| values.iter().find(|v| v.eq_ignore_ascii_case(value)))
        .map_or_else(|| value.to_owned(), |v| (*v).to_owned())
}

/// Downloads a file, gunzipping it when it starts with gzip's magic bytes.
fn fetch(url: &str) -> Result<String> {
    let mut request = http::get(url).header("accept", "text/csv, application/gzip, */*");
    if let Some(token) = itbm_plugin_sdk::optional_secret("token") {
        request = request.bearer(&token);
    }
    let response = request.send()?.error_for_status()?;
    let bytes = if response.body.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&response.body[..])
            .read_to_end(&mut text)
            .map_err(|e| PluginError::Connector(format!("{url}: not valid gzip: {e}")))?;
        text
    } else {
        response.body
    };
    String::from_utf8(bytes).map_err(|_| PluginError::Connector(format!("{url}: the file is not UTF-8 text")))
}

/// The last path segment of a URL, without its query: the file's name in row keys.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path).to_owned()
}

/// Turns one CSV row into a ledger-line record.
fn record(settings: &Settings, file: &str, row_number: usize, headers: &[(String, bool)], row: &csv::StringRecord) -> Value {
    let mut cells: Map<String, Value> = Map::new();
    let mut columns: Map<String, Value> = Map::new();
    let mut extra: Map<String, Value> = Map::new();
    for ((name, known), cell) in headers.iter().zip(row.iter()) {
        let Some(value) = present(cell) else { continue };
        let value = normalised(name, value);
        if !*known || name.starts_with("x_") || name.starts_with("X_") {
            extra.insert(name.clone(), Value::String(value.clone()));
        } else if KEPT.contains(&name.as_str()) {
            columns.insert(name.clone(), Value::String(value.clone()));
        }
        cells.insert(name.clone(), Value::String(value));
    }
    let get = |name: &str| cells.get(name).and_then(Value::as_str);
    let cost_column = settings.cost_column.as_deref().unwrap_or("BilledCost");
    let mut out = Map::new();
    out.insert("id".into(), Value::String(format!("{file}#{row_number}")));
    if let Some(d) = get("ChargePeriodStart").or(get("BillingPeriodStart")) {
        // An unreadable date goes through as it is, so the engine rejects the row saying why.
        out.insert("entry_date".into(), Value::String(date(d).unwrap_or_else(|| d.to_owned())));
    }
    if let Some(cost) = get(cost_column) {
        out.insert("amount".into(), Value::String(amount(cost).unwrap_or_else(|| cost.to_owned())));
    }
    if let Some(currency) = get("BillingCurrency").map(str::to_owned).or_else(|| settings.default_currency.clone()) {
        out.insert("currency".into(), Value::String(currency.to_uppercase()));
    }
    if let Some(description) = get("ChargeDescription") {
        out.insert("description".into(), Value::String(description.to_owned()));
    }
    let mut tags = Map::new();
    if let Some(text) = get("Tags") {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => {
                for (k, v) in object {
                    let v = match v {
                        Value::String(s) => s,
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    tags.insert(k, Value::String(v));
                }
            }
            _ => {
                extra.insert("Tags".into(), Value::String(text.to_owned()));
            }
        }
    }
    if let Some(tag) = &settings.cost_center_tag {
        if let Some(Value::String(code)) = tags.get(tag) {
            out.insert("cost_center".into(), Value::String(code.clone()));
        }
    }
    // `x_` and unknown columns first: the ledger line keeps at most 50 labels.
    let mut kept = extra;
    kept.extend(columns);
    out.insert("tags".into(), Value::Object(tags));
    out.insert("columns".into(), Value::Object(kept));
    Value::Object(out)
}

struct Focus;

impl Connector for Focus {
    fn spec() -> String {
        let manifest: Value = serde_json::from_str(include_str!("../manifest.json")).expect("the manifest is JSON");
        manifest["configuration_schema"].to_string()
    }

    fn check() -> Result<()> {
        let settings: Settings = itbm_plugin_sdk::config()?;
        let first = settings.files.first().ok_or_else(|| PluginError::Configuration("files is empty".into()))?;
        let text = fetch(first)?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| PluginError::Connector(format!("{first}: {e}")))?;
        if !headers.iter().any(|h| canonical(h).0 == "BilledCost") {
            return Err(PluginError::Configuration(format!("{first} has no BilledCost column: is it a FOCUS file?")));
        }
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        Ok(vec![StreamInfo {
            name: STREAM.into(),
            description: "Every row of every configured FOCUS file, as a cost ledger line".into(),
            produces: "ledger-line".into(),
            primary_key: vec!["id".into()],
            cursor_field: None,
        }])
    }

    fn read(stream: String, checkpoint: Option<String>) -> Result<Page> {
        if stream != STREAM {
            return Err(PluginError::InvalidInput(format!("no stream named {stream:?}")));
        }
        let settings: Settings = itbm_plugin_sdk::config()?;
        let at: Checkpoint = match checkpoint.as_deref() {
            Some(text) => serde_json::from_str(text).map_err(|_| PluginError::InvalidInput(format!("checkpoint {text:?} is not one of mine")))?,
            None => Checkpoint::default(),
        };
        let Some(url) = settings.files.get(at.file) else {
            return Ok(Page { records: vec![], checkpoint: checkpoint.clone(), done: true });
        };
        let page_size = settings.page_size.unwrap_or(1000).max(1);
        let text = fetch(url)?;
        let name = file_name(url);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let headers: Vec<(String, bool)> =
            reader.headers().map_err(|e| PluginError::Connector(format!("{url}: {e}")))?.iter().map(canonical).collect();
        if at.row == 0 {
            let unknown: Vec<&str> = headers.iter().filter(|(_, known)| !known).map(|(n, _)| n.as_str()).collect();
            if !unknown.is_empty() {
                itbm_plugin_sdk::warn(&format!("{name}: columns FOCUS does not define, kept with each row: {}", unknown.join(", ")));
            }
        }
        let mut records = Vec::new();
        let mut row_number = at.row;
        let mut finished_file = true;
        for row in reader.records().skip(at.row) {
            if records.len() >= page_size {
                finished_file = false;
                break;
            }
            row_number += 1;
            match row {
                Ok(row) => records.push(record(&settings, &name, row_number, &headers, &row).to_string()),
                // A row the CSV reader cannot split still reaches the engine, which rejects it saying why.
                Err(e) => records.push(serde_json::json!({ "id": format!("{name}#{row_number}"), "_error": e.to_string() }).to_string()),
            }
        }
        let next = if finished_file { Checkpoint { file: at.file + 1, row: 0 } } else { Checkpoint { file: at.file, row: row_number } };
        let done = finished_file && next.file >= settings.files.len();
        Ok(Page { records, checkpoint: Some(serde_json::to_string(&next).expect("a checkpoint serialises")), done })
    }
}

itbm_plugin_sdk::export_connector!(Focus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_lose_their_formatting_but_not_their_digits() {
        assert_eq!(amount("\"$10,000.00 \"".trim_matches('"')).as_deref(), Some("10000.00"));
        assert_eq!(amount("0.00000080000").as_deref(), Some("0.00000080000"));
        assert_eq!(amount("-2.61370000000").as_deref(), Some("-2.61370000000"));
        assert_eq!(amount("(12.50)").as_deref(), Some("-12.50"));
        assert_eq!(amount("0.00 ").as_deref(), Some("0.00"));
        assert_eq!(amount("abc"), None);
    }

    #[test]
    fn dates_in_every_shape_of_the_samples() {
        assert_eq!(date("2024-09-18 22:00:00").as_deref(), Some("2024-09-18"));
        assert_eq!(date("2023-01-01T00:00:00Z").as_deref(), Some("2023-01-01"));
        assert_eq!(date("5/1/25").as_deref(), Some("2025-05-01"));
        assert_eq!(date("12/31/2024").as_deref(), Some("2024-12-31"));
        assert_eq!(date("31/12/24"), None);
    }

    #[test]
    fn headers_map_by_any_case_and_older_names() {
        assert_eq!(canonical("\u{feff}BilledCost"), ("BilledCost".to_owned(), true));
        assert_eq!(canonical("SkuPriceid"), ("SkuPriceId".to_owned(), true));
        assert_eq!(canonical("AmortizedCost"), ("EffectiveCost".to_owned(), true));
        assert_eq!(canonical("x_Team"), ("x_Team".to_owned(), true));
        assert_eq!(canonical("Id"), ("Id".to_owned(), false));
        assert_eq!(normalised("ChargeFrequency", "Usage-based"), "Usage-Based");
    }
}
