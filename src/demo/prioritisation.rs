//! A scoring framework and scores, so a portfolio manager can rank the
//! pipeline and run the optimiser for next year's budget right away: the
//! weighted framework "Strategic value" (business value, urgency, delivery
//! risk, strategic fit) and WSJF values for every open project and every
//! demand awaiting a decision.
//!
//! Written after the other tables, from what they hold, so the candidates are
//! exactly those the optimiser sees.

use rand::Rng;

use super::Context;
use super::batch::{Table, row};
use crate::db::{DbError, Tx, query};
use crate::prioritisation::candidates::{OPEN_DEMAND_STATES, OPEN_PROJECT_STATES};
use crate::prioritisation::scoring::{Direction, FrameworkKind, Source};
use rust_decimal::Decimal;

pub const FRAMEWORK: &str = "Strategic value";

/// (key, name, weight, scale max, direction, source); scales start at 1
/// (alignment at 0 and ends at 1).
const CRITERIA: &[(&str, &str, i64, i64, Direction, Source)] = &[
    ("business_value", "Business value", 4, 5, Direction::HigherIsBetter, Source::Manual),
    ("urgency", "Urgency", 2, 5, Direction::HigherIsBetter, Source::Manual),
    ("delivery_risk", "Delivery risk", 2, 5, Direction::LowerIsBetter, Source::Manual),
    ("strategic_fit", "Strategic fit (goal alignment)", 2, 1, Direction::HigherIsBetter, Source::Alignment),
];

pub(super) async fn write(tx: &mut Tx, ctx: &mut Context) -> Result<usize, DbError> {
    let id = ctx.id();
    let now = ctx.now;
    let mut frameworks = Table::new("scoring_frameworks", &["id", "name", "description", "kind", "built_in", "created_at", "updated_at", "version"]);
    frameworks.push(row![
        id.as_str(),
        FRAMEWORK,
        "How the portfolio board ranks work: value and urgency first, then delivery risk and fit with the strategic goals",
        FrameworkKind::Weighted.as_str(),
        false,
        now,
        now,
        1i64
    ]);
    let mut criteria = Table::new("scoring_criteria", &["framework_id", "position", "criterion", "name", "weight", "scale_min", "scale_max", "direction", "source"]);
    for (i, (key, name, weight, max, direction, source)) in CRITERIA.iter().enumerate() {
        let min = if *source == Source::Alignment { 0 } else { 1 };
        criteria.push(row![id.as_str(), i as i64, *key, *name, Decimal::from(*weight), Decimal::from(min), Decimal::from(*max), direction.as_str(), source.as_str()]);
    }

    let projects = query(format!("SELECT id, risk FROM projects WHERE state IN {OPEN_PROJECT_STATES} ORDER BY id")).fetch_all(&mut *tx).await?;
    let demands = query(format!("SELECT id, risk FROM demands WHERE state IN {OPEN_DEMAND_STATES} ORDER BY id")).fetch_all(&mut *tx).await?;
    let mut scores = Table::new("scores", &["framework_id", "item_kind", "item_id", "criterion", "value", "scored_by", "updated_at"]);
    for (kind, rows) in [("project", &projects), ("demand", &demands)] {
        for r in rows.iter() {
            let item: String = r.get("id")?;
            let risk: i64 = r.get("risk")?;
            let mut put = |framework: &str, criterion: &str, value: Decimal| {
                scores.push(row![framework, kind, item.as_str(), criterion, value, "demo.pm", now]);
            };
            put(&id, "business_value", Decimal::from(ctx.rng.random_range(1..=5)));
            put(&id, "urgency", Decimal::from(ctx.rng.random_range(1..=5)));
            put(&id, "delivery_risk", Decimal::from(risk));
            if kind == "demand" {
                // Demands have no goal links yet: the board judges their fit.
                put(&id, "strategic_fit", Decimal::new(ctx.rng.random_range(2..=10), 1));
            }
            for criterion in ["business_value", "time_criticality", "risk_reduction"] {
                put("wsjf", criterion, Decimal::from(*[1, 2, 3, 5, 8, 13, 20].get(ctx.rng.random_range(0..7)).unwrap_or(&1)));
            }
            put("wsjf", "job_size", Decimal::from(*[1, 2, 3, 5, 8, 13, 20].get(ctx.rng.random_range(0..7)).unwrap_or(&1)));
        }
    }
    let mut written = 0;
    for table in [frameworks, criteria, scores] {
        written += table.write(tx).await?;
    }
    Ok(written)
}
