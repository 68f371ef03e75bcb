//! The value map of a portfolio: each open project and pending demand with its
//! cost, its benefit, its NPV, its risk and its strategic alignment, for the
//! dashboard's value versus cost versus risk bubble chart.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::ItemKind;
use super::candidates::{self, Skipped};
use crate::db::Db;
use crate::error::Result;
use crate::finance::settings;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValuePoint {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub name: String,
    /// 1 (low) to 5 (very high).
    pub risk: i32,
    /// Sum of the goal-link weights, at most 1.
    #[schema(value_type = String)]
    pub alignment: Decimal,
    /// CapEx + OpEx over every estimated year.
    #[schema(value_type = String)]
    pub cost: Decimal,
    /// Benefit over every estimated year.
    #[schema(value_type = String)]
    pub benefit: Decimal,
    /// NPV of the yearly net flows from the first estimated year, each year
    /// discounted at its end (Excel's NPV).
    #[schema(value_type = String)]
    pub npv: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueMap {
    pub portfolio_id: String,
    /// The reporting currency; items in another currency are in `skipped`.
    pub currency: String,
    #[schema(value_type = String)]
    pub discount_rate: Decimal,
    pub items: Vec<ValuePoint>,
    pub skipped: Vec<Skipped>,
}

pub async fn load(db: &Db, portfolio_id: &str) -> Result<ValueMap> {
    let mut ex = db.clone();
    crate::portfolio::portfolios::get(&mut ex, portfolio_id).await?;
    let settings = settings::get(&mut ex).await?;
    let (currency, discount_rate) = (settings.reporting_currency, settings.discount_rate);
    let (candidates, skipped) = candidates::load(&mut ex, portfolio_id, &currency).await?;
    let mut items = Vec::with_capacity(candidates.len());
    for c in candidates {
        let first = c.estimates.iter().map(|e| e.fiscal_year).min().unwrap_or_default();
        let last = c.estimates.iter().map(|e| e.fiscal_year).max().unwrap_or(first);
        let horizon = candidates::in_horizon(&c.estimates, first, (last - first + 1) as usize);
        items.push(ValuePoint {
            npv: candidates::npv(&horizon, discount_rate, Decimal::ONE)?,
            cost: c.total_cost(),
            benefit: c.estimates.iter().map(|e| e.benefit).sum(),
            item_kind: c.kind,
            item_id: c.id,
            name: c.name,
            risk: c.risk,
            alignment: c.alignment,
        });
    }
    Ok(ValueMap { portfolio_id: portfolio_id.to_owned(), currency, discount_rate, items, skipped })
}
