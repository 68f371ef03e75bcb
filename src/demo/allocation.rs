//! TBM allocation rules and headcount for the demo organisation, so its
//! allocation runs and showback statements are non-trivial: every tower
//! passes its unassigned costs to its services, applications go to the
//! business units that use them by fixed shares (and are charged back),
//! shared infrastructure and end-user services go by headcount (shown only).

use rust_decimal::Decimal;

use super::Context;
use super::batch::{Table, row};
use super::finance::Org;
use super::months;

/// Business units and their headcount.
const HEADCOUNT: &[(&str, i64)] = &[("BU-SALES", 120), ("BU-MKT", 45), ("BU-FIN", 38), ("BU-OPS", 210), ("BU-HR", 25)];

/// Applications to business units by fixed shares (chargeable).
const APPLICATIONS: &[(&str, &[(&str, i64)])] = &[
    ("CRM", &[("BU-SALES", 70), ("BU-MKT", 30)]),
    ("ERP", &[("BU-FIN", 35), ("BU-OPS", 55), ("BU-SALES", 10)]),
    ("HRIS", &[("BU-HR", 100)]),
    ("WEB", &[("BU-MKT", 80), ("BU-SALES", 20)]),
];

pub fn build(ctx: &mut Context, org: &Org) -> Vec<Table> {
    let now = ctx.now;
    let mut rules = Table::new(
        "allocation_rules",
        &["id", "name", "source_kind", "source_id", "driver", "chargeable", "targets", "created_at", "updated_at", "version"],
    );
    let center = |code: &str| org.cost_centers[org.cost_center(code)].id.clone();
    let target = |kind: &str, id: String, share: Option<i64>| match share {
        Some(s) => serde_json::json!({"kind": kind, "id": id, "share": s.to_string()}),
        None => serde_json::json!({"kind": kind, "id": id}),
    };
    // Towers: equal shares to the services on them.
    let mut towers: Vec<&str> = org.services.iter().map(|s| s.tower_id).collect();
    towers.sort();
    towers.dedup();
    for tower in towers {
        let targets: Vec<_> =
            org.services.iter().filter(|s| s.tower_id == tower).map(|s| target("service", s.id.clone(), Some(1))).collect();
        let name = format!("{} to its services", tower.trim_start_matches("tower-v4-"));
        rules.push(row![ctx.id(), name, "tower", tower, "fixed", false, serde_json::Value::from(targets).to_string(), now, now, 1i64]);
    }
    // Services: applications by fixed shares, everything else by headcount.
    for service in &org.services {
        let (driver, chargeable, targets): (&str, bool, Vec<_>) = match APPLICATIONS.iter().find(|(code, _)| *code == service.code) {
            Some((_, shares)) => {
                ("fixed", true, shares.iter().map(|(cc, s)| target("cost_center", center(cc), Some(*s))).collect())
            }
            None => ("headcount", false, HEADCOUNT.iter().map(|(cc, _)| target("cost_center", center(cc), None)).collect()),
        };
        let name = format!("{} to business units", service.code);
        rules.push(row![ctx.id(), name, "service", service.id.as_str(), driver, chargeable, serde_json::Value::from(targets).to_string(), now, now, 1i64]);
    }
    let mut drivers = Table::new(
        "cost_driver_values",
        &["driver", "fiscal_period", "node_kind", "node_id", "source", "value", "updated_at"],
    );
    for month in months::between(ctx.first_month, months::add(ctx.this_month, 12)) {
        let period = ctx.calendar.period_of(month).to_string();
        for (cc, heads) in HEADCOUNT {
            drivers.push(row![ "headcount", period.as_str(), "cost_center", center(cc), "demo-hr", Decimal::from(*heads), now]);
        }
    }
    vec![rules, drivers]
}
