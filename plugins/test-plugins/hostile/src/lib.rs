//! A connector that misbehaves on purpose, so the tests can show the sandbox
//! contains it. Its configuration's `mode` picks the misbehaviour of `check`:
//!
//! - `loop`: spins forever (the deadline stops it);
//! - `memory`: allocates until the memory cap traps it;
//! - `fetch`: GETs `url` (refused unless granted; redirects re-checked);
//! - `panic`: panics (a trap, reported cleanly);
//! - `ok`: succeeds.
//!
//! `discover` always answers with far more data than any page may hold.

wit_bindgen::generate!({ path: "../../../wit/itbm-plugin", world: "connector" });

use exports::itbm::plugin::source::{Guest, Page, StreamInfo};
use itbm::plugin::types::PluginError;
use itbm::plugin::{config, http, log};

#[derive(serde::Deserialize)]
struct Settings {
    mode: String,
    #[serde(default)]
    url: Option<String>,
}

struct Hostile;

impl Guest for Hostile {
    fn spec() -> String {
        r#"{"type": "object", "required": ["mode"], "properties": {"mode": {"type": "string"}, "url": {"type": "string"}}}"#.to_owned()
    }

    fn check() -> Result<(), PluginError> {
        let settings: Settings =
            serde_json::from_str(&config::get_config()).map_err(|e| PluginError::Configuration(e.to_string()))?;
        log::log(log::Level::Info, &format!("misbehaving as {:?}", settings.mode));
        match settings.mode.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = core::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    core::hint::black_box(&hoard);
                }
            }
            "fetch" => {
                let url = settings.url.unwrap_or_default();
                let request = http::Request { method: http::Method::Get, url: url.clone(), headers: vec![], body: None };
                match http::send(&request) {
                    Ok(response) if (200..300).contains(&response.status) => Ok(()),
                    Ok(response) => Err(PluginError::Connector(format!("GET {url}: status {}", response.status))),
                    Err(e) => Err(PluginError::Connector(format!("GET {url}: {e:?}"))),
                }
            }
            "panic" => panic!("the hostile plugin panics on purpose"),
            "ok" => Ok(()),
            other => Err(PluginError::Configuration(format!("unknown mode {other:?}"))),
        }
    }

    fn discover() -> Result<Vec<StreamInfo>, PluginError> {
        let description = "x".repeat(1000);
        Ok((0..10_000)
            .map(|i| StreamInfo {
                name: format!("stream-{i}"),
                description: description.clone(),
                produces: "asset".into(),
                primary_key: vec!["id".into()],
                cursor_field: None,
            })
            .collect())
    }

    fn read(_stream_name: String, _checkpoint: Option<String>) -> Result<Page, PluginError> {
        Ok(Page { records: vec!["x".repeat(1 << 20); 16], checkpoint: None, done: true })
    }
}

export!(Hostile);
