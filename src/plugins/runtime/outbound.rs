//! Outbound HTTP on a plugin's behalf. Each hop of a request (the first and
//! every redirect) is checked the same way before anything is sent:
//!
//! 1. the URL's `scheme://host:port` must be granted to the instance;
//! 2. the host is resolved here, and every address that is loopback, private,
//!    link-local, shared, unique-local or cloud metadata is dropped unless the
//!    admin granted a network containing it; nothing left means refused;
//! 3. the connection goes to the checked addresses only (the client may not
//!    resolve the name again, so DNS rebinding gains nothing), with no proxy.
//!
//! Redirects are never followed by the client: the host follows them itself,
//! at most [`MAX_REDIRECTS`] times, and drops credentials when a redirect
//! leaves the origin.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::Url;

use super::bindings::http::{HttpError, Method, Request, Response};
use crate::plugins::capabilities::Granted;

/// Longest wait for a TCP (and TLS) connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest one request may take, redirects included (the call's own deadline
/// may cut it shorter).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body a plugin may send.
pub const MAX_REQUEST_BYTES: usize = 4 << 20;
/// Largest response body a plugin may receive.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;
pub const MAX_REDIRECTS: usize = 5;

/// Sends `request` within `granted`, giving up at `deadline`.
pub async fn send(granted: &Granted, request: Request, deadline: Instant) -> Result<Response, HttpError> {
    if request.body.as_ref().is_some_and(|b| b.len() > MAX_REQUEST_BYTES) {
        return Err(HttpError::InvalidRequest(format!("the request body is larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let deadline = deadline.min(Instant::now() + TOTAL_TIMEOUT);
    let mut url = Url::parse(&request.url).map_err(|e| HttpError::InvalidRequest(format!("{:?} is not a URL: {e}", request.url)))?;
    let mut method = request.method;
    let mut headers = request.headers;
    let mut body = request.body;
    for _ in 0..=MAX_REDIRECTS {
        let client = client_for(granted, &url, deadline).await?;
        let response = send_once(&client, &url, method, &headers, body.clone(), deadline).await?;
        let status = response.status().as_u16();
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
        match (status, location) {
            (301 | 302 | 303 | 307 | 308, Some(location)) => {
                let next = url.join(&location).map_err(|_| HttpError::Connect(format!("the redirect to {location:?} is not a URL")))?;
                if next.origin() != url.origin() {
                    headers.retain(|(name, _)| !is_credential(name));
                }
                if status == 303 || (matches!(status, 301 | 302) && method == Method::Post) {
                    method = Method::Get;
                    body = None;
                }
                url = next;
            }
            _ => return read_response(response, deadline).await,
        }
    }
    Err(HttpError::Connect(format!("more than {MAX_REDIRECTS} redirects")))
}

/// A client that can reach `url`'s host only at its checked addresses.
async fn client_for(granted: &Granted, url: &Url, deadline: Instant) -> Result<reqwest::Client, HttpError> {
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::InvalidRequest(format!("{url} must be an http or https URL without credentials")));
    }
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
        return Err(HttpError::InvalidRequest(format!("{url} names no host")));
    };
    if !granted.allows_url(url) {
        return Err(HttpError::Denied(format!(
            "{}://{}:{port} is not among the hosts granted to this instance",
            url.scheme(),
            url.host_str().unwrap_or_default()
        )));
    }
    let builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(deadline.saturating_duration_since(Instant::now()));
    let builder = match host {
        url::Host::Ipv4(ip) => check_addresses(granted, &[SocketAddr::new(IpAddr::V4(ip), port)]).map(|_| builder)?,
        url::Host::Ipv6(ip) => check_addresses(granted, &[SocketAddr::new(IpAddr::V6(ip), port)]).map(|_| builder)?,
        url::Host::Domain(name) => {
            let wait = deadline.saturating_duration_since(Instant::now()).min(CONNECT_TIMEOUT);
            let resolved: Vec<SocketAddr> = tokio::time::timeout(wait, tokio::net::lookup_host((name, port)))
                .await
                .map_err(|_| HttpError::Timeout)?
                .map_err(|e| HttpError::Connect(format!("{name} does not resolve: {e}")))?
                .collect();
            let allowed = check_addresses(granted, &resolved)?;
            builder.resolve_to_addrs(name, &allowed)
        }
    };
    builder.build().map_err(|e| HttpError::Connect(format!("cannot build an HTTP client: {e}")))
}

/// The addresses the instance may reach, or why none is.
fn check_addresses(granted: &Granted, addresses: &[SocketAddr]) -> Result<Vec<SocketAddr>, HttpError> {
    let mut refusal = None;
    let allowed: Vec<SocketAddr> = addresses
        .iter()
        .copied()
        .filter(|a| match granted.allows_address(a.ip()) {
            Ok(()) => true,
            Err(why) => {
                refusal.get_or_insert(why);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refusal) {
        (false, _) => Ok(allowed),
        (true, Some(why)) => Err(HttpError::Denied(why)),
        (true, None) => Err(HttpError::Connect("the name resolves to no address".into())),
    }
}

async fn send_once(
    client: &reqwest::Client,
    url: &Url,
    method: Method,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
    deadline: Instant,
) -> Result<reqwest::Response, HttpError> {
    let method = match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut request = client.request(method, url.clone());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::InvalidRequest(format!("the {name} header is set by the host")));
        }
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let request = request.build().map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
    tokio::time::timeout_at(deadline.into(), client.execute(request)).await.map_err(|_| HttpError::Timeout)?.map_err(|e| {
        if e.is_timeout() { HttpError::Timeout } else { HttpError::Connect(without_url(&e)) }
    })
}

async fn read_response(mut response: reqwest::Response, deadline: Instant) -> Result<Response, HttpError> {
    if let Some(length) = response.content_length().filter(|l| *l > MAX_RESPONSE_BYTES as u64) {
        return Err(HttpError::TooLarge(length));
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let mut body = Vec::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline.into(), response.chunk()).await.map_err(|_| HttpError::Timeout)?;
        match chunk.map_err(|e| HttpError::Connect(without_url(&e)))? {
            None => break,
            Some(bytes) if body.len() + bytes.len() > MAX_RESPONSE_BYTES => {
                return Err(HttpError::TooLarge((body.len() + bytes.len()) as u64));
            }
            Some(bytes) => body.extend_from_slice(&bytes),
        }
    }
    Ok(Response { status, headers, body })
}

fn is_credential(header: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization"].iter().any(|h| header.eq_ignore_ascii_case(h))
}

/// reqwest's message, whose URL the plugin knows already.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
