//! Jira issues into `ticket-effort` records and service desks into
//! `service` records (see the host's record contract).

use std::collections::BTreeMap;

use itbm_plugin_sdk::decimal;
use itbm_plugin_sdk::record::{Record, text};
use itbm_plugin_sdk::time;
use serde_json::{Value, json};

pub struct Context {
    /// `project`, `components` or a `customfield_NNNNN`.
    pub service_field: String,
    /// Names of services as Jira shows them to service codes.
    pub service_codes: BTreeMap<String, String>,
}

/// An instant as RFC 3339 UTC; kept raw with the reason when unreadable.
fn instant(record: &mut Record, fields: &Value, source: &str, member: &str) {
    match fields.get(source) {
        None | Some(Value::Null) => {}
        Some(Value::String(raw)) => {
            record.read(member, raw, time::parse_instant(raw, None).map(time::format_utc));
        }
        Some(other) => {
            record.read(member, &other.to_string(), Err(format!("{source} is {other}, not a date and time")));
        }
    }
}

/// The ticket kind from the issue type's name.
fn kind(issue_type: Option<&str>) -> &'static str {
    match issue_type.map(str::to_ascii_lowercase).as_deref() {
        Some(t) if t.contains("incident") => "incident",
        Some(t) if t.contains("change") => "change",
        Some(t) if t.contains("problem") => "problem",
        _ => "request",
    }
}

/// The display text of a field value: a string, `{name}`, `{value}` or the
/// first of a list of those.
fn display(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.iter().find_map(display),
        Value::Object(object) => ["name", "value", "key", "id"].iter().find_map(|k| object.get(*k).and_then(text)),
        other => text(other),
    }
    .filter(|t| !t.trim().is_empty())
}

pub fn request(issue: &Value, context: &Context) -> String {
    let fields = &issue["fields"];
    let mut record = Record::new();
    record.set("ticket", issue.get("key").cloned().unwrap_or(Value::Null));
    record.set("issue_id", issue.get("id").cloned().unwrap_or(Value::Null));
    record.set("kind", kind(fields["issuetype"]["name"].as_str()));
    record.set("summary", fields["summary"].as_str());
    record.set("state", fields["status"]["name"].as_str());
    instant(&mut record, fields, "created", "opened_at");
    instant(&mut record, fields, "resolutiondate", "closed_at");
    instant(&mut record, fields, "updated", "updated");
    // Time spent: the `timespent` field, else the time tracking block; none is zero.
    let seconds = fields["timespent"].as_i64().or_else(|| fields["timetracking"]["timeSpentSeconds"].as_i64());
    match seconds {
        Some(s) if s < 0 => {
            record.read("effort_hours", &s.to_string(), Err(format!("time spent of {s} seconds")));
        }
        s => {
            let s = s.unwrap_or(0);
            record.set("effort_seconds", s).set("effort_hours", decimal::ratio(s, 3600, 4));
        }
    }
    match context.service_field.as_str() {
        "project" => {
            if let Some(key) = fields["project"]["key"].as_str() {
                record.set("service_ref", json!({ "stream": "services", "key": key }));
            }
        }
        field => {
            let source = if field == "components" { &fields["components"] } else { &fields[field] };
            if let Some(name) = display(source) {
                record.set("service", context.service_codes.get(&name).cloned().unwrap_or(name.clone()));
                record.set("service_name", name);
            }
        }
    }
    record.set("project", fields["project"]["key"].as_str());
    record.finish()
}

/// A service desk: `{id, projectId, projectKey, projectName}`.
pub fn service_desk(desk: &Value) -> String {
    let mut record = Record::new();
    record.set("code", desk.get("projectKey").cloned().unwrap_or(Value::Null));
    record.set("name", desk.get("projectName").cloned().unwrap_or(Value::Null));
    record.set("kind", "business_service");
    record.set("service_desk_id", desk.get("id").and_then(text));
    record.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented_issue() -> Value {
        let shapes: Value = serde_json::from_str(include_str!("../tests/jira_issue.json")).unwrap();
        shapes
    }

    fn by(field: &str) -> Context {
        Context { service_field: field.into(), service_codes: BTreeMap::from([("E-mail".into(), "SVC-MAIL".into())]) }
    }

    #[test]
    fn the_documented_issue_becomes_ticket_effort() {
        let record: Value = serde_json::from_str(&request(&documented_issue(), &by("project"))).unwrap();
        assert_eq!(record["ticket"], "ED-1");
        assert_eq!(record["kind"], "request");
        assert_eq!(record["effort_seconds"], 400);
        assert_eq!(record["effort_hours"], "0.1111");
        assert_eq!(record["service_ref"], json!({ "stream": "services", "key": "EX" }));
        // The documented issue has `updated: 1`, not a time: kept raw, with why.
        assert_eq!(record["updated"], "1");
        assert!(record["_errors"]["updated"].as_str().unwrap().contains("not a date"));
    }

    #[test]
    fn times_with_offsets_become_utc_and_services_come_from_a_field() {
        let issue = json!({
            "id": "10", "key": "HELP-7",
            "fields": {
                "issuetype": {"name": "Incident"}, "status": {"name": "Resolved"},
                "created": "2024-03-01T09:00:00.000+0100", "updated": "2024-03-02T18:30:00.000-0500",
                "resolutiondate": "2024-03-02T18:30:00.000-0500", "timespent": 5400,
                "project": {"key": "HELP"}, "customfield_10050": [{"name": "E-mail"}]
            }
        });
        let record: Value = serde_json::from_str(&request(&issue, &by("customfield_10050"))).unwrap();
        assert_eq!(record["kind"], "incident");
        assert_eq!(record["opened_at"], "2024-03-01T08:00:00Z");
        assert_eq!(record["closed_at"], "2024-03-02T23:30:00Z");
        assert_eq!(record["updated"], "2024-03-02T23:30:00Z");
        assert_eq!(record["effort_hours"], "1.5000");
        assert_eq!(record["service"], "SVC-MAIL");
    }

    #[test]
    fn an_unreadable_created_time_is_kept_raw_with_the_reason() {
        let issue = json!({ "key": "HELP-8", "fields": { "created": "yesterday", "updated": "2024-03-02T18:30:00.000+0000" } });
        let record: Value = serde_json::from_str(&request(&issue, &by("project"))).unwrap();
        assert_eq!(record["opened_at"], "yesterday");
        assert!(record["_errors"]["opened_at"].is_string());
    }
}
