//! Sixty demands in every state of the intake process. Each approved demand is
//! the origin of a project (`projects.demand_id`) and carries that project's
//! estimates, as approval copies them.

use rand::Rng;
use rand::seq::SliceRandom;

use super::batch::{Table, row};
use super::finance::Org;
use super::portfolio::{Portfolio, benefit_percent, monthly_spend, year_estimates};
use super::{Context, months, pick};
use crate::portfolio::InvestmentCategory;

/// Demands that did not (yet) become projects.
const TITLES: &[&str] = &[
    "Upgrade video conferencing rooms",
    "Sales territory planning tool",
    "Automated invoice matching",
    "Employee onboarding portal",
    "Data loss prevention rollout",
    "Supplier risk dashboard",
    "Warehouse robotics pilot",
    "Legal matter management system",
    "Expense management mobile app",
    "Replace the legacy intranet",
    "Customer feedback analytics",
    "Network access control",
    "Digital signage for stores",
    "Predictive maintenance for the delivery fleet",
    "Treasury management system",
    "Learning management system refresh",
    "Board portal",
    "Contract lifecycle management",
    "Carbon emissions reporting",
    "Tablets for field sales",
    "Single product catalogue",
    "Email security gateway replacement",
    "IT asset discovery tool",
    "Chat-based IT support",
    "Quality management system",
    "Customer loyalty app",
    "Dynamic pricing engine",
    "Vendor master data clean-up",
    "Virtual desktops for contractors",
    "Branch office printer replacement",
    "Revenue recognition automation",
    "Cyber-insurance readiness assessment",
    "Secrets management platform",
    "Developer portal",
    "Test automation framework",
    "Recruiting system integration",
    "Kubernetes cost allocation",
    "Store footfall analytics",
    "Product information management",
    "Call recording compliance",
    "Meeting room booking system",
    "GPU cluster for data science",
    "Mainframe workload assessment",
    "Archive legacy CRM data",
    "Website accessibility remediation",
    "Time and attendance system",
];

/// States of the demands in [`TITLES`]; approved demands come from projects.
const STATE_MIX: &[(&str, usize)] = &[("draft", 9), ("submitted", 10), ("under_review", 9), ("rejected", 8), ("deferred", 10)];

const REQUESTERS: &[&str] = &[
    "ethan.brooks", "chloe.martin", "robert.nakamura", "grace.osei", "isabel.costa", "olivia.grant", "priya.raman",
    "marcus.lindqvist", "hannah.weiss", "samuel.adeyemi", "lucia.fernandez", "tom.walsh", "leila.haddad",
];

/// The investment board's chair.
const DECIDER: &str = "daniel.okafor";

const REJECTIONS: &[&str] = &[
    "Overlaps with the CRM platform upgrade",
    "Benefits not quantified; resubmit with a business case",
    "Not aligned with this year's strategic goals",
    "Cost exceeds the expected benefit",
];

const DEFERRALS: &[&str] = &[
    "Revisit in the next planning cycle",
    "Waits for the data center exit to finish",
    "No budget left this fiscal year",
];

const COLUMNS: &[&str] = &[
    "id", "title", "description", "requester", "portfolio_id", "state", "investment_category", "risk", "requested_start",
    "currency", "decision_note", "decided_by", "decided_at", "created_at", "updated_at", "version",
];

pub fn build(ctx: &mut Context, org: &Org, portfolio: &Portfolio) -> Vec<Table> {
    let now = ctx.now;
    let mut demands = Table::new("demands", COLUMNS);
    let mut estimates = Table::new("demand_estimates", &["demand_id", "fiscal_year", "capex", "opex", "benefit"]);

    for project in &portfolio.projects {
        let Some(id) = &project.demand_id else { continue };
        let note = format!("Approved by the investment board as project {}", project.code);
        demands.push(row![
            id,
            project.name,
            "Business case accepted at the quarterly investment board.",
            *pick(&mut ctx.rng, REQUESTERS),
            &project.portfolio_id,
            "approved",
            project.category.as_str(),
            project.risk,
            project.start,
            ctx.currency.as_str(),
            note,
            DECIDER,
            now,
            now,
            now,
            1i64,
        ]);
        for e in &project.estimates {
            estimates.push(row![id, i64::from(e.fiscal_year), e.capex, e.opex, e.benefit]);
        }
    }

    let mut states: Vec<&str> = STATE_MIX.iter().flat_map(|&(state, n)| std::iter::repeat_n(state, n)).collect();
    assert_eq!(states.len(), TITLES.len(), "one state per demo demand");
    states.shuffle(&mut ctx.rng);
    for (&title, state) in TITLES.iter().zip(states) {
        let id = ctx.id();
        let rng = &mut ctx.rng;
        let category = *pick(rng, &[InvestmentCategory::Run, InvestmentCategory::Grow, InvestmentCategory::Grow, InvestmentCategory::Transform]);
        let decided = matches!(state, "rejected" | "deferred");
        let start_offset = if decided { rng.random_range(-6..=6) } else { rng.random_range(1..=9) };
        let requested_start = months::add(ctx.this_month, start_offset);
        let duration = rng.random_range(6..=15);
        let total_dollars = match category {
            InvestmentCategory::Run => rng.random_range(5..=40) * 10_000,
            InvestmentCategory::Grow => rng.random_range(20..=150) * 10_000,
            InvestmentCategory::Transform => rng.random_range(100..=400) * 10_000,
        };
        let risk: i64 = rng.random_range(1..=5);
        let note = match state {
            "rejected" => Some(*pick(rng, REJECTIONS)),
            "deferred" => Some(*pick(rng, DEFERRALS)),
            _ => None,
        };
        let requester = *pick(rng, REQUESTERS);
        let portfolio_id = pick(rng, &portfolio.portfolio_ids).clone();
        let monthly = monthly_spend(org, category, total_dollars, duration);
        let last_month = months::add(requested_start, duration - 1);
        demands.push(row![
            &id,
            title,
            Option::<String>::None,
            requester,
            portfolio_id,
            state,
            category.as_str(),
            risk,
            requested_start,
            ctx.currency.as_str(),
            note,
            decided.then_some(DECIDER),
            decided.then_some(now),
            now,
            now,
            1i64,
        ]);
        for e in year_estimates(&ctx.calendar, org, requested_start, last_month, &monthly, benefit_percent(category)) {
            estimates.push(row![&id, i64::from(e.fiscal_year), e.capex, e.opex, e.benefit]);
        }
    }
    vec![demands, estimates]
}
