//! The optimiser agrees with enumeration of every subset on many small
//! seeded instances, and refuses infeasible and cyclic ones by name.

use itbm_optimiser::generate::{Shape, instance};
use itbm_optimiser::{Constraint, Item, Options, Problem, Reason, SolveError, brute_force, frontier, greedy_by_density, is_feasible, solve};
use rust_decimal::Decimal;

fn d(v: i64) -> Decimal {
    Decimal::from(v)
}

#[test]
fn agrees_with_brute_force_on_300_seeded_instances() {
    let mut with_dependencies = 0;
    for seed in 0..300u64 {
        let shape = Shape {
            items: 4 + (seed % 10) as usize,
            years: 1 + (seed % 5) as usize,
            budget_percent: 20 + (seed % 7) as i64 * 10,
            dependencies_per_100: 20,
            exclusions_per_100: 15,
            flags: seed % 3 == 0,
        };
        let p = instance(seed, shape);
        with_dependencies += usize::from(!p.dependencies.is_empty());
        let (best, _) = brute_force(&p).expect("generated instances are feasible");
        let s = solve(&p, &Options::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(is_feasible(&p, &s.chosen), "seed {seed}: the selection breaks a constraint");
        assert_eq!(s.objective, best, "seed {seed}: optimiser {} vs brute force {best}", s.objective);
        assert!(s.optimal && s.gap <= 1e-9, "seed {seed}: gap {}", s.gap);
        // Every excluded item has a reason, and no reason claims a gap.
        for i in (0..p.items.len()).filter(|i| !s.chosen[*i]) {
            let why = &s.reasons[&i];
            assert!(!why.is_empty());
            assert!(!why.iter().any(|r| matches!(r, Reason::WithinGap { .. })), "seed {seed}: {why:?}");
        }
        // The greedy ranking is feasible and never better than the optimum.
        let g = greedy_by_density(&p);
        assert!(is_feasible(&p, &g));
        let gv: Decimal = p.items.iter().zip(&g).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
        assert!(gv <= best);
    }
    assert!(with_dependencies > 200);
}

fn two_year(items: Vec<Item>, capex: [i64; 2], opex: [i64; 2]) -> Problem {
    Problem {
        years: vec![2027, 2028],
        items,
        capex_budget: vec![Some(d(capex[0])), Some(d(capex[1]))],
        opex_budget: vec![Some(d(opex[0])), Some(d(opex[1]))],
        ..Problem::default()
    }
}

#[test]
fn explains_each_exclusion_by_its_constraint() {
    let items = vec![
        Item::new("A", d(100), vec![d(60), d(0)], vec![d(0), d(10)]),
        Item::new("B", d(90), vec![d(50), d(0)], vec![d(0), d(10)]),
        Item::new("C", d(50), vec![d(0), d(0)], vec![d(0), d(0)]),
        Item::new("D", d(40), vec![d(0), d(0)], vec![d(0), d(0)]),
        Item::new("E", d(-5), vec![d(0), d(0)], vec![d(0), d(0)]),
    ];
    let mut p = two_year(items, [100, 100], [100, 100]);
    p.exclusions = vec![vec![2, 3]];
    let s = solve(&p, &Options::default()).unwrap();
    assert_eq!(s.chosen, vec![true, false, true, false, false]);
    assert_eq!(s.objective, d(150));
    assert_eq!(s.reasons[&1], vec![Reason::Budget { constraint: Constraint::Capex { year: 2027 }, excess: d(10) }]);
    assert!(matches!(&s.reasons[&3][0], Reason::Excluded { chosen, .. } if chosen == "C"));
    assert!(matches!(&s.reasons[&4][0], Reason::LowerValue { delta, .. } if *delta == d(-5)));
}

#[test]
fn infeasible_must_funds_are_refused_naming_the_conflict() {
    let items = vec![
        Item { must_fund: true, ..Item::new("A", d(1), vec![d(80), d(0)], vec![d(0), d(0)]) },
        Item { must_fund: true, ..Item::new("B", d(1), vec![d(30), d(0)], vec![d(0), d(0)]) },
        Item { must_not: true, ..Item::new("C", d(1), vec![d(0), d(0)], vec![d(0), d(0)]) },
    ];
    let mut p = two_year(items, [100, 100], [100, 100]);
    p.dependencies = vec![(1, 2)];
    let err = solve(&p, &Options::default()).unwrap_err();
    let SolveError::Infeasible(conflicts) = err else { panic!("{err:?}") };
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert_eq!(conflicts[0].constraints, vec![Constraint::MustFund { item: "B".into() }, Constraint::MustNot { item: "C".into() }]);
    assert!(conflicts[1].constraints.contains(&Constraint::Capex { year: 2027 }));
    assert!(conflicts[1].message.contains("by 10"), "{}", conflicts[1].message);
}

#[test]
fn a_dependency_cycle_is_refused_with_the_cycle() {
    let items = (0..4).map(|i| Item::new(format!("P{i}"), d(1), vec![d(1), d(1)], vec![d(1), d(1)])).collect();
    let mut p = two_year(items, [10, 10], [10, 10]);
    p.dependencies = vec![(0, 1), (1, 2), (2, 3), (3, 1)];
    let err = solve(&p, &Options::default()).unwrap_err();
    assert_eq!(err, SolveError::Cycle(vec!["P1".into(), "P2".into(), "P3".into(), "P1".into()]));
}

#[test]
fn the_frontier_rises_with_the_budget_and_ends_at_the_optimum() {
    let p = instance(7, Shape { items: 12, years: 3, budget_percent: 50, dependencies_per_100: 20, exclusions_per_100: 10, flags: false });
    let points = frontier(&p, &Options::default(), 5).unwrap();
    assert_eq!(points.len(), 5);
    // The points are solved on parallel workers but come back in budget order.
    let factors: Vec<Decimal> = points.iter().map(|pt| pt.budget_factor).collect();
    assert_eq!(factors, (1..=5).map(|k| d(k) / d(5)).collect::<Vec<_>>());
    let values: Vec<Decimal> = points.iter().map(|pt| pt.solution.as_ref().unwrap().objective).collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert_eq!(*values.last().unwrap(), brute_force(&p).unwrap().0);
}
