//! Portfolio prioritisation: scoring frameworks and scores ([`scoring`]), the
//! candidates a portfolio chooses among ([`candidates`]), what-if scenarios
//! over a planning horizon ([`scenarios`]) and the exact optimiser that picks
//! the best set under time-phased budgets ([`optimise`], solved by the
//! `itbm-optimiser` crate with HiGHS).

pub mod candidates;
pub mod http;
pub mod optimise;
pub mod scenarios;
pub mod scoring;
pub mod value_map;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a candidate is: a demand not yet decided, or a project not yet done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Demand,
    Project,
}

crate::text_enum!(ItemKind { Demand = "demand", Project = "project" });
