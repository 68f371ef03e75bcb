//! Scoring frameworks and scores.
//!
//! A framework is a list of criteria. Users define `weighted` frameworks:
//! each criterion has a weight and a scale; a value is normalised onto 0..1
//! over its scale (reversed when lower is better) and the score is
//! `100 × Σ weight × normalised / Σ weight`, so each criterion's contribution
//! adds up to the score. A criterion whose source is `alignment` is not
//! scored by people: it is the item's strategic alignment, the sum of its
//! goal-link weights capped at 1 (scale 0..1).
//!
//! Three formulas are built in (their criteria are fixed):
//! - WSJF = (business value + time criticality + risk reduction) / job size;
//! - RICE = reach × impact × confidence / effort;
//! - value over effort = value / effort.
//!
//! A ranking orders items by score, highest first; ties go to the cheaper
//! item (CapEx + OpEx over all years), then to the smaller id, so a ranking
//! is deterministic.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ItemKind;
use super::candidates::{self, Candidate};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{ConflictKind, Error, Result};
use crate::patch::new_id;
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameworkKind {
    Weighted,
    Wsjf,
    Rice,
    ValueOverEffort,
}

crate::text_enum!(FrameworkKind { Weighted = "weighted", Wsjf = "wsjf", Rice = "rice", ValueOverEffort = "value_over_effort" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

crate::text_enum!(Direction { HigherIsBetter = "higher_is_better", LowerIsBetter = "lower_is_better" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Scored by people.
    Manual,
    /// The item's strategic alignment: its goal-link weights summed, at most 1.
    Alignment,
}

crate::text_enum!(Source { Manual = "manual", Alignment = "alignment" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Short key, unique in the framework, e.g. `customer_value`.
    pub key: String,
    pub name: String,
    #[schema(value_type = String, example = "3")]
    pub weight: Decimal,
    #[schema(value_type = String, example = "1")]
    pub scale_min: Decimal,
    #[schema(value_type = String, example = "5")]
    pub scale_max: Decimal,
    pub direction: Direction,
    #[serde(default = "manual")]
    pub source: Source,
}

fn manual() -> Source {
    Source::Manual
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: FrameworkKind,
    /// Built-in frameworks cannot be changed or deleted.
    pub built_in: bool,
    pub criteria: Vec<Criterion>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A new weighted framework.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFramework {
    pub name: String,
    pub description: Option<String>,
    pub criteria: Vec<Criterion>,
}

/// The values people gave an item, by criterion key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    #[schema(value_type = BTreeMap<String, String>)]
    pub values: BTreeMap<String, Decimal>,
}

/// How a criterion enters the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CriterionRole)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Adds `contribution` to the score.
    Term,
    /// Multiplies the score (RICE).
    Factor,
    /// Divides the score (job size, effort).
    Divisor,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Contribution {
    pub criterion: String,
    #[schema(value_type = String)]
    pub value: Decimal,
    pub role: Role,
    /// The part of the score this criterion adds (terms only).
    #[schema(value_type = Option<String>)]
    pub contribution: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ItemScore {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub name: String,
    /// Absent while a criterion is missing.
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    pub contributions: Vec<Contribution>,
    /// Criteria not scored yet.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedItem {
    pub rank: u32,
    #[serde(flatten)]
    pub score: ItemScore,
    #[schema(value_type = String)]
    pub total_cost: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ranking {
    pub framework_id: String,
    pub portfolio_id: String,
    /// How ties are broken, in words.
    pub tie_break: String,
    pub items: Vec<RankedItem>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingParams {
    pub portfolio_id: String,
}

pub const TIE_BREAK: &str = "score descending; equal scores: lower total cost (CapEx + OpEx over all years) first, then smaller item id; unscored items last";

fn from_row(row: &Row) -> Result<Framework> {
    Ok(Framework {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        kind: FrameworkKind::from_db(&row.get::<String>("kind")?)?,
        built_in: row.get("built_in")?,
        criteria: Vec::new(),
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

async fn criteria(ex: &mut impl Executor, id: &str) -> Result<Vec<Criterion>> {
    let rows = query("SELECT criterion, name, weight, scale_min, scale_max, direction, source FROM scoring_criteria WHERE framework_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Criterion {
                key: r.get("criterion")?,
                name: r.get("name")?,
                weight: r.decimal("weight")?,
                scale_min: r.decimal("scale_min")?,
                scale_max: r.decimal("scale_max")?,
                direction: Direction::from_db(&r.get::<String>("direction")?)?,
                source: Source::from_db(&r.get::<String>("source")?)?,
            })
        })
        .collect()
}

const COLUMNS: &str = "id, name, description, kind, built_in, created_at, updated_at, version";

pub async fn list(ex: &mut impl Executor) -> Result<Vec<Framework>> {
    let rows = query(format!("SELECT {COLUMNS} FROM scoring_frameworks ORDER BY built_in DESC, LOWER(name), id")).fetch_all(ex).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut f = from_row(row)?;
        f.criteria = criteria(ex, &f.id).await?;
        out.push(f);
    }
    Ok(out)
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Framework> {
    let row = query(format!("SELECT {COLUMNS} FROM scoring_frameworks WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    let mut f = row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("scoring framework", id))?;
    f.criteria = criteria(ex, id).await?;
    Ok(f)
}

fn validate(input: &NewFramework) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &input.name, 200);
    checks.opt_text("/description", input.description.as_deref(), 10_000);
    checks.check(!input.criteria.is_empty() && input.criteria.len() <= 30, "/criteria", "must have 1 to 30 criteria");
    let mut seen = std::collections::HashSet::new();
    for (i, c) in input.criteria.iter().enumerate() {
        let at = format!("/criteria/{i}");
        let key_ok = !c.key.is_empty() && c.key.len() <= 50 && c.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        checks.check(key_ok, &format!("{at}/key"), "must be 1 to 50 of a-z, 0-9 and _");
        if !seen.insert(c.key.as_str()) {
            checks.fail(format!("{at}/key"), "appears twice");
        }
        checks.text(&format!("{at}/name"), &c.name, 200);
        checks.check(c.weight > Decimal::ZERO && c.weight <= Decimal::from(1000), &format!("{at}/weight"), "must be above 0 and at most 1000");
        checks.check(c.scale_min < c.scale_max, &format!("{at}/scale_max"), "must be above scale_min");
        if c.source == Source::Alignment {
            checks.check(c.scale_min.is_zero() && c.scale_max == Decimal::ONE, &format!("{at}/scale_min"), "an alignment criterion has the scale 0 to 1");
        }
    }
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewFramework) -> Result<Framework> {
    validate(&input)?;
    let now = Utc::now();
    let f = Framework {
        id: new_id(),
        name: input.name.trim().to_owned(),
        description: input.description,
        kind: FrameworkKind::Weighted,
        built_in: false,
        criteria: input.criteria,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    query("INSERT INTO scoring_frameworks (id, name, description, kind, built_in, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)")
        .bind(&f.id)
        .bind(&f.name)
        .bind(f.description.clone())
        .bind(f.kind.as_str())
        .bind(false)
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "a scoring framework with this name exists already", "/name"))?;
    for (i, c) in f.criteria.iter().enumerate() {
        query("INSERT INTO scoring_criteria (framework_id, position, criterion, name, weight, scale_min, scale_max, direction, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&f.id)
            .bind(i as i64)
            .bind(&c.key)
            .bind(c.name.trim())
            .bind(c.weight)
            .bind(c.scale_min)
            .bind(c.scale_max)
            .bind(c.direction.as_str())
            .bind(c.source.as_str())
            .execute(&mut tx)
            .await?;
    }
    audit::record(&mut tx, who, Action::Create, "scoring_framework", &f.id, None::<&()>, Some(&f)).await?;
    tx.commit().await?;
    Ok(f)
}

pub async fn delete(db: &Db, who: &Principal, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if before.built_in {
        return Err(Error::conflict(ConflictKind::Locked, "built-in frameworks cannot be deleted"));
    }
    query("DELETE FROM scoring_frameworks WHERE id = $1").bind(id).execute(&mut tx).await?;
    audit::record(&mut tx, who, Action::Delete, "scoring_framework", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

/// Computes an item's score from its values (alignment criteria are taken
/// from `alignment`, not from `values`).
pub fn score(f: &Framework, values: &BTreeMap<String, Decimal>, alignment: Decimal) -> (Option<Decimal>, Vec<Contribution>, Vec<String>) {
    let mut missing = Vec::new();
    let mut vals = Vec::with_capacity(f.criteria.len());
    for c in &f.criteria {
        let v = match c.source {
            Source::Alignment => Some(alignment),
            Source::Manual => values.get(&c.key).copied(),
        };
        match v {
            Some(v) => vals.push((c, v)),
            None => missing.push(c.key.clone()),
        }
    }
    let value_of = |key: &str| vals.iter().find(|(c, _)| c.key == key).map(|(_, v)| *v).unwrap_or_default();
    let contributions: Vec<Contribution>;
    let total: Decimal;
    match f.kind {
        FrameworkKind::Weighted => {
            let weights: Decimal = f.criteria.iter().map(|c| c.weight).sum();
            contributions = vals
                .iter()
                .map(|(c, v)| {
                    let span = c.scale_max - c.scale_min;
                    let mut norm = ((*v - c.scale_min) / span).clamp(Decimal::ZERO, Decimal::ONE);
                    if c.direction == Direction::LowerIsBetter {
                        norm = Decimal::ONE - norm;
                    }
                    let part = (Decimal::from(100) * c.weight * norm / weights).round_dp(4);
                    Contribution { criterion: c.key.clone(), value: *v, role: Role::Term, contribution: Some(part) }
                })
                .collect();
            total = contributions.iter().filter_map(|c| c.contribution).sum();
        }
        FrameworkKind::Wsjf => {
            let size = value_of("job_size");
            contributions = vals
                .iter()
                .map(|(c, v)| {
                    if c.key == "job_size" {
                        Contribution { criterion: c.key.clone(), value: *v, role: Role::Divisor, contribution: None }
                    } else {
                        let part = if size.is_zero() { Decimal::ZERO } else { (*v / size).round_dp(4) };
                        Contribution { criterion: c.key.clone(), value: *v, role: Role::Term, contribution: Some(part) }
                    }
                })
                .collect();
            total = if size.is_zero() { Decimal::ZERO } else { ((value_of("business_value") + value_of("time_criticality") + value_of("risk_reduction")) / size).round_dp(4) };
        }
        FrameworkKind::Rice | FrameworkKind::ValueOverEffort => {
            contributions = vals
                .iter()
                .map(|(c, v)| Contribution {
                    criterion: c.key.clone(),
                    value: *v,
                    role: if c.key == "effort" { Role::Divisor } else { Role::Factor },
                    contribution: None,
                })
                .collect();
            let effort = value_of("effort");
            let product: Decimal = vals.iter().filter(|(c, _)| c.key != "effort").map(|(_, v)| *v).product();
            total = if effort.is_zero() { Decimal::ZERO } else { (product / effort).round_dp(4) };
        }
    }
    let score = missing.is_empty().then_some(total);
    (score, contributions, missing)
}

async fn stored_values(ex: &mut impl Executor, framework_id: &str) -> Result<HashMap<(ItemKind, String), BTreeMap<String, Decimal>>> {
    let rows = query("SELECT item_kind, item_id, criterion, value FROM scores WHERE framework_id = $1").bind(framework_id).fetch_all(ex).await?;
    let mut out: HashMap<(ItemKind, String), BTreeMap<String, Decimal>> = HashMap::new();
    for r in &rows {
        out.entry((ItemKind::from_db(&r.get::<String>("item_kind")?)?, r.get("item_id")?)).or_default().insert(r.get("criterion")?, r.decimal("value")?);
    }
    Ok(out)
}

/// Scores every candidate of a portfolio with framework `f`.
pub async fn score_candidates(ex: &mut impl Executor, f: &Framework, items: &[Candidate]) -> Result<Vec<ItemScore>> {
    let stored = stored_values(ex, &f.id).await?;
    let empty = BTreeMap::new();
    Ok(items
        .iter()
        .map(|c| {
            let values = stored.get(&(c.kind, c.id.clone())).unwrap_or(&empty);
            let (score, contributions, missing) = score(f, values, c.alignment);
            ItemScore { item_kind: c.kind, item_id: c.id.clone(), name: c.name.clone(), score, contributions, missing }
        })
        .collect())
}

/// Sets the values people gave one item (replacing its earlier values) and
/// returns its score.
pub async fn set_scores(db: &Db, who: &Principal, framework_id: &str, kind: ItemKind, item_id: &str, input: ScoreInput) -> Result<ItemScore> {
    let mut tx = db.begin().await?;
    let f = get(&mut tx, framework_id).await?;
    let (name, portfolio_id) = match kind {
        ItemKind::Project => {
            let r = query("SELECT name, portfolio_id FROM projects WHERE id = $1").bind(item_id).fetch_optional(&mut tx).await?;
            let r = r.ok_or_else(|| Error::not_found("project", item_id))?;
            (r.get::<String>("name")?, Some(r.get::<String>("portfolio_id")?))
        }
        ItemKind::Demand => {
            let r = query("SELECT title, portfolio_id FROM demands WHERE id = $1").bind(item_id).fetch_optional(&mut tx).await?;
            let r = r.ok_or_else(|| Error::not_found("demand", item_id))?;
            (r.get::<String>("title")?, r.get::<Option<String>>("portfolio_id")?)
        }
    };
    let mut checks = Checks::new();
    for (key, v) in &input.values {
        let at = format!("/values/{key}");
        match f.criteria.iter().find(|c| &c.key == key) {
            None => checks.fail(at, "is not a criterion of this framework"),
            Some(c) if c.source == Source::Alignment && kind == ItemKind::Project => {
                checks.fail(at, "is computed from the project's goal links")
            }
            Some(c) => {
                checks.check(*v >= c.scale_min && *v <= c.scale_max, &at, &format!("must lie on the scale {} to {}", c.scale_min, c.scale_max));
                checks.check(v.scale() <= 6, &at, "has more than 6 decimal places");
            }
        }
    }
    checks.finish()?;
    let before = stored_values(&mut tx, &f.id).await?.remove(&(kind, item_id.to_owned())).unwrap_or_default();
    query("DELETE FROM scores WHERE framework_id = $1 AND item_kind = $2 AND item_id = $3").bind(&f.id).bind(kind.as_str()).bind(item_id).execute(&mut tx).await?;
    let now = Utc::now();
    for (key, v) in &input.values {
        query("INSERT INTO scores (framework_id, item_kind, item_id, criterion, value, scored_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&f.id)
            .bind(kind.as_str())
            .bind(item_id)
            .bind(key)
            .bind(*v)
            .bind(&who.subject)
            .bind(now)
            .execute(&mut tx)
            .await?;
    }
    audit::record(&mut tx, who, Action::Update, "score", &format!("{}/{}/{}", f.id, kind, item_id), Some(&before), Some(&input.values)).await?;
    let alignment = match (kind, portfolio_id) {
        (ItemKind::Project, Some(_)) => {
            let links = crate::portfolio::goals::links(&mut tx, item_id).await?;
            links.iter().map(|l| l.weight).sum::<Decimal>().min(Decimal::ONE)
        }
        _ => Decimal::ZERO,
    };
    tx.commit().await?;
    let (score, contributions, missing) = score(&f, &input.values, alignment);
    Ok(ItemScore { item_kind: kind, item_id: item_id.to_owned(), name, score, contributions, missing })
}

/// The portfolio's candidates ranked by framework `framework_id`.
pub async fn ranking(db: &Db, framework_id: &str, portfolio_id: &str) -> Result<Ranking> {
    let mut conn = db.clone();
    let f = get(&mut conn, framework_id).await?;
    crate::portfolio::portfolios::get(&mut conn, portfolio_id).await?;
    let currency = crate::finance::settings::reporting_currency(&mut conn).await?;
    let (items, _) = candidates::load(&mut conn, portfolio_id, &currency).await?;
    let scores = score_candidates(&mut conn, &f, &items).await?;
    let mut ranked: Vec<(ItemScore, Decimal)> = scores.into_iter().zip(items.iter().map(Candidate::total_cost)).collect();
    ranked.sort_by(|(a, ca), (b, cb)| {
        // Scored before unscored, higher score first, cheaper first, id.
        b.score.is_some().cmp(&a.score.is_some()).then(b.score.cmp(&a.score)).then(ca.cmp(cb)).then(a.item_id.cmp(&b.item_id))
    });
    let items = ranked.into_iter().enumerate().map(|(i, (score, total_cost))| RankedItem { rank: i as u32 + 1, score, total_cost }).collect();
    Ok(Ranking { framework_id: f.id, portfolio_id: portfolio_id.to_owned(), tie_break: TIE_BREAK.into(), items })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework(kind: FrameworkKind, criteria: Vec<Criterion>) -> Framework {
        Framework { id: "f".into(), name: "f".into(), description: None, kind, built_in: false, criteria, created_at: Utc::now(), updated_at: Utc::now(), version: 1 }
    }

    fn crit(key: &str, weight: i64, min: i64, max: i64, direction: Direction, source: Source) -> Criterion {
        Criterion { key: key.into(), name: key.into(), weight: weight.into(), scale_min: min.into(), scale_max: max.into(), direction, source }
    }

    #[test]
    fn weighted_contributions_add_up_to_the_score() {
        let f = framework(
            FrameworkKind::Weighted,
            vec![
                crit("value", 3, 1, 5, Direction::HigherIsBetter, Source::Manual),
                crit("risk", 1, 1, 5, Direction::LowerIsBetter, Source::Manual),
                crit("alignment", 1, 0, 1, Direction::HigherIsBetter, Source::Alignment),
            ],
        );
        let values = BTreeMap::from([("value".to_string(), Decimal::from(5)), ("risk".to_string(), Decimal::from(3))]);
        let (total, parts, missing) = score(&f, &values, Decimal::new(5, 1));
        // 100 × (3×1 + 1×0.5 + 1×0.5) / 5 = 80
        assert_eq!(total, Some(Decimal::from(80)));
        assert_eq!(parts.iter().map(|p| p.contribution.unwrap()).collect::<Vec<_>>(), vec![Decimal::from(60), Decimal::from(10), Decimal::from(10)]);
        assert!(missing.is_empty());
        let (total, _, missing) = score(&f, &BTreeMap::new(), Decimal::ZERO);
        assert_eq!((total, missing), (None, vec!["value".to_string(), "risk".to_string()]));
    }

    #[test]
    fn wsjf_and_rice_follow_their_formulas() {
        let m = |k: &str, d: Direction| crit(k, 1, 0, 100, d, Source::Manual);
        let wsjf = framework(
            FrameworkKind::Wsjf,
            vec![m("business_value", Direction::HigherIsBetter), m("time_criticality", Direction::HigherIsBetter), m("risk_reduction", Direction::HigherIsBetter), m("job_size", Direction::LowerIsBetter)],
        );
        let v = BTreeMap::from([("business_value".into(), 8.into()), ("time_criticality".into(), 5.into()), ("risk_reduction".into(), 3.into()), ("job_size".into(), 4.into())]);
        assert_eq!(score(&wsjf, &v, Decimal::ZERO).0, Some(Decimal::from(4)));
        let rice = framework(FrameworkKind::Rice, vec![m("reach", Direction::HigherIsBetter), m("impact", Direction::HigherIsBetter), m("confidence", Direction::HigherIsBetter), m("effort", Direction::LowerIsBetter)]);
        let v = BTreeMap::from([("reach".into(), 1000.into()), ("impact".into(), 2.into()), ("confidence".into(), Decimal::new(8, 1)), ("effort".into(), 4.into())]);
        assert_eq!(score(&rice, &v, Decimal::ZERO).0, Some(Decimal::from(400)));
    }
}
