//! An example connector: reads `items` from a JSON API, page by page.
//!
//! Configuration: `{"base_url": "https://api.example.com"}`; secret `token`
//! (sent as a bearer token). The API answers `GET /health` and
//! `GET /items?offset=N&limit=M` with `{"items": [...], "next": true|false}`.

use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http, pagination};

const PAGE_SIZE: u64 = 2;

#[derive(serde::Deserialize)]
struct Settings {
    base_url: String,
}

#[derive(serde::Deserialize)]
struct ItemsPage {
    items: Vec<serde_json::Value>,
    next: bool,
}

/// GETs `path` below the base URL, with the token when one is set.
fn get(path: &str) -> Result<http::Response> {
    let settings: Settings = itbm_plugin_sdk::config()?;
    let mut request = http::get(&format!("{}{path}", settings.base_url.trim_end_matches('/')));
    if let Some(token) = itbm_plugin_sdk::optional_secret("token") {
        request = request.bearer(&token);
    }
    request.send()?.error_for_status()
}

struct Hello;

impl Connector for Hello {
    fn spec() -> String {
        r#"{"type": "object", "required": ["base_url"], "properties": {"base_url": {"type": "string"}}}"#.to_owned()
    }

    fn check() -> Result<()> {
        get("/health")?;
        itbm_plugin_sdk::info("the API answered /health");
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        Ok(vec![StreamInfo {
            name: "items".into(),
            description: "Every item of the API".into(),
            produces: "asset".into(),
            primary_key: vec!["id".into()],
            cursor_field: None,
        }])
    }

    fn read(stream_name: String, checkpoint: Option<String>) -> Result<Page> {
        if stream_name != "items" {
            return Err(PluginError::InvalidInput(format!("no stream named {stream_name:?}")));
        }
        let offset = pagination::offset(checkpoint.as_deref())?;
        let page: ItemsPage = get(&format!("/items?offset={offset}&limit={PAGE_SIZE}"))?.json()?;
        Ok(Page {
            records: page.items.iter().map(|item| item.to_string()).collect(),
            checkpoint: Some((offset + page.items.len() as u64).to_string()),
            done: !page.next,
        })
    }
}

itbm_plugin_sdk::export_connector!(Hello);
