//! Year-by-year estimates of a business case: CapEx, OpEx and benefit per
//! fiscal year. A demand carries them; approving it copies them to its project.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Executor, Tx, query};
use crate::error::Result;
use crate::validate::Checks;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearEstimate {
    /// Fiscal year, named after the calendar year it ends in.
    pub fiscal_year: i32,
    #[schema(value_type = String, example = "250000.00")]
    pub capex: Decimal,
    #[schema(value_type = String, example = "40000.00")]
    pub opex: Decimal,
    /// Expected benefit (savings or revenue) in that year.
    #[schema(value_type = String, example = "0")]
    pub benefit: Decimal,
}

/// Whose estimates: the table and the column naming the owner.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Demand,
    Project,
}

impl Owner {
    fn select(self) -> &'static str {
        match self {
            Owner::Demand => "SELECT fiscal_year, capex, opex, benefit FROM demand_estimates WHERE demand_id = $1 ORDER BY fiscal_year",
            Owner::Project => "SELECT fiscal_year, capex, opex, benefit FROM project_estimates WHERE project_id = $1 ORDER BY fiscal_year",
        }
    }
    fn delete(self) -> &'static str {
        match self {
            Owner::Demand => "DELETE FROM demand_estimates WHERE demand_id = $1",
            Owner::Project => "DELETE FROM project_estimates WHERE project_id = $1",
        }
    }
    fn insert(self) -> &'static str {
        match self {
            Owner::Demand => "INSERT INTO demand_estimates (demand_id, fiscal_year, capex, opex, benefit) VALUES ($1, $2, $3, $4, $5)",
            Owner::Project => "INSERT INTO project_estimates (project_id, fiscal_year, capex, opex, benefit) VALUES ($1, $2, $3, $4, $5)",
        }
    }
}

/// Checks a set of estimates: one per year, years in a sane range, amounts
/// non-negative (a cost or benefit estimate is never a credit).
pub fn validate(checks: &mut Checks, pointer: &str, estimates: &[YearEstimate]) {
    let mut seen = std::collections::HashSet::new();
    for (i, e) in estimates.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        checks.check((2000..=2100).contains(&e.fiscal_year), &format!("{at}/fiscal_year"), "must be a year between 2000 and 2100");
        if !seen.insert(e.fiscal_year) {
            checks.fail(format!("{at}/fiscal_year"), "appears twice");
        }
        checks.amount(&format!("{at}/capex"), e.capex, false);
        checks.amount(&format!("{at}/opex"), e.opex, false);
        checks.amount(&format!("{at}/benefit"), e.benefit, false);
    }
}

pub async fn load(ex: &mut impl Executor, owner: Owner, id: &str) -> Result<Vec<YearEstimate>> {
    let rows = query(owner.select()).bind(id).fetch_all(ex).await?;
    rows.iter()
        .map(|r| {
            Ok(YearEstimate {
                fiscal_year: r.get::<i64>("fiscal_year")? as i32,
                capex: r.decimal("capex")?,
                opex: r.decimal("opex")?,
                benefit: r.decimal("benefit")?,
            })
        })
        .collect()
}

/// Replaces all estimates of `id` within the caller's transaction.
pub async fn replace(tx: &mut Tx, owner: Owner, id: &str, estimates: &[YearEstimate]) -> Result<()> {
    query(owner.delete()).bind(id).execute(tx).await?;
    for e in estimates {
        query(owner.insert())
            .bind(id)
            .bind(i64::from(e.fiscal_year))
            .bind(e.capex)
            .bind(e.opex)
            .bind(e.benefit)
            .execute(tx)
            .await?;
    }
    Ok(())
}
