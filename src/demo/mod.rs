//! The demo organisation loaded by `itbm serve --demo`.

use crate::db::Db;

/// Loads the demo organisation unless the database already holds projects.
pub async fn load_if_empty(_db: &Db) -> anyhow::Result<()> {
    Ok(())
}
