//! One solve per benchmark instance, for time-to-gap measurements and tuning.
//!
//!   cargo run --release -p itbm-optimiser --example single -- [seeds limit gap]
//!
//! `seeds` comma-separated (default 1), `limit` seconds (default 2), `gap`
//! relative (default 0.001). FACTOR=0.05 scales every budget (a frontier
//! point); ITBM_HIGHS_OPTIONS and ITBM_HIGHS_LOG=1 pass options to HiGHS and
//! show its log. Prints wall and CPU seconds, the proven gap, the selection's
//! value and HiGHS's bound.

use std::time::Instant;

use itbm_optimiser::generate::{Shape, instance};
use itbm_optimiser::{Options, solve};
use rust_decimal::Decimal;

/// CPU seconds of this process (user + system, clock ticks of 1/100 s).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat.rsplit(')').next().unwrap_or("").split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: Vec<u64> = args.get(1).map_or(vec![1], |s| s.split(',').filter_map(|x| x.parse().ok()).collect());
    let limit: f64 = args.get(2).and_then(|x| x.parse().ok()).unwrap_or(2.0);
    let gap: f64 = args.get(3).and_then(|x| x.parse().ok()).unwrap_or(0.001);
    let factor: Decimal = std::env::var("FACTOR").ok().and_then(|f| f.parse().ok()).unwrap_or(Decimal::ONE);
    let mut gaps = Vec::new();
    for seed in seeds {
        let shape = Shape { items: 500, years: 5, budget_percent: 30, dependencies_per_100: 10, exclusions_per_100: 5, flags: true };
        let mut p = instance(seed, shape);
        for b in p.capex_budget.iter_mut().chain(p.opex_budget.iter_mut()) {
            *b = b.map(|v| (v * factor).round_dp(2));
        }
        let (t, c) = (Instant::now(), cpu_secs());
        match solve(&p, &Options { relative_gap: gap, time_limit_secs: limit }) {
            Ok(s) => {
                gaps.push(s.gap * 100.0);
                println!(
                    "seed {seed}: {:.2} s ({:.2} CPU s), gap {:.4} %, value {}, bound {:.0}, {}",
                    t.elapsed().as_secs_f64(),
                    cpu_secs() - c,
                    s.gap * 100.0,
                    s.objective.round_dp(0),
                    s.bound,
                    if s.optimal { "within gap" } else { "time limit" }
                );
            }
            Err(e) => println!("seed {seed}: {e}"),
        }
    }
    gaps.sort_by(f64::total_cmp);
    if let Some(m) = gaps.get(gaps.len() / 2) {
        println!("median gap {m:.3} %");
    }
}
