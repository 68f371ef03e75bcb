//! Budgets for the previous and the current fiscal year: last year's plan,
//! locked; this year's plan, approved; and a draft reforecast of this year made
//! of the actuals of closed months and the expected run rate of the rest.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::Context;
use super::batch::{Table, row};
use super::finance::Org;
use super::ledger::Actuals;
use super::portfolio::ProjectPlan;
use super::spend::{SpendModel, apply_permille};
use crate::finance::calendar::FiscalPeriod;
use crate::portfolio::projects::ProjectState;

/// Who approves budgets.
const APPROVER: &str = "robert.nakamura";

const LINE_COLUMNS: &[&str] = &[
    "id", "budget_version_id", "fiscal_period", "cost_center_id", "cost_type_id", "project_id", "amount", "currency", "note",
    "created_at", "updated_at", "version",
];

pub fn build(ctx: &mut Context, org: &Org, spend: &SpendModel, projects: &[ProjectPlan], actuals: &Actuals) -> Vec<Table> {
    let now = ctx.now;
    let this_year = ctx.fiscal_year;
    let current = ctx.calendar.period_of(ctx.today);
    let mut versions = Table::new(
        "budget_versions",
        &[
            "id", "name", "fiscal_year", "kind", "state", "currency", "description", "approved_by", "approved_at", "created_at",
            "updated_at", "version",
        ],
    );
    let mut lines = Lines { table: Table::new("budget_lines", LINE_COLUMNS) };

    for (year, state, description) in [
        (this_year - 1, "locked", "Annual IT plan; closed at year end"),
        (this_year, "approved", "Annual IT plan approved by the board"),
    ] {
        let id = ctx.id();
        let name = format!("FY{year} Plan");
        versions.push(row![&id, name, i64::from(year), "plan", state, ctx.currency.as_str(), description, APPROVER, now, now, now, 1i64]);
        for info in ctx.calendar.periods(year) {
            for rate in &spend.run_rates {
                lines.push(ctx, org, &id, info.id, rate.cost_center, rate.cost_type, None, spend.planned_month(rate, year), None);
            }
            for project in projects.iter().filter(|p| p.is_budgeted()) {
                if project.planned_months().any(|m| m == info.start_date) {
                    for &(cost_type, cents) in &project.monthly {
                        lines.push(ctx, org, &id, info.id, project.cost_center, cost_type, Some(project), cents, None);
                    }
                }
            }
        }
    }

    let id = ctx.id();
    let name = format!("FY{this_year} Reforecast P{:02}", current.number);
    let description = "Actuals of closed months plus the expected run rate for the rest of the year";
    versions.push(row![
        &id,
        name,
        i64::from(this_year),
        "reforecast",
        "draft",
        ctx.currency.as_str(),
        description,
        Option::<&str>::None,
        Option::<DateTime<Utc>>::None,
        now,
        now,
        1i64
    ]);
    for (&(period, cost_center, cost_type, project), &cents) in actuals {
        if period.year == this_year && period < current {
            let project = project.map(|p| &projects[p]);
            lines.push(ctx, org, &id, period, cost_center, cost_type, project, cents, Some("Actuals"));
        }
    }
    for info in ctx.calendar.periods(this_year).into_iter().filter(|p| p.id >= current) {
        for rate in &spend.run_rates {
            lines.push(ctx, org, &id, info.id, rate.cost_center, rate.cost_type, None, spend.expected_month(rate, this_year), None);
        }
        let still_running = projects.iter().filter(|p| matches!(p.state, ProjectState::Approved | ProjectState::InProgress));
        for project in still_running {
            if project.planned_months().any(|m| m == info.start_date) {
                for &(cost_type, cents) in &project.monthly {
                    let expected = apply_permille(cents, project.cost_permille) / 100 * 100;
                    lines.push(ctx, org, &id, info.id, project.cost_center, cost_type, Some(project), expected, None);
                }
            }
        }
    }
    vec![versions, lines.table]
}

struct Lines {
    table: Table,
}

impl Lines {
    /// Queues a positive amount; months without spend have no line.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ctx: &mut Context,
        org: &Org,
        version_id: &str,
        period: FiscalPeriod,
        cost_center: usize,
        cost_type: usize,
        project: Option<&ProjectPlan>,
        cents: i64,
        note: Option<&str>,
    ) {
        if cents <= 0 {
            return;
        }
        let now = ctx.now;
        self.table.push(row![
            ctx.id(),
            version_id,
            period.to_string(),
            &org.cost_centers[cost_center].id,
            &org.cost_types[cost_type].id,
            project.map(|p| p.id.clone()),
            Decimal::new(cents, 2),
            ctx.currency.as_str(),
            note,
            now,
            now,
            1i64,
        ]);
    }
}
