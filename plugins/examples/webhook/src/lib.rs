//! An integration: each event the server delivers is POSTed as JSON to the
//! instance's `url`, with the secret `token` as a bearer token if set. A
//! status other than 2xx is a connector error, so the server retries later;
//! the event's `id` lets the receiver drop a repeat (delivery is at least once).

wit_bindgen::generate!({ path: "../../../wit/itbm-plugin", world: "integration" });

use exports::itbm::plugin::receiver::{Event, Guest};
use itbm::plugin::types::PluginError;
use itbm::plugin::{config, http, log};

#[derive(serde::Deserialize)]
struct Settings {
    url: String,
}

struct Webhook;

impl Guest for Webhook {
    fn receive(event: Event) -> Result<(), PluginError> {
        let settings: Settings = serde_json::from_str(&config::get_config())
            .map_err(|e| PluginError::Configuration(format!("the configuration does not fit: {e}")))?;
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
        let body = serde_json::json!({
            "id": event.id, "kind": event.kind, "occurred_at_ms": event.occurred_at_ms,
            "subject_id": event.subject_id, "payload": payload,
        });
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(token) = config::get_secret("token") {
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        let request = http::Request {
            method: http::Method::Post,
            url: settings.url.clone(),
            headers,
            body: Some(serde_json::to_vec(&body).map_err(|e| PluginError::InvalidInput(e.to_string()))?),
        };
        let response = http::send(&request).map_err(|e| PluginError::Connector(format!("{}: {e:?}", settings.url)))?;
        match response.status {
            200..=299 => {
                log::log(log::Level::Info, &format!("delivered {} {} ({})", event.kind, event.id, response.status));
                Ok(())
            }
            401 | 403 => Err(PluginError::Configuration(format!("{}: the credential was refused ({})", settings.url, response.status))),
            status => Err(PluginError::Connector(format!("{}: status {status}", settings.url))),
        }
    }
}

export!(Webhook);
