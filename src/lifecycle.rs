//! Lifecycles: the states a record moves through and the legal steps between
//! them. Projects, demands, budget versions and assets each declare their
//! steps; refusing an illegal one is written once, here.

use std::fmt::Display;

use crate::error::{ConflictKind, Error, Result};

pub trait Lifecycle: Copy + PartialEq + Display + 'static {
    /// The states a record may move to from this one; none for a final state.
    fn next(self) -> &'static [Self];
}

/// Refuses an illegal step with a 409 whose detail lists the legal ones, so a
/// client can tell its user what is possible. `subject` names the record with
/// its article: "a project".
pub fn check_step<S: Lifecycle>(subject: &str, from: S, to: S) -> Result<()> {
    if from.next().contains(&to) {
        return Ok(());
    }
    let legal: Vec<String> = from.next().iter().map(ToString::to_string).collect();
    let options = if legal.is_empty() { "none: it is final".to_owned() } else { legal.join(", ") };
    Err(Error::conflict(
        ConflictKind::InvalidTransition,
        format!("{subject} cannot move from {from} to {to}; from {from} it may move to {options}"),
    ))
}
