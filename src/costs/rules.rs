//! Allocation rules: for one source node (a cost pool, tower or service), the
//! targets its money goes to and the driver that weighs them.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::engine::NodeKind;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// What weighs a rule's targets in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// The `share` given with each target.
    Fixed,
    /// The number of assets in use of each target service or cost center.
    AssetCount,
    /// Utilisation from ITOM: the rule's `metric` as synchronised, plus
    /// `cost_driver_values` of driver `utilisation`.
    Utilisation,
    /// Ticket counts from ITSM: synchronised tickets, plus driver `tickets`.
    Tickets,
    /// Effort hours from ITSM: synchronised ticket effort, plus driver `effort`.
    Effort,
    /// Headcount of each target cost center (driver `headcount`).
    Headcount,
}

crate::text_enum!(Driver {
    Fixed = "fixed",
    AssetCount = "asset_count",
    Utilisation = "utilisation",
    Tickets = "tickets",
    Effort = "effort",
    Headcount = "headcount",
});

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleTarget {
    pub kind: NodeKind,
    pub id: String,
    /// The target's weight under the `fixed` driver (any non-negative
    /// numbers; they need not add up to 100). Absent for other drivers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "40")]
    pub share: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocationRule {
    pub id: String,
    pub name: String,
    pub source_kind: NodeKind,
    pub source_id: String,
    pub driver: Driver,
    /// The synchronised utilisation metric that weighs the targets (the
    /// `utilisation` driver only), e.g. `cpu_seconds`; see [`super::drivers`].
    pub metric: Option<String>,
    /// Chargeback: the money this rule places is billed to consumers;
    /// otherwise it is shown (showback) only.
    pub chargeable: bool,
    pub targets: Vec<RuleTarget>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocationRule {
    pub name: String,
    pub source_kind: NodeKind,
    pub source_id: String,
    pub driver: Driver,
    /// The utilisation metric (the `utilisation` driver only).
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub chargeable: bool,
    pub targets: Vec<RuleTarget>,
}

/// A change to a rule; the source is its identity and cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRulePatch {
    pub name: Option<String>,
    pub driver: Option<Driver>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub metric: Option<Option<String>>,
    pub chargeable: Option<bool>,
    pub targets: Option<Vec<RuleTarget>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleFilter {
    #[param(value_type = Option<String>)]
    pub source_kind: Option<NodeKind>,
    pub source_id: Option<String>,
    #[param(value_type = Option<String>)]
    pub driver: Option<Driver>,
}

const MAX_TARGETS: usize = 500;
const COLUMNS: &str = "id, name, source_kind, source_id, driver, metric, chargeable, targets, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("name", "LOWER(name)"), ("source_kind", "source_kind"), ("created_at", "created_at")],
    default: "source_kind,name",
    tie_break: "id",
};
const DUPLICATE: &str = "this source has a rule already: change that rule instead";

fn from_row(row: &Row) -> Result<AllocationRule> {
    Ok(AllocationRule {
        id: row.get("id")?,
        name: row.get("name")?,
        source_kind: NodeKind::from_db(&row.get::<String>("source_kind")?)?,
        source_id: row.get("source_id")?,
        driver: Driver::from_db(&row.get::<String>("driver")?)?,
        metric: row.get("metric")?,
        chargeable: row.get("chargeable")?,
        targets: row.json("targets")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

fn node_ref(kind: NodeKind) -> Ref {
    match kind {
        NodeKind::CostPool => Ref::CostPool,
        NodeKind::Tower => Ref::Tower,
        NodeKind::Service => Ref::Service,
        NodeKind::CostCenter => Ref::CostCenter,
    }
}

async fn validate(ex: &mut impl Executor, r: &AllocationRule) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &r.name, 200);
    if r.source_kind == NodeKind::CostCenter {
        checks.fail("/source_kind", "consumers receive money; a rule starts at a cost pool, tower or service");
    } else {
        refs::check(ex, &mut checks, "/source_id", node_ref(r.source_kind), Some(&r.source_id)).await?;
    }
    if r.targets.is_empty() || r.targets.len() > MAX_TARGETS {
        checks.fail("/targets", format!("must name 1 to {MAX_TARGETS} targets"));
    }
    let mut seen = BTreeSet::new();
    let mut fixed_total = Decimal::ZERO;
    for (i, t) in r.targets.iter().enumerate() {
        let at = format!("/targets/{i}");
        let service_to_service = r.source_kind == NodeKind::Service && t.kind == NodeKind::Service;
        if t.kind.layer() <= r.source_kind.layer() && !service_to_service {
            checks.fail(format!("{at}/kind"), "money flows down: pools to towers to services (or applications) to cost centers");
            continue;
        }
        if service_to_service && t.id == r.source_id {
            checks.fail(format!("{at}/id"), "a service cannot allocate to itself");
            continue;
        }
        if !seen.insert((t.kind, t.id.clone())) {
            checks.fail(format!("{at}/id"), "names the same target twice");
        }
        refs::check(ex, &mut checks, &format!("{at}/id"), node_ref(t.kind), Some(&t.id)).await?;
        match (r.driver, t.share) {
            (Driver::Fixed, None) => checks.fail(format!("{at}/share"), "the fixed driver needs a share for every target"),
            (Driver::Fixed, Some(share)) => {
                if share.is_sign_negative() || share > Decimal::from(1_000_000_000_000i64) || share.normalize().scale() > 6 {
                    checks.fail(format!("{at}/share"), "must be 0 to 10^12 with at most 6 decimals");
                } else {
                    fixed_total += share;
                }
            }
            (_, Some(_)) => checks.fail(format!("{at}/share"), "only the fixed driver takes shares; this driver weighs targets by data"),
            (_, None) => {}
        }
        if r.driver == Driver::AssetCount && t.kind == NodeKind::Tower {
            checks.fail(format!("{at}/kind"), "assets are counted per service or cost center");
        }
        if r.driver == Driver::Headcount && t.kind != NodeKind::CostCenter {
            checks.fail(format!("{at}/kind"), "headcount weighs cost centers only");
        }
    }
    if r.driver == Driver::Fixed && checks.is_empty() && fixed_total.is_zero() {
        checks.fail("/targets", "the shares add up to zero");
    }
    match (&r.metric, r.driver) {
        (Some(metric), Driver::Utilisation) => checks.text("/metric", metric, 100),
        (Some(_), _) => checks.fail("/metric", "only the utilisation driver names a metric"),
        (None, _) => {}
    }
    if checks.is_empty() && r.source_kind == NodeKind::Service {
        if let Some((i, cycle)) = service_cycle(ex, r).await? {
            checks.fail(format!("/targets/{i}/id"), format!("services would allocate in a circle: {}", cycle.join(" → ")));
        }
    }
    checks.finish()
}

/// Services may allocate to other services (shared services to the
/// applications that use them), which the engine does in dependency order;
/// a circle has no such order. Finds the first target of `rule` that closes
/// one, with the circle's services.
async fn service_cycle(ex: &mut impl Executor, rule: &AllocationRule) -> Result<Option<(usize, Vec<String>)>> {
    let mut edges: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for other in all(ex).await? {
        if other.source_kind == NodeKind::Service && other.id != rule.id {
            edges.insert(other.source_id.clone(), service_targets(&other).collect());
        }
    }
    for (i, target) in rule.targets.iter().enumerate().filter(|(_, t)| t.kind == NodeKind::Service) {
        if let Some(mut path) = path_between(&edges, &target.id, &rule.source_id) {
            path.insert(0, rule.source_id.clone());
            return Ok(Some((i, path)));
        }
    }
    Ok(None)
}

fn service_targets(rule: &AllocationRule) -> impl Iterator<Item = String> + '_ {
    rule.targets.iter().filter(|t| t.kind == NodeKind::Service).map(|t| t.id.clone())
}

/// A path `from` → … → `to` along `edges` (depth first), if there is one.
fn path_between(edges: &std::collections::BTreeMap<String, Vec<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last()?.clone();
        if last == to {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in edges.get(&last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

pub async fn list(db: &Db, filter: &RuleFilter, page: &PageParams) -> Result<Page<AllocationRule>> {
    let mut select = Select::new(COLUMNS, "allocation_rules");
    select
        .filter_opt("source_kind = {}", filter.source_kind.map(NodeKind::as_str))
        .filter_opt("source_id = {}", filter.source_id.as_deref())
        .filter_opt("driver = {}", filter.driver.map(Driver::as_str));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

/// Every rule, for a run.
pub async fn all(ex: &mut impl Executor) -> Result<Vec<AllocationRule>> {
    let rows = query(format!("SELECT {COLUMNS} FROM allocation_rules ORDER BY source_kind, source_id")).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<AllocationRule> {
    let row = query(format!("SELECT {COLUMNS} FROM allocation_rules WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("allocation rule", id))
}

fn targets_json(targets: &[RuleTarget]) -> Result<String> {
    Ok(serde_json::to_string(targets).map_err(anyhow::Error::from)?)
}

pub async fn create(db: &Db, who: &Principal, input: NewAllocationRule) -> Result<AllocationRule> {
    let now = Utc::now();
    let rule = AllocationRule {
        id: new_id(),
        name: input.name.trim().to_owned(),
        source_kind: input.source_kind,
        source_id: input.source_id,
        driver: input.driver,
        metric: input.metric.map(|m| m.trim().to_owned()),
        chargeable: input.chargeable,
        targets: input.targets,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    validate(&mut tx, &rule).await?;
    query(
        "INSERT INTO allocation_rules (id, name, source_kind, source_id, driver, metric, chargeable, targets, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)",
    )
    .bind(&rule.id)
    .bind(&rule.name)
    .bind(rule.source_kind.as_str())
    .bind(&rule.source_id)
    .bind(rule.driver.as_str())
    .bind(rule.metric.as_deref())
    .bind(rule.chargeable)
    .bind(targets_json(&rule.targets)?)
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/source_id"))?;
    audit::record(&mut tx, who, Action::Create, "allocation_rule", &rule.id, None::<&()>, Some(&rule)).await?;
    tx.commit().await?;
    Ok(rule)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: AllocationRulePatch) -> Result<AllocationRule> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = AllocationRule {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        driver: input.driver.unwrap_or(before.driver),
        metric: patch::apply(before.metric.clone(), input.metric.map(|m| m.map(|m| m.trim().to_owned()))),
        chargeable: input.chargeable.unwrap_or(before.chargeable),
        targets: input.targets.unwrap_or_else(|| before.targets.clone()),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&mut tx, &after).await?;
    let columns = vec![
        ("name", (&after.name).into()), ("driver", after.driver.as_str().into()),
        ("metric", after.metric.as_deref().into()), ("chargeable", after.chargeable.into()),
        ("targets", targets_json(&after.targets)?.into()), ("updated_at", after.updated_at.into()),
        ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "allocation_rules",
    entity: "allocation_rule",
    duplicate: DUPLICATE,
    reference: "/source_id",
    in_use: "other records refer to the allocation rule",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
