//! The run-the-business spend model both the budgets and the ledger come from,
//! so that actuals track the plan the way they do in a real company: each cost
//! center spends on a few cost types at a yearly rate that grows 5% a year; the
//! actuals drift from the plan by a bias per line (cloud runs over, contractors
//! under) and by noise per month.

use rand::Rng;

use super::Context;
use super::finance::Org;

/// Yearly spend per cost center and cost type in the previous fiscal year, in
/// thousands of the reporting currency. About 43 million a year in total.
const RUN_RATES: &[(&str, &[(&str, i64)])] = &[
    ("CORP", &[("FAC", 400), ("LIC", 120)]),
    ("IT", &[("LAB-INT", 900), ("CONTR", 200), ("FAC", 300), ("LIC", 100)]),
    (
        "IT-INF",
        &[("HW", 900), ("CLOUD", 4_200), ("MAINT", 1_100), ("LAB-INT", 2_400), ("CONTR", 600), ("TELCO", 700), ("FAC", 1_500), ("LIC", 500)],
    ),
    ("IT-APP", &[("SW-CAP", 800), ("LAB-CAP", 1_200), ("CLOUD", 1_300), ("LIC", 3_200), ("MAINT", 600), ("LAB-INT", 3_600), ("CONTR", 1_500)]),
    ("IT-SD", &[("HW", 1_400), ("LIC", 1_300), ("LAB-INT", 1_800), ("CONTR", 400), ("TELCO", 150)]),
    ("IT-SEC", &[("LIC", 1_100), ("MAINT", 300), ("LAB-INT", 1_300), ("CONTR", 500), ("SW-CAP", 200)]),
    ("IT-DATA", &[("CLOUD", 1_600), ("LIC", 700), ("LAB-INT", 1_500), ("CONTR", 300)]),
    ("BU-SALES", &[("LIC", 900), ("HW", 250), ("TELCO", 300)]),
    ("BU-MKT", &[("LIC", 600), ("CLOUD", 200), ("CONTR", 300)]),
    ("BU-FIN", &[("LIC", 400), ("CONTR", 150)]),
    ("BU-OPS", &[("HW", 300), ("TELCO", 400), ("LIC", 200), ("MAINT", 150)]),
    ("BU-HR", &[("LIC", 350), ("CONTR", 100)]),
];

/// How far actuals run from plan per cost type, in per mille.
fn bias_of(cost_type: &str) -> i64 {
    match cost_type {
        "CLOUD" => 90,
        "LIC" => 25,
        "MAINT" => -20,
        "CONTR" => -60,
        "HW" => -80,
        _ => 0,
    }
}

/// Spend on one cost type by one cost center.
pub struct RunRate {
    pub cost_center: usize,
    pub cost_type: usize,
    yearly_cents: i64,
    /// Actual over plan, in per mille (+90: actuals run 9% above plan).
    pub bias_permille: i64,
}

pub struct SpendModel {
    pub run_rates: Vec<RunRate>,
    /// The fiscal year whose plan the yearly rates are.
    base_year: i32,
}

impl SpendModel {
    pub fn build(ctx: &mut Context, org: &Org) -> SpendModel {
        let mut run_rates = Vec::new();
        for &(cost_center, rates) in RUN_RATES {
            for &(cost_type, thousands) in rates {
                run_rates.push(RunRate {
                    cost_center: org.cost_center(cost_center),
                    cost_type: org.cost_type(cost_type),
                    yearly_cents: thousands * 100_000,
                    bias_permille: bias_of(cost_type) + ctx.rng.random_range(-30..=30),
                });
            }
        }
        SpendModel { run_rates, base_year: ctx.fiscal_year - 1 }
    }

    /// The monthly plan of `rate` in `fiscal_year`, in whole units of currency.
    pub fn planned_month(&self, rate: &RunRate, fiscal_year: i32) -> i64 {
        let growth_permille = 1_000 + 50 * i64::from(fiscal_year - self.base_year);
        rate.yearly_cents * growth_permille / 1_000 / 12 / 100 * 100
    }

    /// What management expects now for a month not yet booked: the plan
    /// corrected by the drift seen so far.
    pub fn expected_month(&self, rate: &RunRate, fiscal_year: i32) -> i64 {
        apply_permille(self.planned_month(rate, fiscal_year), 1_000 + rate.bias_permille) / 100 * 100
    }
}

/// `cents` scaled by `permille` / 1000.
pub fn apply_permille(cents: i64, permille: i64) -> i64 {
    (i128::from(cents) * i128::from(permille) / 1_000) as i64
}
