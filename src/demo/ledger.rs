//! Fifty thousand ledger lines over the last 24 months: the run-the-business
//! spend of every cost center, the spend of every project that has started,
//! and the purchases of assets, each month's amount split into invoices and
//! payslips of believable size, with a few credit notes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{Map, json};

use super::assets::Purchase;
use super::batch::{Table, row};
use super::finance::{Org, Service, Vendor};
use super::portfolio::ProjectPlan;
use super::spend::{SpendModel, apply_permille};
use super::{Context, months, pick};
use crate::finance::calendar::FiscalPeriod;

/// Lines the demo ledger holds.
pub const LINES: usize = 50_000;

/// Where ledger lines are marked as coming from.
pub const SOURCE: &str = "demo";

/// Actual spend in the reporting currency, in cents, by
/// (period, cost center, cost type, project).
pub type Actuals = BTreeMap<(FiscalPeriod, usize, usize, Option<usize>), i64>;

/// One month's spend on one cost type by one cost center (and project).
struct Cell {
    month: NaiveDate,
    cost_center: usize,
    cost_type: usize,
    project: Option<usize>,
    cents: i64,
}

const COLUMNS: &[&str] = &[
    "id", "entry_date", "fiscal_period", "amount", "currency", "cost_type_id", "cost_center_id", "project_id", "asset_id",
    "vendor_id", "service_id", "cost_pool_id", "tower_id", "description", "tags", "source", "source_key", "created_by",
    "created_at", "updated_at", "version",
];

pub fn build(ctx: &mut Context, org: &Org, spend: &SpendModel, projects: &[ProjectPlan], purchases: &[Purchase]) -> (Table, Actuals) {
    let mut ledger = Ledger { table: Table::new("ledger_lines", COLUMNS), actuals: Actuals::new() };

    for purchase in purchases {
        let line = Line {
            date: purchase.date,
            cents: purchase.cents,
            cost_center: purchase.cost_center,
            cost_type: purchase.cost_type,
            project: None,
            asset_id: Some(&purchase.asset_id),
            vendor: Some(org.vendor(purchase.vendor)),
            service: Some(org.service(purchase.service)),
            description: format!("Purchase of {}", purchase.name),
            tags: json!({ "po": format!("PO-{:06}", ctx.rng.random_range(100_000..1_000_000)) }),
        };
        ledger.book(ctx, org, line);
    }

    for cell in project_cells(ctx, projects) {
        let line_size = org.cost_types[cell.cost_type].line_size_cents;
        let lines = (cell.cents / line_size).clamp(1, 8) as usize;
        book_cell(ctx, org, projects, &mut ledger, &cell, lines);
    }

    let cells = run_cells(ctx, org, spend);
    let weights: Vec<i128> =
        cells.iter().map(|c| i128::from(c.cents) * 1_000 / i128::from(org.cost_types[c.cost_type].line_size_cents)).collect();
    let remaining = LINES.checked_sub(ledger.table.len()).expect("projects and purchases leave room for run-the-business lines");
    for (cell, lines) in cells.iter().zip(share_out(&weights, remaining)) {
        book_cell(ctx, org, projects, &mut ledger, cell, lines);
    }
    (ledger.table, ledger.actuals)
}

/// The months of the ledger window, with the share of each already booked:
/// all of past months, the elapsed part of this one.
fn window(ctx: &Context) -> Vec<(NaiveDate, i64)> {
    months::between(ctx.first_month, ctx.this_month)
        .map(|m| {
            let permille = if m == ctx.this_month { i64::from(ctx.today.day()) * 1_000 / i64::from(months::days_in(m)) } else { 1_000 };
            (m, permille)
        })
        .collect()
}

/// Project spend from the start of work to today, the pause or the end, as
/// planned but scaled by how the project runs (red projects overrun).
fn project_cells(ctx: &mut Context, projects: &[ProjectPlan]) -> Vec<Cell> {
    let window = window(ctx);
    let mut cells = Vec::new();
    for (index, project) in projects.iter().enumerate() {
        let Some(spent_until) = project.spent_until.filter(|_| project.is_budgeted()) else { continue };
        for &(month, booked_permille) in window.iter().filter(|(m, _)| *m >= project.start && *m <= spent_until) {
            for &(cost_type, planned) in &project.monthly {
                let noise = ctx.rng.random_range(900..=1_100);
                let cents = apply_permille(apply_permille(apply_permille(planned, project.cost_permille), noise), booked_permille);
                cells.push(Cell { month, cost_center: project.cost_center, cost_type, project: Some(index), cents });
            }
        }
    }
    cells
}

/// Run-the-business spend: the plan of each month, off by the line's bias and
/// by noise (hardware purchases are lumpy).
fn run_cells(ctx: &mut Context, org: &Org, spend: &SpendModel) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (month, booked_permille) in window(ctx) {
        let fiscal_year = ctx.calendar.year_of(month);
        for rate in &spend.run_rates {
            let spread = if org.cost_types[rate.cost_type].code == "HW" { 350 } else { 70 };
            let noise = 1_000 + rate.bias_permille + ctx.rng.random_range(-spread..=spread);
            let cents = apply_permille(apply_permille(spend.planned_month(rate, fiscal_year), noise), booked_permille);
            cells.push(Cell { month, cost_center: rate.cost_center, cost_type: rate.cost_type, project: None, cents });
        }
    }
    cells
}

/// Splits a cell's amount into `lines` ledger lines and books them.
fn book_cell(ctx: &mut Context, org: &Org, projects: &[ProjectPlan], ledger: &mut Ledger, cell: &Cell, lines: usize) {
    let cost_type = &org.cost_types[cell.cost_type];
    let cost_center = &org.cost_centers[cell.cost_center];
    let project = cell.project.map(|p| &projects[p]);
    let with_credit = !cost_type.is_labour() && lines >= 3 && ctx.rng.random_bool(0.12);
    let last_day = if cell.month == ctx.this_month { ctx.today.day() } else { months::days_in(cell.month) };
    for cents in split(&mut ctx.rng, cell.cents, lines, with_credit) {
        let rng = &mut ctx.rng;
        let date = cell.month.with_day(rng.random_range(1..=last_day)).expect("a day of the month");
        let vendor = (!cost_type.vendors.is_empty()).then(|| org.vendor(*pick(rng, cost_type.vendors)));
        let service = (!cost_center.services.is_empty()).then(|| org.service(*pick(rng, cost_center.services)));
        let description = match (vendor, project) {
            (Some(v), _) if cents < 0 => format!("{} credit note: {}", v.name, cost_type.name),
            (Some(v), _) => format!("{} invoice INV-{:06}: {}", v.name, rng.random_range(100_000..1_000_000), cost_type.name),
            (None, Some(p)) => format!("{} on {} ({})", cost_type.name, p.code, cost_center.name),
            (None, None) => format!("{} payroll, {}", cost_center.name, cell.month.format("%b %Y")),
        };
        let mut tags = Map::new();
        match cost_type.code {
            "CLOUD" => {
                tags.insert("env".into(), json!(pick(rng, &["prod", "prod", "prod", "dev", "test"])));
                tags.insert("region".into(), json!(pick(rng, &["us-east", "us-west", "eu-west"])));
            }
            "LAB-INT" | "LAB-CAP" => {
                tags.insert("team".into(), json!(cost_center.code.to_lowercase()));
            }
            _ => {}
        }
        if let Some(p) = project {
            tags.insert("project".into(), json!(p.code));
        }
        let line = Line {
            date,
            cents,
            cost_center: cell.cost_center,
            cost_type: cell.cost_type,
            project: cell.project.map(|p| (p, &projects[p])),
            asset_id: None,
            vendor,
            service,
            description,
            tags: serde_json::Value::Object(tags),
        };
        ledger.book(ctx, org, line);
    }
}

/// `cents` in `lines` parts of varying size that add up to it exactly. With a
/// credit, one part is a credit note and the others cover it.
fn split(rng: &mut impl Rng, cents: i64, lines: usize, with_credit: bool) -> Vec<i64> {
    if lines <= 1 {
        return vec![cents];
    }
    let credit = if with_credit { cents * rng.random_range(2..=8) / 100 } else { 0 };
    let debits = if with_credit { lines - 1 } else { lines };
    let weights: Vec<i64> = (0..debits).map(|_| rng.random_range(50..=150)).collect();
    let total_weight: i64 = weights.iter().sum();
    let to_share = cents + credit;
    let mut parts: Vec<i64> = weights.iter().map(|w| (i128::from(to_share) * i128::from(*w) / i128::from(total_weight)) as i64).collect();
    let rounding = to_share - parts.iter().sum::<i64>();
    parts[0] += rounding;
    if with_credit {
        parts.push(-credit);
    }
    parts
}

/// Shares `total` lines out in proportion to `weights`, at least one each,
/// adding up to `total` exactly (largest remainders get the rounding).
fn share_out(weights: &[i128], total: usize) -> Vec<usize> {
    let sum: i128 = weights.iter().sum::<i128>().max(1);
    let target = total as i128;
    let mut counts: Vec<usize> = weights.iter().map(|w| ((target * w / sum) as usize).max(1)).collect();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(target * weights[i] % sum));
    let assigned: usize = counts.iter().sum();
    if assigned < total {
        for &i in by_remainder.iter().cycle().take(total - assigned) {
            counts[i] += 1;
        }
    } else {
        for _ in 0..assigned - total {
            let largest = (0..counts.len()).max_by_key(|&i| counts[i]).expect("cells to take lines from");
            counts[largest] -= 1;
        }
    }
    counts
}

struct Ledger {
    table: Table,
    actuals: Actuals,
}

/// One line before it is written: amounts in cents of the reporting currency.
struct Line<'a> {
    date: NaiveDate,
    cents: i64,
    cost_center: usize,
    cost_type: usize,
    project: Option<(usize, &'a ProjectPlan)>,
    asset_id: Option<&'a str>,
    vendor: Option<&'a Vendor>,
    service: Option<&'a Service>,
    description: String,
    tags: serde_json::Value,
}

impl Ledger {
    /// Queues a line, in its vendor's currency, and adds it to the actuals.
    fn book(&mut self, ctx: &mut Context, org: &Org, line: Line) {
        let period = ctx.calendar.period_of(line.date);
        let cost_type = &org.cost_types[line.cost_type];
        let (currency, amount) = org.invoice_amount(&ctx.currency, line.vendor, months::start_of(line.date), line.cents);
        let tower_id = line.service.map(|s| s.tower_id).unwrap_or(cost_type.default_tower_id);
        let key = format!("demo-{:06}", self.table.len() + 1);
        let now = ctx.now;
        self.table.push(row![
            ctx.id(),
            line.date,
            period.to_string(),
            Decimal::new(amount, 2),
            currency,
            &cost_type.id,
            &org.cost_centers[line.cost_center].id,
            line.project.map(|(_, p)| p.id.clone()),
            line.asset_id,
            line.vendor.map(|v| v.id.clone()),
            line.service.map(|s| s.id.clone()),
            cost_type.pool_id,
            tower_id,
            line.description,
            line.tags.to_string(),
            SOURCE,
            key,
            SOURCE,
            now,
            now,
            1i64,
        ]);
        *self.actuals.entry((period, line.cost_center, line.cost_type, line.project.map(|(i, _)| i))).or_default() += line.cents;
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn lines_are_shared_out_exactly_and_every_cell_gets_one() {
        let weights = [1_000_000, 3, 250_000, 0, 77_777];
        for total in [5, 17, 1_000, 49_999] {
            let counts = share_out(&weights, total);
            assert_eq!(counts.iter().sum::<usize>(), total);
            assert!(counts.iter().all(|&n| n >= 1));
        }
    }

    #[test]
    fn a_split_adds_up_to_the_month_and_a_credit_note_is_negative() {
        let mut rng = StdRng::seed_from_u64(7);
        for (lines, with_credit) in [(1, false), (5, false), (5, true), (40, true)] {
            let parts = split(&mut rng, 1_234_567, lines, with_credit);
            assert_eq!(parts.len(), lines);
            assert_eq!(parts.iter().sum::<i64>(), 1_234_567);
            assert_eq!(parts.iter().any(|p| *p < 0), with_credit);
        }
    }
}
