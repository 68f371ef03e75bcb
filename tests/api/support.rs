//! A real server on 127.0.0.1:0 over a fresh database, and an HTTP client that
//! talks to it as a user would. Every test runs twice: on SQLite and on
//! PostgreSQL (`ITBM_TEST_POSTGRES_URL`, default `postgres://127.0.0.1:5432/test`),
//! each PostgreSQL test in a schema of its own that is dropped afterwards.

use itbm::auth::Role;
use itbm::config::{CommonArgs, Config, ServeArgs};
use itbm::db::{Db, query};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the test body once per database: `db_test!(async fn name(app) { ... });`
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::support::TestApp::start($crate::support::Backend::Sqlite).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::support::TestApp::start($crate::support::Backend::Postgres).await).await
            }
        }
    };
}

pub fn postgres_url() -> String {
    std::env::var("ITBM_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        let user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
        format!("postgres://{user}@127.0.0.1:5432/test")
    })
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub config: Config,
    /// Kept alive for as long as the test runs.
    _running: itbm::server::Running,
    schema: Option<String>,
    _dir: tempfile::TempDir,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn etag(&self) -> String {
        self.headers.get("etag").expect("an ETag header").to_str().unwrap().to_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts a problem+json answer with `status` naming `pointer` (a JSON
    /// pointer or parameter name) among its errors.
    #[track_caller]
    pub fn expect_problem(self, status: u16, field: Option<&str>) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.content_type(), "application/problem+json", "body: {}", reply.text);
        assert_eq!(reply.body["status"], status);
        if let Some(field) = field {
            let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
            assert!(
                errors.iter().any(|e| e["pointer"] == field || e["parameter"] == field),
                "expected an error at {field}; got {}",
                reply.text
            );
        }
        reply
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server whose configuration `adjust` may change first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, schema) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("itbm.db").display()), None),
            Backend::Postgres => {
                let schema = format!("t_{}", uuid_like());
                let admin = Db::connect(&postgres_url())
                    .await
                    .expect("PostgreSQL must be reachable at ITBM_TEST_POSTGRES_URL (default postgres://127.0.0.1:5432/test)");
                query(format!("CREATE SCHEMA {schema}")).execute(&mut admin.clone()).await.unwrap();
                admin.close().await;
                let sep = if postgres_url().contains('?') { '&' } else { '?' };
                (format!("{}{sep}options=-c%20search_path%3D{schema}", postgres_url()), Some(schema))
            }
        };
        let common = CommonArgs { config: None, data_dir: Some(dir.path().to_owned()), database_url: Some(database_url) };
        let serve = ServeArgs { listen: Some("127.0.0.1:0".parse().unwrap()), ..Default::default() };
        let mut config = Config::resolve(&common, &serve).unwrap();
        adjust(&mut config);
        let running = itbm::server::spawn(&config).await.expect("the server starts");
        TestApp {
            backend,
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            db: running.db.clone(),
            config,
            _running: running,
            schema,
            _dir: dir,
        }
    }

    /// A local token for `role`, signed with this server's key.
    pub async fn token(&self, role: Role) -> String {
        let secret = itbm::auth::keys::load_or_create(&self.config.jwt_secret_path(), 64).unwrap();
        let auth = itbm::auth::Authenticator::new(&secret, None).await.unwrap();
        auth.issue(&format!("test-{}", role.as_str()), role, 3600).unwrap()
    }

    /// Sends a request as `role` (None: without a token).
    pub async fn send(&self, role: Option<Role>, method: Method, path: &str, body: Option<Value>, if_match: Option<&str>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(role) = role {
            req = req.bearer_auth(self.token(role).await);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        read(req.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, role: Role, path: &str) -> Reply {
        self.send(Some(role), Method::GET, path, None, None).await
    }

    pub async fn post(&self, role: Role, path: &str, body: Value) -> Reply {
        self.send(Some(role), Method::POST, path, Some(body), None).await
    }

    pub async fn patch(&self, role: Role, path: &str, body: Value, if_match: Option<&str>) -> Reply {
        self.send(Some(role), Method::PATCH, path, Some(body), if_match).await
    }

    pub async fn delete(&self, role: Role, path: &str, if_match: Option<&str>) -> Reply {
        self.send(Some(role), Method::DELETE, path, None, if_match).await
    }

    /// Sends a request with an arbitrary Authorization header value.
    pub async fn get_with_authorization(&self, path: &str, authorization: &str) -> Reply {
        let req = self.client.get(format!("{}{}", self.base, path)).header("authorization", authorization);
        read(req.send().await.expect("the server answers")).await
    }

    /// Sends raw bytes with a content type, for malformed and non-JSON bodies.
    pub async fn send_raw(&self, role: Role, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(self.token(role).await)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.expect("the server answers")).await
    }

    /// Counts the rows of a table, to show that a refused request wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        query(format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&mut self.db.clone()).await.unwrap().get("n").unwrap()
    }

}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else { return };
        // Drop the schema from a thread of its own: Drop cannot await, and the
        // test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(admin) = Db::connect(&postgres_url()).await {
                    let _ = query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut admin.clone()).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}
