//! Portfolios, programs and projects, the strategic goals projects serve, and
//! their year-by-year estimates.

pub mod estimates;
pub mod goals;
pub mod http;
pub mod portfolios;
pub mod programs;
pub mod projects;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The TBM investment category: keep the lights on, grow the business, or
/// transform it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvestmentCategory {
    Run,
    Grow,
    Transform,
}

crate::text_enum!(InvestmentCategory { Run = "run", Grow = "grow", Transform = "transform" });
