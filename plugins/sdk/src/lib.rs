//! The itbm plugin SDK: the bindings of the `itbm:plugin@0.1.0` WIT package
//! with typed helpers, so a connector is mostly its own logic:
//!
//! ```ignore
//! use itbm_plugin_sdk::{Connector, Page, PluginError, Result, StreamInfo, http};
//!
//! #[derive(serde::Deserialize)]
//! struct Settings { base_url: String }
//!
//! struct Mine;
//!
//! impl Connector for Mine {
//!     fn spec() -> String { include_str!("../schema.json").into() }
//!     fn check() -> Result<()> {
//!         let settings: Settings = itbm_plugin_sdk::config()?;
//!         http::get(&format!("{}/health", settings.base_url)).send()?.error_for_status()?;
//!         Ok(())
//!     }
//!     fn discover() -> Result<Vec<StreamInfo>> { Ok(vec![]) }
//!     fn read(stream: String, checkpoint: Option<String>) -> Result<Page> { todo!() }
//! }
//!
//! itbm_plugin_sdk::export_connector!(Mine);
//! ```

use serde::de::DeserializeOwned;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/itbm-plugin",
        world: "connector",
        pub_export_macro: true,
        export_macro_name: "export_connector",
        default_bindings_module: "itbm_plugin_sdk::bindings",
    });
}

pub mod decimal;
pub mod record;
pub mod time;

pub use bindings::export_connector;
pub use bindings::exports::itbm::plugin::source::{Guest as Connector, Page, StreamInfo};
pub use bindings::itbm::plugin::clock;
pub use bindings::itbm::plugin::log::{self, Level};
pub use bindings::itbm::plugin::types::PluginError;

pub type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The instance's configuration; one that does not fit `T` is a
/// configuration error naming what is wrong.
pub fn config<T: DeserializeOwned>() -> Result<T> {
    serde_json::from_str(&bindings::itbm::plugin::config::get_config())
        .map_err(|e| PluginError::Configuration(format!("the configuration does not fit: {e}")))
}

/// A secret the admin must have set; its absence is a configuration error.
pub fn secret(name: &str) -> Result<String> {
    optional_secret(name).ok_or_else(|| PluginError::Configuration(format!("the secret {name:?} is not set on this instance")))
}

pub fn optional_secret(name: &str) -> Option<String> {
    bindings::itbm::plugin::config::get_secret(name)
}

pub fn info(message: &str) {
    log::log(Level::Info, message);
}

pub fn warn(message: &str) {
    log::log(Level::Warn, message);
}

/// Outbound HTTP through the host, which checks every request against the
/// instance's grants.
pub mod http {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::bindings::itbm::plugin::http as wit;
    use super::{PluginError, Result};

    pub use wit::Method;

    /// A request being built.
    pub struct Request(wit::Request);

    pub fn get(url: &str) -> Request {
        Request::new(Method::Get, url)
    }

    pub fn post(url: &str) -> Request {
        Request::new(Method::Post, url)
    }

    impl Request {
        pub fn new(method: Method, url: &str) -> Request {
            Request(wit::Request { method, url: url.to_owned(), headers: vec![("accept".into(), "application/json".into())], body: None })
        }

        pub fn header(mut self, name: &str, value: &str) -> Request {
            self.0.headers.push((name.to_owned(), value.to_owned()));
            self
        }

        pub fn bearer(self, token: &str) -> Request {
            self.header("authorization", &format!("Bearer {token}"))
        }

        /// HTTP Basic authentication (RFC 7617).
        pub fn basic(self, user: &str, password: &str) -> Request {
            self.header("authorization", &format!("Basic {}", base64(format!("{user}:{password}").as_bytes())))
        }

        pub fn json(mut self, body: &impl Serialize) -> Result<Request> {
            let bytes = serde_json::to_vec(body).map_err(|e| PluginError::InvalidInput(format!("the request body: {e}")))?;
            self.0.body = Some(bytes);
            Ok(self.header("content-type", "application/json"))
        }

        /// Sends the request. A refusal by the host, a network failure or a
        /// timeout is a connector error naming the URL.
        pub fn send(self) -> Result<Response> {
            let url = self.0.url.clone();
            wit::send(&self.0).map(|r| Response { url: url.clone(), status: r.status, headers: r.headers, body: r.body }).map_err(|e| {
                PluginError::Connector(match e {
                    wit::HttpError::Denied(why) => format!("{url}: the host refused the request: {why}"),
                    wit::HttpError::InvalidRequest(why) => format!("{url}: invalid request: {why}"),
                    wit::HttpError::Connect(why) => format!("{url}: {why}"),
                    wit::HttpError::Timeout => format!("{url}: timed out"),
                    wit::HttpError::TooLarge(n) => format!("{url}: the response ({n} bytes) is larger than allowed"),
                })
            })
        }
    }

    /// Percent-encodes a query string from name and value pairs
    /// (RFC 3986 unreserved characters stay as they are).
    pub fn query(pairs: &[(&str, &str)]) -> String {
        pairs.iter().map(|(name, value)| format!("{}={}", encode(name), encode(value))).collect::<Vec<_>>().join("&")
    }

    /// Percent-encodes one query component.
    pub fn encode(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(byte as char),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
        out
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
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

    pub struct Response {
        pub url: String,
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        /// 401 and 403 are configuration errors (the credential is wrong);
        /// other statuses from 400 up are connector errors (a 429 names its
        /// `Retry-After`), which the host may retry from the same checkpoint.
        pub fn error_for_status(self) -> Result<Response> {
            match self.status {
                401 | 403 => Err(PluginError::Configuration(format!("{}: the credential was refused ({})", self.url, self.status))),
                429 => Err(PluginError::Connector(format!(
                    "{}: rate limited (status 429){}",
                    self.url,
                    self.header("retry-after").map(|after| format!("; retry after {after}")).unwrap_or_default()
                ))),
                400.. => Err(PluginError::Connector(format!("{}: status {}", self.url, self.status))),
                _ => Ok(self),
            }
        }

        /// The body as text, cut to `max` characters, for error messages.
        pub fn text_excerpt(&self, max: usize) -> String {
            String::from_utf8_lossy(&self.body).chars().take(max).collect()
        }

        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }

        pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
            serde_json::from_slice(&self.body).map_err(|e| PluginError::Connector(format!("{}: the answer is not the JSON expected: {e}", self.url)))
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn queries_and_basic_credentials_are_encoded() {
            assert_eq!(super::query(&[("jql", "project = EX AND updated >= \"2024/01/01\""), ("n", "5")]), "jql=project%20%3D%20EX%20AND%20updated%20%3E%3D%20%222024%2F01%2F01%22&n=5");
            assert_eq!(super::base64(b"user@example.com:t0ken"), "dXNlckBleGFtcGxlLmNvbTp0MGtlbg==");
            assert_eq!(super::base64(b"ab"), "YWI=");
            assert_eq!(super::base64(b"abc"), "YWJj");
        }
    }
}

/// Checkpoints of offset-paginated streams: the offset of the next record.
pub mod pagination {
    use super::{PluginError, Result};

    pub fn offset(checkpoint: Option<&str>) -> Result<u64> {
        checkpoint.map_or(Ok(0), |text| text.parse().map_err(|_| PluginError::InvalidInput(format!("checkpoint {text:?} is not an offset"))))
    }
}
