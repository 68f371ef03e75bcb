//! Records into the core model, one function per `produces` kind; the
//! contract is `src/sync/README.md`. Every function works in the page's
//! transaction; a record that cannot be stored comes back as a reason, and a
//! savepoint undoes whatever it wrote, so the rest of the page is kept.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::records::{self, Gone, Known};
use super::settings::Settings;
use crate::assets::{self, AssetKind, AssetPatch, AssetState, DepreciationMethod, NewAsset, SourceId, Transition};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Executor, Tx, query};
use crate::error::{Error, Result};
use crate::ledger::{self, NewLedgerLine, Tags};
use crate::patch::new_id;
use crate::plugins::runtime::StreamInfo;

/// What a stream produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Asset,
    Service,
    ConfigurationItem,
    LedgerLine,
    TicketEffort,
    Utilisation,
    ProjectActual,
}

crate::text_enum!(Kind {
    Asset = "asset",
    Service = "service",
    ConfigurationItem = "configuration-item",
    LedgerLine = "ledger-line",
    TicketEffort = "ticket-effort",
    Utilisation = "utilisation",
    ProjectActual = "project-actual",
});

/// Where a page's records come from.
pub struct Context<'a> {
    pub instance_id: &'a str,
    pub run_id: &'a str,
    pub stream: &'a StreamInfo,
    pub who: &'a Principal,
    pub settings: &'a Settings,
    pub kind: Kind,
}

impl Context<'_> {
    /// The ledger's `source` and the assets' source-id `source` of this instance.
    fn source(&self) -> String {
        format!("sync:{}", self.instance_id)
    }

    fn source_key(&self, key: &str) -> String {
        format!("{}:{key}", self.stream.name)
    }
}

/// A new or changed record of a page.
pub struct Candidate {
    pub key: String,
    pub hash: String,
    pub value: Value,
    pub raw: String,
    /// What the engine stored for this key before, if anything.
    pub known: Option<Known>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Inserted,
    Updated,
    Unchanged,
}

/// Per candidate: what changed and the core id, or why it was rejected.
pub type Outcome = std::result::Result<(Change, Option<String>), String>;

/// Stores the candidates of one page.
pub async fn apply(tx: &mut Tx, cx: &Context<'_>, candidates: &[Candidate]) -> Result<Vec<Outcome>> {
    if matches!(cx.kind, Kind::LedgerLine | Kind::ProjectActual) {
        return ledger_lines(tx, cx, candidates).await;
    }
    let mut outcomes = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        query("SAVEPOINT sync_record").execute(tx).await?;
        let outcome = match one(tx, cx, candidate).await {
            Ok(done) => Ok(done),
            Err(Reject::Why(why)) => Err(why),
            Err(Reject::Fatal(e)) => return Err(e),
        };
        let end = if outcome.is_ok() { "RELEASE SAVEPOINT sync_record" } else { "ROLLBACK TO SAVEPOINT sync_record" };
        query(end).execute(tx).await?;
        if outcome.is_err() {
            query("RELEASE SAVEPOINT sync_record").execute(tx).await?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn one(tx: &mut Tx, cx: &Context<'_>, c: &Candidate) -> std::result::Result<(Change, Option<String>), Reject> {
    let fields = Fields(c.value.as_object().expect("records are objects"));
    match cx.kind {
        Kind::Asset => asset(tx, cx, c, &fields).await,
        Kind::Service => service(tx, cx, &fields).await,
        Kind::ConfigurationItem => configuration_item(tx, cx, c, &fields).await,
        Kind::TicketEffort => ticket_effort(tx, cx, c, &fields).await,
        Kind::Utilisation => utilisation(tx, cx, c, &fields).await,
        Kind::LedgerLine | Kind::ProjectActual => unreachable!("ledger lines are stored a page at a time"),
    }
}

/// Why a record was not stored: its own fault, or the database's (which ends the run).
enum Reject {
    Why(String),
    Fatal(Error),
}

impl From<Error> for Reject {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation(errors) => Reject::Why(super::engine::reasons(&errors)),
            Error::Conflict { detail, .. } => Reject::Why(detail),
            Error::NotFound { .. } | Error::BadRequest { .. } => Reject::Why(e.to_string()),
            other => Reject::Fatal(other),
        }
    }
}

impl From<crate::db::DbError> for Reject {
    fn from(e: crate::db::DbError) -> Self {
        // A constraint the record broke (a duplicate, a dangling reference)
        // is the record's fault; anything else ends the run.
        if e.unique_violation().is_some() || e.is_foreign_key_violation() {
            Reject::Why(format!("the database refused it: {e}"))
        } else {
            Reject::Fatal(e.into())
        }
    }
}

impl From<String> for Reject {
    fn from(why: String) -> Self {
        Reject::Why(why)
    }
}

// ---- reading fields ----

/// A record's members, read leniently: connectors send strings for
/// everything (ServiceNow does), so numbers, dates and booleans are accepted
/// as strings too, and `""` counts as absent.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn text(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn required(&self, name: &str) -> std::result::Result<String, String> {
        self.text(name).ok_or_else(|| format!("{name} is required"))
    }

    fn decimal(&self, name: &str) -> std::result::Result<Option<Decimal>, String> {
        self.text(name).map(|t| parse_decimal(&t).ok_or_else(|| format!("{name}: {t:?} is not a decimal"))).transpose()
    }

    fn date(&self, name: &str) -> std::result::Result<Option<NaiveDate>, String> {
        self.text(name).map(|t| parse_date(&t).ok_or_else(|| format!("{name}: {t:?} is not a date"))).transpose()
    }

    fn timestamp(&self, name: &str) -> std::result::Result<Option<DateTime<Utc>>, String> {
        self.text(name).map(|t| parse_timestamp(&t).ok_or_else(|| format!("{name}: {t:?} is not a timestamp"))).transpose()
    }

    fn object(&self, name: &str) -> Option<&Map<String, Value>> {
        self.0.get(name).and_then(Value::as_object)
    }
}

/// A decimal as written (`"1999.00"` keeps its two places); trailing zeros
/// beyond the ledger's 12 places are dropped, as they change nothing.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let d = Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).ok()?;
    Some(if d.scale() > 12 { d.normalize() } else { d })
}

/// RFC 3339 with any offset; `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`
/// without one is UTC; a bare date is its midnight UTC.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// A date, or the UTC date of a timestamp.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok().or_else(|| parse_timestamp(text).map(|t| t.date_naive()))
}

/// The id of the row of `table` whose id or `code` column is `value`.
async fn by_id_or_code(ex: &mut impl Executor, table: &'static str, code: &'static str, value: &str) -> Result<Option<String>> {
    let row = query(format!("SELECT id FROM {table} WHERE id = $1 OR {code} = $1 ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1"))
        .bind(value)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| r.get::<String>("id")).transpose()?)
}

/// A core reference named by id or code; an unknown one rejects the record.
async fn reference(
    ex: &mut impl Executor,
    fields: &Fields<'_>,
    name: &str,
    table: &'static str,
    code: &'static str,
) -> std::result::Result<Option<String>, Reject> {
    let Some(value) = fields.text(name) else { return Ok(None) };
    match by_id_or_code(ex, table, code, &value).await? {
        Some(id) => Ok(Some(id)),
        None => Err(Reject::Why(format!("{name}: no {table} row has the id or {code} {value:?}"))),
    }
}

/// A `*_ref` member: another record of this instance, by stream and key.
async fn record_ref(ex: &mut impl Executor, cx: &Context<'_>, fields: &Fields<'_>, name: &str) -> std::result::Result<Option<String>, Reject> {
    let Some(reference) = fields.object(name) else { return Ok(None) };
    let (Some(stream), Some(key)) = (reference.get("stream").and_then(Value::as_str), reference.get("key").and_then(Value::as_str)) else {
        return Err(Reject::Why(format!("{name} must be {{\"stream\": …, \"key\": …}}")));
    };
    if key.is_empty() {
        return Ok(None);
    }
    Ok(records::target_of(ex, cx.instance_id, stream, key).await?)
}

// ---- ledger lines and project actuals ----

async fn ledger_lines(tx: &mut Tx, cx: &Context<'_>, candidates: &[Candidate]) -> Result<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; candidates.len()];
    let mut lines = Vec::new();
    let mut at = Vec::new();
    let mut codes: HashMap<(&'static str, String), Option<String>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        match ledger_line(tx, cx, c, &mut codes).await {
            Ok(line) => {
                lines.push(line);
                at.push(i);
            }
            Err(Reject::Why(why)) => outcomes[i] = Some(Err(why)),
            Err(Reject::Fatal(e)) => return Err(e),
        }
    }
    // Validate all at once; each invalid line is rejected on its own.
    let errors = ledger::check_lines(tx, &lines).await?;
    let mut bad: HashMap<usize, Vec<crate::error::FieldError>> = HashMap::new();
    for e in errors {
        if let Some((index, rest)) = e.pointer.as_deref().and_then(ledger::split_index) {
            bad.entry(index).or_default().push(crate::error::FieldError::at(rest, e.detail.clone()));
        }
    }
    let mut valid = Vec::new();
    let mut valid_at = Vec::new();
    for (n, line) in lines.into_iter().enumerate() {
        let i = at[n];
        if let Some(errors) = bad.get(&n) {
            outcomes[i] = Some(Err(super::engine::reasons(errors)));
            continue;
        }
        // A changed record replaces its line.
        if candidates[i].known.as_ref().is_some_and(|k| k.target_id.is_some()) {
            let key = line.source_key.clone().unwrap_or_default();
            if let Some(old) = ledger::find_by_source_key(tx, &cx.source(), &key).await? {
                query("DELETE FROM ledger_lines WHERE id = $1").bind(&old.id).execute(tx).await?;
                audit::record(tx, cx.who, Action::Delete, "ledger_line", &old.id, Some(&old), None::<&()>).await?;
            }
        }
        valid.push(line);
        valid_at.push(i);
    }
    let keys: Vec<String> = valid.iter().map(|l| l.source_key.clone().unwrap_or_default()).collect();
    let posted = ledger::post_lines(tx, cx.who, &cx.source(), valid).await?;
    let ids: HashMap<&str, &str> = posted.inserted.iter().map(|l| (l.source_key.as_str(), l.id.as_str())).collect();
    for (n, key) in keys.iter().enumerate() {
        let i = valid_at[n];
        let replaced = candidates[i].known.as_ref().is_some_and(|k| k.target_id.is_some());
        outcomes[i] = Some(match ids.get(key.as_str()) {
            Some(id) => Ok((if replaced { Change::Updated } else { Change::Inserted }, Some((*id).to_owned()))),
            // The ledger held the line already (stored by a run that crashed
            // before it recorded it): nothing new.
            None => {
                let existing = ledger::find_by_source_key(tx, &cx.source(), key).await?;
                Ok((Change::Unchanged, existing.map(|l| l.id)))
            }
        });
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every candidate has an outcome")).collect())
}

/// Most tags a ledger line carries; the record's `tags` come first, then its `columns`.
const MAX_LINE_TAGS: usize = 50;

async fn ledger_line(
    tx: &mut Tx,
    cx: &Context<'_>,
    c: &Candidate,
    codes: &mut HashMap<(&'static str, String), Option<String>>,
) -> std::result::Result<NewLedgerLine, Reject> {
    let f = Fields(c.value.as_object().expect("records are objects"));
    let entry_date = f.date("entry_date")?.ok_or("entry_date is required".to_owned())?;
    let amount = f.decimal("amount")?.ok_or("amount is required".to_owned())?;
    let currency = f.required("currency")?.to_uppercase();
    let mut lookup = async |field: &str, table: &'static str, code: &'static str| -> std::result::Result<Option<String>, Reject> {
        let Some(value) = f.text(field) else { return Ok(None) };
        let cached = codes.get(&(table, value.clone())).cloned();
        let found = match cached {
            Some(found) => found,
            None => {
                let found = by_id_or_code(tx, table, code, &value).await?;
                codes.insert((table, value.clone()), found.clone());
                found
            }
        };
        found.map(Some).ok_or_else(|| Reject::Why(format!("{field}: no {table} row has the id or {code} {value:?}")))
    };
    let cost_center = lookup("cost_center", "cost_centers", "code").await?.or_else(|| cx.settings.cost_center_id.clone());
    let cost_type = lookup("cost_type", "cost_types", "code").await?.or_else(|| cx.settings.cost_type_id.clone());
    let vendor = lookup("vendor", "vendors", "name").await?;
    let service = lookup("service", "services", "code").await?;
    let project = lookup("project", "projects", "code").await?;
    let Some(cost_center_id) = cost_center else {
        return Err(Reject::Why("cost_center: the record names none and the instance's sync settings set no default".into()));
    };
    let Some(cost_type_id) = cost_type else {
        return Err(Reject::Why("cost_type: the record names none and the instance's sync settings set no default".into()));
    };
    if cx.kind == Kind::ProjectActual && project.is_none() {
        return Err(Reject::Why("project is required for a project actual".into()));
    }
    let mut tags = Tags::new();
    for (source, prefix) in [("tags", ""), ("columns", "col:")] {
        for (name, value) in f.object(source).into_iter().flatten() {
            let text = match value {
                Value::Null => continue,
                Value::String(s) if s.is_empty() => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if tags.len() >= MAX_LINE_TAGS {
                break;
            }
            let name: String = format!("{prefix}{name}").chars().take(100).collect();
            tags.entry(name).or_insert_with(|| text.chars().take(1000).collect());
        }
    }
    Ok(NewLedgerLine {
        entry_date,
        amount,
        currency,
        cost_type_id,
        cost_center_id,
        project_id: project,
        asset_id: None,
        vendor_id: vendor,
        service_id: service,
        cost_pool_id: None,
        tower_id: None,
        description: f.text("description").map(|d| d.chars().take(2000).collect()),
        tags,
        source_key: Some(cx.source_key(&c.key)),
    })
}

// ---- assets ----

async fn asset(tx: &mut Tx, cx: &Context<'_>, c: &Candidate, f: &Fields<'_>) -> std::result::Result<(Change, Option<String>), Reject> {
    let name = f.required("name")?;
    let kind = match f.text("kind") {
        Some(k) => AssetKind::parse(&k).ok_or_else(|| format!("kind: {k:?} is not an asset kind"))?,
        None => AssetKind::Hardware,
    };
    let state = f.text("state").map(|s| AssetState::parse(&s).ok_or_else(|| format!("state: {s:?} is not an asset state"))).transpose()?;
    let method = f
        .text("depreciation_method")
        .map(|m| DepreciationMethod::parse(&m).ok_or_else(|| format!("depreciation_method: {m:?} is unknown")))
        .transpose()?;
    let useful_life = f
        .text("useful_life_months")
        .map(|m| m.parse::<i32>().map_err(|_| format!("useful_life_months: {m:?} is not a whole number")))
        .transpose()?;
    let serial = f.text("serial_number");
    let tag = f.text("asset_tag");
    let cost = f.decimal("purchase_cost")?;
    let currency = f.text("currency").map(|c| c.to_uppercase());
    let acquired = f.date("acquisition_date")?;
    let in_service = f.date("in_service_date")?;
    let warranty_end = f.date("warranty_end")?;
    let end_of_life = f.date("end_of_life")?;
    let model = f.text("model");
    let me = SourceId { source: cx.source(), external_id: cx.source_key(&c.key) };

    // Reconcile: this source's own id, then the asset tag, then a serial number only one asset has.
    let mut found = assets::find_by_source(tx, &me.source, &me.external_id).await?;
    if found.is_none() && tag.is_some() {
        found = assets::find_by_serial_or_tag(tx, None, tag.as_deref()).await?.into_iter().next();
    }
    if found.is_none() && serial.is_some() {
        let mut matches = assets::find_by_serial_or_tag(tx, serial.as_deref(), None).await?;
        if matches.len() == 1 {
            found = matches.pop();
        }
    }
    let Some(before) = found else {
        let created = assets::create_in(
            tx,
            cx.who,
            NewAsset {
                name,
                kind,
                state,
                asset_tag: tag,
                serial_number: serial,
                model,
                vendor_id: None,
                purchase_cost: cost,
                currency,
                acquisition_date: acquired,
                in_service_date: in_service,
                warranty_end,
                end_of_life,
                depreciation_method: method,
                depreciation_convention: None,
                useful_life_months: useful_life,
                residual_value: None,
                cost_center_id: None,
                service_id: None,
                cost_type_id: None,
                tax_depreciation: None,
                source_ids: vec![me],
            },
        )
        .await?;
        return Ok((Change::Inserted, Some(created.id)));
    };
    let owns = owns_asset(tx, cx, &before.id).await?;
    // The owner's values overwrite; anyone else's only fill what is empty.
    fn pick<T: Clone>(owns: bool, current: &Option<T>, new: Option<T>) -> Option<Option<T>> {
        match new {
            Some(v) if owns || current.is_none() => Some(Some(v)),
            _ => None,
        }
    }
    let mut source_ids = before.source_ids.clone();
    if !source_ids.contains(&me) {
        source_ids.push(me);
    }
    let patch = AssetPatch {
        name: owns.then_some(name),
        kind: owns.then_some(kind),
        asset_tag: pick(owns, &before.asset_tag, tag),
        serial_number: pick(owns, &before.serial_number, serial),
        model: pick(owns, &before.model, model),
        purchase_cost: pick(owns, &before.purchase_cost, cost),
        currency: if owns { currency } else { None },
        acquisition_date: pick(owns, &before.acquisition_date, acquired),
        in_service_date: pick(owns, &before.in_service_date, in_service),
        warranty_end: pick(owns, &before.warranty_end, warranty_end),
        end_of_life: pick(owns, &before.end_of_life, end_of_life),
        depreciation_method: if owns { method } else { None },
        useful_life_months: pick(owns, &before.useful_life_months, useful_life),
        source_ids: Some(source_ids),
        ..AssetPatch::default()
    };
    let id = before.id.clone();
    let current_state = before.state;
    let after = assets::update_in(tx, cx.who, before, patch).await?;
    if let Some(state) = state.filter(|s| owns && *s != current_state) {
        use crate::lifecycle::Lifecycle;
        if current_state.next().contains(&state) {
            assets::transition_in(tx, cx.who, after, Transition { to: state, reason: Some(format!("reported by {}", cx.source())), disposed_on: None }).await?;
        }
    }
    Ok((Change::Updated, Some(id)))
}

/// True when this instance owns the asset's fields: no other source reports
/// it with a lower precedence number, nor with the same one and earlier.
async fn owns_asset(tx: &mut Tx, cx: &Context<'_>, asset_id: &str) -> Result<bool> {
    let rows = query(
        "SELECT r.instance_id, COALESCE(s.precedence, 100) AS precedence, r.first_seen_at FROM sync_records r \
         LEFT JOIN sync_settings s ON s.instance_id = r.instance_id \
         WHERE r.target_id = $1 AND r.produces = 'asset' AND r.gone_at IS NULL ORDER BY precedence, r.first_seen_at",
    )
    .bind(asset_id)
    .fetch_all(tx)
    .await?;
    let Some(first) = rows.first() else { return Ok(true) };
    let owner: String = first.get("instance_id")?;
    let owner_precedence: i64 = first.get("precedence")?;
    Ok(owner == cx.instance_id || cx.settings.precedence < owner_precedence)
}

/// After a full refresh: what disappeared from the source. Assets no other
/// source still reports are retired; configuration items are marked retired.
pub async fn retire(tx: &mut Tx, cx: &Context<'_>, gone: Vec<Gone>) -> Result<()> {
    use crate::lifecycle::Lifecycle;
    for g in gone {
        let Some(target) = g.target_id else { continue };
        match Kind::parse(&g.produces) {
            Some(Kind::Asset) => {
                let others = query("SELECT COUNT(*) AS n FROM sync_records WHERE target_id = $1 AND produces = 'asset' AND gone_at IS NULL")
                    .bind(&target)
                    .fetch_one(tx)
                    .await?
                    .get::<i64>("n")?;
                let Ok(asset) = assets::get(tx, &target).await else { continue };
                if others == 0 && asset.state.next().contains(&AssetState::Retired) {
                    let reason = format!("no longer reported by {} (stream {})", cx.source(), cx.stream.name);
                    assets::transition_in(tx, cx.who, asset, Transition { to: AssetState::Retired, reason: Some(reason), disposed_on: None }).await?;
                }
            }
            Some(Kind::ConfigurationItem) => {
                query("UPDATE configuration_items SET retired_at = $1 WHERE id = $2").bind(Utc::now()).bind(&target).execute(tx).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

// ---- services ----

async fn service(tx: &mut Tx, cx: &Context<'_>, f: &Fields<'_>) -> std::result::Result<(Change, Option<String>), Reject> {
    let code = f.required("code")?;
    let name = f.required("name")?;
    let kind = f.text("kind").unwrap_or_else(|| "business_service".into());
    if !["business_service", "technical_service", "application"].contains(&kind.as_str()) {
        return Err(Reject::Why(format!("kind: {kind:?} must be business_service, technical_service or application")));
    }
    if code.chars().count() > 50 || name.chars().count() > 200 {
        return Err(Reject::Why("code (at most 50 characters) or name (at most 200) is too long".into()));
    }
    let now = Utc::now();
    let existing = query("SELECT id, name, kind, version FROM services WHERE code = $1").bind(&code).fetch_optional(tx).await?;
    let after = serde_json::json!({ "code": code, "name": name, "kind": kind });
    match existing {
        Some(row) => {
            let id: String = row.get("id")?;
            let version: i64 = row.get("version")?;
            let before = serde_json::json!({ "code": code, "name": row.get::<String>("name")?, "kind": row.get::<String>("kind")? });
            if before == after {
                return Ok((Change::Unchanged, Some(id)));
            }
            query("UPDATE services SET name = $1, kind = $2, updated_at = $3, version = $4 WHERE id = $5")
                .bind(&name)
                .bind(&kind)
                .bind(now)
                .bind(version + 1)
                .bind(&id)
                .execute(tx)
                .await?;
            audit::record(tx, cx.who, Action::Update, "service", &id, Some(&before), Some(&after)).await?;
            Ok((Change::Updated, Some(id)))
        }
        None => {
            let id = new_id();
            query("INSERT INTO services (id, code, name, kind, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $5, 1)")
                .bind(&id)
                .bind(&code)
                .bind(&name)
                .bind(&kind)
                .bind(now)
                .execute(tx)
                .await?;
            audit::record(tx, cx.who, Action::Create, "service", &id, None::<&()>, Some(&after)).await?;
            Ok((Change::Inserted, Some(id)))
        }
    }
}

/// A service named by `service` (id or code) or by `service_ref`.
async fn service_of(tx: &mut Tx, cx: &Context<'_>, f: &Fields<'_>) -> std::result::Result<Option<String>, Reject> {
    match reference(tx, f, "service", "services", "code").await? {
        Some(id) => Ok(Some(id)),
        None => record_ref(tx, cx, f, "service_ref").await,
    }
}

/// Inserts or updates a row of one of the engine's own tables, keyed by
/// (instance, stream, record key); `columns` and `values` exclude those and
/// the bookkeeping columns.
async fn upsert_own(
    tx: &mut Tx,
    cx: &Context<'_>,
    c: &Candidate,
    table: &'static str,
    columns: &[&str],
    values: Vec<crate::db::Value>,
) -> std::result::Result<(Change, Option<String>), Reject> {
    let existing = query(format!("SELECT id FROM {table} WHERE instance_id = $1 AND stream = $2 AND record_key = $3"))
        .bind(cx.instance_id)
        .bind(cx.stream.name.as_str())
        .bind(c.key.as_str())
        .fetch_optional(tx)
        .await?;
    let now = Utc::now();
    match existing {
        Some(row) => {
            let id: String = row.get("id")?;
            let sets: Vec<String> = columns.iter().enumerate().map(|(i, col)| format!("{col} = ${}", i + 1)).collect();
            let n = columns.len();
            let mut q = query(format!("UPDATE {table} SET {}, updated_at = ${} WHERE id = ${}", sets.join(", "), n + 1, n + 2));
            for v in values {
                q = q.bind(v);
            }
            q.bind(now).bind(id.as_str()).execute(tx).await?;
            Ok((Change::Updated, Some(id)))
        }
        None => {
            let id = new_id();
            let n = columns.len();
            let placeholders: Vec<String> = (1..=n + 6).map(|i| format!("${i}")).collect();
            let mut q = query(format!(
                "INSERT INTO {table} ({}, id, instance_id, stream, record_key, created_at, updated_at) VALUES ({})",
                columns.join(", "),
                placeholders.join(", ")
            ));
            for v in values {
                q = q.bind(v);
            }
            q.bind(id.as_str()).bind(cx.instance_id).bind(cx.stream.name.as_str()).bind(c.key.as_str()).bind(now).bind(now).execute(tx).await?;
            Ok((Change::Inserted, Some(id)))
        }
    }
}

// ---- configuration items, ticket effort, utilisation ----

async fn configuration_item(tx: &mut Tx, cx: &Context<'_>, c: &Candidate, f: &Fields<'_>) -> std::result::Result<(Change, Option<String>), Reject> {
    let name = f.required("name")?;
    let serial = f.text("serial_number");
    let tag = f.text("asset_tag");
    let service = service_of(tx, cx, f).await?;
    let mut asset = None;
    if serial.is_some() || tag.is_some() {
        let matches = assets::find_by_serial_or_tag(tx, serial.as_deref(), tag.as_deref()).await?;
        if matches.len() == 1 {
            asset = matches.into_iter().next().map(|a| a.id);
        }
    }
    let attributes = f.object("attributes").cloned().unwrap_or_default();
    upsert_own(
        tx,
        cx,
        c,
        "configuration_items",
        &["name", "class", "status", "serial_number", "asset_tag", "service_id", "asset_id", "attributes", "retired_at"],
        vec![
            name.into(),
            f.text("class").into(),
            f.text("status").into(),
            serial.into(),
            tag.into(),
            service.into(),
            asset.into(),
            Value::Object(attributes).to_string().into(),
            crate::db::Value::Timestamp(None),
        ],
    )
    .await
}

async fn ticket_effort(tx: &mut Tx, cx: &Context<'_>, c: &Candidate, f: &Fields<'_>) -> std::result::Result<(Change, Option<String>), Reject> {
    let ticket = f.required("ticket")?;
    let kind = f.required("kind")?;
    let opened_at = f.timestamp("opened_at")?.ok_or("opened_at is required".to_owned())?;
    let closed_at = f.timestamp("closed_at")?;
    let effort = f.decimal("effort_hours")?.ok_or("effort_hours is required".to_owned())?;
    if effort.is_sign_negative() {
        return Err(Reject::Why("effort_hours must not be negative".into()));
    }
    let service = service_of(tx, cx, f).await?;
    let ci = record_ref(tx, cx, f, "ci_ref").await?;
    upsert_own(
        tx,
        cx,
        c,
        "ticket_effort",
        &["ticket", "kind", "state", "opened_at", "closed_at", "effort_hours", "service_id", "ci_id"],
        vec![ticket.into(), kind.into(), f.text("state").into(), opened_at.into(), closed_at.into(), effort.into(), service.into(), ci.into()],
    )
    .await
}

async fn utilisation(tx: &mut Tx, cx: &Context<'_>, c: &Candidate, f: &Fields<'_>) -> std::result::Result<(Change, Option<String>), Reject> {
    let subject_kind = f.required("subject_kind")?;
    if !["host", "service"].contains(&subject_kind.as_str()) {
        return Err(Reject::Why(format!("subject_kind: {subject_kind:?} must be host or service")));
    }
    let subject = f.required("subject")?;
    let metric = f.required("metric")?;
    let start = f.timestamp("period_start")?.ok_or("period_start is required".to_owned())?;
    let end = f.timestamp("period_end")?.ok_or("period_end is required".to_owned())?;
    if end < start {
        return Err(Reject::Why("period_end is before period_start".into()));
    }
    let value = f.decimal("value")?.ok_or("value is required".to_owned())?;
    let unit = f.required("unit")?;
    let service = service_of(tx, cx, f).await?;
    upsert_own(
        tx,
        cx,
        c,
        "utilisation",
        &["subject_kind", "subject", "metric", "period_start", "period_end", "value", "unit", "service_id"],
        vec![subject_kind.into(), subject.into(), metric.into(), start.into(), end.into(), value.into(), unit.into(), service.into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_offsets_and_without_are_read_as_utc() {
        let utc = parse_timestamp("2024-09-18 22:00:00").unwrap();
        assert_eq!(utc.to_rfc3339(), "2024-09-18T22:00:00+00:00");
        assert_eq!(parse_timestamp("2024-09-19T00:00:00+02:00").unwrap(), utc);
        assert_eq!(parse_timestamp("2024-09-18T22:00:00Z").unwrap(), utc);
        assert_eq!(parse_date("2024-09-18 23:30:00").unwrap().to_string(), "2024-09-18");
        assert!(parse_timestamp("18/09/2024").is_none());
    }

    #[test]
    fn decimals_keep_every_digit_and_accept_exponents() {
        assert_eq!(parse_decimal("0.00000080000").unwrap().to_string(), "0.00000080000");
        assert_eq!(parse_decimal("1999.00").unwrap().to_string(), "1999.00");
        assert_eq!(parse_decimal("0.00000000000060300000").unwrap().to_string(), "0.000000000000603");
        assert_eq!(parse_decimal("8E-7").unwrap().to_string(), "0.0000008");
        assert!(parse_decimal("1,999.00").is_none());
    }
}
