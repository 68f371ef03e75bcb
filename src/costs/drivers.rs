//! Driver quantities: what weighs a rule's targets in a period.
//!
//! `asset_count` is read live from the asset register (assets `deployed` or
//! `in_maintenance`, by their `service_id` or `cost_center_id`). The other
//! drivers add up two sources:
//!
//! * **what the connectors synchronised**, read live, per service:
//!   `utilisation` is the sum of the `utilisation` points of the rule's
//!   `metric` (e.g. `cpu_seconds` from Prometheus) that start in the period,
//!   by the service of the host or service measured (a rule without a metric
//!   uses none: metrics of different units cannot be added); `tickets` counts
//!   the tickets opened in the period and `effort` sums their effort hours,
//!   by the ticket's service, else its configuration item's service;
//! * **the `cost_driver_values` table**, the contract for systems without a
//!   connector: one row per (driver, fiscal period, node, source) with a
//!   non-negative value, e.g. headcount per cost center from HR. The API
//!   below replaces one (driver, period, source) set at a time, so a sender
//!   can resend.
//!
//! Values of several sources for the same node add up.

use std::collections::HashMap;

use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::engine::NodeKind;
use super::rules::Driver;
use crate::auth::Principal;
use crate::audit::{self, Action};
use crate::db::{Db, Executor, query};
use crate::error::{Error, Result};
use crate::finance::calendar::FiscalPeriod;
use crate::ledger::check_source;
use crate::validate::Checks;

/// One node's quantity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverValue {
    pub node_kind: NodeKind,
    pub node_id: String,
    #[schema(value_type = String, example = "412.5")]
    pub value: Decimal,
}

/// All values of one driver, period and source; replaces what that source sent before.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverSet {
    /// `utilisation`, `tickets`, `effort` or `headcount`.
    pub driver: Driver,
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
    /// Who measured the values, e.g. `itom:prometheus` or `hr`.
    pub source: String,
    pub values: Vec<DriverValue>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriverQuery {
    #[param(value_type = String)]
    pub driver: Driver,
    #[param(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
}

const MAX_VALUES: usize = 10_000;

/// Replaces the values of `set.driver`, `set.fiscal_period` and `set.source`.
pub async fn put(db: &Db, who: &Principal, set: DriverSet) -> Result<DriverSet> {
    check_source(&set.source)?;
    let mut checks = Checks::new();
    if set.driver == Driver::Fixed || set.driver == Driver::AssetCount {
        checks.fail("/driver", "fixed shares live in rules and asset counts in the asset register");
    }
    if set.values.len() > MAX_VALUES {
        checks.fail("/values", format!("at most {MAX_VALUES} values per request"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, v) in set.values.iter().enumerate() {
        if v.node_kind == NodeKind::CostPool {
            checks.fail(format!("/values/{i}/node_kind"), "drivers weigh towers, services and cost centers");
        }
        if v.value.is_sign_negative() || v.value > Decimal::from(1_000_000_000_000i64) || v.value.normalize().scale() > 6 {
            checks.fail(format!("/values/{i}/value"), "must be 0 to 10^12 with at most 6 decimals");
        }
        checks.text(&format!("/values/{i}/node_id"), &v.node_id, 100);
        if !seen.insert((v.node_kind, v.node_id.clone())) {
            checks.fail(format!("/values/{i}/node_id"), "the same node appears twice");
        }
    }
    checks.finish()?;
    let mut tx = db.begin().await?;
    let period = set.fiscal_period.to_string();
    query("DELETE FROM cost_driver_values WHERE driver = $1 AND fiscal_period = $2 AND source = $3")
        .bind(set.driver.as_str())
        .bind(&period)
        .bind(&set.source)
        .execute(&mut tx)
        .await?;
    let now = Utc::now();
    for v in &set.values {
        query(
            "INSERT INTO cost_driver_values (driver, fiscal_period, node_kind, node_id, source, value, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(set.driver.as_str())
        .bind(&period)
        .bind(v.node_kind.as_str())
        .bind(&v.node_id)
        .bind(&set.source)
        .bind(v.value)
        .bind(now)
        .execute(&mut tx)
        .await?;
    }
    let key = format!("{}/{}/{}", set.driver.as_str(), period, set.source);
    audit::record(&mut tx, who, Action::Update, "cost_driver_values", &key, None::<&()>, Some(&set)).await?;
    tx.commit().await?;
    Ok(set)
}

/// The summed values of `driver` (of `metric`, for utilisation) in `period`,
/// per node, from every source.
pub async fn values(
    ex: &mut impl Executor,
    driver: Driver,
    metric: Option<&str>,
    period: FiscalPeriod,
) -> Result<HashMap<(NodeKind, String), Decimal>> {
    let mut out: HashMap<(NodeKind, String), Decimal> = HashMap::new();
    // Synchronised ITOM and ITSM data, summed here: SQLite keeps decimals as text.
    let synced = match (driver, metric) {
        (Driver::Utilisation, Some(metric)) => Some(
            query(
                "SELECT service_id AS node, value FROM utilisation \
                 WHERE metric = $1 AND service_id IS NOT NULL AND period_start >= $2 AND period_start < $3",
            )
            .bind(metric),
        ),
        (Driver::Tickets | Driver::Effort, _) => Some(query(
            "SELECT COALESCE(t.service_id, ci.service_id) AS node, t.effort_hours AS value FROM ticket_effort t \
             LEFT JOIN configuration_items ci ON ci.id = t.ci_id \
             WHERE COALESCE(t.service_id, ci.service_id) IS NOT NULL AND t.opened_at >= $1 AND t.opened_at < $2",
        )),
        _ => None,
    };
    if let Some(synced) = synced {
        let (from, until) = crate::finance::calendar::load(ex).await?.utc_range(period);
        for row in synced.bind(from).bind(until).fetch_all(ex).await? {
            let value = if driver == Driver::Tickets { Decimal::ONE } else { row.decimal("value")? };
            *out.entry((NodeKind::Service, row.get("node")?)).or_default() += value;
        }
    }
    match driver {
        Driver::Fixed => {}
        Driver::AssetCount => {
            for (kind, column) in [(NodeKind::Service, "service_id"), (NodeKind::CostCenter, "cost_center_id")] {
                let rows = query(format!(
                    "SELECT {column} AS node, COUNT(*) AS n FROM assets \
                     WHERE {column} IS NOT NULL AND state IN ('deployed', 'in_maintenance') GROUP BY {column}"
                ))
                .fetch_all(ex)
                .await?;
                for row in rows {
                    out.insert((kind, row.get("node")?), Decimal::from(row.get::<i64>("n")?));
                }
            }
        }
        _ => {
            let rows = query(
                "SELECT node_kind, node_id, value FROM cost_driver_values WHERE driver = $1 AND fiscal_period = $2",
            )
            .bind(driver.as_str())
            .bind(period.to_string())
            .fetch_all(ex)
            .await?;
            for row in rows {
                let kind = NodeKind::from_db(&row.get::<String>("node_kind")?)?;
                *out.entry((kind, row.get("node_id")?)).or_default() += row.decimal("value")?;
            }
        }
    }
    Ok(out)
}

/// The stored values of one driver and period, per source.
pub async fn list(db: &Db, driver: Driver, period: FiscalPeriod) -> Result<Vec<DriverSet>> {
    let rows = query(
        "SELECT source, node_kind, node_id, value FROM cost_driver_values WHERE driver = $1 AND fiscal_period = $2 \
         ORDER BY source, node_kind, node_id",
    )
    .bind(driver.as_str())
    .bind(period.to_string())
    .fetch_all(&mut db.clone())
    .await?;
    let mut sets: Vec<DriverSet> = Vec::new();
    for row in rows {
        let source: String = row.get("source")?;
        if sets.last().map(|s| s.source != source).unwrap_or(true) {
            sets.push(DriverSet { driver, fiscal_period: period, source: source.clone(), values: Vec::new() });
        }
        let value = DriverValue {
            node_kind: NodeKind::from_db(&row.get::<String>("node_kind")?)?,
            node_id: row.get("node_id")?,
            value: row.decimal("value")?,
        };
        sets.last_mut().ok_or_else(|| Error::Internal(anyhow::anyhow!("no set")))?.values.push(value);
    }
    Ok(sets)
}
