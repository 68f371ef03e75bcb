//! Where effort from IT service management (ITSM) and usage from IT operations
//! management (ITOM) enter the lifecycle cost.
//!
//! The ITSM/ITOM sync will store ticket effort in a table `ticket_effort`
//! (effort hours and their cost per ticket, with the asset or service the
//! ticket concerns) and utilisation in a table `utilisation` (an asset's or
//! service's share of a shared resource per period). When those tables exist,
//! these two functions sum them for a scope up to a date, converted into the
//! reporting currency; TCO adds what they return. Until then they return
//! `None`, and the TCO answer shows `null` for both rather than a made-up 0.

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
