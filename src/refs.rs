//! Checks that a reference in a request points at something that exists, so
//! the refusal names the field (`/cost_center_id`) instead of surfacing as an
//! anonymous foreign-key failure.

use crate::db::{Executor, query};
use crate::error::Result;
use crate::validate::Checks;

/// Things a request can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    Portfolio,
    Program,
    Project,
    Demand,
    Goal,
    Currency,
    CostCenter,
    CostType,
    CostPool,
    Tower,
    Vendor,
    Service,
    Asset,
    BudgetVersion,
}

impl Ref {
    fn lookup(self) -> &'static str {
        match self {
            Ref::Portfolio => "SELECT 1 AS found FROM portfolios WHERE id = $1",
            Ref::Program => "SELECT 1 AS found FROM programs WHERE id = $1",
            Ref::Project => "SELECT 1 AS found FROM projects WHERE id = $1",
            Ref::Demand => "SELECT 1 AS found FROM demands WHERE id = $1",
            Ref::Goal => "SELECT 1 AS found FROM strategic_goals WHERE id = $1",
            Ref::Currency => "SELECT 1 AS found FROM currencies WHERE code = $1",
            Ref::CostCenter => "SELECT 1 AS found FROM cost_centers WHERE id = $1",
            Ref::CostType => "SELECT 1 AS found FROM cost_types WHERE id = $1",
            Ref::CostPool => "SELECT 1 AS found FROM tbm_cost_pools WHERE id = $1",
            Ref::Tower => "SELECT 1 AS found FROM tbm_towers WHERE id = $1",
            Ref::Vendor => "SELECT 1 AS found FROM vendors WHERE id = $1",
            Ref::Service => "SELECT 1 AS found FROM services WHERE id = $1",
            Ref::Asset => "SELECT 1 AS found FROM assets WHERE id = $1",
            Ref::BudgetVersion => "SELECT 1 AS found FROM budget_versions WHERE id = $1",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Ref::Portfolio => "portfolio",
            Ref::Program => "program",
            Ref::Project => "project",
            Ref::Demand => "demand",
            Ref::Goal => "strategic goal",
            Ref::Currency => "currency (ISO 4217)",
            Ref::CostCenter => "cost center",
            Ref::CostType => "cost type",
            Ref::CostPool => "cost pool",
            Ref::Tower => "tower",
            Ref::Vendor => "vendor",
            Ref::Service => "service",
            Ref::Asset => "asset",
            Ref::BudgetVersion => "budget version",
        }
    }
}

/// True when `id` names an existing `what`.
pub async fn exists(ex: &mut impl Executor, what: Ref, id: &str) -> Result<bool> {
    Ok(query(what.lookup()).bind(id).fetch_optional(ex).await?.is_some())
}

/// Adds a validation error at `pointer` when `id` is given but unknown.
pub async fn check(ex: &mut impl Executor, checks: &mut Checks, pointer: &str, what: Ref, id: Option<&str>) -> Result<()> {
    if let Some(id) = id {
        if !exists(ex, what, id).await? {
            checks.fail(pointer, format!("no {} has the id {id:?}", what.noun()));
        }
    }
    Ok(())
}
