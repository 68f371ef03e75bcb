//! The usual heuristic the optimiser is compared with: rank by value density
//! and fund down the list while the money lasts.

use rust_decimal::Decimal;

use crate::{Problem, Totals, add_item, overruns};

/// Must-fund items first (with their prerequisites), then items by value per
/// unit of total cost (CapEx + OpEx over the horizon), highest first; an item
/// is funded when its prerequisites are funded, no exclusion partner is, it is
/// not must-not and it fits every budget. Passes repeat until nothing changes,
/// so an item skipped for a missing prerequisite gets another chance. Items of
/// zero cost and positive value come first; items of non-positive value are
/// never funded unless forced.
pub fn greedy_by_density(p: &Problem) -> Vec<bool> {
    let n = p.items.len();
    let mut chosen = crate::closure(p, (0..n).filter(|i| p.items[*i].must_fund));
    let mut t = crate::totals(p, &chosen);
    let cost = |i: usize| -> Decimal { p.items[i].capex.iter().chain(&p.items[i].opex).copied().sum() };
    let mut order: Vec<usize> = (0..n).filter(|i| !chosen[*i] && p.items[*i].value > Decimal::ZERO).collect();
    // Density compared without dividing: a/b > c/d ⇔ a·d > c·b for b, d > 0;
    // zero-cost items first. Ties by index, so the ranking is deterministic.
    order.sort_by(|a, b| {
        let (va, ca, vb, cb) = (p.items[*a].value, cost(*a), p.items[*b].value, cost(*b));
        let key = |c: Decimal| c.is_zero();
        key(cb).cmp(&key(ca)).then_with(|| (vb * ca).cmp(&(va * cb))).then(a.cmp(b))
    });
    loop {
        let mut changed = false;
        for &i in &order {
            if chosen[i] || p.items[i].must_not {
                continue;
            }
            if p.dependencies.iter().any(|(d, pre)| *d == i && !chosen[*pre]) {
                continue;
            }
            if p.exclusions.iter().any(|g| g.contains(&i) && g.iter().any(|j| chosen[*j])) {
                continue;
            }
            let mut with: Totals = t.clone();
            add_item(&mut with, &p.items[i]);
            if overruns(p, &with).is_empty() {
                chosen[i] = true;
                t = with;
                changed = true;
            }
        }
        if !changed {
            return chosen;
        }
    }
}
