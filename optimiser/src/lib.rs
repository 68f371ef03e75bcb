//! Portfolio selection, solved exactly.
//!
//! Choose the subset of candidates (demands and projects) that maximises the
//! sum of their values under per-year CapEx and OpEx budgets, optional
//! capacity per role per year, must-fund and must-not flags, dependencies
//! (B needs A) and mutual exclusions (at most one of a group). It is a 0/1
//! integer programme; [HiGHS](https://highs.dev) solves it by branch and cut
//! and proves optimality (or reports the remaining gap).
//!
//! Money is [`Decimal`] at this crate's boundary. The solver works in `f64`;
//! that is an internal detail: the chosen set's totals are recomputed in
//! `Decimal` and checked against every budget before a solution is returned,
//! and a budget the floating-point solution overran by a rounding error is
//! tightened and solved again.
//!
//! Infeasibility is explained without the solver: all costs are non-negative,
//! so the problem is feasible exactly when the must-fund items with all their
//! prerequisites fit every budget, include no must-not item and take at most
//! one item of each exclusion group. [`solve`] checks that first and names the
//! conflicting constraints.

pub mod generate;
mod explain;
mod greedy;
mod heuristic;
mod model;
mod reduce;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rust_decimal::Decimal;

pub use explain::Reason;
pub use greedy::greedy_by_density;

/// One candidate: a demand or a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The caller's name for it (an id); used in explanations.
    pub key: String,
    /// Its contribution to the objective (NPV, score, risk-adjusted value).
    /// May be negative.
    pub value: Decimal,
    /// CapEx per year of the horizon (index = year index), non-negative.
    pub capex: Vec<Decimal>,
    /// OpEx per year of the horizon, non-negative.
    pub opex: Vec<Decimal>,
    /// Effort per (role, year index), non-negative.
    pub effort: BTreeMap<(String, usize), Decimal>,
    pub must_fund: bool,
    pub must_not: bool,
}

impl Item {
    /// A candidate with no effort and no flags.
    pub fn new(key: impl Into<String>, value: Decimal, capex: Vec<Decimal>, opex: Vec<Decimal>) -> Item {
        Item { key: key.into(), value, capex, opex, effort: BTreeMap::new(), must_fund: false, must_not: false }
    }
}

/// A selection problem over a horizon of `years.len()` fiscal years.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problem {
    /// The fiscal years of the horizon, for explanations.
    pub years: Vec<i32>,
    pub items: Vec<Item>,
    /// CapEx budget per year index; `None` is unlimited.
    pub capex_budget: Vec<Option<Decimal>>,
    pub opex_budget: Vec<Option<Decimal>>,
    /// Available effort per (role, year index). A role with no entry for a
    /// year is unlimited in that year.
    pub capacity: BTreeMap<(String, usize), Decimal>,
    /// `(dependent, prerequisite)`: the dependent may be chosen only with
    /// the prerequisite.
    pub dependencies: Vec<(usize, usize)>,
    /// Groups of which at most one item may be chosen.
    pub exclusions: Vec<Vec<usize>>,
}

/// A constraint of the problem, as named in explanations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Constraint {
    Capex { year: i32 },
    Opex { year: i32 },
    Capacity { role: String, year: i32 },
    MustFund { item: String },
    MustNot { item: String },
    /// `item` needs `prerequisite`.
    Dependency { item: String, prerequisite: String },
    /// Exclusion group number `group` (its index in [`Problem::exclusions`]).
    Exclusion { group: usize, items: Vec<String> },
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Capex { year } => write!(f, "CapEx budget {year}"),
            Constraint::Opex { year } => write!(f, "OpEx budget {year}"),
            Constraint::Capacity { role, year } => write!(f, "capacity of role {role} in {year}"),
            Constraint::MustFund { item } => write!(f, "{item} must be funded"),
            Constraint::MustNot { item } => write!(f, "{item} must not be funded"),
            Constraint::Dependency { item, prerequisite } => write!(f, "{item} needs {prerequisite}"),
            Constraint::Exclusion { items, .. } => write!(f, "at most one of {}", items.join(", ")),
        }
    }
}

/// Why a problem cannot be solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    /// The input is malformed (lengths, indexes, negative costs).
    #[error("invalid problem: {0}")]
    Invalid(String),
    /// The dependencies contain a cycle: the keys in order, the first
    /// repeated at the end.
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// No selection satisfies the constraints; each conflict names the
    /// constraints that cannot hold together.
    #[error("infeasible: {}", .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    Infeasible(Vec<Conflict>),
    /// The solver failed (time limit without any solution, numerical trouble).
    #[error("solver: {0}")]
    Solver(String),
}

/// Constraints that cannot all hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub constraints: Vec<Constraint>,
    pub message: String,
}

/// Solver settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Stop when the relative gap between the best selection and the proven
    /// bound is at most this (0 = prove optimality).
    pub relative_gap: f64,
    /// Give up after this many seconds, returning the best selection found
    /// with its gap.
    pub time_limit_secs: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { relative_gap: 0.0, time_limit_secs: 30.0 }
    }
}

/// Totals of a selection per year index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    pub capex: Vec<Decimal>,
    pub opex: Vec<Decimal>,
    pub effort: BTreeMap<(String, usize), Decimal>,
}

/// The best selection found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Whether each item (by index) is chosen.
    pub chosen: Vec<bool>,
    /// Sum of the chosen items' values, in exact decimals.
    pub objective: Decimal,
    /// The solver's proven upper bound on the objective.
    pub bound: f64,
    /// Relative optimality gap: (bound − objective) / max(1, |objective|).
    pub gap: f64,
    /// Whether the selection is proven optimal within the requested gap.
    pub optimal: bool,
    pub totals: Totals,
    /// For every item not chosen (by index), why.
    pub reasons: BTreeMap<usize, Vec<Reason>>,
    /// Branch-and-bound nodes the solver explored.
    pub nodes: i64,
}

/// Solves `problem` exactly (or to `options.relative_gap`).
pub fn solve(problem: &Problem, options: &Options) -> Result<Solution, SolveError> {
    validate(problem)?;
    check_cycles(problem)?;
    check_feasible(problem)?;
    let (chosen, bound, gap, optimal, nodes) = model::solve(problem, options, &problem.capex_budget, &problem.opex_budget, None)?;
    Ok(finish(problem, chosen, bound, gap, optimal, nodes))
}

fn finish(problem: &Problem, chosen: Vec<bool>, bound: f64, gap: f64, optimal: bool, nodes: i64) -> Solution {
    let objective = problem.items.iter().zip(&chosen).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
    let totals = totals(problem, &chosen);
    let reasons = explain::reasons(problem, &chosen, &totals);
    Solution { chosen, objective, bound, gap, optimal, totals, reasons, nodes }
}

/// One point of an efficient frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    /// The share of every CapEx and OpEx budget available at this point.
    pub budget_factor: Decimal,
    /// `None` when the must-fund items do not fit at this budget.
    pub solution: Option<Solution>,
}

/// The best objective as the budgets vary: `points` solves with every CapEx
/// and OpEx budget scaled by 1/points, 2/points, ..., 1 (capacity unchanged),
/// each with `options` (so each point has `options.time_limit_secs`).
///
/// The points are solved by one worker thread per core (at most four, so that
/// one request cannot take a large server), each with its own single-threaded
/// HiGHS, taking the next point in order of budget. Budgets grow with the
/// point, so every finished point's selection is feasible for a later one:
/// each solve starts from the best of them.
pub fn frontier(problem: &Problem, options: &Options, points: usize) -> Result<Vec<FrontierPoint>, SolveError> {
    validate(problem)?;
    check_cycles(problem)?;
    let next = AtomicUsize::new(1);
    // Per point (index k − 1): its result once solved.
    let results: Mutex<Vec<Option<Result<FrontierPoint, SolveError>>>> = Mutex::new(vec![None; points]);
    let worker = || {
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k > points {
                return;
            }
            let factor = Decimal::from(k as u64) / Decimal::from(points as u64);
            let scale = |b: &Vec<Option<Decimal>>| b.iter().map(|v| v.map(|v| (v * factor).round_dp(2))).collect::<Vec<_>>();
            let scaled = Problem { capex_budget: scale(&problem.capex_budget), opex_budget: scale(&problem.opex_budget), ..problem.clone() };
            // The best selection of the points below this one solved so far.
            let start: Option<Vec<bool>> = {
                let done = results.lock().unwrap_or_else(|e| e.into_inner());
                done[..k - 1]
                    .iter()
                    .filter_map(|r| r.as_ref()?.as_ref().ok()?.solution.as_ref())
                    .max_by_key(|s| s.objective)
                    .map(|s| s.chosen.clone())
            };
            let point = match check_feasible(&scaled) {
                Err(SolveError::Infeasible(_)) => Ok(FrontierPoint { budget_factor: factor, solution: None }),
                Err(e) => Err(e),
                Ok(()) => model::solve(&scaled, options, &scaled.capex_budget, &scaled.opex_budget, start.as_deref())
                    .map(|(chosen, bound, gap, optimal, nodes)| FrontierPoint { budget_factor: factor, solution: Some(finish(&scaled, chosen, bound, gap, optimal, nodes)) }),
            };
            results.lock().unwrap_or_else(|e| e.into_inner())[k - 1] = Some(point);
        }
    };
    // Each worker runs its own single-threaded HiGHS.
    std::thread::scope(|s| {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        for _ in 0..workers.min(points) {
            s.spawn(worker);
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every point is solved")).collect()
}

/// Totals of a selection, in decimals.
pub fn totals(problem: &Problem, chosen: &[bool]) -> Totals {
    let years = problem.years.len();
    let mut t = Totals { capex: vec![Decimal::ZERO; years], opex: vec![Decimal::ZERO; years], effort: BTreeMap::new() };
    for (item, _) in problem.items.iter().zip(chosen).filter(|(_, c)| **c) {
        add_item(&mut t, item);
    }
    t
}

fn add_item(t: &mut Totals, item: &Item) {
    for (y, v) in item.capex.iter().enumerate() {
        t.capex[y] += *v;
    }
    for (y, v) in item.opex.iter().enumerate() {
        t.opex[y] += *v;
    }
    for (k, v) in &item.effort {
        *t.effort.entry(k.clone()).or_default() += *v;
    }
}

/// The budget constraints `t` overruns, with the excess.
pub fn overruns(problem: &Problem, t: &Totals) -> Vec<(Constraint, Decimal)> {
    let mut out = Vec::new();
    for (y, year) in problem.years.iter().enumerate() {
        if let Some(b) = problem.capex_budget[y] {
            if t.capex[y] > b {
                out.push((Constraint::Capex { year: *year }, t.capex[y] - b));
            }
        }
        if let Some(b) = problem.opex_budget[y] {
            if t.opex[y] > b {
                out.push((Constraint::Opex { year: *year }, t.opex[y] - b));
            }
        }
    }
    for ((role, y), used) in &t.effort {
        if let Some(cap) = problem.capacity.get(&(role.clone(), *y)) {
            if used > cap {
                out.push((Constraint::Capacity { role: role.clone(), year: problem.years[*y] }, *used - *cap));
            }
        }
    }
    out
}

/// Whether `chosen` satisfies every constraint (exactly, in decimals).
pub fn is_feasible(problem: &Problem, chosen: &[bool]) -> bool {
    let flags = problem.items.iter().zip(chosen).all(|(i, c)| !(i.must_fund && !c) && !(i.must_not && *c));
    let deps = problem.dependencies.iter().all(|(d, p)| !chosen[*d] || chosen[*p]);
    let excl = problem.exclusions.iter().all(|g| g.iter().filter(|i| chosen[**i]).count() <= 1);
    flags && deps && excl && overruns(problem, &totals(problem, chosen)).is_empty()
}

fn validate(p: &Problem) -> Result<(), SolveError> {
    let years = p.years.len();
    let bad = |m: String| Err(SolveError::Invalid(m));
    if p.capex_budget.len() != years || p.opex_budget.len() != years {
        return bad("one CapEx and one OpEx budget entry per year".into());
    }
    if p.capex_budget.iter().chain(&p.opex_budget).flatten().any(|b| b.is_sign_negative() && !b.is_zero()) || p.capacity.values().any(|c| *c < Decimal::ZERO) {
        return bad("budgets and capacities must not be negative".into());
    }
    if p.capacity.keys().any(|(_, y)| *y >= years) {
        return bad("capacity for a year outside the horizon".into());
    }
    for item in &p.items {
        if item.capex.len() != years || item.opex.len() != years {
            return bad(format!("{}: one CapEx and one OpEx amount per year", item.key));
        }
        if item.capex.iter().chain(&item.opex).chain(item.effort.values()).any(|v| *v < Decimal::ZERO) {
            return bad(format!("{}: costs and effort must not be negative", item.key));
        }
        if item.effort.keys().any(|(_, y)| *y >= years) {
            return bad(format!("{}: effort in a year outside the horizon", item.key));
        }
        if item.must_fund && item.must_not {
            return Err(SolveError::Infeasible(vec![Conflict {
                constraints: vec![Constraint::MustFund { item: item.key.clone() }, Constraint::MustNot { item: item.key.clone() }],
                message: format!("{} is marked both must-fund and must-not", item.key),
            }]));
        }
    }
    let n = p.items.len();
    if p.dependencies.iter().any(|(a, b)| *a >= n || *b >= n) || p.exclusions.iter().flatten().any(|i| *i >= n) {
        return bad("a dependency or exclusion names an item that is not a candidate".into());
    }
    if let Some((a, _)) = p.dependencies.iter().find(|(a, b)| a == b) {
        return Err(SolveError::Cycle(vec![p.items[*a].key.clone(), p.items[*a].key.clone()]));
    }
    Ok(())
}

/// Refuses a cycle among the dependencies, naming it.
fn check_cycles(p: &Problem) -> Result<(), SolveError> {
    let n = p.items.len();
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (d, pre) in &p.dependencies {
        needs[*d].push(*pre);
    }
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; n];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // Iterative depth-first search keeping the path, so a long chain
        // cannot overflow the stack.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            if let Some(&m) = needs[node].get(*next) {
                *next += 1;
                match state[m] {
                    0 => {
                        state[m] = 1;
                        path.push((m, 0));
                    }
                    1 => {
                        let from = path.iter().position(|(x, _)| *x == m).unwrap_or(0);
                        let mut cycle: Vec<String> = path[from..].iter().map(|(x, _)| p.items[*x].key.clone()).collect();
                        cycle.push(p.items[m].key.clone());
                        return Err(SolveError::Cycle(cycle));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                path.pop();
            }
        }
    }
    Ok(())
}

/// The items `seed` brings in with all their prerequisites.
fn closure(p: &Problem, seed: impl IntoIterator<Item = usize>) -> Vec<bool> {
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); p.items.len()];
    for (d, pre) in &p.dependencies {
        needs[*d].push(*pre);
    }
    let mut inside = vec![false; p.items.len()];
    let mut stack: Vec<usize> = seed.into_iter().collect();
    while let Some(i) = stack.pop() {
        if !inside[i] {
            inside[i] = true;
            stack.extend(needs[i].iter().copied());
        }
    }
    inside
}

/// Checks that the forced set (must-fund items and their prerequisites) is
/// itself a feasible selection; since costs are non-negative, that is exactly
/// when the problem is feasible.
fn check_feasible(p: &Problem) -> Result<(), SolveError> {
    let must: Vec<usize> = (0..p.items.len()).filter(|i| p.items[*i].must_fund).collect();
    let forced = closure(p, must.iter().copied());
    let key = |i: usize| p.items[i].key.clone();
    let mut conflicts = Vec::new();
    // Which must-fund item brings each forced item in (for the message).
    let brought_by = |i: usize| must.iter().copied().find(|m| closure(p, [*m])[i]);
    for i in (0..p.items.len()).filter(|i| forced[*i] && p.items[*i].must_not) {
        let by = brought_by(i).unwrap_or(i);
        conflicts.push(Conflict {
            constraints: vec![Constraint::MustFund { item: key(by) }, Constraint::MustNot { item: key(i) }],
            message: format!("{} must be funded and needs {}, which must not be funded", key(by), key(i)),
        });
    }
    for (g, group) in p.exclusions.iter().enumerate() {
        let inside: Vec<usize> = group.iter().copied().filter(|i| forced[*i]).collect();
        if inside.len() > 1 {
            let mut constraints: Vec<Constraint> = inside.iter().map(|i| Constraint::MustFund { item: key(brought_by(*i).unwrap_or(*i)) }).collect();
            constraints.dedup();
            constraints.push(Constraint::Exclusion { group: g, items: group.iter().map(|i| key(*i)).collect() });
            conflicts.push(Conflict {
                message: format!("{} must all be funded, but at most one of them may be", inside.iter().map(|i| key(*i)).collect::<Vec<_>>().join(", ")),
                constraints,
            });
        }
    }
    let t = totals(p, &forced);
    for (c, excess) in overruns(p, &t) {
        let mut constraints: Vec<Constraint> = must.iter().map(|i| Constraint::MustFund { item: key(*i) }).collect();
        constraints.push(c.clone());
        conflicts.push(Conflict { message: format!("the must-fund items and their prerequisites exceed the {c} by {excess}"), constraints });
    }
    if conflicts.is_empty() { Ok(()) } else { Err(SolveError::Infeasible(conflicts)) }
}

/// The optimum by enumerating every subset: for tests of small instances.
pub fn brute_force(problem: &Problem) -> Option<(Decimal, Vec<bool>)> {
    let n = problem.items.len();
    assert!(n <= 20, "brute force is for small instances");
    let mut best: Option<(Decimal, Vec<bool>)> = None;
    for mask in 0u32..(1u32 << n) {
        let chosen: Vec<bool> = (0..n).map(|i| mask & (1 << i) != 0).collect();
        if is_feasible(problem, &chosen) {
            let v: Decimal = problem.items.iter().zip(&chosen).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
            if best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, chosen));
            }
        }
    }
    best
}
