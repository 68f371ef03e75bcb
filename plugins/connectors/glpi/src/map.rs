//! GLPI computers and their Infocom into `asset` records (see the host's
//! record contract).

use std::collections::BTreeMap;

use itbm_plugin_sdk::decimal;
use itbm_plugin_sdk::record::{Record, html_unescape, text};
use itbm_plugin_sdk::time;
use serde_json::Value;

pub struct Context {
    pub currency: Option<String>,
    /// The GLPI server's offset from UTC, for its local times.
    pub offset_minutes: i32,
    /// GLPI state names (a free dropdown) to asset lifecycle states.
    pub states: BTreeMap<String, String>,
}

/// A text member; GLPI's empty dropdowns (`&nbsp;`, `0`, `""`) are absent.
fn plain(row: &Value, name: &str) -> Option<String> {
    let value = row.get(name)?;
    if value.as_i64() == Some(0) {
        return None; // a dropdown id 0: none chosen
    }
    text(value).map(|t| html_unescape(&t).trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}').to_owned()).filter(|t| !t.is_empty())
}

/// A date member, `YYYY-MM-DD` or a datetime whose date part counts.
fn date(record: &mut Record, row: &Value, source: &str, member: &str) {
    if let Some(raw) = plain(row, source) {
        let day = raw.get(..10).unwrap_or(&raw);
        record.read(member, &raw, time::parse_date(day));
    }
}

fn integer(row: &Value, name: &str) -> Option<i64> {
    row.get(name).and_then(text).and_then(|t| t.trim().parse().ok())
}

pub fn computer(row: &Value, infocom: &Value, context: &Context) -> String {
    let mut record = Record::new();
    record.set("id", row.get("id").cloned().unwrap_or(Value::Null));
    record.set("name", plain(row, "name")).set("kind", "hardware");
    record.set("serial_number", plain(row, "serial")).set("asset_tag", plain(row, "otherserial"));
    record.set("model", plain(row, "computermodels_id")).set("vendor", plain(row, "manufacturers_id"));
    record.set("computer_type", plain(row, "computertypes_id")).set("location", plain(row, "locations_id"));
    record.set("entity", plain(row, "entities_id")).set("uuid", plain(row, "uuid"));
    if let Some(state) = plain(row, "states_id") {
        record.set("source_state", state.clone());
        record.set("state", context.states.get(&state).cloned());
    }
    if let Some(raw) = plain(row, "date_mod") {
        let reading = time::parse_instant(&raw, Some(context.offset_minutes)).map(time::format_utc);
        record.read("source_updated_at", &raw, reading);
    }
    if infocom.as_object().is_some_and(|o| !o.is_empty()) {
        financial(&mut record, infocom, context);
    }
    record.finish()
}

/// The Infocom row: value, dates, warranty, amortisation.
fn financial(record: &mut Record, infocom: &Value, context: &Context) {
    // GLPI's value column defaults to 0.0000: zero means "not entered", not free.
    if let Some(raw) = infocom.get("value").and_then(text) {
        match decimal::parse_plain(&raw) {
            Ok(value) if value.trim_start_matches(['0', '.']).is_empty() => {}
            reading => {
                record.read("purchase_cost", &raw, reading);
                record.set("currency", context.currency.clone());
            }
        }
    }
    date(record, infocom, "buy_date", "acquisition_date");
    date(record, infocom, "use_date", "in_service_date");
    date(record, infocom, "decommission_date", "end_of_life");
    record.set("order_number", plain(infocom, "order_number")).set("immobilisation_number", plain(infocom, "immo_number"));
    // The warranty runs `warranty_duration` months from `warranty_date`; -1 is for life.
    match (plain(infocom, "warranty_date"), integer(infocom, "warranty_duration")) {
        (_, Some(-1)) => {
            record.set("warranty_lifetime", true);
        }
        (Some(start), Some(months)) if months > 0 => match time::add_months(start.get(..10).unwrap_or(&start), months) {
            Some(end) => {
                record.set("warranty_end", end);
            }
            None => {
                record.read("warranty_end", &start, Err(format!("warranty_date {start:?} is not a date")));
            }
        },
        _ => {}
    }
    // Amortisation: sink_type 1 linear, 2 degressive; sink_time in years.
    let years = integer(infocom, "sink_time").filter(|y| *y > 0);
    match integer(infocom, "sink_type") {
        Some(1) => {
            record.set("depreciation_method", "straight_line");
        }
        Some(2) => {
            record.set("depreciation_method", "declining_balance");
            record.set("depreciation_coefficient", infocom.get("sink_coeff").and_then(text).and_then(|c| decimal::parse_plain(&c).ok()));
        }
        _ => {}
    }
    record.set("useful_life_months", years.map(|y| y * 12));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        Context { currency: Some("EUR".into()), offset_minutes: 60, states: BTreeMap::from([("Production".into(), "deployed".into())]) }
    }

    fn documented_row() -> Value {
        let shapes: Value = serde_json::from_str(include_str!("../tests/glpi_computer_row.json")).unwrap();
        shapes
    }

    #[test]
    fn the_documented_row_with_its_infocom_becomes_an_asset() {
        let infocom = json!({
            "id": 7, "items_id": 34, "itemtype": "Computer", "buy_date": "2023-03-01", "use_date": "2023-03-15",
            "warranty_duration": 36, "warranty_date": "2023-03-01", "value": "1499.5000", "sink_time": 4, "sink_type": 1,
            "sink_coeff": 0, "order_number": "PO-77", "immo_number": null
        });
        let record: Value = serde_json::from_str(&computer(&documented_row(), &infocom, &context())).unwrap();
        assert_eq!(record["name"], "glpi");
        assert_eq!(record["serial_number"], "VMware-42 01 f4 65 27 59 a9 fb-11 bc cd b8 64 68 1f 4b");
        assert!(record.get("asset_tag").is_none(), "otherserial is null");
        assert!(record.get("location").is_none(), "&nbsp; is an empty dropdown");
        assert_eq!(record["vendor"], "VMware, Inc.");
        assert_eq!(record["state"], "deployed");
        assert_eq!(record["source_updated_at"], "2011-12-16T16:52:55Z", "the server's local time, one hour ahead of UTC");
        assert_eq!(record["purchase_cost"], "1499.5000");
        assert_eq!(record["currency"], "EUR");
        assert_eq!(record["warranty_end"], "2026-03-01");
        assert_eq!(record["useful_life_months"], 48);
        assert_eq!(record["depreciation_method"], "straight_line");
        assert!(record.get("_errors").is_none(), "{record}");
    }

    #[test]
    fn a_zero_value_is_no_cost_and_a_bad_date_is_kept_raw() {
        let infocom = json!({ "value": "0.0000", "buy_date": "2023-02-30", "warranty_duration": -1 });
        let record: Value = serde_json::from_str(&computer(&documented_row(), &infocom, &context())).unwrap();
        assert!(record.get("purchase_cost").is_none());
        assert_eq!(record["acquisition_date"], "2023-02-30");
        assert!(record["_errors"]["acquisition_date"].is_string());
        assert_eq!(record["warranty_lifetime"], true);
    }
}
