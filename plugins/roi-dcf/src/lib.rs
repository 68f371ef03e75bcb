//! `roi-dcf`, the default ROI model: a discounted-cash-flow view of a
//! project's time-phased costs and benefits.
//!
//! The net cash flow of period t is `benefits − costs`; the first period is
//! t = 0 (not discounted: the investment is made today), each later one is
//! discounted by `(1 + r)^t` where `r` is the discount rate per period: the
//! yearly rate itself for yearly periods, else the equivalent effective rate
//! `(1 + rate)^(1/periods_per_year) − 1`. Every figure comes from the
//! `itbm-finance` crate, the server's own implementation of Excel's functions,
//! in exact decimals.
//!
//! Metrics: `npv`, `irr` (per year), `payback-years`,
//! `discounted-payback-years`, `roi` (undiscounted, a fraction), and the
//! undiscounted `total-costs` and `total-benefits`. A metric that does not
//! exist for these cash flows (no IRR without a sign change, no payback when
//! the cash flows never recover) has no value; the explanation says why.

wit_bindgen::generate!({ path: "../../wit/itbm-plugin", world: "roi-model" });

use exports::itbm::plugin::model::{Description, Evaluation, EvaluationInput, Guest, Metric};
use itbm::plugin::types::PluginError;
use itbm_finance::rust_decimal::{Decimal, MathematicalOps};

const METRICS: [&str; 7] = ["npv", "irr", "payback-years", "discounted-payback-years", "roi", "total-costs", "total-benefits"];

struct Dcf;

impl Guest for Dcf {
    fn describe() -> Description {
        Description {
            name: "Discounted cash flow".into(),
            summary: "NPV at the discount rate, IRR, payback and discounted payback in years, and ROI, from the net cash flow \
                      (benefits − costs) of each period; the first period is not discounted."
                .into(),
            metrics: METRICS.iter().map(|m| (*m).to_owned()).collect(),
            params_schema: r#"{"type": "object", "additionalProperties": false, "properties": {}}"#.into(),
        }
    }

    fn evaluate(input: EvaluationInput) -> Result<Evaluation, PluginError> {
        let params: serde_json::Value =
            serde_json::from_str(&input.params).map_err(|e| PluginError::InvalidInput(format!("params is not JSON: {e}")))?;
        if params.as_object().is_none_or(|o| !o.is_empty()) {
            return Err(PluginError::InvalidInput("params: this model takes no parameters; send {}".into()));
        }
        let flows = CashFlows::read(&input)?;
        Ok(flows.evaluate(&input.currency))
    }
}

export!(Dcf);

/// The input, read into decimals.
struct CashFlows {
    costs: Vec<Decimal>,
    benefits: Vec<Decimal>,
    per_year: Decimal,
    yearly_rate: Decimal,
    period_rate: Decimal,
}

impl CashFlows {
    fn read(input: &EvaluationInput) -> Result<CashFlows, PluginError> {
        if input.periods.is_empty() {
            return Err(PluginError::InvalidInput("periods: at least one period is needed".into()));
        }
        if input.periods_per_year == 0 {
            return Err(PluginError::InvalidInput("periods_per_year must be at least 1".into()));
        }
        let amount = |text: &str, what: String| {
            text.parse::<Decimal>().map_err(|_| PluginError::InvalidInput(format!("{what}: {text:?} is not a decimal number")))
        };
        let mut costs = Vec::with_capacity(input.periods.len());
        let mut benefits = Vec::with_capacity(input.periods.len());
        for (i, period) in input.periods.iter().enumerate() {
            costs.push(amount(&period.costs, format!("periods/{i}/costs"))?);
            benefits.push(amount(&period.benefits, format!("periods/{i}/benefits"))?);
        }
        let yearly_rate = amount(&input.discount_rate, "discount_rate".into())?;
        if yearly_rate <= -Decimal::ONE {
            return Err(PluginError::InvalidInput("discount_rate must be greater than -1 (−100 %)".into()));
        }
        let per_year = Decimal::from(input.periods_per_year);
        let period_rate = period_rate(yearly_rate, input.periods_per_year)?;
        Ok(CashFlows { costs, benefits, per_year, yearly_rate, period_rate })
    }

    fn evaluate(&self, currency: &str) -> Evaluation {
        let net: Vec<Decimal> = self.costs.iter().zip(&self.benefits).map(|(c, b)| b - c).collect();
        let mut notes = vec![format!(
            "{} periods, {} a year; net cash flow = benefits − costs; the first period is not discounted; discount rate {} a year",
            net.len(),
            self.per_year,
            self.yearly_rate
        )];
        if self.per_year > Decimal::ONE {
            notes.push(format!("({} per period, the equivalent effective rate)", self.period_rate.round_dp(10).normalize()));
        }
        let mut metric = |name: &str, unit: &str, value: itbm_finance::Result<Decimal>| {
            let value = match value {
                Ok(v) => Some(v.normalize().to_string()),
                Err(why) => {
                    notes.push(format!("{name}: none, {why}"));
                    None
                }
            };
            Metric { name: name.into(), value, unit: unit.into() }
        };
        let years = |periods: itbm_finance::Result<Decimal>| periods.map(|p| (p / self.per_year).round_dp(itbm_finance::RESULT_DECIMAL_PLACES));
        let total = |values: &[Decimal]| values.iter().try_fold(Decimal::ZERO, |sum, v| sum.checked_add(*v)).ok_or(itbm_finance::Error::Overflow { context: "a total" });
        let metrics = vec![
            metric("npv", currency, itbm_finance::npv_undiscounted_first(self.period_rate, &net)),
            metric("irr", "ratio", itbm_finance::irr(&net, None).and_then(|r| yearly(r, self.per_year))),
            metric("payback-years", "years", years(itbm_finance::payback(&net))),
            metric("discounted-payback-years", "years", years(itbm_finance::discounted_payback(self.period_rate, &net))),
            metric("roi", "ratio", total(&self.benefits).and_then(|b| itbm_finance::roi_from_totals(b, total(&self.costs)?))),
            metric("total-costs", currency, total(&self.costs)),
            metric("total-benefits", currency, total(&self.benefits)),
        ];
        Evaluation { metrics, percentiles: Vec::new(), explanation: notes.join("; ") }
    }
}

/// The discount rate of one period: the yearly rate for yearly periods, else
/// `(1 + rate)^(1/periods_per_year) − 1`, so that compounding the periods of
/// a year gives the yearly rate.
fn period_rate(yearly: Decimal, per_year: u8) -> Result<Decimal, PluginError> {
    if per_year == 1 {
        return Ok(yearly);
    }
    let exponent = Decimal::ONE / Decimal::from(per_year);
    (Decimal::ONE + yearly)
        .checked_powd(exponent)
        .map(|f| (f - Decimal::ONE).round_dp(itbm_finance::RESULT_DECIMAL_PLACES))
        .ok_or_else(|| PluginError::InvalidInput("discount_rate: its rate per period cannot be computed".into()))
}

/// A rate per period as a rate per year: `(1 + r)^periods_per_year − 1`.
fn yearly(rate: Decimal, per_year: Decimal) -> itbm_finance::Result<Decimal> {
    if per_year == Decimal::ONE {
        return Ok(rate);
    }
    let exponent = per_year.to_string().parse::<i64>().unwrap_or(1);
    (Decimal::ONE + rate)
        .checked_powi(exponent)
        .map(|f| (f - Decimal::ONE).round_dp(itbm_finance::RESULT_DECIMAL_PLACES))
        .ok_or(itbm_finance::Error::Overflow { context: "the yearly IRR" })
}
