//! Items that can be left out before the solve without losing the optimum.

use rust_decimal::Decimal;

use crate::Problem;

/// Whether each item can be fixed to "not chosen" before the solve, keeping
/// at least one optimal selection (and so the optimal value) intact.
///
/// Two rules, applied until nothing changes:
///
/// - **Forced out**: a must-not item, and any item that needs (directly or
///   through other items) an item that is forced out, is in no feasible
///   selection at all.
/// - **Never helps**: an item that is not must-fund, has a value of zero or
///   less, and that no item still in play needs. Take any feasible selection
///   containing it and drop it: budgets still hold (costs are non-negative),
///   exclusions still hold (they only limit how many are chosen), no chosen
///   item loses a prerequisite (none in play needs it; the items fixed out
///   earlier are not chosen), and the objective changes by −value ≥ 0. So some
///   optimal selection leaves it out. Applied one item at a time (each fixing
///   only removes items from play), the argument holds for all of them
///   together.
///
/// The solver's presolve finds most of this too; doing it here makes the model
/// smaller before HiGHS sees it and states the rule where it can be tested.
pub(crate) fn fixed_out(p: &Problem) -> Vec<bool> {
    let n = p.items.len();
    let mut out: Vec<bool> = p.items.iter().map(|i| i.must_not && !i.must_fund).collect();
    // needed_by[a] = the items that need a.
    let mut needed_by: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (d, pre) in &p.dependencies {
        needed_by[*pre].push(*d);
    }
    loop {
        let mut changed = false;
        for (d, pre) in &p.dependencies {
            if out[*pre] && !out[*d] && !p.items[*d].must_fund {
                out[*d] = true;
                changed = true;
            }
        }
        for i in 0..n {
            let item = &p.items[i];
            if !out[i] && !item.must_fund && item.value <= Decimal::ZERO && needed_by[i].iter().all(|d| out[*d]) {
                out[i] = true;
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Shape, instance};
    use crate::{Options, brute_force, solve};

    /// Marking the fixed-out items must-not leaves the brute-force optimum
    /// unchanged, on instances with many losses, dependencies and flags.
    #[test]
    fn fixing_out_keeps_the_brute_force_optimum() {
        let mut fixed_some = 0;
        for seed in 0..300u64 {
            let shape = Shape {
                items: 4 + (seed % 11) as usize,
                years: 1 + (seed % 4) as usize,
                budget_percent: 20 + (seed % 7) as i64 * 10,
                dependencies_per_100: 30,
                exclusions_per_100: 15,
                flags: seed % 2 == 0,
            };
            let mut p = instance(seed, shape);
            // More losses and zeros than the generator gives, to exercise the rule.
            for (k, item) in p.items.iter_mut().enumerate() {
                if (k as u64 + seed).is_multiple_of(4) {
                    item.value = -item.value.abs();
                } else if (k as u64 + seed).is_multiple_of(9) {
                    item.value = Decimal::ZERO;
                }
            }
            let Some((best, _)) = brute_force(&p) else { continue };
            let out = fixed_out(&p);
            fixed_some += usize::from(out.iter().any(|o| *o));
            let mut reduced = p.clone();
            for (item, o) in reduced.items.iter_mut().zip(&out) {
                item.must_not |= *o;
            }
            let (reduced_best, _) = brute_force(&reduced).unwrap_or_else(|| panic!("seed {seed}: fixing made it infeasible"));
            assert_eq!(reduced_best, best, "seed {seed}");
            let s = solve(&p, &Options::default()).unwrap();
            assert_eq!(s.objective, best, "seed {seed}");
        }
        assert!(fixed_some > 200, "{fixed_some}");
    }
}
