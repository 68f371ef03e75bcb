//! The allocation engine: pure arithmetic over balances, rules and driver
//! weights, with no database, so it can be tested on many random cases.
//!
//! Money flows down the TBM layers in a fixed order: cost pools, then towers,
//! then services and applications, then consumers (cost centers, which stand
//! for business units). A rule sends money to a later layer, or from a
//! service to another service (a shared service to the applications that use
//! it); services are processed in dependency order (rules refuse circles), so
//! every node holds all it will ever receive when it sends, and the run needs
//! no iteration. Every node sends on exactly what it received
//! ([`crate::costs::split`]); what no rule or no driver data can place goes to
//! an `unallocated` target with the reason as its id. Nothing is dropped: the
//! consumers' total plus the unallocated total is the ledger total, to the cent.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::split::{SplitError, split};

/// A layer of the TBM model that money can sit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    CostPool,
    Tower,
    Service,
    /// A consumer: a cost center or business unit. Money stops here.
    CostCenter,
}

crate::text_enum!(NodeKind { CostPool = "cost_pool", Tower = "tower", Service = "service", CostCenter = "cost_center" });

impl NodeKind {
    /// The layer's position: rules send money only to a higher one.
    pub fn layer(self) -> u8 {
        match self {
            NodeKind::CostPool => 1,
            NodeKind::Tower => 2,
            NodeKind::Service => 3,
            NodeKind::CostCenter => 4,
        }
    }
}

/// A node of the model: its layer and the id of the pool, tower, service or cost center.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub kind: NodeKind,
    pub id: String,
}

/// Why money stayed unallocated; the id of the `unallocated` target.
pub mod reason {
    /// Ledger lines that name no cost pool, tower or service.
    pub const UNMAPPED: &str = "unmapped";
    /// A node that holds money but has no rule.
    pub const NO_RULE: &str = "no_rule";
    /// A rule whose targets all weigh zero in this period (no driver data).
    pub const NO_DRIVER_DATA: &str = "no_driver_data";
}

/// One rule as the engine sees it: targets in a fixed order with their weights
/// for this period.
#[derive(Debug, Clone)]
pub struct WeighedRule {
    pub rule_id: String,
    pub chargeable: bool,
    pub targets: Vec<(Node, Decimal)>,
}

/// One movement of money. `source_kind` is `ledger` for the money entering the
/// model; `target_kind` is `unallocated` for money that stays unplaced.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Flow {
    /// 0 from the ledger, then the layer of the source.
    pub step: i64,
    pub source_kind: String,
    pub source_id: String,
    pub target_kind: String,
    pub target_id: String,
    pub rule_id: Option<String>,
    /// The rule's money is charged back to consumers, not only shown.
    pub chargeable: bool,
    #[schema(value_type = String, example = "1250.00")]
    pub amount: Decimal,
}

/// The outcome of one run.
#[derive(Debug, Clone, Default)]
pub struct Allocation {
    pub flows: Vec<Flow>,
    pub ledger_total: Decimal,
    pub allocated_total: Decimal,
    pub unallocated_total: Decimal,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("rule {rule_id} sends money from layer {from:?} to {to:?}, which is not a later layer")]
    Backwards { rule_id: String, from: NodeKind, to: NodeKind },
    #[error("services allocate to each other in a circle: {0:?}")]
    Circle(Vec<String>),
    #[error("rule {rule_id}: {source}")]
    Split { rule_id: String, source: SplitError },
}

/// Allocates `seeds` (money entering each node from the ledger; `None` for
/// unmapped money) by `rules` (keyed by their source node). `min_scale` is the
/// reporting currency's minor unit count.
pub fn allocate(
    seeds: &[(Option<Node>, Decimal)],
    rules: &BTreeMap<Node, WeighedRule>,
    min_scale: u32,
) -> Result<Allocation, EngineError> {
    let mut out = Allocation::default();
    let mut balances: BTreeMap<Node, Decimal> = BTreeMap::new();
    let mut unmapped = Decimal::ZERO;
    for (node, amount) in seeds {
        out.ledger_total += amount;
        match node {
            Some(node) => *balances.entry(node.clone()).or_default() += amount,
            None => unmapped += amount,
        }
    }
    for (node, amount) in &balances {
        out.flows.push(flow(0, "ledger", "ledger", node.kind.as_str(), &node.id, None, false, *amount));
    }
    if !unmapped.is_zero() {
        out.flows.push(flow(0, "ledger", "ledger", "unallocated", reason::UNMAPPED, None, false, unmapped));
    }
    for layer in [NodeKind::CostPool, NodeKind::Tower, NodeKind::Service] {
        let nodes: Vec<Node> = match layer {
            NodeKind::Service => service_order(&balances, rules)?,
            _ => balances.keys().filter(|n| n.kind == layer).cloned().collect(),
        };
        for node in nodes {
            let amount = balances.get(&node).copied().unwrap_or_default();
            let step = i64::from(layer.layer());
            if amount.is_zero() {
                continue;
            }
            let Some(rule) = rules.get(&node) else {
                out.flows.push(flow(step, node.kind.as_str(), &node.id, "unallocated", reason::NO_RULE, None, false, amount));
                continue;
            };
            for (target, _) in &rule.targets {
                let service_to_service = node.kind == NodeKind::Service && target.kind == NodeKind::Service;
                if target.kind.layer() <= node.kind.layer() && !service_to_service {
                    return Err(EngineError::Backwards { rule_id: rule.rule_id.clone(), from: node.kind, to: target.kind });
                }
            }
            let weights: Vec<Decimal> = rule.targets.iter().map(|(_, w)| *w).collect();
            let shares = match split(amount, &weights, min_scale) {
                Ok(shares) => shares,
                Err(SplitError::NoWeight) => {
                    out.flows.push(flow(
                        step,
                        node.kind.as_str(),
                        &node.id,
                        "unallocated",
                        reason::NO_DRIVER_DATA,
                        Some(&rule.rule_id),
                        false,
                        amount,
                    ));
                    continue;
                }
                Err(source) => return Err(EngineError::Split { rule_id: rule.rule_id.clone(), source }),
            };
            for ((target, _), share) in rule.targets.iter().zip(shares) {
                if share.is_zero() {
                    continue;
                }
                out.flows.push(flow(
                    step,
                    node.kind.as_str(),
                    &node.id,
                    target.kind.as_str(),
                    &target.id,
                    Some(&rule.rule_id),
                    rule.chargeable,
                    share,
                ));
                *balances.entry(target.clone()).or_default() += share;
            }
        }
    }
    for flow in &out.flows {
        match flow.target_kind.as_str() {
            "cost_center" => out.allocated_total += flow.amount,
            "unallocated" => out.unallocated_total += flow.amount,
            _ => {}
        }
    }
    Ok(out)
}

/// Every service that holds or may receive money, each after all services
/// that send to it; among those ready at once, in node order (deterministic).
fn service_order(balances: &BTreeMap<Node, Decimal>, rules: &BTreeMap<Node, WeighedRule>) -> Result<Vec<Node>, EngineError> {
    let is_service = |n: &&Node| n.kind == NodeKind::Service;
    let mut incoming: BTreeMap<Node, usize> = balances.keys().filter(is_service).map(|n| (n.clone(), 0)).collect();
    for (source, rule) in rules.iter().filter(|(n, _)| n.kind == NodeKind::Service) {
        incoming.entry(source.clone()).or_default();
        for (target, _) in rule.targets.iter().filter(|(t, _)| t.kind == NodeKind::Service) {
            *incoming.entry(target.clone()).or_default() += 1;
        }
    }
    let mut ready: std::collections::BTreeSet<Node> = incoming.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.clone()).collect();
    let mut order = Vec::with_capacity(incoming.len());
    while let Some(node) = ready.pop_first() {
        if let Some(rule) = rules.get(&node) {
            for (target, _) in rule.targets.iter().filter(|(t, _)| t.kind == NodeKind::Service) {
                let n = incoming.get_mut(target).expect("every service target is counted");
                *n -= 1;
                if *n == 0 {
                    ready.insert(target.clone());
                }
            }
        }
        order.push(node);
    }
    if order.len() < incoming.len() {
        let done: std::collections::BTreeSet<&Node> = order.iter().collect();
        return Err(EngineError::Circle(incoming.keys().filter(|n| !done.contains(n)).map(|n| n.id.clone()).collect()));
    }
    Ok(order)
}

#[allow(clippy::too_many_arguments)]
fn flow(
    step: i64,
    source_kind: &str,
    source_id: &str,
    target_kind: &str,
    target_id: &str,
    rule_id: Option<&str>,
    chargeable: bool,
    amount: Decimal,
) -> Flow {
    Flow {
        step,
        source_kind: source_kind.to_owned(),
        source_id: source_id.to_owned(),
        target_kind: target_kind.to_owned(),
        target_id: target_id.to_owned(),
        rule_id: rule_id.map(str::to_owned),
        chargeable,
        amount,
    }
}

/// Checks conservation: for every node, what left equals what arrived, and
/// consumers plus unallocated equal the ledger. Used by tests and by every run
/// before it is stored.
pub fn conserved(a: &Allocation) -> bool {
    let mut net: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for f in &a.flows {
        *net.entry((f.source_kind.as_str(), f.source_id.as_str())).or_default() -= f.amount;
        *net.entry((f.target_kind.as_str(), f.target_id.as_str())).or_default() += f.amount;
    }
    let nodes_balance = net
        .iter()
        .filter(|((kind, _), _)| !matches!(*kind, "ledger" | "cost_center" | "unallocated"))
        .all(|(_, v)| v.is_zero());
    nodes_balance && a.allocated_total + a.unallocated_total == a.ledger_total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn n(kind: NodeKind, id: &str) -> Node {
        Node { kind, id: id.into() }
    }

    #[test]
    fn a_pool_flows_through_a_tower_and_a_service_to_consumers() {
        let mut rules = BTreeMap::new();
        let pool = n(NodeKind::CostPool, "labour");
        let tower = n(NodeKind::Tower, "compute");
        let service = n(NodeKind::Service, "email");
        rules.insert(pool.clone(), WeighedRule { rule_id: "r1".into(), chargeable: false, targets: vec![(tower.clone(), d("1"))] });
        rules.insert(tower.clone(), WeighedRule { rule_id: "r2".into(), chargeable: false, targets: vec![(service.clone(), d("1"))] });
        rules.insert(
            service.clone(),
            WeighedRule {
                rule_id: "r3".into(),
                chargeable: true,
                targets: vec![(n(NodeKind::CostCenter, "a"), d("1")), (n(NodeKind::CostCenter, "b"), d("2"))],
            },
        );
        let a = allocate(&[(Some(pool), d("100.00")), (None, d("7.00"))], &rules, 2).unwrap();
        assert!(conserved(&a));
        assert_eq!(a.ledger_total, d("107.00"));
        assert_eq!(a.allocated_total, d("100.00"));
        assert_eq!(a.unallocated_total, d("7.00"));
        let to_a = a.flows.iter().find(|f| f.target_id == "a").unwrap();
        assert_eq!(to_a.amount, d("33.33"));
        let to_b = a.flows.iter().find(|f| f.target_id == "b").unwrap();
        assert_eq!(to_b.amount, d("66.67"));
    }

    #[test]
    fn money_without_a_rule_or_driver_data_is_reported_unallocated() {
        let mut rules = BTreeMap::new();
        let tower = n(NodeKind::Tower, "t");
        rules.insert(tower.clone(), WeighedRule { rule_id: "r".into(), chargeable: false, targets: vec![(n(NodeKind::CostCenter, "c"), d("0"))] });
        let a = allocate(&[(Some(tower), d("10")), (Some(n(NodeKind::Service, "s")), d("5"))], &rules, 2).unwrap();
        assert!(conserved(&a));
        assert_eq!(a.unallocated_total, d("15"));
        assert!(a.flows.iter().any(|f| f.target_id == reason::NO_DRIVER_DATA && f.amount == d("10")));
        assert!(a.flows.iter().any(|f| f.target_id == reason::NO_RULE && f.amount == d("5")));
    }

    #[test]
    fn a_rule_pointing_back_up_is_refused() {
        let mut rules = BTreeMap::new();
        let service = n(NodeKind::Service, "s");
        rules.insert(service.clone(), WeighedRule { rule_id: "r".into(), chargeable: false, targets: vec![(n(NodeKind::Tower, "t"), d("1"))] });
        assert!(matches!(allocate(&[(Some(service), d("1"))], &rules, 2), Err(EngineError::Backwards { .. })));
    }

    #[test]
    fn a_shared_service_allocates_to_applications_before_they_allocate_to_consumers() {
        // "hosting" is listed after "crm" in node order, yet sends to it: the
        // engine must let hosting send first, or crm would pass on too little.
        let mut rules = BTreeMap::new();
        let hosting = n(NodeKind::Service, "zz-hosting");
        let crm = n(NodeKind::Service, "crm");
        let erp = n(NodeKind::Service, "erp");
        rules.insert(hosting.clone(), WeighedRule { rule_id: "h".into(), chargeable: false, targets: vec![(crm.clone(), d("1")), (erp.clone(), d("3"))] });
        rules.insert(crm.clone(), WeighedRule { rule_id: "c".into(), chargeable: true, targets: vec![(n(NodeKind::CostCenter, "sales"), d("1"))] });
        rules.insert(erp.clone(), WeighedRule { rule_id: "e".into(), chargeable: true, targets: vec![(n(NodeKind::CostCenter, "ops"), d("1"))] });
        let a = allocate(&[(Some(hosting), d("400.00")), (Some(crm), d("10.00"))], &rules, 2).unwrap();
        assert!(conserved(&a));
        assert_eq!(a.allocated_total, d("410.00"));
        assert_eq!(a.unallocated_total, Decimal::ZERO);
        assert_eq!(a.flows.iter().find(|f| f.target_id == "sales").unwrap().amount, d("110.00"));
        assert_eq!(a.flows.iter().find(|f| f.target_id == "ops").unwrap().amount, d("300.00"));
    }

    #[test]
    fn services_allocating_to_each_other_in_a_circle_are_refused() {
        let mut rules = BTreeMap::new();
        let (a, b) = (n(NodeKind::Service, "a"), n(NodeKind::Service, "b"));
        rules.insert(a.clone(), WeighedRule { rule_id: "ra".into(), chargeable: false, targets: vec![(b.clone(), d("1"))] });
        rules.insert(b.clone(), WeighedRule { rule_id: "rb".into(), chargeable: false, targets: vec![(a.clone(), d("1"))] });
        let refused = allocate(&[(Some(a), d("1"))], &rules, 2);
        assert!(matches!(refused, Err(EngineError::Circle(ref ids)) if ids == &["a".to_owned(), "b".to_owned()]), "{refused:?}");
    }

    /// Random layered models with random amounts: every node passes on exactly
    /// what it received, and nothing is lost, in 2 000 seeded cases.
    #[test]
    fn allocation_conserves_money_for_random_rule_sets() {
        let mut rng = 0x5eed_u64;
        let mut next = move || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            rng >> 33
        };
        let kinds = [NodeKind::CostPool, NodeKind::Tower, NodeKind::Service, NodeKind::CostCenter];
        for case in 0..2_000 {
            let mut rules = BTreeMap::new();
            for (li, kind) in kinds[..3].iter().enumerate() {
                for i in 0..(1 + next() % 4) {
                    if next() % 5 == 0 {
                        continue; // some nodes have no rule
                    }
                    let targets = (0..(1 + next() % 5))
                        .map(|j| {
                            let tk = kinds[li + 1 + (next() as usize % (3 - li))];
                            // Services also feed services numbered above them (acyclic).
                            if *kind == NodeKind::Service && next() % 3 == 0 {
                                return (n(NodeKind::Service, &format!("service{}", i + 1 + j)), Decimal::new((next() % 1000) as i64, 0));
                            }
                            (n(tk, &format!("{}{}", tk.as_str(), j)), Decimal::new((next() % 1000) as i64, (next() % 3) as u32))
                        })
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .collect();
                    rules.insert(n(*kind, &format!("{}{i}", kind.as_str())), WeighedRule { rule_id: format!("r{li}{i}"), chargeable: next() % 2 == 0, targets });
                }
            }
            let seeds: Vec<(Option<Node>, Decimal)> = (0..(1 + next() % 20))
                .map(|_| {
                    let node = (next() % 10 != 0).then(|| {
                        let kind = kinds[next() as usize % 3];
                        n(kind, &format!("{}{}", kind.as_str(), next() % 4))
                    });
                    (node, Decimal::new(next() as i64 % 2_000_000_00 - 50_000_00, 2))
                })
                .collect();
            let a = allocate(&seeds, &rules, 2).unwrap();
            assert!(conserved(&a), "case {case}: {a:?}");
            let total: Decimal = seeds.iter().map(|(_, a)| *a).sum();
            assert_eq!(a.ledger_total, total);
        }
    }
}
