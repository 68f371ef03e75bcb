//! The 0/1 programme handed to HiGHS, and the decimal check of its answer.

use std::collections::BTreeMap;

use highs::{HighsModelStatus, RowProblem, Sense};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::{Options, Problem, SolveError, overruns, totals};

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::MAX)
}

/// Which budget row a constraint is, so that an overrun found in decimals
/// can tighten the right one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RowKey {
    Capex(usize),
    Opex(usize),
    Capacity(String, usize),
}

/// Solves the programme; returns (chosen, bound, gap, optimal, nodes).
///
/// The solution is rounded to 0/1 and its totals recomputed in decimals. If a
/// budget is overrun (HiGHS accepts a row violated by up to its feasibility
/// tolerance, which on large amounts is more than a cent), that row's limit is
/// lowered by the overrun and the programme solved again.
pub(crate) fn solve(
    p: &Problem,
    options: &Options,
    capex_budget: &[Option<Decimal>],
    opex_budget: &[Option<Decimal>],
    start: Option<&[bool]>,
) -> Result<(Vec<bool>, f64, f64, bool, i64), SolveError> {
    let mut tighten: BTreeMap<RowKey, f64> = BTreeMap::new();
    for _attempt in 0..5 {
        let (chosen, bound, gap, optimal, nodes) = solve_once(p, options, capex_budget, opex_budget, &tighten, start)?;
        let over = overruns(p, &totals(p, &chosen));
        if over.is_empty() {
            return Ok((chosen, bound, gap, optimal, nodes));
        }
        for (c, excess) in over {
            let key = match c {
                crate::Constraint::Capex { year } => RowKey::Capex(p.years.iter().position(|y| *y == year).unwrap_or(0)),
                crate::Constraint::Opex { year } => RowKey::Opex(p.years.iter().position(|y| *y == year).unwrap_or(0)),
                crate::Constraint::Capacity { role, year } => RowKey::Capacity(role, p.years.iter().position(|y| *y == year).unwrap_or(0)),
                _ => continue,
            };
            *tighten.entry(key).or_default() += f(excess) * 2.0 + 1e-6;
        }
    }
    Err(SolveError::Solver("the solver's selections kept exceeding a budget by rounding errors".into()))
}

fn solve_once(
    p: &Problem,
    options: &Options,
    capex_budget: &[Option<Decimal>],
    opex_budget: &[Option<Decimal>],
    tighten: &BTreeMap<RowKey, f64>,
    start: Option<&[bool]>,
) -> Result<(Vec<bool>, f64, f64, bool, i64), SolveError> {
    let n = p.items.len();
    if n == 0 {
        return Ok((Vec::new(), 0.0, 0.0, true, 0));
    }
    let mut pb = RowProblem::default();
    // Objective coefficients scaled into [-1, 1]: HiGHS's tolerances assume
    // costs of moderate size and it warns about (and works worse with) costs
    // in the millions. The bound is scaled back below.
    let scale = p.items.iter().map(|i| f(i.value.abs())).fold(0.0, f64::max).max(1e-9);
    let out = crate::reduce::fixed_out(p);
    let cols: Vec<_> = p
        .items
        .iter()
        .zip(&out)
        .map(|(item, out)| {
            let (lo, hi) = match (item.must_fund, *out) {
                (true, _) => (1.0, 1.0),
                (_, true) => (0.0, 0.0),
                _ => (0.0, 1.0),
            };
            pb.add_integer_column(f(item.value) / scale, lo..=hi)
        })
        .collect();

    // A budget row: Σ cost·x ≤ limit, scaled by the limit so every row's
    // coefficients are of order one whatever the currency's magnitude.
    let mut budget_row = |key: RowKey, limit: Decimal, cost: &dyn Fn(usize) -> Decimal| {
        let factors: Vec<(highs::Col, f64)> = (0..n).filter_map(|i| {
            let c = cost(i);
            (!c.is_zero()).then_some((cols[i], f(c)))
        }).collect();
        if factors.is_empty() {
            return;
        }
        let limit = f(limit) - tighten.get(&key).copied().unwrap_or(0.0);
        let scale = if limit > 1.0 { limit } else { 1.0 };
        pb.add_row(..=limit / scale, factors.into_iter().map(|(c, v)| (c, v / scale)));
    };
    for y in 0..p.years.len() {
        if let Some(b) = capex_budget[y] {
            budget_row(RowKey::Capex(y), b, &|i| p.items[i].capex[y]);
        }
        if let Some(b) = opex_budget[y] {
            budget_row(RowKey::Opex(y), b, &|i| p.items[i].opex[y]);
        }
    }
    for ((role, y), cap) in &p.capacity {
        let key = (role.clone(), *y);
        budget_row(RowKey::Capacity(role.clone(), *y), *cap, &|i| p.items[i].effort.get(&key).copied().unwrap_or_default());
    }
    for (d, pre) in &p.dependencies {
        pb.add_row(..=0.0, [(cols[*d], 1.0), (cols[*pre], -1.0)]);
    }
    for group in &p.exclusions {
        if group.len() > 1 {
            pb.add_row(..=1.0, group.iter().map(|i| (cols[*i], 1.0)));
        }
    }

    let mut model = pb.optimise(Sense::Maximise);
    // ITBM_HIGHS_LOG=1 shows HiGHS's own progress log, for diagnosing a slow solve.
    if std::env::var_os("ITBM_HIGHS_LOG").is_none() {
        model.make_quiet();
    } else {
        model.set_option("output_flag", true);
        model.set_option("log_to_console", true);
    }
    // Start from the best of the greedy ranking by value density, the
    // caller's selection (a frontier passes earlier points', feasible for a
    // larger budget) and the local-search heuristic run from the dual-price
    // ranking and from those (checked here in exact decimals): HiGHS then
    // prunes against a good incumbent from the first node on.
    let here = Problem { capex_budget: capex_budget.to_vec(), opex_budget: opex_budget.to_vec(), ..p.clone() };
    let greedy = crate::greedy_by_density(&here);
    let value = |c: &[bool]| -> Decimal { p.items.iter().zip(c).filter(|(_, x)| **x).map(|(i, _)| i.value).sum() };
    let mut candidates: Vec<Vec<bool>> = vec![greedy];
    candidates.extend(start.filter(|s| s.len() == n && crate::is_feasible(&here, s)).map(<[bool]>::to_vec));
    let improved = crate::heuristic::start(&here, &out, &candidates);
    candidates.push(improved);
    // (The greedy selection is feasible by construction; should none be,
    // HiGHS simply starts without one.)
    if let Some(start) = candidates.into_iter().filter(|c| crate::is_feasible(&here, c)).max_by_key(|c| value(c)) {
        let start: Vec<f64> = start.iter().map(|c| if *c { 1.0 } else { 0.0 }).collect();
        let _ = model.try_set_solution(Some(&start), None, None, None);
    }
    model.set_option("mip_rel_gap", options.relative_gap);
    // With a relative gap of 0, HiGHS would still stop at its default
    // absolute gap (1e-6 in objective units): fine for money.
    model.set_option("time_limit", options.time_limit_secs);
    // One thread: HiGHS 1.15's parallel tree search ("threads" 2, "parallel"
    // on) did not solve the benchmark faster on this shared 2-core machine
    // (bench/optimiser.md); a frontier uses the cores for its points instead.
    // HiGHS sizes its thread pool per calling thread on first use and refuses
    // a later run that asks for another size, so every run here uses one.
    model.set_option("threads", 1);
    apply_env_options(&mut model);
    let solved = model.try_solve().map_err(|e| SolveError::Solver(format!("HiGHS refused the model: {e:?}")))?;
    let status = solved.status();
    let has_solution = matches!(solved.primal_solution_status(), highs::HighsSolutionStatus::Feasible);
    match status {
        HighsModelStatus::Optimal | HighsModelStatus::ReachedTimeLimit | HighsModelStatus::ReachedIterationLimit if has_solution => {}
        HighsModelStatus::Infeasible => return Err(SolveError::Solver("HiGHS found the programme infeasible although the must-fund set fits".into())),
        other => return Err(SolveError::Solver(format!("HiGHS stopped without a selection: {other:?}"))),
    }
    let chosen: Vec<bool> = solved.get_solution().columns().iter().map(|v| *v > 0.5).collect();
    let bound = solved.double_info_value(c"mip_dual_bound").unwrap_or(f64::NAN) * scale;
    let nodes = solved.int_info_value(c"mip_node_count").unwrap_or(0);
    let primal = solved.objective_value() * scale;
    let gap = if bound.is_finite() { ((bound - primal) / primal.abs().max(1.0)).max(0.0) } else { solved.mip_gap() };
    let optimal = status == HighsModelStatus::Optimal;
    Ok((chosen, bound, gap, optimal, nodes))
}

/// ITBM_HIGHS_OPTIONS="name=value;name=value" sets HiGHS options over ours,
/// for experiments (the value is tried as a bool, an integer, a float, then a
/// string, whichever the option accepts). Not for production: setting
/// `threads` here breaks the one-thread rule above.
fn apply_env_options(model: &mut highs::Model) {
    let Ok(spec) = std::env::var("ITBM_HIGHS_OPTIONS") else { return };
    for pair in spec.split(';').filter(|s| !s.trim().is_empty()) {
        let Some((name, value)) = pair.split_once('=') else { continue };
        let (name, value) = (name.trim(), value.trim());
        let ok = match value {
            "true" => model.try_set_option(name, true).is_ok(),
            "false" => model.try_set_option(name, false).is_ok(),
            _ => value.parse::<i32>().is_ok_and(|v| model.try_set_option(name, v).is_ok())
                || value.parse::<f64>().is_ok_and(|v| model.try_set_option(name, v).is_ok())
                || model.try_set_option(name, value).is_ok(),
        };
        if !ok {
            eprintln!("ITBM_HIGHS_OPTIONS: HiGHS refused {name}={value}");
        }
    }
}
