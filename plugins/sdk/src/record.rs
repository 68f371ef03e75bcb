//! Building the JSON records a connector returns.
//!
//! A connector never drops a record it cannot fully read: one bad value must
//! not sink the page, and must not vanish either. A value that does not read
//! (a cost "1,99x.00", a date "2024-13-01") is passed on *as the source wrote
//! it*, so the host's strict mapping rejects the record and keeps it with the
//! reason; `_errors` says, per member, what the connector found wrong.

use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct Record {
    members: Map<String, Value>,
    errors: Map<String, Value>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Sets a member; `None` and JSON null leave it out.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Record {
        let value = value.into();
        if !value.is_null() {
            self.members.insert(name.to_owned(), value);
        }
        self
    }

    /// Sets a member from a reading of `raw`: the value read, or `raw`
    /// itself with the reason under `_errors`.
    pub fn read(&mut self, name: &str, raw: &str, reading: Result<String, String>) -> &mut Record {
        match reading {
            Ok(value) => self.set(name, value),
            Err(why) => {
                self.errors.insert(name.to_owned(), why.into());
                self.set(name, raw)
            }
        }
    }

    /// Notes a problem with a member without changing it.
    pub fn error(&mut self, name: &str, why: impl Into<String>) -> &mut Record {
        self.errors.insert(name.to_owned(), Value::String(why.into()));
        self
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The record as JSON text.
    pub fn finish(mut self) -> String {
        if !self.errors.is_empty() {
            self.members.insert("_errors".into(), Value::Object(self.errors));
        }
        Value::Object(self.members).to_string()
    }
}

/// The text of a JSON value: strings as they are, numbers as written, other
/// values (null, objects) as `None`.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Undoes HTML escaping (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#039;`,
/// `&#39;`, `&nbsp;`) that some sources apply to every text they return.
pub fn html_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#039;", "'"), ("&#39;", "'"), ("&nbsp;", "\u{a0}")]
            .iter()
            .find(|(name, _)| rest.starts_with(name));
        match entity {
            Some((name, plain)) => {
                out.push_str(plain);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_values_are_kept_raw_with_the_reason() {
        let mut record = Record::new();
        record.set("name", "Laptop").set("missing", Value::Null).read("cost", "1,99x.00", Err("not a number".into()));
        let json: Value = serde_json::from_str(&record.finish()).unwrap();
        assert_eq!(json, serde_json::json!({ "name": "Laptop", "cost": "1,99x.00", "_errors": { "cost": "not a number" } }));
    }

    #[test]
    fn html_entities_are_undone_once() {
        assert_eq!(html_unescape("Macbook Pro 13&quot; &amp; dock &amp;amp;"), "Macbook Pro 13\" & dock &amp;");
        assert_eq!(html_unescape("O&#039;Neil & co"), "O'Neil & co");
    }
}
