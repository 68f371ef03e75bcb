//! A query, its arguments and its rows, independent of the database behind them.

use std::borrow::Cow;
use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Postgres, Row as _, Sqlite};

use super::{Db, DbError, Pool, Tx, TxConn, parse_decimal};

/// One bound argument. Each variant is nullable and keeps its SQL type when null.
#[derive(Debug, Clone)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Decimal(Option<Decimal>),
    Date(Option<NaiveDate>),
    Timestamp(Option<DateTime<Utc>>),
}

macro_rules! value_from {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(Some(v.into()))
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Self {
                Value::$variant(v.map(Into::into))
            }
        }
    };
}
value_from!(Text, String);
value_from!(Text, &str);
value_from!(Int, i64);
value_from!(Int, i32);
value_from!(Bool, bool);
value_from!(Decimal, Decimal);
value_from!(Date, NaiveDate);
value_from!(Timestamp, DateTime<Utc>);

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<Option<&String>> for Value {
    fn from(v: Option<&String>) -> Self {
        Value::Text(v.cloned())
    }
}

/// SQL text and its arguments.
#[derive(Debug, Clone)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// Starts a query. Placeholders are `$1`, `$2`, … in the order of [`Query::bind`].
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// True for a plain `SELECT`: anything else (`INSERT … RETURNING`, say)
    /// may write, and run on the pool it commits on its own.
    fn is_read_only(&self) -> bool {
        let head = self.sql.trim_start().get(..6).unwrap_or("");
        head.eq_ignore_ascii_case("select")
    }

    pub async fn fetch_all(self, ex: &mut impl Executor) -> Result<Vec<Row>, DbError> {
        ex.fetch_all(self).await
    }

    pub async fn fetch_optional(self, ex: &mut impl Executor) -> Result<Option<Row>, DbError> {
        Ok(ex.fetch_all(self).await?.into_iter().next())
    }

    pub async fn fetch_one(self, ex: &mut impl Executor) -> Result<Row, DbError> {
        self.fetch_optional(ex).await?.ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }

    /// Runs a read on the pool and hands its rows to `each` one at a time, as
    /// the database returns them: a result of millions of rows never sits in
    /// memory whole (the columnar ledger copy reads a period this way).
    pub async fn for_each_row<E: From<DbError>>(self, db: &Db, mut each: impl FnMut(Row) -> Result<(), E>) -> Result<(), E> {
        use futures_util::TryStreamExt;
        match &db.pool {
            Pool::Sqlite(pool) => {
                let mut rows = self.for_sqlite().fetch(pool);
                while let Some(row) = rows.try_next().await.map_err(DbError::from)? {
                    each(Row::Sqlite(row))?;
                }
            }
            Pool::Postgres(pool) => {
                let mut rows = self.for_postgres().fetch(pool);
                while let Some(row) = rows.try_next().await.map_err(DbError::from)? {
                    each(Row::Postgres(row))?;
                }
            }
        }
        Ok(())
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(self, ex: &mut impl Executor) -> Result<u64, DbError> {
        ex.execute(self).await
    }

    fn for_sqlite(self) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.sql));
        for arg in self.args {
            q = match arg {
                Value::Text(v) => q.bind(v),
                Value::Int(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                // Canonical text keeps every digit and the scale the caller gave.
                Value::Decimal(v) => q.bind(v.map(|d| d.to_string())),
                Value::Date(v) => q.bind(v),
                Value::Timestamp(v) => q.bind(v),
            };
        }
        q
    }

    fn for_postgres(self) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.sql));
        for arg in self.args {
            q = match arg {
                Value::Text(v) => q.bind(v),
                Value::Int(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Decimal(v) => q.bind(v),
                Value::Date(v) => q.bind(v),
                Value::Timestamp(v) => q.bind(v),
            };
        }
        q
    }
}

/// Something queries run on: the pool ([`Db`]) or a transaction ([`Tx`]).
pub trait Executor: Send {
    fn fetch_all(&mut self, q: Query) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send;
    fn execute(&mut self, q: Query) -> impl Future<Output = Result<u64, DbError>> + Send;
}

impl Executor for Db {
    async fn fetch_all(&mut self, q: Query) -> Result<Vec<Row>, DbError> {
        let writes = !q.is_read_only();
        let rows = match &self.pool {
            Pool::Sqlite(pool) => q.for_sqlite().fetch_all(pool).await?.into_iter().map(Row::Sqlite).collect(),
            Pool::Postgres(pool) => q.for_postgres().fetch_all(pool).await?.into_iter().map(Row::Postgres).collect(),
        };
        // Outside a transaction an `INSERT … RETURNING` has committed by now:
        // the read cache must not serve what it read before.
        if writes {
            Db::note_write(&self.writes);
        }
        Ok(rows)
    }

    async fn execute(&mut self, q: Query) -> Result<u64, DbError> {
        // A statement outside a transaction commits on its own.
        let rows = match &self.pool {
            Pool::Sqlite(pool) => q.for_sqlite().execute(pool).await?.rows_affected(),
            Pool::Postgres(pool) => q.for_postgres().execute(pool).await?.rows_affected(),
        };
        Db::note_write(&self.writes);
        Ok(rows)
    }
}

impl Executor for Tx {
    async fn fetch_all(&mut self, q: Query) -> Result<Vec<Row>, DbError> {
        Ok(match &mut self.conn {
            TxConn::Sqlite(tx) => q.for_sqlite().fetch_all(&mut **tx).await?.into_iter().map(Row::Sqlite).collect(),
            TxConn::Postgres(tx) => q.for_postgres().fetch_all(&mut **tx).await?.into_iter().map(Row::Postgres).collect(),
        })
    }

    async fn execute(&mut self, q: Query) -> Result<u64, DbError> {
        Ok(match &mut self.conn {
            TxConn::Sqlite(tx) => q.for_sqlite().execute(&mut **tx).await?.rows_affected(),
            TxConn::Postgres(tx) => q.for_postgres().execute(&mut **tx).await?.rows_affected(),
        })
    }
}

/// A Rust type both drivers decode the same way.
pub trait Column:
    for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>
{
}
impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>
{
}

/// One result row.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    pub fn get<T: Column>(&self, column: &str) -> Result<T, DbError> {
        Ok(match self {
            Row::Sqlite(row) => row.try_get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    pub fn decimal(&self, column: &str) -> Result<Decimal, DbError> {
        self.opt_decimal(column)?
            .ok_or_else(|| DbError::Sqlx(sqlx::Error::ColumnDecode { index: column.to_owned(), source: "unexpected NULL".into() }))
    }

    pub fn opt_decimal(&self, column: &str) -> Result<Option<Decimal>, DbError> {
        match self {
            Row::Sqlite(row) => {
                let text: Option<String> = row.try_get(column)?;
                text.map(|t| parse_decimal(column, &t)).transpose()
            }
            Row::Postgres(row) => Ok(row.try_get(column)?),
        }
    }

    /// A JSON document stored as text.
    pub fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, DbError> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text)
            .map_err(|e| DbError::Sqlx(sqlx::Error::ColumnDecode { index: column.to_owned(), source: Box::new(e) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_that_returns_rows_outside_a_transaction_counts_as_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::connect(&format!("sqlite:{}", dir.path().join("t.db").display())).await.unwrap();
        query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)").execute(&mut db).await.unwrap();
        let before = db.write_generation();
        query("SELECT COUNT(*) AS n FROM t").fetch_one(&mut db).await.unwrap();
        assert_eq!(db.write_generation(), before, "a read is not a write");
        query("INSERT INTO t (name) VALUES ($1) RETURNING id").bind("a").fetch_one(&mut db).await.unwrap();
        assert!(db.write_generation() > before, "INSERT … RETURNING wrote");
    }
}
