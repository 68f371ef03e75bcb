//! Seeded random instances, for the brute-force tests and the benchmark.
//! A tiny SplitMix64 keeps them reproducible across versions of `rand`.

use rust_decimal::Decimal;

use crate::{Item, Problem};

/// SplitMix64: a small, well-mixed generator; enough for test instances.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Shape of a generated instance.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub items: usize,
    pub years: usize,
    /// Each year's CapEx and OpEx budget as a percentage of what all items
    /// together would spend that year.
    pub budget_percent: i64,
    /// Dependencies per 100 items.
    pub dependencies_per_100: usize,
    /// Exclusion groups (of two or three) per 100 items.
    pub exclusions_per_100: usize,
    /// Whether to mark a few items must-fund and must-not.
    pub flags: bool,
}

/// A portfolio-like instance: projects of one to three years of CapEx
/// (in thousands, with cents), OpEx from go-live on, values from a loss to
/// about twice the cost; dependencies point to lower-numbered items, so they
/// never form a cycle.
pub fn instance(seed: u64, shape: Shape) -> Problem {
    let mut rng = Rng::new(seed);
    let years = shape.years;
    let cents = |rng: &mut Rng, lo: i64, hi: i64| Decimal::new(rng.range(lo * 100, hi * 100), 2);
    let mut items = Vec::with_capacity(shape.items);
    for i in 0..shape.items {
        let start = rng.range(0, years as i64 - 1) as usize;
        let build = rng.range(1, 3) as usize;
        let mut capex = vec![Decimal::ZERO; years];
        let mut opex = vec![Decimal::ZERO; years];
        let mut cost = Decimal::ZERO;
        for (y, c) in capex.iter_mut().enumerate().skip(start).take(build) {
            *c = cents(&mut rng, 20_000, 900_000);
            cost += *c;
            let _ = y;
        }
        for o in opex.iter_mut().skip(start) {
            *o = cents(&mut rng, 5_000, 150_000);
            cost += *o;
        }
        let value = (cost * Decimal::new(rng.range(-30, 220), 2)).round_dp(2);
        items.push(Item::new(format!("P{i:03}"), value, capex, opex));
    }
    let mut capex_budget = Vec::with_capacity(years);
    let mut opex_budget = Vec::with_capacity(years);
    for y in 0..years {
        let c: Decimal = items.iter().map(|i| i.capex[y]).sum();
        let o: Decimal = items.iter().map(|i| i.opex[y]).sum();
        capex_budget.push(Some((c * Decimal::from(shape.budget_percent) / Decimal::from(100)).round_dp(2)));
        opex_budget.push(Some((o * Decimal::from(shape.budget_percent) / Decimal::from(100)).round_dp(2)));
    }
    let n = shape.items;
    let mut dependencies = Vec::new();
    if n > 1 {
        for _ in 0..(shape.dependencies_per_100 * n).div_ceil(100) {
            let d = rng.range(1, n as i64 - 1) as usize;
            let p = rng.range(0, d as i64 - 1) as usize;
            if !dependencies.contains(&(d, p)) {
                dependencies.push((d, p));
            }
        }
    }
    let mut exclusions = Vec::new();
    if n > 2 {
        for _ in 0..(shape.exclusions_per_100 * n).div_ceil(100) {
            let size = rng.range(2, 3) as usize;
            let mut group: Vec<usize> = Vec::new();
            while group.len() < size {
                let i = rng.range(0, n as i64 - 1) as usize;
                if !group.contains(&i) {
                    group.push(i);
                }
            }
            group.sort();
            exclusions.push(group);
        }
    }
    if shape.flags {
        // One must-fund item with no prerequisites and in no exclusion
        // group, and a few must-not items, so the instance stays feasible.
        let free = (0..n).find(|i| !dependencies.iter().any(|(d, _)| d == i) && !exclusions.iter().flatten().any(|j| j == i));
        if let Some(i) = free {
            let fits = (0..years).all(|y| {
                capex_budget[y].is_none_or(|b| items[i].capex[y] <= b) && opex_budget[y].is_none_or(|b| items[i].opex[y] <= b)
            });
            items[i].must_fund = fits;
        }
        for _ in 0..n.div_ceil(50) {
            let i = rng.range(0, n as i64 - 1) as usize;
            if !items[i].must_fund {
                items[i].must_not = true;
            }
        }
    }
    Problem { years: (0..years as i32).map(|y| 2027 + y).collect(), items, capex_budget, opex_budget, capacity: Default::default(), dependencies, exclusions }
}
