//! Where effort from IT service management (ITSM) and usage from IT operations
//! management (ITOM) enter the lifecycle cost.
//!
//! The sync engine stores ticket effort in `ticket_effort` (hours per ticket,
//! with the service or configuration item it concerns) and utilisation in
//! `utilisation` (a host's or service's measured use per period). Turning them
//! into money needs what is not modelled yet: a cost per effort hour, and the
//! shared cost the utilisation divides (the TBM allocation's drivers use it
//! today). Until then these two functions return `None`, and the TCO answer
//! shows `null` for both rather than a made-up 0.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::db::Executor;
use crate::error::Result;

/// What a lifecycle cost is computed for.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Asset(&'a str),
    Service(&'a str),
}

impl Scope<'_> {
    pub fn id(&self) -> &str {
        match self {
            Scope::Asset(id) | Scope::Service(id) => id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scope::Asset(_) => "asset",
            Scope::Service(_) => "service",
        }
    }
}

/// The cost of ITSM effort spent on the scope up to `as_of` (from `ticket_effort`).
pub async fn itsm_effort(_ex: &mut impl Executor, _scope: Scope<'_>, _as_of: NaiveDate) -> Result<Option<Decimal>> {
    Ok(None)
}

/// The scope's share of shared operations cost up to `as_of` (from `utilisation`).
pub async fn itom_usage_share(_ex: &mut impl Executor, _scope: Scope<'_>, _as_of: NaiveDate) -> Result<Option<Decimal>> {
    Ok(None)
}
