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
