//! Prometheus: utilisation drivers for cost allocation.
//!
//! Each configured *driver* is a PromQL expression whose series measure
//! something per host or per service over one `step` (such as CPU hours:
//! `sum by (instance) (increase(node_cpu_seconds_total{mode!="idle"}[1h])) / 3600`
//! with a step of `1h`). The driver is a stream; each of its points becomes a
//! `utilisation` record for the period `(t - step, t]` that the expression
//! evaluated at `t` covers, its subject the value of `subject_label`.
//!
//! `/api/v1/query_range` has no pagination: a page is a window of at most
//! `points_per_page` steps (Prometheus refuses more than 11,000 points per
//! series). The checkpoint is the last time evaluated; the stream is
//! incremental and reads up to now minus `lag` (so data still being scraped
//! is not read half-done), and the next run goes on from there.
//!
//! Sample values are JSON strings (to carry `NaN` and `±Inf`), read exactly
//! into decimal strings; a `NaN` is kept raw, so the host rejects that record
//! and says why. Timestamps are JSON numbers of seconds.

use itbm_plugin_sdk::decimal;
use itbm_plugin_sdk::record::Record;
use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http, time};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Prometheus refuses query_range answers of more points per series.
const MAX_POINTS: u32 = 11_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    base_url: String,
    drivers: Vec<Driver>,
    #[serde(default = "hour")]
    step: String,
    start: String,
    #[serde(default = "five_minutes")]
    lag: String,
    #[serde(default = "default_points")]
    points_per_page: u32,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Driver {
    name: String,
    query: String,
    #[serde(default = "instance")]
    subject_label: String,
    #[serde(default = "host")]
    subject_kind: String,
    unit: String,
    /// A label whose value is the service code of each series, if any.
    service_label: Option<String>,
}

fn hour() -> String {
    "1h".into()
}
fn five_minutes() -> String {
    "5m".into()
}
fn default_points() -> u32 {
    240
}
fn instance() -> String {
    "instance".into()
}
fn host() -> String {
    "host".into()
}

struct Window {
    step: i64,
    start: i64,
    lag: i64,
}

impl Settings {
    fn load() -> Result<Settings> {
        let settings: Settings = itbm_plugin_sdk::config()?;
        if !(1..=MAX_POINTS).contains(&settings.points_per_page) {
            return Err(PluginError::Configuration(format!("points_per_page must be between 1 and {MAX_POINTS}")));
        }
        for driver in &settings.drivers {
            if !(driver.subject_kind == "host" || driver.subject_kind == "service") {
                return Err(PluginError::Configuration(format!("driver {}: subject_kind must be host or service", driver.name)));
            }
        }
        settings.window()?;
        Ok(settings)
    }

    fn window(&self) -> Result<Window> {
        let config = |why: String| PluginError::Configuration(why);
        let step = time::parse_duration(&self.step).map_err(config)?;
        let lag = time::parse_duration(&self.lag).or_else(|e| if self.lag.trim() == "0s" { Ok(0) } else { Err(e) }).map_err(config)?;
        let start = time::parse_instant(&self.start, None).map_err(|why| config(format!("start: {why}")))? / 1000;
        Ok(Window { step, start: start.div_euclid(step) * step, lag })
    }

    fn driver(&self, name: &str) -> Result<&Driver> {
        self.drivers.iter().find(|d| d.name == name).ok_or_else(|| PluginError::InvalidInput(format!("no stream named {name:?}")))
    }

    /// GETs an API path; Prometheus's own errors (`{"status": "error",
    /// "errorType", "error"}`) on a 400 or 422 are the query's fault, so the
    /// configuration's.
    fn api(&self, driver: &Driver, path: &str, params: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}{path}?{}", self.base_url.trim_end_matches('/'), http::query(params));
        let mut request = http::get(&url);
        if let Some(token) = itbm_plugin_sdk::optional_secret("token") {
            request = request.bearer(&token);
        }
        let response = request.send()?;
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        let error = body.as_ref().filter(|b| b["status"] == "error").map(|b| format!("{}: {}", b["errorType"].as_str().unwrap_or("error"), b["error"].as_str().unwrap_or_default()));
        match (response.status, error) {
            (400 | 422, Some(error)) => Err(PluginError::Configuration(format!("driver {}: Prometheus refused the query: {error}", driver.name))),
            (200, None) => {
                let body = body.ok_or_else(|| PluginError::Connector(format!("{url}: the answer is not JSON")))?;
                for warning in body["warnings"].as_array().into_iter().flatten() {
                    itbm_plugin_sdk::warn(&format!("driver {}: Prometheus warns: {warning}", driver.name));
                }
                Ok(body)
            }
            (_, error) => {
                let status = response.status;
                response.error_for_status()?;
                Err(PluginError::Connector(format!("{url}: status {status}: {}", error.unwrap_or_default())))
            }
        }
    }
}

/// Where a driver's stream stands: every step up to `through` (Unix
/// seconds) has been read.
#[derive(Serialize, Deserialize)]
struct Checkpoint {
    through: i64,
}

fn records(driver: &Driver, step: i64, result: &[Value]) -> Vec<String> {
    let mut records = Vec::new();
    for series in result {
        let labels = &series["metric"];
        let subject = labels[&driver.subject_label].as_str();
        // A service is named only where a label says so: its value must be a service code.
        let service = driver.service_label.as_ref().and_then(|label| labels[label].as_str());
        for point in series["values"].as_array().into_iter().flatten() {
            let mut record = Record::new();
            record.set("metric", driver.name.as_str()).set("subject_kind", driver.subject_kind.as_str());
            match subject {
                Some(subject) => record.set("subject", subject),
                None => record.error("subject", format!("the series {labels} has no label {:?}", driver.subject_label)),
            };
            record.set("service", service);
            match point[0].as_f64() {
                Some(seconds) => {
                    let end = (seconds * 1000.0).round() as i64;
                    record.set("period_start", time::format_utc(end - step * 1000)).set("period_end", time::format_utc(end));
                }
                None => {
                    record.read("period_end", &point[0].to_string(), Err("the timestamp is not a number".into()));
                }
            }
            let raw = point[1].as_str().map(str::to_owned).unwrap_or_else(|| point[1].to_string());
            record.read("value", &raw, decimal::parse_plain(&raw));
            record.set("unit", driver.unit.as_str()).set("labels", labels.clone());
            records.push(record.finish());
        }
    }
    records
}

struct Prometheus;

impl Connector for Prometheus {
    fn spec() -> String {
        include_str!("../manifest.json").parse::<Value>().map(|m| m["configuration_schema"].to_string()).unwrap_or_default()
    }

    fn check() -> Result<()> {
        let settings = Settings::load()?;
        let now = (itbm_plugin_sdk::clock::now_ms() / 1000).to_string();
        for driver in &settings.drivers {
            let answer = settings.api(driver, "/api/v1/query", &[("query", &driver.query), ("time", &now)])?;
            let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
            itbm_plugin_sdk::info(&format!("driver {}: {series} series now", driver.name));
        }
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        let settings = Settings::load()?;
        Ok(settings
            .drivers
            .iter()
            .map(|d| StreamInfo {
                name: d.name.clone(),
                description: format!("{} per {} ({}) every {}: {}", d.unit, d.subject_kind, d.subject_label, settings.step, d.query),
                produces: "utilisation".into(),
                primary_key: vec!["metric".into(), "subject".into(), "period_start".into()],
                cursor_field: Some("period_end".into()),
            })
            .collect())
    }

    fn read(stream_name: String, checkpoint: Option<String>) -> Result<Page> {
        let settings = Settings::load()?;
        let driver = settings.driver(&stream_name)?;
        let window = settings.window()?;
        let through = match checkpoint {
            None => window.start,
            Some(text) => serde_json::from_str::<Checkpoint>(&text).map_err(|e| PluginError::InvalidInput(format!("checkpoint {text:?}: {e}")))?.through,
        };
        let now = itbm_plugin_sdk::clock::now_ms() / 1000;
        let limit = (now - window.lag).div_euclid(window.step) * window.step;
        if through + window.step > limit {
            return Ok(Page { records: vec![], checkpoint: Some(serde_json::to_string(&Checkpoint { through }).unwrap()), done: true });
        }
        let to = limit.min(through + window.step * settings.points_per_page as i64);
        let answer = settings.api(driver, "/api/v1/query_range", &[
            ("query", &driver.query),
            ("start", &(through + window.step).to_string()),
            ("end", &to.to_string()),
            ("step", &format!("{}s", window.step)),
        ])?;
        let data = &answer["data"];
        if data["resultType"] != "matrix" {
            return Err(PluginError::Configuration(format!("driver {}: the query gives a {}, not series", driver.name, data["resultType"])));
        }
        let result = data["result"].as_array().ok_or_else(|| PluginError::Connector("the answer has no result".into()))?;
        Ok(Page { records: records(driver, window.step, result), checkpoint: Some(serde_json::to_string(&Checkpoint { through: to }).unwrap()), done: to >= limit })
    }
}

itbm_plugin_sdk::export_connector!(Prometheus);

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(kind: &str) -> Driver {
        Driver { name: "cpu_seconds".into(), query: "q".into(), subject_label: "instance".into(), subject_kind: kind.into(), unit: "seconds".into(), service_label: Some("job".into()) }
    }

    #[test]
    fn each_point_is_the_period_before_it() {
        let capture: Value = serde_json::from_str(include_str!("../tests/query_range_up.json")).unwrap();
        let records: Vec<Value> = records(&driver("host"), 15, capture["data"]["result"].as_array().unwrap()).iter().map(|r| serde_json::from_str(r).unwrap()).collect();
        assert_eq!(records.len(), 17);
        assert_eq!(records[0]["subject"], "127.0.0.1:19090");
        assert_eq!(records[0]["service"], "prometheus");
        assert_eq!(records[0]["period_start"], "2026-11-21T13:10:21Z");
        assert_eq!(records[0]["period_end"], "2026-11-21T13:10:36Z");
        assert_eq!(records[0]["value"], "1");
    }

    #[test]
    fn a_nan_is_kept_raw_and_a_missing_subject_is_said() {
        let result = serde_json::json!([{ "metric": { "job": "node" }, "values": [[1795266636, "NaN"], [1795266651.5, "2.5e-3"]] }]);
        let records: Vec<Value> = records(&driver("service"), 15, result.as_array().unwrap()).iter().map(|r| serde_json::from_str(r).unwrap()).collect();
        assert_eq!(records[0]["value"], "NaN");
        assert!(records[0]["_errors"]["value"].is_string());
        assert!(records[0]["_errors"]["subject"].as_str().unwrap().contains("instance"));
        assert_eq!(records[1]["value"], "0.0025");
        assert_eq!(records[1]["period_end"], "2026-11-21T13:10:51.500Z");
    }
}
