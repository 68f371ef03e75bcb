//! ROI models: plugins of kind `roi-model` that value a project's time-phased
//! costs and benefits. [`evaluate`] is the one entry point, for the API and
//! for other modules (scenario planning, project financials); it defaults to
//! the built-in `roi-dcf`. Amounts travel to the plugin as exact decimal
//! strings and come back the same way; metrics in the currency are then
//! rounded half to even to the currency's minor units, like every computed
//! amount of the server. Every call is in the plugin's invocation log.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::installed::{self, Plugin};
use super::invocations::Invocation;
use super::manifest::Kind;
use super::runtime::{Failure, ModelCall, ModelDescription, ModelInput, ModelOutput, PluginErrorKind};
use super::{Plugins, call_model};
use crate::auth::Principal;
use crate::db::{Db, query};
use crate::error::{Error, Result};
use crate::portfolio::estimates::{self, Owner};
use crate::validate::Checks;

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "roi-dcf";
/// Most periods one evaluation takes (50 years of months).
pub const MAX_PERIODS: usize = 600;

/// What to evaluate.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    /// Consecutive periods from the start; the first is not discounted.
    pub periods: Vec<PeriodInput>,
    /// 1 (years), 2, 4 (quarters) or 12 (months); default 1.
    #[serde(default = "one")]
    pub periods_per_year: u8,
    /// Yearly discount rate, 0.08 for 8 %; default: the finance setting `discount_rate`.
    #[schema(value_type = Option<String>, example = "0.08")]
    pub discount_rate: Option<Decimal>,
    /// ISO 4217 code of every amount; default: the reporting currency.
    pub currency: Option<String>,
    /// The model's parameters, valid against its `params_schema`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
}

fn one() -> u8 {
    1
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodInput {
    /// Such as "FY2027" or "FY2027-Q1".
    pub label: String,
    #[schema(value_type = String, example = "250000.00")]
    pub costs: Decimal,
    #[schema(value_type = String, example = "90000.00")]
    pub benefits: Decimal,
}

/// The model's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RoiEvaluation)]
pub struct Evaluation {
    /// The installed plugin (`id`) and its manifest id, such as `roi-dcf`.
    pub plugin_id: String,
    pub model: String,
    pub model_version: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub discount_rate: Decimal,
    pub periods_per_year: u8,
    pub metrics: Vec<Metric>,
    /// Empty for deterministic models.
    pub percentiles: Vec<Percentile>,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Metric {
    /// Such as "npv", "irr", "payback-years", "roi".
    pub name: String,
    /// None when the metric does not exist for these cash flows (an IRR
    /// without a sign change); the explanation says why.
    #[schema(value_type = Option<String>)]
    pub value: Option<Decimal>,
    /// The currency code, "ratio", "years" or "probability".
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Percentile {
    pub metric: String,
    /// 10 for P10.
    pub rank: u8,
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// The evaluation and the invocation that produced it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationResult {
    pub evaluation: Evaluation,
    pub invocation: Invocation,
}

/// A model and what it says about itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfo {
    pub plugin_id: String,
    pub model: String,
    pub model_version: String,
    pub builtin: bool,
    pub enabled: bool,
    pub description: ModelDescription,
}

/// The ROI model installed under `key` (a manifest id such as `roi-dcf`, or
/// the plugin's `id`), or 404.
pub async fn model(db: &Db, key: &str) -> Result<Plugin> {
    let plugin = match installed::find_by_key(&mut db.clone(), key).await? {
        Some(plugin) => plugin,
        None => installed::get(&mut db.clone(), key).await.map_err(|_| Error::not_found("ROI model", key))?,
    };
    if plugin.manifest.kind != Kind::RoiModel {
        return Err(Error::not_found("ROI model", key));
    }
    Ok(plugin)
}

/// Every installed ROI model with its description (one `describe` call each).
pub async fn list(db: &Db, plugins: &Plugins, who: &Principal) -> Result<Vec<ModelInfo>> {
    let rows = query("SELECT plugin_key FROM plugins WHERE kind = 'roi-model' ORDER BY plugin_key").fetch_all(&mut db.clone()).await?;
    let mut models = Vec::new();
    for row in rows {
        let plugin = model(db, &row.get::<String>("plugin_key")?).await?;
        if !plugin.enabled {
            continue;
        }
        let (output, _) = call_model(db, plugins, who, &plugin, ModelCall::Describe).await?;
        let description = match output {
            Ok(ModelOutput::Describe(d)) => d,
            Ok(_) => return Err(Error::PluginFailed(format!("{} answered describe with something else", plugin.manifest.id))),
            Err(failure) => return Err(Error::PluginFailed(format!("{}: {failure}", plugin.manifest.id))),
        };
        models.push(ModelInfo {
            plugin_id: plugin.id,
            model: plugin.manifest.id,
            model_version: plugin.manifest.version,
            builtin: plugin.builtin,
            enabled: plugin.enabled,
            description,
        });
    }
    Ok(models)
}

/// Evaluates cash flows with the model `model_key` (default [`DEFAULT_MODEL`]).
/// Bad input is a 422 at its pointer (a model's own refusal of its input is at
/// `/params`); a model that fails otherwise is a 502; both are in the
/// invocation log.
pub async fn evaluate(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    model_key: Option<&str>,
    input: EvaluationRequest,
) -> Result<(Evaluation, Invocation)> {
    let plugin = model(db, model_key.unwrap_or(DEFAULT_MODEL)).await?;
    let settings = crate::finance::settings::get(&mut db.clone()).await?;
    let currency = input.currency.clone().unwrap_or(settings.reporting_currency);
    let discount_rate = input.discount_rate.unwrap_or(settings.discount_rate);
    let minor_units = validate(db, &input, &currency, discount_rate).await?;

    let call = ModelCall::Evaluate(ModelInput {
        periods: input.periods.iter().map(|p| (p.label.clone(), p.costs.to_string(), p.benefits.to_string())).collect(),
        periods_per_year: input.periods_per_year,
        discount_rate: discount_rate.to_string(),
        currency: currency.clone(),
        params: input.params.to_string(),
    });
    let (output, invocation) = call_model(db, plugins, who, &plugin, call).await?;
    let raw = match output {
        Ok(ModelOutput::Evaluate(raw)) => raw,
        Ok(_) => return Err(Error::PluginFailed(format!("{} answered evaluate with something else", plugin.manifest.id))),
        Err(Failure::Plugin(e)) if e.kind == PluginErrorKind::InvalidInput => {
            return Err(Error::invalid("/params", format!("the model {} refused its input: {}", plugin.manifest.id, e.message)));
        }
        Err(failure) => {
            return Err(Error::PluginFailed(format!("the model {} failed (invocation {}): {failure}", plugin.manifest.id, invocation.id)));
        }
    };
    let nonsense = |what: String| Error::PluginFailed(format!("the model {} returned {what} (invocation {})", plugin.manifest.id, invocation.id));
    let mut metrics = Vec::with_capacity(raw.metrics.len());
    for (name, value, unit) in raw.metrics {
        let value = match value {
            None => None,
            Some(text) => {
                let value = text.parse::<Decimal>().map_err(|_| nonsense(format!("the metric {name} as {text:?}, not a decimal")))?;
                Some(if unit == currency { round_money(value, minor_units) } else { value.normalize() })
            }
        };
        metrics.push(Metric { name, value, unit });
    }
    let mut percentiles = Vec::with_capacity(raw.percentiles.len());
    for (metric, rank, text) in raw.percentiles {
        let value = text.parse::<Decimal>().map_err(|_| nonsense(format!("the P{rank} of {metric} as {text:?}, not a decimal")))?;
        percentiles.push(Percentile { metric, rank, value: value.normalize() });
    }
    let evaluation = Evaluation {
        plugin_id: plugin.id.clone(),
        model: plugin.manifest.id.clone(),
        model_version: plugin.manifest.version.clone(),
        currency,
        discount_rate,
        periods_per_year: input.periods_per_year,
        metrics,
        percentiles,
        explanation: raw.explanation,
    };
    Ok((evaluation, invocation))
}

/// Checks the input; returns the currency's minor units.
async fn validate(db: &Db, input: &EvaluationRequest, currency: &str, discount_rate: Decimal) -> Result<u32> {
    let mut checks = Checks::new();
    checks.check(!input.periods.is_empty(), "/periods", "needs at least one period");
    checks.check(input.periods.len() <= MAX_PERIODS, "/periods", &format!("takes at most {MAX_PERIODS} periods"));
    for (i, period) in input.periods.iter().enumerate() {
        checks.text(&format!("/periods/{i}/label"), &period.label, 50);
        checks.amount(&format!("/periods/{i}/costs"), period.costs, false);
        checks.amount(&format!("/periods/{i}/benefits"), period.benefits, false);
    }
    checks.check([1, 2, 4, 12].contains(&input.periods_per_year), "/periods_per_year", "must be 1, 2, 4 or 12");
    checks.check(
        discount_rate > -Decimal::ONE && discount_rate <= Decimal::TEN,
        "/discount_rate",
        "must be greater than -1 and at most 10 (a fraction: 0.08 is 8 %)",
    );
    checks.check(input.params.is_object(), "/params", "must be a JSON object");
    checks.check(input.params.to_string().len() <= 64 << 10, "/params", "is larger than 64 KiB");
    checks.currency_format("/currency", currency);
    checks.finish()?;
    let row = query("SELECT minor_units FROM currencies WHERE code = $1").bind(currency).fetch_optional(&mut db.clone()).await?;
    match row {
        Some(row) => Ok(u32::try_from(row.get::<i64>("minor_units")?).unwrap_or(2)),
        None => Err(Error::invalid("/currency", format!("{currency} is not a known ISO 4217 currency"))),
    }
}

fn round_money(value: Decimal, minor_units: u32) -> Decimal {
    value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven)
}

/// A project's ROI: its yearly estimates (CapEx + OpEx as costs, benefit as
/// benefits) from its first estimated fiscal year, at the finance settings'
/// discount rate, in the reporting currency. Years without an estimate
/// between the first and the last count as zero.
pub async fn for_project(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    project_id: &str,
    model_key: Option<&str>,
) -> Result<(Evaluation, Invocation)> {
    crate::portfolio::projects::get(&mut db.clone(), project_id).await?;
    let mut years = estimates::load(&mut db.clone(), Owner::Project, project_id).await?;
    if years.is_empty() {
        return Err(Error::invalid("/estimates", "the project has no yearly estimates to evaluate; add its CapEx, OpEx and benefits first"));
    }
    years.sort_by_key(|y| y.fiscal_year);
    let (first, last) = (years[0].fiscal_year, years[years.len() - 1].fiscal_year);
    let periods = (first..=last)
        .map(|year| {
            let estimate = years.iter().find(|y| y.fiscal_year == year);
            PeriodInput {
                label: format!("FY{year}"),
                costs: estimate.map_or(Decimal::ZERO, |e| e.capex + e.opex),
                benefits: estimate.map_or(Decimal::ZERO, |e| e.benefit),
            }
        })
        .collect();
    let input = EvaluationRequest { periods, periods_per_year: 1, discount_rate: None, currency: None, params: empty_object() };
    evaluate(db, plugins, who, model_key, input).await
}
