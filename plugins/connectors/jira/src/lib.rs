//! Jira Service Management: requests and the time spent on them, by service.
//!
//! Two streams, read in this order:
//!
//! - `services` (full refresh): the service desks (`/rest/servicedeskapi/servicedesk`,
//!   `start`/`limit` pages until `isLastPage`), each a `service` whose code is
//!   its project key; offered when requests are attributed to services by
//!   project (the default).
//! - `requests` (incremental on `updated`): the issues of the configured JQL
//!   from the search API (`/rest/api/3/search/jql`), which pages with an
//!   opaque `nextPageToken` and says `isLast`; each a `ticket-effort` with its
//!   time spent in hours.
//!
//! Incremental reads: the checkpoint carries the search's `nextPageToken`
//! while a search is under way, and afterwards the newest `updated` seen.
//! The next run searches `updated >= that - 1 day`: JQL compares times to the
//! minute in the *Jira user's* time zone, which the connector does not know,
//! so it reads a day again rather than miss an update; records read twice are
//! unchanged to the host. A token Jira no longer accepts restarts the search
//! from the checkpoint's `since`.

mod map;

use std::collections::BTreeMap;

use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http, time};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    base_url: String,
    jql: String,
    email: Option<String>,
    #[serde(default = "by_project")]
    service_field: String,
    #[serde(default)]
    service_codes: BTreeMap<String, String>,
    #[serde(default = "default_page_size")]
    page_size: u32,
}

fn by_project() -> String {
    "project".into()
}

fn default_page_size() -> u32 {
    50
}

impl Settings {
    fn load() -> Result<Settings> {
        let settings: Settings = itbm_plugin_sdk::config()?;
        if !(1..=100).contains(&settings.page_size) {
            return Err(PluginError::Configuration("page_size must be between 1 and 100".into()));
        }
        if settings.jql.to_ascii_lowercase().contains("order by") {
            return Err(PluginError::Configuration("jql must not have ORDER BY: the connector orders by updated itself".into()));
        }
        let field = settings.service_field.as_str();
        if !(field == "project" || field == "components" || field.starts_with("customfield_")) {
            return Err(PluginError::Configuration(format!("service_field {field:?} must be project, components or a customfield_NNNNN")));
        }
        Ok(settings)
    }

    fn get(&self, path_and_query: &str) -> Result<http::Response> {
        let url = format!("{}{path_and_query}", self.base_url.trim_end_matches('/'));
        let token = itbm_plugin_sdk::secret("api_token")?;
        let request = match &self.email {
            Some(email) => http::get(&url).basic(email, &token),
            None => http::get(&url).bearer(&token),
        };
        request.send()
    }

    fn fields(&self) -> String {
        let mut fields = "summary,status,issuetype,created,updated,resolutiondate,timespent,timetracking,project,components".to_owned();
        if self.service_field.starts_with("customfield_") {
            fields.push(',');
            fields.push_str(&self.service_field);
        }
        fields
    }
}

/// Jira's error answer: `{"errorMessages": [...], "errors": {...}}`.
fn jira_errors(response: &http::Response) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let mut messages: Vec<String> = body["errorMessages"].as_array().into_iter().flatten().filter_map(|m| m.as_str().map(str::to_owned)).collect();
    if let Some(errors) = body["errors"].as_object() {
        messages.extend(errors.iter().map(|(field, why)| format!("{field}: {}", why.as_str().unwrap_or_default())));
    }
    if messages.is_empty() { response.text_excerpt(200) } else { messages.join("; ") }
}

/// Where a `requests` read stands.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Cursor {
    /// Lower bound of the search under way (RFC 3339, UTC), none for everything.
    since: Option<String>,
    /// The newest `updated` seen in this search so far.
    newest: Option<String>,
    /// Jira's token for the next page of the search under way.
    token: Option<String>,
}

/// The JQL of a search from `since` (a day earlier, see the module docs).
fn search_jql(jql: &str, since: Option<&str>) -> Result<String> {
    let bound = match since {
        None => String::new(),
        Some(since) => {
            let ms = time::parse_instant(since, None).map_err(|why| PluginError::InvalidInput(format!("the checkpoint: {why}")))?;
            let from = time::format_utc(ms - 86_400_000);
            // JQL wants "yyyy-MM-dd HH:mm".
            format!(" AND updated >= \"{} {}\"", &from[..10], &from[11..16])
        }
    };
    Ok(format!("({jql}){bound} ORDER BY updated ASC, key ASC"))
}

fn read_requests(settings: &Settings, checkpoint: Option<String>) -> Result<Page> {
    let cursor: Cursor = match checkpoint {
        None => Cursor::default(),
        Some(text) => serde_json::from_str(&text).map_err(|e| PluginError::InvalidInput(format!("checkpoint {text:?}: {e}")))?,
    };
    let jql = search_jql(&settings.jql, cursor.since.as_deref())?;
    let search = |token: Option<&str>| {
        let page_size = settings.page_size.to_string();
        let fields = settings.fields();
        let mut params = vec![("jql", jql.as_str()), ("maxResults", page_size.as_str()), ("fields", fields.as_str())];
        if let Some(token) = token {
            params.push(("nextPageToken", token));
        }
        settings.get(&format!("/rest/api/3/search/jql?{}", http::query(&params)))
    };
    let mut response = search(cursor.token.as_deref())?;
    let mut cursor = cursor;
    if response.status == 400 && cursor.token.is_some() {
        itbm_plugin_sdk::warn(&format!("Jira refused the page token ({}); searching again from the checkpoint", jira_errors(&response)));
        cursor = Cursor { since: cursor.since, newest: cursor.newest, token: None };
        response = search(None)?;
    }
    if response.status == 400 {
        return Err(PluginError::Configuration(format!("Jira refused the search {jql:?}: {}", jira_errors(&response))));
    }
    let body: Value = response.error_for_status()?.json()?;
    let issues = body["issues"].as_array().ok_or_else(|| PluginError::Connector("the search answer has no issues".into()))?;
    let context = map::Context { service_field: settings.service_field.clone(), service_codes: settings.service_codes.clone() };
    let records: Vec<String> = issues.iter().map(|issue| map::request(issue, &context)).collect();
    let newest = issues
        .iter()
        .filter_map(|issue| issue["fields"]["updated"].as_str())
        .filter_map(|text| time::parse_instant(text, None).ok())
        .map(time::format_utc)
        .chain(cursor.newest.clone())
        .max();
    let token = body["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
    let last = body["isLast"].as_bool().unwrap_or(token.is_none()) || token.is_none();
    let next = if last {
        // The search is over: the next run starts from the newest update seen.
        Cursor { since: newest.or(cursor.since), newest: None, token: None }
    } else {
        Cursor { since: cursor.since, newest, token }
    };
    Ok(Page { records, checkpoint: Some(serde_json::to_string(&next).expect("a cursor serialises")), done: last })
}

fn read_services(settings: &Settings, checkpoint: Option<String>) -> Result<Page> {
    let start = itbm_plugin_sdk::pagination::offset(checkpoint.as_deref())?;
    let response = settings.get(&format!("/rest/servicedeskapi/servicedesk?{}", http::query(&[("start", &start.to_string()), ("limit", &settings.page_size.to_string())])))?;
    let body: Value = response.error_for_status()?.json()?;
    let values = body["values"].as_array().ok_or_else(|| PluginError::Connector("the service desk answer has no values".into()))?;
    let records = values.iter().map(map::service_desk).collect();
    let next = start + values.len() as u64;
    Ok(Page { records, checkpoint: Some(next.to_string()), done: body["isLastPage"].as_bool().unwrap_or(true) || values.is_empty() })
}

struct Jira;

impl Connector for Jira {
    fn spec() -> String {
        include_str!("../manifest.json").parse::<Value>().map(|m| m["configuration_schema"].to_string()).unwrap_or_default()
    }

    fn check() -> Result<()> {
        let settings = Settings::load()?;
        let jql = search_jql(&settings.jql, None)?;
        let response = settings.get(&format!("/rest/api/3/search/jql?{}", http::query(&[("jql", &jql), ("maxResults", "1"), ("fields", "updated")])))?;
        match response.status {
            400 => Err(PluginError::Configuration(format!("Jira refused the JQL: {}", jira_errors(&response)))),
            404 => Err(PluginError::Configuration(format!("{}: not found; is base_url the root of a Jira site?", response.url))),
            _ => {
                response.error_for_status()?.json::<Value>()?;
                itbm_plugin_sdk::info("Jira accepted the credential and the JQL");
                Ok(())
            }
        }
    }

    fn discover() -> Result<Vec<StreamInfo>> {
        let settings = Settings::load()?;
        let mut streams = Vec::new();
        if settings.service_field == "project" {
            streams.push(StreamInfo {
                name: "services".into(),
                description: "Service desks, each a service whose code is its project key".into(),
                produces: "service".into(),
                primary_key: vec!["code".into()],
                cursor_field: None,
            });
        }
        streams.push(StreamInfo {
            name: "requests".into(),
            description: "Requests of the JQL with the time spent on them and their service".into(),
            produces: "ticket-effort".into(),
            primary_key: vec!["ticket".into()],
            cursor_field: Some("updated".into()),
        });
        Ok(streams)
    }

    fn read(stream_name: String, checkpoint: Option<String>) -> Result<Page> {
        let settings = Settings::load()?;
        match stream_name.as_str() {
            "requests" => read_requests(&settings, checkpoint),
            "services" if settings.service_field == "project" => read_services(&settings, checkpoint),
            _ => Err(PluginError::InvalidInput(format!("no stream named {stream_name:?}"))),
        }
    }
}

itbm_plugin_sdk::export_connector!(Jira);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_searches_start_a_day_before_the_newest_update() {
        assert_eq!(search_jql("project = HELP", None).unwrap(), "(project = HELP) ORDER BY updated ASC, key ASC");
        assert_eq!(
            search_jql("project = HELP", Some("2024-03-01T00:30:00Z")).unwrap(),
            "(project = HELP) AND updated >= \"2024-02-29 00:30\" ORDER BY updated ASC, key ASC"
        );
    }
}
