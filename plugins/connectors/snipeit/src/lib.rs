//! Snipe-IT: hardware and licences into assets.
//!
//! The REST API v1 (`/api/v1/hardware`, `/api/v1/licenses`) answers
//! `{total, rows}` pages chosen by `offset` and `limit`, behind a personal
//! access token sent as a bearer token. Its traps, all handled here:
//!
//! - costs are strings formatted for the instance's locale (`"1,999.00"` or
//!   `"1.999,00"`); they are read exactly, by the configured format or detected
//!   per value, never through a float;
//! - `limit` is silently capped (500 by default) and an `offset` past the end
//!   is clamped, so pages advance by the rows actually returned;
//! - texts are HTML-escaped (`Macbook Pro 13&quot;`);
//! - some errors come back as `200 {"status": "error", "messages": ...}`;
//! - dates are `{date, formatted}` objects, warranty and end of life are
//!   `"36 months"` strings, depreciation an object only in newer versions.
//!
//! Both streams are full refresh (no cursor): an asset deleted in Snipe-IT
//! disappears from the next complete run, and the host retires it.

mod map;

use itbm_plugin_sdk::decimal::NumberFormat;
use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http, pagination};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    base_url: String,
    #[serde(default = "default_page_size")]
    page_size: u32,
    #[serde(default = "default_number_format")]
    number_format: String,
    currency: Option<String>,
    #[serde(default = "yes")]
    licences: bool,
}

fn default_page_size() -> u32 {
    100
}

fn default_number_format() -> String {
    "auto".into()
}

fn yes() -> bool {
    true
}

impl Settings {
    fn load() -> Result<Settings> {
        let settings: Settings = itbm_plugin_sdk::config()?;
        if !(1..=500).contains(&settings.page_size) {
            return Err(PluginError::Configuration("page_size must be between 1 and 500".into()));
        }
        settings.format()?;
        Ok(settings)
    }

    fn format(&self) -> Result<NumberFormat> {
        NumberFormat::from_example(&self.number_format).ok_or_else(|| {
            PluginError::Configuration(format!("number_format {:?} is not one of \"auto\", \"1,234.56\", \"1.234,56\", \"1 234,56\"", self.number_format))
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base_url.trim_end_matches('/'))
    }
}

/// A stream: its name in `discover`, its API path, and how a row maps.
struct Stream {
    name: &'static str,
    path: &'static str,
    description: &'static str,
}

const HARDWARE: Stream = Stream { name: "hardware", path: "/hardware", description: "Hardware assets with purchase cost, warranty, depreciation and end of life" };
const LICENCES: Stream = Stream { name: "licences", path: "/licenses", description: "Software licences with purchase cost, seats and expiry" };

/// GETs a list page and reads `{total, rows}`, telling the ways Snipe-IT
/// fails apart.
fn list(settings: &Settings, stream: &Stream, offset: u64, limit: u32) -> Result<(u64, Vec<Value>)> {
    let url = format!("{}?{}", settings.url(stream.path), http::query(&[
        ("limit", &limit.to_string()),
        ("offset", &offset.to_string()),
        ("sort", "id"),
        ("order", "asc"),
    ]));
    let response = http::get(&url).bearer(&itbm_plugin_sdk::secret("api_token")?).send()?;
    if response.status == 404 {
        return Err(PluginError::Configuration(format!("{url}: not found; is base_url the root of a Snipe-IT server?")));
    }
    let response = response.error_for_status()?;
    let body: Value = response.json()?;
    if body.get("status").and_then(Value::as_str) == Some("error") {
        let messages = body.get("messages").map(Value::to_string).unwrap_or_default();
        return Err(PluginError::Connector(format!("{url}: Snipe-IT answered an error: {messages}")));
    }
    let total = body.get("total").and_then(Value::as_u64);
    let rows = body.get("rows").and_then(Value::as_array);
    match (total, rows) {
        (Some(total), Some(rows)) => Ok((total, rows.clone())),
        _ => Err(PluginError::Connector(format!("{url}: the answer has no total and rows: {}", response.text_excerpt(200)))),
    }
}

struct SnipeIt;

impl Connector for SnipeIt {
    fn spec() -> String {
        include_str!("../manifest.json").parse::<Value>().map(|m| m["configuration_schema"].to_string()).unwrap_or_default()
    }

    fn check() -> Result<()> {
        let settings = Settings::load()?;
        let (total, _) = list(&settings, &HARDWARE, 0, 1).map_err(|e| match e {
            // The very first call failing on a non-JSON page means the URL is wrong, not the source.
            PluginError::Connector(why) if why.contains("not the JSON expected") => {
                PluginError::Configuration(format!("{why}; is base_url the root of a Snipe-IT server?"))
            }
            other => other,
        })?;
        itbm_plugin_sdk::info(&format!("Snipe-IT answered: {total} hardware assets"));
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        let settings = Settings::load()?;
        let streams = if settings.licences { vec![&HARDWARE, &LICENCES] } else { vec![&HARDWARE] };
        Ok(streams
            .into_iter()
            .map(|s| StreamInfo {
                name: s.name.into(),
                description: s.description.into(),
                produces: "asset".into(),
                primary_key: vec!["id".into()],
                cursor_field: None,
            })
            .collect())
    }

    fn read(stream_name: String, checkpoint: Option<String>) -> Result<Page> {
        let settings = Settings::load()?;
        let stream = match stream_name.as_str() {
            "hardware" => &HARDWARE,
            "licences" if settings.licences => &LICENCES,
            _ => return Err(PluginError::InvalidInput(format!("no stream named {stream_name:?}"))),
        };
        let offset = pagination::offset(checkpoint.as_deref())?;
        let (total, rows) = list(&settings, stream, offset, settings.page_size)?;
        let context = map::Context { format: settings.format()?, currency: settings.currency.clone(), today: itbm_plugin_sdk::time::format_date(itbm_plugin_sdk::clock::now_ms()) };
        let records = rows.iter().map(|row| if stream.name == "hardware" { map::hardware(row, &context) } else { map::licence(row, &context) }).collect();
        let next = offset + rows.len() as u64;
        Ok(Page { records, checkpoint: Some(next.to_string()), done: rows.is_empty() || next >= total })
    }
}

itbm_plugin_sdk::export_connector!(SnipeIt);
