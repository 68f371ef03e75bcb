//! Snipe-IT rows into `asset` records (see the host's record contract).

use itbm_plugin_sdk::decimal::{self, NumberFormat};
use itbm_plugin_sdk::record::{Record, html_unescape, text};
use itbm_plugin_sdk::time;
use serde_json::Value;

pub struct Context {
    pub format: NumberFormat,
    pub currency: Option<String>,
    /// `YYYY-MM-DD`, to tell expired licences.
    pub today: String,
}

/// A text member, HTML-unescaped; empty texts are absent.
fn plain(row: &Value, name: &str) -> Option<String> {
    text(row.get(name)?).map(|t| html_unescape(t.trim())).filter(|t| !t.is_empty())
}

/// The `name` of a nested `{id, name}` object.
fn named(row: &Value, name: &str) -> Option<String> {
    row.get(name).and_then(|v| plain(v, "name"))
}

/// The `date` of a `{date, formatted}` object.
fn date(record: &mut Record, row: &Value, source: &str, member: &str) {
    if let Some(raw) = row.get(source).and_then(|v| plain(v, "date")) {
        record.read(member, &raw, time::parse_date(&raw));
    }
}

/// A cost: the raw `<name>_numeric` newer versions add where there is one,
/// else the string in the instance's number format.
fn cost(record: &mut Record, row: &Value, source: &str, member: &str, context: &Context) {
    if let Some(raw) = plain(row, &format!("{source}_numeric")) {
        record.read(member, &raw, decimal::parse_plain(&raw));
    } else if let Some(raw) = plain(row, source) {
        record.read(member, &raw, decimal::parse_formatted(&raw, context.format));
    }
}

/// `"36 months"` (the word may be translated) into 36.
fn months(text: &str) -> Option<i64> {
    text.split_whitespace().next()?.parse().ok()
}

/// Snipe-IT's status meta into the asset lifecycle.
fn state(meta: &str) -> Option<&'static str> {
    match meta {
        "deployed" => Some("deployed"),
        "deployable" | "pending" => Some("in_stock"),
        "undeployable" => Some("in_maintenance"),
        "archived" => Some("retired"),
        _ => None,
    }
}

fn common(record: &mut Record, row: &Value, context: &Context) {
    record.set("id", row.get("id").cloned().unwrap_or(Value::Null));
    record.set("vendor", named(row, "manufacturer"));
    record.set("supplier", named(row, "supplier"));
    record.set("category", named(row, "category"));
    record.set("company", named(row, "company"));
    record.set("order_number", plain(row, "order_number"));
    record.set("currency", context.currency.clone());
    cost(record, row, "purchase_cost", "purchase_cost", context);
    date(record, row, "purchase_date", "acquisition_date");
    record.set("source_updated_at", row.get("updated_at").and_then(|v| plain(v, "datetime")));
}

pub fn hardware(row: &Value, context: &Context) -> String {
    let mut record = Record::new();
    common(&mut record, row, context);
    let model = named(row, "model");
    let tag = plain(row, "asset_tag");
    // Snipe-IT assets often have no name of their own: they go by model and tag.
    let name = plain(row, "name").or_else(|| match (&model, &tag) {
        (Some(model), Some(tag)) => Some(format!("{model} ({tag})")),
        (model, tag) => tag.clone().or(model.clone()),
    });
    record.set("name", name).set("kind", "hardware").set("asset_tag", tag).set("serial_number", plain(row, "serial"));
    record.set("model", model).set("model_number", plain(row, "model_number"));
    record.set("location", named(row, "location"));
    let status = row.get("status_label").or_else(|| row.get("status"));
    if let Some(meta) = status.and_then(|s| plain(s, "status_meta")) {
        match state(&meta) {
            Some(state) => record.set("state", state),
            None => record.error("state", format!("unknown status_meta {meta:?}")),
        };
    }
    date(&mut record, row, "warranty_expires", "warranty_end");
    date(&mut record, row, "asset_eol_date", "end_of_life");
    cost(&mut record, row, "book_value", "book_value", context);
    // Depreciation: the object of newer versions, else the model's end of life in months.
    match row.get("depreciation").filter(|d| d.is_object()) {
        Some(depreciation) => {
            record.set("depreciation_method", "straight_line");
            record.set("useful_life_months", depreciation.get("months").and_then(Value::as_i64));
            record.set("depreciation_name", plain(depreciation, "name"));
            let minimum = depreciation.get("minimum").and_then(text);
            match (plain(depreciation, "type").as_deref(), minimum) {
                (Some("amount") | None, Some(minimum)) => {
                    record.read("residual_value", &minimum, decimal::parse_plain(&minimum));
                }
                (Some("percent"), Some(minimum)) => {
                    record.read("residual_percent", &minimum, decimal::parse_plain(&minimum));
                }
                _ => {}
            }
        }
        None => {
            record.set("useful_life_months", plain(row, "eol").as_deref().and_then(months));
        }
    }
    record.finish()
}

pub fn licence(row: &Value, context: &Context) -> String {
    let mut record = Record::new();
    common(&mut record, row, context);
    record.set("name", plain(row, "name")).set("kind", "licence");
    // The product key is a secret of its own: never copied.
    date(&mut record, row, "expiration_date", "end_of_life");
    date(&mut record, row, "termination_date", "termination_date");
    let seats = row.get("seats").and_then(text).and_then(|s| s.parse::<i64>().ok());
    let free = row.get("free_seats_count").and_then(text).and_then(|s| s.parse::<i64>().ok());
    record.set("seats", seats).set("free_seats", free);
    let expiry = row.get("expiration_date").and_then(|v| plain(v, "date"));
    let state = match (expiry, seats, free) {
        (Some(expiry), _, _) if time::days_of(&expiry).is_some() && expiry < context.today => "retired",
        (_, Some(seats), Some(free)) if free < seats => "deployed",
        _ => "in_stock",
    };
    record.set("state", state);
    if let Some(depreciation) = row.get("depreciation").filter(|d| d.is_object()) {
        record.set("depreciation_name", plain(depreciation, "name"));
    }
    record.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(format: NumberFormat) -> Context {
        Context { format, currency: Some("EUR".into()), today: "2026-11-21".into() }
    }

    fn sample() -> Value {
        let shapes: Value = serde_json::from_str(include_str!("../tests/snipeit_hardware_row.json")).unwrap();
        shapes
    }

    #[test]
    fn a_documented_row_becomes_an_asset() {
        let record: Value = serde_json::from_str(&hardware(&sample(), &context(NumberFormat::Auto))).unwrap();
        assert_eq!(record["name"], "Laptop-0001");
        assert_eq!(record["model"], "Macbook Pro 13\"");
        assert_eq!(record["purchase_cost"], "1999.00");
        assert_eq!(record["book_value"], "1388.19");
        assert_eq!(record["currency"], "EUR");
        assert_eq!(record["acquisition_date"], "2024-01-15");
        assert_eq!(record["warranty_end"], "2027-01-15");
        assert_eq!(record["end_of_life"], "2027-01-15");
        assert_eq!(record["useful_life_months"], 36);
        assert_eq!(record["depreciation_method"], "straight_line");
        assert_eq!(record["state"], "deployed");
        assert_eq!(record["vendor"], "Apple");
        assert!(record.get("_errors").is_none(), "{record}");
    }

    #[test]
    fn a_cost_in_the_wrong_format_is_kept_raw_with_the_reason() {
        let mut row = sample();
        row["purchase_cost"] = "1.999,00".into();
        let record: Value = serde_json::from_str(&hardware(&row, &context(NumberFormat::PointDecimal))).unwrap();
        assert_eq!(record["purchase_cost"], "1.999,00");
        assert!(record["_errors"]["purchase_cost"].as_str().unwrap().contains("1,234.56"));
        let record: Value = serde_json::from_str(&hardware(&row, &context(NumberFormat::CommaDecimal))).unwrap();
        assert_eq!(record["purchase_cost"], "1999.00");
    }

    #[test]
    fn an_asset_without_a_name_goes_by_model_and_tag() {
        let mut row = sample();
        row["name"] = Value::Null;
        row["depreciation"] = Value::Null;
        let record: Value = serde_json::from_str(&hardware(&row, &context(NumberFormat::Auto))).unwrap();
        assert_eq!(record["name"], "Macbook Pro 13\" (000001)");
        assert_eq!(record["useful_life_months"], 36, "from eol \"36 months\"");
    }

    #[test]
    fn licences_expire_into_retirement() {
        let row = serde_json::json!({
            "id": 4, "name": "Office 365", "manufacturer": {"id": 2, "name": "Microsoft"}, "product_key": "SECRET-KEY",
            "purchase_cost": "12.500,00", "purchase_date": {"date": "2023-01-01", "formatted": "01.01.2023"},
            "expiration_date": {"date": "2025-12-31", "formatted": "31.12.2025"}, "seats": 50, "free_seats_count": 10
        });
        let record: Value = serde_json::from_str(&licence(&row, &context(NumberFormat::Auto))).unwrap();
        assert_eq!(record["purchase_cost"], "12500.00");
        assert_eq!(record["state"], "retired");
        assert_eq!(record["kind"], "licence");
        assert!(!record.to_string().contains("SECRET-KEY"));
        let newer = serde_json::json!({ "id": 5, "name": "Visio", "purchase_cost": "1,234.50", "purchase_cost_numeric": "1234.50" });
        let record: Value = serde_json::from_str(&licence(&newer, &context(NumberFormat::CommaDecimal))).unwrap();
        assert_eq!(record["purchase_cost"], "1234.50", "the numeric cost wins over the formatted one");
    }
}
