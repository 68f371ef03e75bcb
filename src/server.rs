//! Starting and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{Authenticator, keys};
use crate::config::Config;
use crate::db::Db;
use crate::http::{AppState, router};

/// Opens the data directory and the database, and applies migrations.
pub async fn open(config: &Config) -> anyhow::Result<(Db, Arc<Authenticator>)> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", config.data_dir.display()))?;
    let secret = keys::load_or_create(&config.jwt_secret_path(), 64)?;
    let auth = Arc::new(Authenticator::new(&secret, config.provider.clone()).await?);
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok((db, auth))
}

/// A server running in the background.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    dispatcher: JoinHandle<()>,
    scheduler: AbortOnDrop,
}

/// The sync scheduler's task, stopped with the server (or when a test drops it).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Running {
    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        drop(self.scheduler);
        let _ = self.shutdown.send(());
        self.task.await??;
        self.dispatcher.abort();
        self.db.close().await;
        Ok(())
    }
}

/// Binds `config.listen` (port 0 picks a free port) and serves in the background.
pub async fn spawn(config: &Config) -> anyhow::Result<Running> {
    let (db, auth) = open(config).await?;
    if config.demo {
        crate::demo::load_if_empty(&db).await?;
    }
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let plugins = Arc::new(crate::plugins::Plugins::open(config)?);
    crate::plugins::trusted_keys::trust_at_start(&db, &plugins.start_keys).await.map_err(|e| anyhow::anyhow!("--trusted-key: {e}"))?;
    crate::plugins::builtin::install_all(&db).await?;
    let dispatcher = tokio::spawn(crate::plugins::outbox::dispatch(db.clone(), plugins.clone()));
    let sync = crate::sync::Syncer::new(db.clone(), plugins.clone(), &config.data_dir)?;
    let scheduler = AbortOnDrop(tokio::spawn(crate::sync::scheduler::run(sync.clone())));
    let columnar = Arc::new(crate::costs::Columnar::new(config.data_dir.join("ledger-columnar")));
    let app = router(AppState::new(db.clone(), auth, config.demo, plugins, sync, columnar));
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running { addr, db, shutdown, task, dispatcher, scheduler })
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let running = spawn(&config).await?;
    tracing::info!(address = %running.addr, docs = %format!("http://{}/docs", running.addr), "itbm is serving");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
