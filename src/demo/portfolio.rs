//! Portfolios, programs, strategic goals and forty projects in every lifecycle
//! state, each with the monthly spend plan its estimates, budget lines and
//! ledger lines come from.

use chrono::NaiveDate;
use rand::Rng;
use rand::seq::SliceRandom;
use rust_decimal::Decimal;

use super::batch::{Table, row};
use super::finance::Org;
use super::{Context, months, pick, rounded_thousands};
use crate::finance::calendar::FiscalCalendar;
use crate::portfolio::InvestmentCategory::{self, Grow, Run, Transform};
use crate::portfolio::estimates::YearEstimate;
use crate::portfolio::projects::{DEFAULT_ROI_MODEL, Health, ProjectState};

/// (name, owner, description)
const PORTFOLIOS: &[(&str, &str, &str)] = &[
    ("Infrastructure & Operations", "priya.raman", "Keep the platforms the company runs on reliable, secure and affordable"),
    ("Customer & Revenue", "ethan.brooks", "Win, serve and keep customers across every channel"),
    ("Digital Transformation", "daniel.okafor", "Move to the cloud and put data at the heart of decisions"),
    ("Corporate Functions", "robert.nakamura", "Modern tools for finance, people and the workplace"),
];

/// (portfolio, name, owner)
const PROGRAMS: &[(usize, &str, &str)] = &[
    (0, "Data Center Exit", "priya.raman"),
    (0, "Network Modernisation", "jonas.berg"),
    (1, "CRM Modernisation", "marcus.lindqvist"),
    (1, "Digital Commerce", "chloe.martin"),
    (2, "Cloud Migration", "noah.schmidt"),
    (2, "Data & AI", "lucia.fernandez"),
    (3, "Finance Systems Renewal", "robert.nakamura"),
    (3, "Workplace of the Future", "hannah.weiss"),
];

const COST: usize = 0;
const REVENUE: usize = 1;
const SECURITY: usize = 2;
const CLOUD: usize = 3;
const PEOPLE: usize = 4;

/// (name, description)
const GOALS: &[(&str, &str)] = &[
    ("Reduce cost to serve by 10%", "Lower the unit cost of IT services per employee and per order"),
    ("Grow digital revenue", "Double the share of revenue from online and partner channels"),
    ("Strengthen security and resilience", "Meet the cyber-insurance baseline and recover from any outage within four hours"),
    ("Run 70% of workloads in the cloud", "Exit the secondary data center and modernise hosting"),
    ("Improve employee experience", "Raise the internal IT satisfaction score to 4.5 out of 5"),
];

/// (name, portfolio, program, category, cost center, goals)
type ProjectSpec = (&'static str, usize, Option<usize>, InvestmentCategory, &'static str, &'static [usize]);

const PROJECTS: &[ProjectSpec] = &[
    ("Migrate core ERP to cloud hosting", 2, Some(4), Transform, "IT-APP", &[CLOUD, COST]),
    ("Decommission secondary data center", 0, Some(0), Transform, "IT-INF", &[COST, CLOUD]),
    ("SD-WAN rollout to branch offices", 0, Some(1), Grow, "IT-INF", &[COST, PEOPLE]),
    ("Wi-Fi refresh for headquarters", 0, Some(1), Run, "IT-INF", &[PEOPLE]),
    ("Backup platform consolidation", 0, Some(0), Run, "IT-INF", &[COST, SECURITY]),
    ("Storage array end-of-life replacement", 0, None, Run, "IT-INF", &[COST]),
    ("CRM platform upgrade", 1, Some(2), Grow, "IT-APP", &[REVENUE]),
    ("Sales quoting automation", 1, Some(2), Grow, "BU-SALES", &[REVENUE]),
    ("Customer 360 data model", 1, Some(2), Transform, "IT-DATA", &[REVENUE]),
    ("E-commerce checkout redesign", 1, Some(3), Grow, "BU-MKT", &[REVENUE]),
    ("Partner portal", 1, Some(3), Grow, "BU-SALES", &[REVENUE]),
    ("Marketing automation consolidation", 1, None, Run, "BU-MKT", &[COST, REVENUE]),
    ("Container platform for product teams", 2, Some(4), Transform, "IT-INF", &[CLOUD]),
    ("Lift-and-shift of legacy web applications", 2, Some(4), Transform, "IT-APP", &[CLOUD, COST]),
    ("Cloud cost management practice", 2, Some(4), Run, "IT", &[COST]),
    ("Enterprise data lakehouse", 2, Some(5), Transform, "IT-DATA", &[REVENUE, CLOUD]),
    ("Demand forecasting with machine learning", 2, Some(5), Transform, "BU-OPS", &[REVENUE, COST]),
    ("Self-service analytics rollout", 2, Some(5), Grow, "IT-DATA", &[PEOPLE]),
    ("General ledger replacement", 3, Some(6), Transform, "BU-FIN", &[COST]),
    ("Procure-to-pay automation", 3, Some(6), Grow, "BU-FIN", &[COST]),
    ("Monthly close acceleration", 3, Some(6), Run, "BU-FIN", &[COST]),
    ("Laptop fleet refresh", 3, Some(7), Run, "IT-SD", &[PEOPLE]),
    ("Modern collaboration suite rollout", 3, Some(7), Grow, "IT-SD", &[PEOPLE]),
    ("Service desk virtual agent", 3, Some(7), Grow, "IT-SD", &[PEOPLE, COST]),
    ("HR information system replacement", 3, None, Transform, "BU-HR", &[PEOPLE]),
    ("Zero-trust network access", 0, Some(1), Grow, "IT-SEC", &[SECURITY]),
    ("Privileged access management", 0, None, Run, "IT-SEC", &[SECURITY]),
    ("Security operations center uplift", 0, None, Grow, "IT-SEC", &[SECURITY]),
    ("Multi-factor authentication for all staff", 3, Some(7), Run, "IT-SEC", &[SECURITY, PEOPLE]),
    ("Warehouse scanner refresh", 0, None, Run, "BU-OPS", &[COST]),
    ("Field service mobile app", 1, Some(3), Grow, "BU-OPS", &[REVENUE, PEOPLE]),
    ("Contact center telephony to cloud", 2, Some(4), Grow, "BU-OPS", &[CLOUD, COST]),
    ("Payroll system upgrade", 3, Some(6), Run, "BU-HR", &[COST]),
    ("Data retention and archiving", 2, Some(5), Run, "IT-DATA", &[SECURITY, COST]),
    ("API gateway and integration platform", 2, Some(4), Transform, "IT-APP", &[CLOUD, REVENUE]),
    ("Disaster recovery test automation", 0, Some(0), Run, "IT-INF", &[SECURITY]),
    ("Customer identity and single sign-on", 1, Some(3), Grow, "IT-SEC", &[REVENUE, SECURITY]),
    ("Printer fleet consolidation", 3, Some(7), Run, "IT-SD", &[COST]),
    ("Observability platform", 2, Some(4), Grow, "IT-INF", &[CLOUD]),
    ("Mobile device management renewal", 3, Some(7), Run, "IT-SD", &[SECURITY, PEOPLE]),
];

/// How many projects are in each state; every state is represented.
const STATE_MIX: &[(ProjectState, usize)] = &[
    (ProjectState::InProgress, 14),
    (ProjectState::Completed, 7),
    (ProjectState::Approved, 6),
    (ProjectState::OnHold, 4),
    (ProjectState::Proposed, 5),
    (ProjectState::Cancelled, 4),
];

/// Project managers who own projects.
const OWNERS: &[&str] = &[
    "amelia.hart", "noah.schmidt", "zara.khan", "liam.oconnor", "mei.tanaka", "oscar.delgado",
    "ava.novak", "kofi.mensah", "sofia.rossi", "jonas.berg", "nina.petrov", "arjun.mehta",
];

/// One project and how it spends.
pub struct ProjectPlan {
    pub id: String,
    pub code: String,
    pub name: &'static str,
    pub portfolio_id: String,
    pub state: ProjectState,
    pub category: InvestmentCategory,
    pub risk: i64,
    pub cost_center: usize,
    /// First month of the plan.
    pub start: NaiveDate,
    /// Last month of the plan.
    pub last_month: NaiveDate,
    /// The last month with actual spend; none before work started.
    pub spent_until: Option<NaiveDate>,
    /// Planned spend per month: (cost type, cents).
    pub monthly: Vec<(usize, i64)>,
    /// Actual cost over plan, per mille: red projects overrun.
    pub cost_permille: i64,
    pub estimates: Vec<YearEstimate>,
    /// The approved demand this project came from.
    pub demand_id: Option<String>,
}

impl ProjectPlan {
    /// Approved and running projects are in the budget; proposals and
    /// cancelled projects are not.
    pub fn is_budgeted(&self) -> bool {
        matches!(self.state, ProjectState::Approved | ProjectState::InProgress | ProjectState::OnHold | ProjectState::Completed)
    }

    pub fn planned_months(&self) -> impl Iterator<Item = NaiveDate> {
        months::between(self.start, self.last_month)
    }
}

pub struct Portfolio {
    pub portfolio_ids: Vec<String>,
    pub projects: Vec<ProjectPlan>,
    /// Portfolios, programs and goals: written before demands, which refer to portfolios.
    pub tables: Vec<Table>,
    /// Projects, their estimates and goal links: written after demands, which projects refer to.
    pub project_tables: Vec<Table>,
}

pub fn build(ctx: &mut Context, org: &Org) -> Portfolio {
    let now = ctx.now;
    let mut portfolios = Table::new("portfolios", &["id", "name", "description", "owner", "created_at", "updated_at", "version"]);
    let mut portfolio_ids = Vec::new();
    for &(name, owner, description) in PORTFOLIOS {
        let id = ctx.id();
        portfolios.push(row![&id, name, description, owner, now, now, 1i64]);
        portfolio_ids.push(id);
    }

    let mut programs =
        Table::new("programs", &["id", "portfolio_id", "name", "description", "owner", "created_at", "updated_at", "version"]);
    let mut program_ids = Vec::new();
    for &(portfolio, name, owner) in PROGRAMS {
        let id = ctx.id();
        programs.push(row![&id, &portfolio_ids[portfolio], name, Option::<String>::None, owner, now, now, 1i64]);
        program_ids.push(id);
    }

    let mut goals = Table::new("strategic_goals", &["id", "name", "description", "created_at", "updated_at", "version"]);
    let mut goal_ids = Vec::new();
    for &(name, description) in GOALS {
        let id = ctx.id();
        goals.push(row![&id, name, description, now, now, 1i64]);
        goal_ids.push(id);
    }

    let mut states: Vec<ProjectState> = STATE_MIX.iter().flat_map(|&(state, n)| std::iter::repeat_n(state, n)).collect();
    assert_eq!(states.len(), PROJECTS.len(), "one state per demo project");
    states.shuffle(&mut ctx.rng);

    let mut projects = Table::new(
        "projects",
        &[
            "id", "code", "name", "description", "portfolio_id", "program_id", "demand_id", "owner", "state", "health",
            "investment_category", "risk", "start_date", "end_date", "currency", "cost_center_id", "roi_model",
            "created_at", "updated_at", "version",
        ],
    );
    let mut estimates = Table::new("project_estimates", &["project_id", "fiscal_year", "capex", "opex", "benefit"]);
    let mut links = Table::new("project_goals", &["project_id", "goal_id", "weight"]);
    let mut plans = Vec::new();
    let mut seen_in_state = [0usize; ProjectState::ALL.len()];
    for (i, (&(name, portfolio, program, category, cost_center, goal_refs), state)) in PROJECTS.iter().zip(states).enumerate() {
        let state_index = ProjectState::ALL.iter().position(|s| *s == state).expect("a known state");
        let health = health_for(state, seen_in_state[state_index]);
        seen_in_state[state_index] += 1;
        let plan = plan_project(ctx, org, i, name, &portfolio_ids[portfolio], state, health, category, cost_center);
        let description = match program {
            Some(p) => format!("Part of the {} program.", PROGRAMS[p].1),
            None => format!("Stand-alone {}-the-business investment in the {} portfolio.", category, PORTFOLIOS[portfolio].0),
        };
        projects.push(row![
            &plan.id,
            &plan.code,
            name,
            description,
            &plan.portfolio_id,
            program.map(|p| program_ids[p].clone()),
            plan.demand_id.clone(),
            *pick(&mut ctx.rng, OWNERS),
            state.as_str(),
            health.as_str(),
            category.as_str(),
            plan.risk,
            plan.start,
            months::end_of(plan.last_month),
            ctx.currency.as_str(),
            &org.cost_centers[plan.cost_center].id,
            DEFAULT_ROI_MODEL,
            now,
            now,
            1i64,
        ]);
        for e in &plan.estimates {
            estimates.push(row![&plan.id, i64::from(e.fiscal_year), e.capex, e.opex, e.benefit]);
        }
        let weights: &[i64] = if goal_refs.len() == 1 { &[100] } else { &[60, 40] };
        for (&goal, &weight) in goal_refs.iter().zip(weights) {
            links.push(row![&plan.id, &goal_ids[goal], Decimal::new(weight, 2)]);
        }
        plans.push(plan);
    }

    Portfolio {
        portfolio_ids,
        projects: plans,
        tables: vec![portfolios, programs, goals],
        project_tables: vec![projects, estimates, links],
    }
}

/// Health by state, cycling so that every health shows up: running projects
/// are mostly green, paused ones amber or red, cancelled ones went wrong.
fn health_for(state: ProjectState, nth: usize) -> Health {
    use Health::{Amber, Green, Red};
    let cycle: &[Health] = match state {
        ProjectState::InProgress => &[Green, Green, Amber, Green, Red],
        ProjectState::OnHold => &[Amber, Red],
        ProjectState::Completed => &[Green, Green, Amber],
        ProjectState::Approved | ProjectState::Proposed => &[Green, Green, Green, Amber],
        ProjectState::Cancelled => &[Red, Amber],
    };
    cycle[nth % cycle.len()]
}

/// Dates, size and spend of a project, consistent with its state: completed
/// projects ended in the past, running ones started before today, proposals
/// start later.
#[allow(clippy::too_many_arguments)]
fn plan_project(
    ctx: &mut Context,
    org: &Org,
    index: usize,
    name: &'static str,
    portfolio_id: &str,
    state: ProjectState,
    health: Health,
    category: InvestmentCategory,
    cost_center: &str,
) -> ProjectPlan {
    let rng = &mut ctx.rng;
    let this_month = ctx.this_month;
    let (start, duration, spent_until) = match state {
        ProjectState::Completed => {
            let duration = rng.random_range(6..=16);
            let last = months::add(this_month, -rng.random_range(1..=8));
            (months::add(last, 1 - duration), duration, Some(last))
        }
        ProjectState::InProgress => {
            let duration = rng.random_range(8..=20);
            let elapsed = rng.random_range(2..=duration - 2);
            (months::add(this_month, -elapsed), duration, Some(this_month))
        }
        ProjectState::OnHold => {
            let duration = rng.random_range(8..=18);
            let elapsed = rng.random_range(4..=duration - 3);
            let paused = months::add(this_month, -rng.random_range(1..=3));
            (months::add(this_month, -elapsed), duration, Some(paused))
        }
        ProjectState::Approved => {
            let start = months::add(this_month, rng.random_range(0..=3));
            (start, rng.random_range(6..=15), (start == this_month).then_some(this_month))
        }
        ProjectState::Proposed => (months::add(this_month, rng.random_range(2..=8)), rng.random_range(6..=18), None),
        ProjectState::Cancelled => (months::add(this_month, -rng.random_range(2..=12)), rng.random_range(8..=16), None),
    };
    let last_month = months::add(start, duration - 1);
    let (total_dollars, risk) = match category {
        Run => (rng.random_range(15..=60) * 10_000, rng.random_range(1..=3)),
        Grow => (rng.random_range(40..=180) * 10_000, rng.random_range(2..=4)),
        Transform => (rng.random_range(150..=500) * 10_000, rng.random_range(3..=5)),
    };
    let monthly = monthly_spend(org, category, total_dollars, duration);
    let cost_permille = match health {
        Health::Green => rng.random_range(960..=1_020),
        Health::Amber => rng.random_range(1_050..=1_120),
        Health::Red => rng.random_range(1_150..=1_300),
    };
    let estimates = year_estimates(&ctx.calendar, org, start, last_month, &monthly, benefit_percent(category));
    ProjectPlan {
        id: ctx.id(),
        code: format!("PRJ-{:04}", 1001 + index),
        name,
        portfolio_id: portfolio_id.to_owned(),
        state,
        category,
        risk,
        cost_center: org.cost_center(cost_center),
        start,
        last_month,
        spent_until,
        monthly,
        cost_permille,
        estimates,
        // Every third project came through the demand process.
        demand_id: (index % 3 == 0).then(|| ctx.id()),
    }
}

/// How a project's money is spent, by category: run projects buy hardware and
/// services, grow and transform projects build with capitalised labour.
fn spend_mix(category: InvestmentCategory) -> &'static [(&'static str, i64)] {
    match category {
        Run => &[("CONTR", 40), ("HW", 35), ("LIC", 25)],
        Grow => &[("LAB-CAP", 40), ("CONTR", 35), ("SW-CAP", 25)],
        Transform => &[("LAB-CAP", 35), ("CONTR", 30), ("CLOUD", 20), ("SW-CAP", 15)],
    }
}

/// The yearly benefit once delivered, as a percentage of the total cost.
pub fn benefit_percent(category: InvestmentCategory) -> i64 {
    match category {
        Run => 25,
        Grow => 45,
        Transform => 70,
    }
}

/// Even monthly spend per cost type, in whole hundreds.
pub fn monthly_spend(org: &Org, category: InvestmentCategory, total_dollars: i64, duration: i32) -> Vec<(usize, i64)> {
    spend_mix(category)
        .iter()
        .map(|&(cost_type, percent)| (org.cost_type(cost_type), total_dollars * percent / 100 / i64::from(duration) / 100 * 10_000))
        .collect()
}

/// CapEx and OpEx per fiscal year over the plan, then two years of benefit
/// after delivery; rounded to thousands as business cases are.
pub fn year_estimates(
    calendar: &FiscalCalendar,
    org: &Org,
    start: NaiveDate,
    last_month: NaiveDate,
    monthly: &[(usize, i64)],
    benefit_percent: i64,
) -> Vec<YearEstimate> {
    let first_year = calendar.year_of(start);
    let last_year = calendar.year_of(last_month);
    let total: i64 = monthly.iter().map(|(_, cents)| cents).sum::<i64>() * i64::from(months::count(start, last_month) + 1);
    (first_year..=last_year + 2)
        .map(|year| {
            let months_in_year = months::between(start, last_month).filter(|m| calendar.year_of(*m) == year).count() as i64;
            let (mut capex, mut opex) = (0, 0);
            for &(cost_type, cents) in monthly {
                if org.cost_types[cost_type].capex { capex += cents * months_in_year } else { opex += cents * months_in_year }
            }
            let benefit = if year > last_year { total * benefit_percent / 100 } else { 0 };
            YearEstimate {
                fiscal_year: year,
                capex: rounded_thousands(capex),
                opex: rounded_thousands(opex),
                benefit: rounded_thousands(benefit),
            }
        })
        .collect()
}
