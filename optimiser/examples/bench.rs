//! Benchmark of the exact optimiser against a greedy ranking by value density.
//!
//!   cargo run --release -p itbm-optimiser --example bench [-- instances]
//!
//! Per instance: 500 candidates over 5 fiscal years, 10 budget rows, 50
//! dependencies and 25 exclusion groups, a must-fund and ten must-nots. Times
//! one exact solve and a 20-point frontier, and the greedy ranking's value.

use std::time::Instant;

use itbm_optimiser::generate::{Shape, instance};
use itbm_optimiser::{Options, frontier, greedy_by_density, is_feasible, solve};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

fn main() {
    let instances: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let gap: f64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(0.0);
    let options = Options { relative_gap: gap, time_limit_secs: 60.0 };
    println!("instance | solve s | optimal | gap | frontier s (20 pts) | optimum | greedy | gain %");
    let (mut worst_solve, mut worst_frontier, mut gains) = (0f64, 0f64, Vec::new());
    for seed in 1..=instances {
        let shape = Shape { items: 500, years: 5, budget_percent: 30, dependencies_per_100: 10, exclusions_per_100: 5, flags: true };
        let p = instance(seed, shape);
        let t = Instant::now();
        let s = solve(&p, &options).expect("solvable");
        let solve_s = t.elapsed().as_secs_f64();
        assert!(is_feasible(&p, &s.chosen));
        let t = Instant::now();
        let f = frontier(&p, &options, 20).expect("frontier");
        let frontier_s = t.elapsed().as_secs_f64();
        assert_eq!(f.len(), 20);
        let g = greedy_by_density(&p);
        assert!(is_feasible(&p, &g));
        let gv: Decimal = p.items.iter().zip(&g).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
        let gain = ((s.objective - gv) / gv * Decimal::from(100)).to_f64().unwrap_or(0.0);
        println!(
            "{seed} | {solve_s:.3} | {} | {:.5}% | {frontier_s:.2} | {} | {} | {gain:.2}",
            s.optimal,
            s.gap * 100.0,
            s.objective.round_dp(0),
            gv.round_dp(0)
        );
        worst_solve = worst_solve.max(solve_s);
        worst_frontier = worst_frontier.max(frontier_s);
        gains.push(gain);
    }
    let mean = gains.iter().sum::<f64>() / gains.len() as f64;
    let min = gains.iter().cloned().fold(f64::MAX, f64::min);
    let max = gains.iter().cloned().fold(f64::MIN, f64::max);
    println!("worst solve {worst_solve:.3} s, worst 20-point frontier {worst_frontier:.2} s, value gained over greedy: mean {mean:.2} %, min {min:.2} %, max {max:.2} %");
}
