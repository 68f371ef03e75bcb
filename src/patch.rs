//! Partial updates. In a PATCH body an absent member leaves a field unchanged;
//! for nullable fields an explicit `null` clears it. `Option<Option<T>>` tells
//! the two apart when deserialised with [`nullable`].

use serde::{Deserialize, Deserializer};

/// Use as `#[serde(default, deserialize_with = "crate::patch::nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Applies a nullable patch member to `current`.
pub fn apply<T>(current: Option<T>, patch: Option<Option<T>>) -> Option<T> {
    match patch {
        Some(value) => value,
        None => current,
    }
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// One kind of versioned record (an `id` key, `version` and `updated_at`
/// columns) as its updates and deletes need it: the table, the record's name
/// in the audit log, and what a write or delete that collides with other rows
/// tells the caller.
pub struct Table {
    pub name: &'static str,
    pub entity: &'static str,
    /// The 409's detail when a write takes a unique key already taken.
    pub duplicate: &'static str,
    /// The field to blame (a JSON pointer) when a write refers to a missing row.
    pub reference: &'static str,
    /// The 409's detail when other rows still refer to a deleted one.
    pub in_use: &'static str,
}

impl Table {
    /// The end of every update: writes `columns` of row `id` if it is still
    /// at `before_version` (else 412: someone changed it since it was read),
    /// writes the audit entry, and commits. `columns` include `updated_at`
    /// and the new `version`.
    pub async fn update<T: serde::Serialize>(
        &self,
        mut tx: crate::db::Tx,
        who: &crate::auth::Principal,
        id: &str,
        (before, before_version): (&T, i64),
        columns: Vec<(&str, crate::db::Value)>,
        after: T,
    ) -> crate::error::Result<T> {
        use crate::error::Error;
        let set: Vec<String> = columns.iter().enumerate().map(|(i, (column, _))| format!("{column} = ${}", i + 1)).collect();
        let n = columns.len();
        let mut update =
            crate::db::query(format!("UPDATE {} SET {} WHERE id = ${} AND version = ${}", self.name, set.join(", "), n + 1, n + 2));
        for (_, value) in columns {
            update = update.bind(value);
        }
        update
            .bind(id)
            .bind(before_version)
            .execute(&mut tx)
            .await
            .map_err(|e| Error::from_write(e, self.duplicate, self.reference))
            .and_then(Error::ensure_updated)?;
        crate::audit::record(&mut tx, who, crate::audit::Action::Update, self.entity, id, Some(before), Some(&after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The end of every delete: removes row `id` if it is still at `version`
    /// (loaded as `before`, its `If-Match` checked), writes the audit entry,
    /// and commits.
    pub async fn delete<T: serde::Serialize>(
        &self,
        mut tx: crate::db::Tx,
        who: &crate::auth::Principal,
        id: &str,
        (before, version): (&T, i64),
    ) -> crate::error::Result<()> {
        use crate::error::Error;
        crate::db::query(format!("DELETE FROM {} WHERE id = $1 AND version = $2", self.name))
            .bind(id)
            .bind(version)
            .execute(&mut tx)
            .await
            .map_err(|e| Error::from_delete(e, self.in_use))
            .and_then(Error::ensure_updated)?;
        crate::audit::record(&mut tx, who, crate::audit::Action::Delete, self.entity, id, Some(before), None::<&()>).await?;
        tx.commit().await?;
        Ok(())
    }
}
