//! Benchmark of the exact optimiser against a greedy ranking by value density.
//!
//!   cargo run --release -p itbm-optimiser --example bench [-- instances gap limit frontier_limit]
//!
//! Per instance: 500 candidates over 5 fiscal years, 10 budget rows, 50
//! dependencies and 25 exclusion groups, a must-fund and ten must-nots. Times
//! one solve (stop at `gap`, default 0.001, or after `limit` seconds, default
//! 2) and a 20-point frontier (each point stops at `gap` or after
//! `frontier_limit` seconds, default 0.9: the points run on one worker per
//! core, at most four, so on 2 cores 20 points take about 10 × 0.9 s), and
//! compares with the greedy ranking by value density. Wall and CPU seconds are
//! both shown: on a shared machine the wall clock includes waiting for a core,
//! and with two threads CPU seconds can be up to twice the wall time.

use std::time::Instant;

use itbm_optimiser::generate::{Shape, instance};
use itbm_optimiser::{Options, frontier, greedy_by_density, is_feasible, solve};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// CPU seconds this process has used (user + system), from /proc: on a
/// shared machine wall time includes waiting for a core.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks of 1/100 s).
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let instances: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let arg = |i: usize, default: f64| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let options = Options { relative_gap: arg(2, 0.001), time_limit_secs: arg(3, 2.0) };
    let frontier_options = Options { time_limit_secs: arg(4, 0.9), ..options };
    println!("instance | solve s (CPU s) | status | gap | frontier s (CPU s), 20 points | frontier gap: median, worst | best found | greedy | gain %");
    let (mut worst_solve, mut worst_frontier, mut gains) = (0f64, 0f64, Vec::new());
    for seed in 1..=instances {
        let shape = Shape { items: 500, years: 5, budget_percent: 30, dependencies_per_100: 10, exclusions_per_100: 5, flags: true };
        let p = instance(seed, shape);
        let (t, c) = (Instant::now(), cpu_secs());
        let s = solve(&p, &options).expect("solvable");
        let solve_s = t.elapsed().as_secs_f64();
        let solve_cpu = cpu_secs() - c;
        assert!(is_feasible(&p, &s.chosen));
        let (t, c) = (Instant::now(), cpu_secs());
        let f = frontier(&p, &frontier_options, 20).expect("frontier");
        let frontier_s = t.elapsed().as_secs_f64();
        let frontier_cpu = cpu_secs() - c;
        assert_eq!(f.len(), 20);
        let mut frontier_gaps: Vec<f64> = f.iter().filter_map(|pt| pt.solution.as_ref()).map(|s| s.gap).collect();
        frontier_gaps.sort_by(f64::total_cmp);
        let frontier_worst_gap = frontier_gaps.last().copied().unwrap_or(0.0);
        let frontier_median_gap = frontier_gaps.get(frontier_gaps.len() / 2).copied().unwrap_or(0.0);
        let g = greedy_by_density(&p);
        assert!(is_feasible(&p, &g));
        let gv: Decimal = p.items.iter().zip(&g).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
        let gain = ((s.objective - gv) / gv * Decimal::from(100)).to_f64().unwrap_or(0.0);
        println!(
            "{seed} | {solve_s:.3} ({solve_cpu:.2}) | {} | {:.3}% | {frontier_s:.2} ({frontier_cpu:.2}) | {:.2}%, {:.2}% | {} | {} | {gain:.2}",
            if s.optimal { "within gap" } else { "time limit" },
            s.gap * 100.0,
            frontier_median_gap * 100.0,
            frontier_worst_gap * 100.0,
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
