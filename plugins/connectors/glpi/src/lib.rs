//! GLPI: computers with their financial information into assets.
//!
//! GLPI's REST API (`apirest.php`) works in sessions: `initSession` with a
//! user token (and the API client's app token, if it has one) returns a
//! session token sent on every call as `Session-Token`. Sessions expire;
//! a call refused with `ERROR_SESSION_TOKEN_INVALID` opens a new session and
//! is sent once more. Each plugin call is a fresh sandbox, so each page opens
//! its own session and closes it (`killSession`) when done: a session token
//! is never kept in a checkpoint.
//!
//! Pages are chosen with `range=start-end` (inclusive); the answer is `206
//! Partial Content` while more rows exist, with `Content-Range:
//! start-end/total`; a start beyond the total is a `400
//! ERROR_RANGE_EXCEED_TOTAL`, read as the end. Financial information
//! (GLPI's *Infocom*: value, buy and use dates, warranty, amortisation) comes
//! with `with_infocoms=true`; where the list answer lacks it the computer is
//! fetched on its own. Errors are JSON arrays `["ERROR_CODE", "message"]`.

mod map;

use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http, pagination};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    base_url: String,
    #[serde(default = "default_page_size")]
    page_size: u32,
    currency: Option<String>,
    /// GLPI writes its times (`date_mod`) in the server's zone, without an offset.
    #[serde(default = "utc")]
    utc_offset: String,
    #[serde(default)]
    states: std::collections::BTreeMap<String, String>,
}

fn default_page_size() -> u32 {
    50
}

fn utc() -> String {
    "+00:00".into()
}

impl Settings {
    fn load() -> Result<Settings> {
        let settings: Settings = itbm_plugin_sdk::config()?;
        if !(1..=1000).contains(&settings.page_size) {
            return Err(PluginError::Configuration("page_size must be between 1 and 1000".into()));
        }
        settings.offset_minutes()?;
        Ok(settings)
    }

    fn offset_minutes(&self) -> Result<i32> {
        itbm_plugin_sdk::time::offset_of(&self.utc_offset)
            .ok_or_else(|| PluginError::Configuration(format!("utc_offset {:?} is not an offset such as +01:00", self.utc_offset)))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// GLPI's error answer: `["ERROR_CODE", "message"]`.
fn glpi_error(response: &http::Response) -> Option<(String, String)> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    let items = body.as_array()?;
    Some((items.first()?.as_str()?.to_owned(), items.get(1).and_then(Value::as_str).unwrap_or_default().to_owned()))
}

/// An open GLPI session.
struct Session<'a> {
    settings: &'a Settings,
    token: String,
    /// Sessions opened during this call (the first, and one per expiry).
    opened: u32,
}

impl<'a> Session<'a> {
    fn open(settings: &'a Settings) -> Result<Session<'a>> {
        let mut session = Session { settings, token: String::new(), opened: 0 };
        session.init()?;
        Ok(session)
    }

    fn with_app_token(request: http::Request) -> http::Request {
        match itbm_plugin_sdk::optional_secret("app_token") {
            Some(app) => request.header("app-token", &app),
            None => request,
        }
    }

    fn init(&mut self) -> Result<()> {
        let url = self.settings.url("/initSession");
        let request = http::get(&url).header("authorization", &format!("user_token {}", itbm_plugin_sdk::secret("user_token")?));
        let response = Self::with_app_token(request).send()?;
        match response.status {
            200 => {}
            400 | 401 | 403 => {
                let (code, message) = glpi_error(&response).unwrap_or_else(|| (format!("status {}", response.status), response.text_excerpt(200)));
                return Err(PluginError::Configuration(format!("GLPI refused to open a session: {code} {message}")));
            }
            404 => return Err(PluginError::Configuration(format!("{url}: not found; base_url must end in apirest.php"))),
            _ => {
                return Err(PluginError::Connector(format!("{url}: status {}", response.status)));
            }
        }
        let body: Value = response.json()?;
        self.token = body
            .get("session_token")
            .and_then(Value::as_str)
            .ok_or_else(|| PluginError::Connector(format!("{url}: the answer has no session_token")))?
            .to_owned();
        self.opened += 1;
        Ok(())
    }

    /// GETs `path` in this session, opening a new session once if GLPI says
    /// this one expired.
    fn get(&mut self, path: &str) -> Result<http::Response> {
        let url = self.settings.url(path);
        for attempt in 0..2 {
            let response = Self::with_app_token(http::get(&url).header("session-token", &self.token)).send()?;
            let expired = response.status == 401
                && glpi_error(&response).is_some_and(|(code, _)| code == "ERROR_SESSION_TOKEN_INVALID" || code == "ERROR_SESSION_TOKEN_MISSING");
            if expired && attempt == 0 {
                itbm_plugin_sdk::info("the GLPI session expired; opening a new one");
                self.init()?;
                continue;
            }
            return Ok(response);
        }
        unreachable!("the loop returns on its second attempt")
    }

    fn close(self) {
        // Best effort: an unclosed session expires on its own.
        let _ = Self::with_app_token(http::get(&self.settings.url("/killSession")).header("session-token", &self.token)).send();
    }
}

/// Reads `Content-Range: start-end/total`.
fn content_range(response: &http::Response) -> Option<(u64, u64, u64)> {
    let value = response.header("content-range")?;
    let (range, total) = value.trim().split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, end.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// Refuses any answer but success, telling credentials apart from failures.
fn success(response: http::Response) -> Result<http::Response> {
    match response.status {
        200 | 206 => Ok(response),
        401 | 403 => {
            let (code, message) = glpi_error(&response).unwrap_or_default();
            Err(PluginError::Configuration(format!("{}: GLPI refused the request: {code} {message}", response.url)))
        }
        _ => {
            let detail = glpi_error(&response).map(|(code, message)| format!(": {code} {message}")).unwrap_or_default();
            response.error_for_status().and_then(|r| Err(PluginError::Connector(format!("{}: status {}{detail}", r.url, r.status))))
        }
    }
}

struct Glpi;

impl Connector for Glpi {
    fn spec() -> String {
        include_str!("../manifest.json").parse::<Value>().map(|m| m["configuration_schema"].to_string()).unwrap_or_default()
    }

    fn check() -> Result<()> {
        let settings = Settings::load()?;
        let mut session = Session::open(&settings)?;
        let response = success(session.get("/Computer/?range=0-0")?);
        session.close();
        let total = response.map(|r| content_range(&r).map_or(0, |(_, _, total)| total))?;
        itbm_plugin_sdk::info(&format!("GLPI answered: {total} computers"));
        Ok(())
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        Ok(vec![StreamInfo {
            name: "computers".into(),
            description: "Computers with their financial information (value, dates, warranty, amortisation)".into(),
            produces: "asset".into(),
            primary_key: vec!["id".into()],
            cursor_field: None,
        }])
    }

    fn read(stream_name: String, checkpoint: Option<String>) -> Result<Page> {
        if stream_name != "computers" {
            return Err(PluginError::InvalidInput(format!("no stream named {stream_name:?}")));
        }
        let settings = Settings::load()?;
        let start = pagination::offset(checkpoint.as_deref())?;
        let end = start + settings.page_size as u64 - 1;
        let mut session = Session::open(&settings)?;
        let path = format!("/Computer/?{}", http::query(&[
            ("expand_dropdowns", "true"),
            ("with_infocoms", "true"),
            ("range", &format!("{start}-{end}")),
            ("sort", "id"),
            ("order", "ASC"),
        ]));
        let response = session.get(&path)?;
        if response.status == 400 && glpi_error(&response).is_some_and(|(code, _)| code == "ERROR_RANGE_EXCEED_TOTAL") {
            session.close();
            return Ok(Page { records: vec![], checkpoint: Some(start.to_string()), done: true });
        }
        let response = success(response)?;
        let rows: Vec<Value> = response.json()?;
        let total = content_range(&response).map(|(_, _, total)| total);
        let context = map::Context { currency: settings.currency.clone(), offset_minutes: settings.offset_minutes()?, states: settings.states.clone() };
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let infocom = match row.get("_infocoms") {
                Some(infocom) => infocom.clone(),
                // The list did not carry them: fetch this computer on its own.
                None => match row.get("id").and_then(Value::as_u64) {
                    Some(id) => {
                        let item: Value = success(session.get(&format!("/Computer/{id}?with_infocoms=true"))?)?.json()?;
                        item.get("_infocoms").cloned().unwrap_or(Value::Null)
                    }
                    None => Value::Null,
                },
            };
            if infocom.is_array() && !infocom.as_array().is_some_and(Vec::is_empty) {
                session.close();
                return Err(PluginError::Configuration(format!("the GLPI user may not read financial information (Infocom): {infocom}")));
            }
            records.push(map::computer(row, &infocom, &context));
        }
        if session.opened > 1 {
            itbm_plugin_sdk::info(&format!("opened {} GLPI sessions for this page", session.opened));
        }
        session.close();
        let next = start + rows.len() as u64;
        let done = rows.is_empty() || response.status == 200 || total.is_some_and(|total| next >= total);
        Ok(Page { records, checkpoint: Some(next.to_string()), done })
    }
}

itbm_plugin_sdk::export_connector!(Glpi);
