//! The items a portfolio chooses among: its projects that are not finished
//! (proposed, approved, in progress, on hold) and its demands awaiting a
//! decision (submitted, under review, deferred), with their estimates, risk
//! and strategic alignment. Items whose estimates are in another currency
//! than the reporting currency are set aside (listed as skipped), because
//! budgets compare amounts in one currency and converting is a rate choice
//! for the caller.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::ItemKind;
use crate::db::{Executor, query};
use crate::error::Result;
use crate::portfolio::estimates::YearEstimate;

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub kind: ItemKind,
    pub id: String,
    pub name: String,
    /// 1 (low) to 5 (very high).
    pub risk: i32,
    pub currency: String,
    pub cost_center_id: Option<String>,
    pub estimates: Vec<YearEstimate>,
    /// Sum of the goal-link weights, capped at 1 (projects; demands have no
    /// goal links and align 0).
    pub alignment: Decimal,
}

impl Candidate {
    /// CapEx + OpEx over all estimated years.
    pub fn total_cost(&self) -> Decimal {
        self.estimates.iter().map(|e| e.capex + e.opex).sum()
    }
}

/// A candidate left out because its currency is not the reporting currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Skipped {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub name: String,
    pub currency: String,
}

pub const OPEN_PROJECT_STATES: &str = "('proposed', 'approved', 'in_progress', 'on_hold')";
pub const OPEN_DEMAND_STATES: &str = "('submitted', 'under_review', 'deferred')";

/// The candidates of `portfolio_id`, projects first, each kind in id order.
pub async fn load(ex: &mut impl Executor, portfolio_id: &str, reporting_currency: &str) -> Result<(Vec<Candidate>, Vec<Skipped>)> {
    let mut out = Vec::new();
    let projects = query(format!(
        "SELECT id, name, risk, currency, cost_center_id FROM projects WHERE portfolio_id = $1 AND state IN {OPEN_PROJECT_STATES} ORDER BY id"
    ))
    .bind(portfolio_id)
    .fetch_all(ex)
    .await?;
    for r in &projects {
        out.push(Candidate {
            kind: ItemKind::Project,
            id: r.get("id")?,
            name: r.get("name")?,
            risk: r.get::<i64>("risk")? as i32,
            currency: r.get("currency")?,
            cost_center_id: r.get("cost_center_id")?,
            estimates: Vec::new(),
            alignment: Decimal::ZERO,
        });
    }
    let demands = query(format!(
        "SELECT id, title, risk, currency FROM demands WHERE portfolio_id = $1 AND state IN {OPEN_DEMAND_STATES} ORDER BY id"
    ))
    .bind(portfolio_id)
    .fetch_all(ex)
    .await?;
    for r in &demands {
        out.push(Candidate {
            kind: ItemKind::Demand,
            id: r.get("id")?,
            name: r.get("title")?,
            risk: r.get::<i64>("risk")? as i32,
            currency: r.get("currency")?,
            cost_center_id: None,
            estimates: Vec::new(),
            alignment: Decimal::ZERO,
        });
    }
    let index: HashMap<(ItemKind, String), usize> = out.iter().enumerate().map(|(i, c)| ((c.kind, c.id.clone()), i)).collect();
    let estimate_rows = query(
        "SELECT 'project' AS kind, e.project_id AS item_id, e.fiscal_year, e.capex, e.opex, e.benefit FROM project_estimates e \
         JOIN projects p ON p.id = e.project_id WHERE p.portfolio_id = $1 \
         UNION ALL \
         SELECT 'demand' AS kind, e.demand_id AS item_id, e.fiscal_year, e.capex, e.opex, e.benefit FROM demand_estimates e \
         JOIN demands d ON d.id = e.demand_id WHERE d.portfolio_id = $1 \
         ORDER BY item_id, fiscal_year",
    )
    .bind(portfolio_id)
    .fetch_all(ex)
    .await?;
    for r in &estimate_rows {
        let kind = ItemKind::from_db(&r.get::<String>("kind")?)?;
        if let Some(i) = index.get(&(kind, r.get::<String>("item_id")?)) {
            out[*i].estimates.push(YearEstimate {
                fiscal_year: r.get::<i64>("fiscal_year")? as i32,
                capex: r.decimal("capex")?,
                opex: r.decimal("opex")?,
                benefit: r.decimal("benefit")?,
            });
        }
    }
    let links = query("SELECT g.project_id, g.weight FROM project_goals g JOIN projects p ON p.id = g.project_id WHERE p.portfolio_id = $1")
        .bind(portfolio_id)
        .fetch_all(ex)
        .await?;
    for r in &links {
        if let Some(i) = index.get(&(ItemKind::Project, r.get::<String>("project_id")?)) {
            out[*i].alignment = (out[*i].alignment + r.decimal("weight")?).min(Decimal::ONE);
        }
    }
    let (keep, skip): (Vec<Candidate>, Vec<Candidate>) = out.into_iter().partition(|c| c.currency == reporting_currency);
    let skipped = skip.into_iter().map(|c| Skipped { item_kind: c.kind, item_id: c.id, name: c.name, currency: c.currency }).collect();
    Ok((keep, skipped))
}

/// A candidate's estimates as a scenario adjusts them: moved `shift_years`
/// later and scaled by `funding` (rounded to cents).
pub fn adjusted(estimates: &[YearEstimate], shift_years: i32, funding: Decimal) -> Vec<YearEstimate> {
    estimates
        .iter()
        .map(|e| YearEstimate {
            fiscal_year: e.fiscal_year + shift_years,
            capex: (e.capex * funding).round_dp(2),
            opex: (e.opex * funding).round_dp(2),
            benefit: (e.benefit * funding).round_dp(2),
        })
        .collect()
}

/// Per-year CapEx, OpEx and benefit of `estimates` within the horizon
/// `first_year .. first_year + years`; amounts outside it are not counted.
pub fn in_horizon(estimates: &[YearEstimate], first_year: i32, years: usize) -> Vec<YearEstimate> {
    (0..years as i32)
        .map(|k| {
            let fy = first_year + k;
            let mut y = YearEstimate { fiscal_year: fy, capex: Decimal::ZERO, opex: Decimal::ZERO, benefit: Decimal::ZERO };
            for e in estimates.iter().filter(|e| e.fiscal_year == fy) {
                y.capex += e.capex;
                y.opex += e.opex;
                y.benefit += e.benefit;
            }
            y
        })
        .collect()
}

/// NPV of the net cash flows (benefit × `benefit_share` − CapEx − OpEx) of
/// the horizon, each year discounted at its end as Excel's NPV does.
pub fn npv(horizon: &[YearEstimate], rate: Decimal, benefit_share: Decimal) -> Result<Decimal> {
    if horizon.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let flows: Vec<Decimal> = horizon.iter().map(|y| y.benefit * benefit_share - y.capex - y.opex).collect();
    itbm_finance::npv(rate, &flows)
        .map(|v| v.round_dp(2))
        .map_err(|e| crate::error::Error::invalid("/discount_rate", e.to_string()))
}

/// The share of a benefit a risk level keeps in the risk-adjusted value:
/// 10 % less per level above 1 (risk 1 keeps all, risk 5 keeps 60 %).
pub fn risk_share(risk: i32) -> Decimal {
    Decimal::ONE - Decimal::new(i64::from(risk.clamp(1, 5) - 1), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(fy: i32, capex: i64, opex: i64, benefit: i64) -> YearEstimate {
        YearEstimate { fiscal_year: fy, capex: capex.into(), opex: opex.into(), benefit: benefit.into() }
    }

    #[test]
    fn shifting_moves_years_and_funding_scales_amounts() {
        let a = adjusted(&[y(2027, 100, 10, 0), y(2028, 0, 10, 50)], 1, Decimal::new(5, 1));
        assert_eq!(a, vec![y(2028, 50, 5, 0), y(2029, 0, 5, 25)]);
        let h = in_horizon(&a, 2027, 2);
        assert_eq!(h, vec![y(2027, 0, 0, 0), y(2028, 50, 5, 0)]);
    }

    #[test]
    fn npv_discounts_each_year_at_its_end_and_risk_cuts_benefits() {
        // -110 / 1.1 + 110 / 1.21 = -100 + 90.909...
        let v = npv(&[y(2027, 100, 10, 0), y(2028, 0, 0, 110)], Decimal::new(1, 1), Decimal::ONE).unwrap();
        assert_eq!(v, Decimal::new(-909, 2));
        assert_eq!(risk_share(5), Decimal::new(6, 1));
        assert_eq!(risk_share(1), Decimal::ONE);
    }
}
