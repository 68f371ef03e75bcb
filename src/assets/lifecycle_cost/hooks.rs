//! Where effort from IT service management (ITSM) and usage from IT operations
//! management (ITOM) enter the lifecycle cost.
//!
//! * **ITSM effort**: the hours of the synchronised tickets (`ticket_effort`)
//!   opened up to `as_of` on the scope (for a service: tickets of the service
//!   or of one of its configuration items; for an asset: tickets of a
//!   configuration item reconciled with it), costed at the finance settings'
//!   `labour_rate`. Without a rate the hours are still reported and the cost
//!   is null, not a made-up 0.
//! * **ITOM usage share**: the money the TBM allocation placed on the service
//!   by rules with the `utilisation` driver (shared infrastructure split by
//!   measured use), in the latest allocation run of each fiscal period up to
//!   `as_of`'s. An asset gets the part of its service's share that its own
//!   measured use carries: per period and rule, the share times the asset's
//!   utilisation of the rule's metric over the utilisation of all the
//!   service's hosts. A host is matched to the asset by the asset's name, tag
//!   or serial number, or the name of a configuration item reconciled with it
//!   (a `:port` suffix, as Prometheus' `instance` label has, is ignored).
//!   Null when no allocation run placed utilisation-driven money on the
//!   service.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::db::{Executor, query};
use crate::error::Result;
use crate::finance::calendar::{FiscalCalendar, FiscalPeriod};
use crate::finance::fx::Converter;

/// What a lifecycle cost is computed for.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Asset(&'a str),
    Service(&'a str),
}

impl Scope<'_> {
    pub fn id(&self) -> &str {
        match self {
            Scope::Asset(id) | Scope::Service(id) => id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scope::Asset(_) => "asset",
            Scope::Service(_) => "service",
        }
    }
}

/// Hours of ITSM effort on the scope, and their cost at the labour rate.
pub struct Effort {
    pub hours: Decimal,
    pub cost: Option<Decimal>,
}

fn day_after(date: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    (date + chrono::Days::new(1)).and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The ITSM effort on the scope opened up to `as_of` (see the module documentation).
pub async fn itsm_effort(ex: &mut impl Executor, scope: Scope<'_>, as_of: NaiveDate, converter: &Converter) -> Result<Effort> {
    let on_scope = match scope {
        Scope::Asset(_) => "ci.asset_id = $1",
        Scope::Service(_) => "COALESCE(t.service_id, ci.service_id) = $1",
    };
    let rows = query(format!(
        "SELECT t.effort_hours FROM ticket_effort t LEFT JOIN configuration_items ci ON ci.id = t.ci_id \
         WHERE {on_scope} AND t.opened_at < $2"
    ))
    .bind(scope.id())
    .bind(day_after(as_of))
    .fetch_all(ex)
    .await?;
    let hours = rows.iter().map(|r| r.decimal("effort_hours")).sum::<std::result::Result<Decimal, _>>()?;
    let rate = crate::finance::settings::get(ex).await?.labour_rate;
    Ok(Effort { hours, cost: rate.map(|rate| converter.round(hours * rate)) })
}

/// The utilisation-driven money of the latest allocation run of each period
/// up to `last`, that reached `service`: (period, metric of the rule, amount
/// in the reporting currency).
async fn utilisation_flows(
    ex: &mut impl Executor,
    service: &str,
    last: FiscalPeriod,
    calendar: &FiscalCalendar,
    converter: &mut Converter,
) -> Result<Vec<(FiscalPeriod, Option<String>, Decimal)>> {
    let mut latest: BTreeMap<FiscalPeriod, String> = BTreeMap::new();
    for row in query("SELECT id, fiscal_period FROM allocation_runs ORDER BY created_at, id").fetch_all(ex).await? {
        let period: FiscalPeriod = match row.get::<String>("fiscal_period")?.parse() {
            Ok(p) if p <= last => p,
            _ => continue,
        };
        latest.insert(period, row.get("id")?);
    }
    let mut out = Vec::new();
    for (period, run) in latest {
        let rows = query(
            "SELECT r.currency, ru.metric, f.amount FROM allocation_flows f \
             JOIN allocation_runs r ON r.id = f.run_id JOIN allocation_rules ru ON ru.id = f.rule_id \
             WHERE f.run_id = $1 AND f.target_kind = 'service' AND f.target_id = $2 AND ru.driver = 'utilisation'",
        )
        .bind(&run)
        .bind(service)
        .fetch_all(ex)
        .await?;
        for row in rows {
            let currency: String = row.get("currency")?;
            let amount = converter.convert_period(ex, calendar, row.decimal("amount")?, &currency, period).await?;
            out.push((period, row.get("metric")?, amount));
        }
    }
    Ok(out)
}

/// A host name without a `:port` suffix, in lower case.
fn host_name(subject: &str) -> String {
    let subject = subject.trim().to_lowercase();
    match subject.rsplit_once(':') {
        // A bare IPv6 address has colons of its own; only `[v6]:port` has a port.
        Some((host, port))
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && (!host.contains(':') || host.ends_with(']')) =>
        {
            host.to_owned()
        }
        _ => subject,
    }
}

/// The names under which monitoring may report the asset as a host.
async fn host_names(ex: &mut impl Executor, asset: &super::super::Asset) -> Result<HashSet<String>> {
    let mut names: HashSet<String> =
        [Some(&asset.name), asset.asset_tag.as_ref(), asset.serial_number.as_ref()].into_iter().flatten().map(|n| host_name(n)).collect();
    for row in query("SELECT name FROM configuration_items WHERE asset_id = $1").bind(&asset.id).fetch_all(ex).await? {
        names.insert(host_name(&row.get::<String>("name")?));
    }
    Ok(names)
}

/// The scope's share of utilisation-driven shared cost up to `as_of` (see the
/// module documentation).
pub async fn itom_usage_share(
    ex: &mut impl Executor,
    scope: Scope<'_>,
    asset: Option<&super::super::Asset>,
    as_of: NaiveDate,
    calendar: &FiscalCalendar,
    converter: &mut Converter,
) -> Result<Option<Decimal>> {
    let service = match (scope, asset) {
        (Scope::Service(id), _) => id.to_owned(),
        (Scope::Asset(_), Some(asset)) => match &asset.service_id {
            Some(service) => service.clone(),
            None => return Ok(None),
        },
        (Scope::Asset(_), None) => return Ok(None),
    };
    let flows = utilisation_flows(ex, &service, calendar.period_of(as_of), calendar, converter).await?;
    if flows.is_empty() {
        return Ok(None);
    }
    let Some(asset) = asset else {
        return Ok(Some(converter.round(flows.iter().map(|(_, _, amount)| *amount).sum())));
    };
    // The share is linear in the money: one utilisation read per period and metric.
    let mut by_measure: BTreeMap<(FiscalPeriod, String), Decimal> = BTreeMap::new();
    for (period, metric, amount) in flows {
        if let Some(metric) = metric {
            *by_measure.entry((period, metric)).or_default() += amount;
        }
    }
    let names = host_names(ex, asset).await?;
    let mut share = Decimal::ZERO;
    for ((period, metric), amount) in by_measure {
        let (from, until) = calendar.utc_range(period);
        let rows = query(
            "SELECT subject, value FROM utilisation WHERE service_id = $1 AND metric = $2 AND subject_kind = 'host' \
             AND period_start >= $3 AND period_start < $4",
        )
        .bind(&service)
        .bind(&metric)
        .bind(from)
        .bind(until)
        .fetch_all(ex)
        .await?;
        let (mut mine, mut all) = (Decimal::ZERO, Decimal::ZERO);
        for row in rows {
            let value = row.decimal("value")?;
            all += value;
            if names.contains(&host_name(&row.get::<String>("subject")?)) {
                mine += value;
            }
        }
        if !all.is_zero() {
            share += amount * mine / all;
        }
    }
    Ok(Some(converter.round(share)))
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn hosts_match_without_their_port_and_case() {
        assert_eq!(host_name("DB-01.example.com:9100"), "db-01.example.com");
        assert_eq!(host_name("db-01"), "db-01");
        assert_eq!(host_name("[::1]:9100"), "[::1]");
        assert_eq!(host_name("fe80::1"), "fe80::1");
    }
}
