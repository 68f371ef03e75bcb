//! Rows queued for one table and written with multi-row INSERTs: the demo writes
//! some 60,000 rows, and one statement per row would take a minute on PostgreSQL
//! instead of a few seconds.

use crate::db::{Backend, DbError, Tx, Value, query};

/// SQLite refuses a statement with more bound parameters than this.
const MAX_PARAMETERS: usize = 32_766;
/// Large enough to amortise a round trip, small enough to keep statements short.
const ROWS_PER_STATEMENT: usize = 200;
/// Parameters per statement on SQLite. sqlx looks each `$n` up by name, and
/// SQLite finds a name by walking the statement's list of them, so binding costs
/// the square of the statement's width: 200 ledger rows (4,200 parameters) per
/// statement spent 75% of a 15 s load there. About 250 balances that against
/// the cost of a statement.
const SQLITE_PARAMETERS: usize = 250;

/// `row![a, b, c]`: one row of [`Value`]s, each converted with `Value::from`.
macro_rules! row {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::db::Value::from($value)),*]
    };
}
pub(crate) use row;

/// The rows of one table, in insertion order.
#[derive(Debug)]
pub struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    values: Vec<Value>,
}

impl Table {
    pub fn new(name: &'static str, columns: &'static [&'static str]) -> Self {
        Table { name, columns, values: Vec::new() }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Queues one row; its values must follow `columns`.
    pub fn push(&mut self, row: Vec<Value>) {
        assert_eq!(row.len(), self.columns.len(), "a row of {} must have one value per column", self.name);
        self.values.extend(row);
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// Inserts every queued row, up to [`ROWS_PER_STATEMENT`] at a time, and returns how many.
    pub async fn write(self, tx: &mut Tx) -> Result<usize, DbError> {
        let width = self.columns.len();
        let parameters = match tx.backend() {
            Backend::Sqlite => SQLITE_PARAMETERS,
            Backend::Postgres => MAX_PARAMETERS,
        };
        let rows_per_statement = ROWS_PER_STATEMENT.min(parameters / width).max(1);
        let total = self.len();
        let full_statement = insert_sql(self.name, self.columns, rows_per_statement);
        let mut values = self.values.into_iter();
        let mut remaining = total;
        while remaining > 0 {
            let rows = remaining.min(rows_per_statement);
            let sql = if rows == rows_per_statement { full_statement.clone() } else { insert_sql(self.name, self.columns, rows) };
            let mut statement = query(sql);
            for value in values.by_ref().take(rows * width) {
                statement = statement.bind(value);
            }
            statement.execute(tx).await?;
            remaining -= rows;
        }
        Ok(total)
    }
}

/// `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), …` for `rows` rows.
fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let placeholders: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), tuples.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_of_every_row() {
        assert_eq!(insert_sql("t", &["a", "b"], 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }
}
