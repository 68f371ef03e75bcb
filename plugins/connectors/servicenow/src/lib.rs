//! ServiceNow's Table API into services, configuration items and ticket effort.
//!
//! Configuration: `instance_url`, `page_size` (`sysparm_limit`, default 200),
//! `tables`. Secrets: `token` (OAuth bearer) or `username` and `password`
//! (basic authentication).
//!
//! Streams, all incremental on `sys_updated_on`, keyed by `sys_id`:
//! `cmdb_ci_service` → `service`; `cmdb_ci` → `configuration-item`;
//! `incident` and `change_request` → `ticket-effort`, whose service and CI
//! are `service_ref` and `ci_ref` to the records of the first two streams
//! (read first, so the references resolve).
//!
//! **The cursor.** Pages are keyset pages: the checkpoint is the
//! `(sys_updated_on, sys_id)` of the last record stored, and the next page
//! asks for `sys_updated_on > T` **or** (`sys_updated_on = T` and
//! `sys_id > I`), ordered by both, with `sysparm_limit` and
//! `sysparm_offset=0`. So records that share a timestamp across a page
//! boundary are neither skipped nor repeated, and a record updated while a
//! run pages through the table moves behind the cursor instead of shifting
//! every later offset (offset paging would skip a record then).
//!
//! Every value the Table API returns is a string (`""` for empty);
//! reference fields are `{link, value}` or a bare sys_id; date-times are
//! `YYYY-MM-DD HH:MM:SS` in UTC, or carry an offset, which is honoured.
//! Records go to the engine with timestamps in RFC 3339 UTC.

use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http};
use serde_json::{Map, Value, json};

#[derive(serde::Deserialize)]
struct Settings {
    instance_url: String,
    page_size: Option<u32>,
    tables: Option<Vec<String>>,
}

/// The tables, in the order they are read (services and CIs before the
/// tickets that refer to them), with what each produces.
const TABLES: &[(&str, &str, &str)] = &[
    ("cmdb_ci_service", "service", "Business services"),
    ("cmdb_ci", "configuration-item", "Configuration items"),
    ("incident", "ticket-effort", "Incidents and the effort spent on them"),
    ("change_request", "ticket-effort", "Change requests and the effort spent on them"),
];

#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    updated: String,
    sys_id: String,
}

fn settings() -> Result<Settings> {
    itbm_plugin_sdk::config()
}

fn get(url: &str) -> Result<http::Response> {
    let mut request = http::get(url);
    if let Some(token) = itbm_plugin_sdk::optional_secret("token") {
        request = request.bearer(&token);
    } else if let (Some(user), Some(password)) = (itbm_plugin_sdk::optional_secret("username"), itbm_plugin_sdk::optional_secret("password")) {
        request = request.header("authorization", &format!("Basic {}", base64(format!("{user}:{password}").as_bytes())));
    }
    let response = request.send()?;
    if response.status == 429 {
        let wait = response.header("retry-after").unwrap_or("?").to_owned();
        return Err(PluginError::Connector(format!("{url}: rate limited (429), retry after {wait} s")));
    }
    response.error_for_status()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes a query parameter value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the epoch of `YYYY-MM-DD[ T]HH:MM:SS[.fff][Z|±HH:MM]`
/// (no offset: UTC).
pub fn epoch_seconds(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.len() < 19 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| t.get(range)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let b = t.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hhmm = rest[1..].replace(':', "");
            if hhmm.len() != 4 {
                return None;
            }
            sign * (hhmm[..2].parse::<i64>().ok()? * 3600 + hhmm[2..].parse::<i64>().ok()? * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn utc(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn rfc3339(seconds: i64) -> String {
    utc(seconds).replacen(' ', "T", 1) + "Z"
}

/// A field's value: the string, or a reference's `value`; `""` is none.
fn text(record: &Map<String, Value>, field: &str) -> Option<String> {
    let value = match record.get(field)? {
        Value::String(s) => s.clone(),
        Value::Object(reference) => reference.get("value")?.as_str()?.to_owned(),
        _ => return None,
    };
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

fn timestamp(record: &Map<String, Value>, field: &str) -> Option<String> {
    text(record, field).and_then(|t| epoch_seconds(&t)).map(rfc3339)
}

/// Hours of a duration field (`1970-01-01 02:30:00` is 2.5 hours), as a
/// decimal string with up to four places.
pub fn hours(duration: &str) -> Option<String> {
    let seconds = epoch_seconds(duration)?;
    let tenths_of_ms = seconds * 10_000 / 3600;
    let text = format!("{}.{:04}", tenths_of_ms / 10_000, tenths_of_ms % 10_000);
    Some(text.trim_end_matches('0').trim_end_matches('.').to_owned())
}

/// The record the engine gets, per table; a malformed one goes through with
/// what it has, and the engine rejects it saying why.
fn map(table: &str, record: &Map<String, Value>) -> Value {
    let sys_id = text(record, "sys_id");
    let updated = timestamp(record, "sys_updated_on");
    match table {
        "cmdb_ci_service" => json!({
            "sys_id": sys_id,
            "sys_updated_on": updated,
            "code": sys_id.as_ref().map(|id| format!("sn:{id}")),
            "name": text(record, "name"),
            "kind": "business_service",
        }),
        "cmdb_ci" => {
            let mut attributes = Map::new();
            for field in ["sys_class_name", "install_status", "operational_status", "ip_address", "fqdn", "model_id", "manufacturer", "location", "cost", "cost_cc"] {
                if let Some(v) = text(record, field) {
                    attributes.insert(field.into(), Value::String(v));
                }
            }
            json!({
                "sys_id": sys_id,
                "sys_updated_on": updated,
                "name": text(record, "name"),
                "class": text(record, "sys_class_name"),
                "status": text(record, "operational_status").or_else(|| text(record, "install_status")),
                "serial_number": text(record, "serial_number"),
                "asset_tag": text(record, "asset_tag"),
                "attributes": attributes,
            })
        }
        _ => {
            let effort = ["time_worked", "business_duration", "calendar_duration"]
                .iter()
                .find_map(|f| text(record, f).and_then(|d| hours(&d)))
                .unwrap_or_else(|| "0".into());
            json!({
                "sys_id": sys_id,
                "sys_updated_on": updated,
                "ticket": text(record, "number"),
                "kind": if table == "incident" { "incident" } else { "change" },
                "state": text(record, "state"),
                "opened_at": timestamp(record, "opened_at").or_else(|| timestamp(record, "sys_created_on")),
                "closed_at": timestamp(record, "closed_at"),
                "effort_hours": effort,
                "service_ref": text(record, "business_service").map(|id| json!({ "stream": "cmdb_ci_service", "key": id })),
                "ci_ref": text(record, "cmdb_ci").map(|id| json!({ "stream": "cmdb_ci", "key": id })),
            })
        }
    }
}

struct ServiceNow;

impl Connector for ServiceNow {
    fn spec() -> String {
        let manifest: Value = serde_json::from_str(include_str!("../manifest.json")).expect("the manifest is JSON");
        manifest["configuration_schema"].to_string()
    }

    fn check() -> Result<()> {
        let s = settings()?;
        get(&format!("{}/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id", s.instance_url.trim_end_matches('/')))?;
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        let s = settings()?;
        Ok(TABLES
            .iter()
            .filter(|(table, _, _)| s.tables.as_ref().is_none_or(|t| t.iter().any(|x| x == table)))
            .map(|(table, produces, description)| StreamInfo {
                name: (*table).into(),
                description: (*description).into(),
                produces: (*produces).into(),
                primary_key: vec!["sys_id".into()],
                cursor_field: Some("sys_updated_on".into()),
            })
            .collect())
    }

    fn read(stream: String, checkpoint: Option<String>) -> Result<Page> {
        let Some((table, _, _)) = TABLES.iter().find(|(t, _, _)| *t == stream) else {
            return Err(PluginError::InvalidInput(format!("no stream named {stream:?}")));
        };
        let s = settings()?;
        let cursor: Option<Cursor> = checkpoint
            .as_deref()
            .map(|c| serde_json::from_str(c).map_err(|_| PluginError::InvalidInput(format!("checkpoint {c:?} is not one of mine"))))
            .transpose()?;
        let limit = s.page_size.unwrap_or(200).max(1);
        let order = "ORDERBYsys_updated_on^ORDERBYsys_id";
        let query = match &cursor {
            None => order.to_owned(),
            Some(c) => format!("sys_updated_on>{t}^{order}^NQsys_updated_on={t}^sys_id>{id}^{order}", t = c.updated, id = c.sys_id),
        };
        let url = format!(
            "{}/api/now/table/{table}?sysparm_query={}&sysparm_limit={limit}&sysparm_offset=0&sysparm_exclude_reference_link=true",
            s.instance_url.trim_end_matches('/'),
            encode(&query)
        );
        let response = get(&url)?;
        let body: Value = response.json()?;
        let Some(result) = body.get("result").and_then(Value::as_array) else {
            return Err(PluginError::Connector(format!("{url}: the answer has no result list")));
        };
        let mut records = Vec::with_capacity(result.len());
        let mut last = cursor;
        for item in result {
            match item.as_object() {
                Some(record) => {
                    records.push(map(table, record).to_string());
                    // The cursor moves past every record with a readable key,
                    // rejected or not, so a bad record is not read forever.
                    if let (Some(id), Some(at)) = (text(record, "sys_id"), text(record, "sys_updated_on").and_then(|t| epoch_seconds(&t))) {
                        last = Some(Cursor { updated: utc(at), sys_id: id });
                    }
                }
                None => records.push(item.to_string()),
            }
        }
        let done = (result.len() as u32) < limit;
        Ok(Page { records, checkpoint: last.map(|c| serde_json::to_string(&c).expect("a cursor serialises")), done })
    }
}

itbm_plugin_sdk::export_connector!(ServiceNow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_offsets_become_utc() {
        assert_eq!(epoch_seconds("1970-01-01 02:30:00"), Some(9000));
        let a = epoch_seconds("2024-09-18 22:00:00").unwrap();
        assert_eq!(epoch_seconds("2024-09-19T00:00:00+02:00"), Some(a));
        assert_eq!(epoch_seconds("2024-09-18T17:00:00-05:00"), Some(a));
        assert_eq!(utc(a), "2024-09-18 22:00:00");
        assert_eq!(epoch_seconds("18.09.2024"), None);
    }

    #[test]
    fn durations_are_hours() {
        assert_eq!(hours("1970-01-01 02:30:00").as_deref(), Some("2.5"));
        assert_eq!(hours("1970-01-02 00:00:00").as_deref(), Some("24"));
        assert_eq!(hours("1970-01-01 00:00:00").as_deref(), Some("0"));
    }

    #[test]
    fn basic_credentials_are_base64() {
        assert_eq!(base64(b"admin:secret"), "YWRtaW46c2VjcmV0");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
