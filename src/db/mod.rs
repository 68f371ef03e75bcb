//! Storage: one SQL text for SQLite and PostgreSQL.
//!
//! Every query in `itbm` is written once, with `$1`-style placeholders that both
//! sqlx drivers accept, and runs on whichever database the server was started
//! with. The few differences between the two live here and in the two migration
//! folders, nowhere else:
//!
//! * **Decimals.** sqlx cannot encode `rust_decimal` for SQLite, so money is a
//!   `NUMERIC` on PostgreSQL (exact, summable in SQL) and canonical decimal `TEXT`
//!   on SQLite. [`Value::Decimal`] and [`Row::decimal`] convert in this one place.
//! * **Typed NULLs.** PostgreSQL refuses a text-typed NULL for an integer column,
//!   so every [`Value`] variant carries an `Option` and binds with its own type.
//! * **Write transactions** on SQLite start with `BEGIN IMMEDIATE`, so two writers
//!   queue on the busy timeout instead of failing with `SQLITE_BUSY` when a read
//!   lock cannot be upgraded.

mod query;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use query::{Column, Executor, Query, Row, Value, query};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the configured database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) pool: Pool,
    /// Counts the writes this process committed; see [`Db::write_generation`].
    writes: Arc<AtomicU64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pub(crate) conn: TxConn,
    writes: Arc<AtomicU64>,
}

pub(crate) enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("column {column} holds {value:?}, which is not a decimal")]
    BadDecimal { column: String, value: String },
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DbError {
    /// The constraint a write violated, if it failed on a unique key.
    pub fn unique_violation(&self) -> Option<String> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Some(e.constraint().map(str::to_owned).unwrap_or_else(|| e.message().to_owned()))
            }
            _ => None,
        }
    }

    /// True when a write referenced a row that does not exist.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}

impl Db {
    /// Connects to `url`: `postgres://…` selects PostgreSQL, `sqlite:…` a SQLite file
    /// (created when missing).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::new(Pool::Postgres(pool)))
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::new(Pool::Sqlite(pool)))
        }
    }

    fn new(pool: Pool) -> Db {
        Db { pool, writes: Arc::new(AtomicU64::new(0)) }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A number that grows after every write this process commits. Whatever
    /// was read while it had one value may be reused while it keeps it: the
    /// read cache in `http::cache` relies on this.
    pub fn write_generation(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// Records that a write was committed (called after the commit, so a
    /// reader that saw the old generation cannot have read the new data
    /// under it).
    pub(crate) fn note_write(writes: &AtomicU64) {
        writes.fetch_add(1, Ordering::AcqRel);
    }

    /// Applies the migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Db::note_write(&self.writes);
        Ok(())
    }

    /// True when every migration this binary knows of has been applied.
    pub async fn migrations_current(&self) -> Result<bool, DbError> {
        let migrator = match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let expected = migrator.iter().filter(|m| m.migration_type.is_up_migration()).count() as i64;
        let applied: i64 = query("SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_one(&mut self.clone())
            .await?
            .get("n")?;
        Ok(applied >= expected)
    }

    /// Begins a transaction that may write.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let conn = match &self.pool {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx { conn, writes: self.writes.clone() })
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(tx) => tx.commit().await?,
        }
        Db::note_write(&self.writes);
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Parses a decimal as stored in a SQLite TEXT column.
fn parse_decimal(column: &str, text: &str) -> Result<Decimal, DbError> {
    Decimal::from_str(text).map_err(|_| DbError::BadDecimal { column: column.to_owned(), value: text.to_owned() })
}
