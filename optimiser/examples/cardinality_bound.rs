//! Does a cardinality constraint tighten the LP bound? The LP relaxation of
//! a benchmark instance, then the same with Σx = k for k around the LP's Σx:
//! max over k of those is a valid bound (some k holds at the optimum).
//!
//!   [FACTOR=0.05] cargo run --release -p itbm-optimiser --example cardinality_bound -- [seed]
use highs::{RowProblem, Sense, HighsModelStatus};
use itbm_optimiser::generate::{Shape, instance};
use rust_decimal::prelude::ToPrimitive;
fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|x| x.parse().ok()).unwrap_or(1);
    let mut p = instance(seed, Shape { items: 500, years: 5, budget_percent: 30, dependencies_per_100: 10, exclusions_per_100: 5, flags: true });
    // FACTOR=0.05 scales every budget, as a frontier point does.
    let factor: rust_decimal::Decimal = std::env::var("FACTOR").ok().and_then(|f| f.parse().ok()).unwrap_or(rust_decimal::Decimal::ONE);
    for b in p.capex_budget.iter_mut().chain(p.opex_budget.iter_mut()) {
        *b = b.map(|v| (v * factor).round_dp(2));
    }
    let n = p.items.len();
    let lp = |card: Option<f64>| -> (f64, f64) {
        let mut pb = RowProblem::default();
        let cols: Vec<_> = p.items.iter().map(|it| {
            let hi = if it.must_not { 0.0 } else { 1.0 };
            let lo = if it.must_fund { 1.0 } else { 0.0 };
            pb.add_column(it.value.to_f64().unwrap(), lo..=hi)
        }).collect();
        for y in 0..5 {
            let b = p.capex_budget[y].unwrap().to_f64().unwrap();
            pb.add_row(..=1.0, (0..n).map(|i| (cols[i], p.items[i].capex[y].to_f64().unwrap() / b)));
            let b = p.opex_budget[y].unwrap().to_f64().unwrap();
            pb.add_row(..=1.0, (0..n).map(|i| (cols[i], p.items[i].opex[y].to_f64().unwrap() / b)));
        }
        for (d, q) in &p.dependencies { pb.add_row(..=0.0, [(cols[*d], 1.0), (cols[*q], -1.0)]); }
        for g in &p.exclusions { pb.add_row(..=1.0, g.iter().map(|i| (cols[*i], 1.0))); }
        if let Some(k) = card { pb.add_row(k..=k, cols.iter().map(|c| (*c, 1.0))); }
        let mut m = pb.optimise(Sense::Maximise); m.make_quiet();
        let s = m.solve();
        if s.status() != HighsModelStatus::Optimal { return (f64::NEG_INFINITY, 0.0); }
        let k: f64 = s.get_solution().columns().iter().sum();
        (s.objective_value(), k)
    };
    let (z, k) = lp(None);
    println!("LP {z:.0} sum x {k:.3}");
    let mut best = f64::NEG_INFINITY;
    for kk in (k.floor() as i64 - 6)..=(k.ceil() as i64 + 6) {
        let (zk, _) = lp(Some(kk as f64));
        best = best.max(zk);
        println!("k {kk} LP {zk:.0} ({:.3}% below LP)", (z - zk) / z * 100.0);
    }
    println!("max_k {best:.0}: {:.3}% below LP", (z - best) / z * 100.0);
}
