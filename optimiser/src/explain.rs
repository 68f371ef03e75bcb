//! Why each item was left out of a selection, in terms of the constraints.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::{Constraint, Problem, Totals, add_item, closure, overruns};

/// Why an item is not in the selection.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// It is marked must-not, or needs an item that is.
    MustNot { item: String },
    /// It is in an exclusion group with a chosen item.
    Excluded { constraint: Constraint, chosen: String },
    /// Adding it (with the prerequisites not yet chosen) would exceed this
    /// budget or capacity by `excess`.
    Budget { constraint: Constraint, excess: Decimal },
    /// It would fit, but adding it (with its missing prerequisites, listed)
    /// changes the objective by `delta`, which is not an improvement.
    LowerValue { delta: Decimal, with: Vec<String> },
    /// It would fit and improve the objective by `delta`, which is within
    /// the optimality gap the solve stopped at.
    WithinGap { delta: Decimal },
}

/// For every unchosen item: what adding it, together with its prerequisites
/// that are not chosen, would break.
pub(crate) fn reasons(p: &Problem, chosen: &[bool], t: &Totals) -> BTreeMap<usize, Vec<Reason>> {
    let mut out = BTreeMap::new();
    for i in (0..p.items.len()).filter(|i| !chosen[*i]) {
        let added: Vec<usize> = closure(p, [i]).iter().enumerate().filter(|(j, inside)| **inside && !chosen[*j]).map(|(j, _)| j).collect();
        let mut why = Vec::new();
        for j in &added {
            if p.items[*j].must_not {
                why.push(Reason::MustNot { item: p.items[*j].key.clone() });
            }
        }
        for (g, group) in p.exclusions.iter().enumerate() {
            if group.iter().any(|j| added.contains(j)) {
                if let Some(c) = group.iter().find(|j| chosen[**j]) {
                    why.push(Reason::Excluded {
                        constraint: Constraint::Exclusion { group: g, items: group.iter().map(|j| p.items[*j].key.clone()).collect() },
                        chosen: p.items[*c].key.clone(),
                    });
                }
            }
        }
        let mut with = t.clone();
        for j in &added {
            add_item(&mut with, &p.items[*j]);
        }
        for (constraint, excess) in overruns(p, &with) {
            why.push(Reason::Budget { constraint, excess });
        }
        if why.is_empty() {
            let delta: Decimal = added.iter().map(|j| p.items[*j].value).sum();
            why.push(if delta > Decimal::ZERO {
                Reason::WithinGap { delta }
            } else {
                Reason::LowerValue { delta, with: added.iter().filter(|j| **j != i).map(|j| p.items[*j].key.clone()).collect() }
            });
        }
        out.insert(i, why);
    }
    out
}
