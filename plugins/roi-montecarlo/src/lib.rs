//! `roi-montecarlo`: the NPV of a project whose costs and benefits are
//! uncertain. Each period's costs and benefits are drawn from a distribution
//! (`fixed`, `uniform`, `triangular` or `pert`), `runs` times, from a seeded
//! generator: the same input and seed give the same answer, on any machine.
//!
//! Parameters (all optional):
//!
//! ```json
//! { "seed": 42, "runs": 10000,
//!   "costs":    { "distribution": "pert", "low": 0.9, "high": 1.5 },
//!   "benefits": { "distribution": "triangular", "low": 0.6, "high": 1.1 },
//!   "periods": [ { "costs": { "distribution": "triangular", "min": "90", "mode": "100", "max": "150" } } ] }
//! ```
//!
//! `costs` and `benefits` apply to every period, relative to its estimate:
//! the estimate is the mode, `low` and `high` the factors of the minimum and
//! maximum. `periods[i]` overrides period i with absolute amounts. By default
//! costs are PERT between 0.9 and 1.3 times the estimate and benefits PERT
//! between 0.7 and 1.1 times.
//!
//! Metrics: `npv` (exact, of the estimates, by `itbm-finance` as `roi-dcf`
//! computes it), and the statistics of the simulated NPVs: `npv-mean`,
//! `probability-npv-positive`, and percentiles P10, P50 and P90 of `npv`.
//! **The statistics are computed in 64-bit floating point** (they are
//! estimates of a distribution, not amounts of money owed) and rounded to
//! cents; the explanation says so.

wit_bindgen::generate!({ path: "../../wit/itbm-plugin", world: "roi-model" });

use exports::itbm::plugin::model::{Description, Evaluation, EvaluationInput, Guest, Metric, Percentile};
use itbm::plugin::types::PluginError;
use itbm_finance::rust_decimal::prelude::ToPrimitive;
use itbm_finance::rust_decimal::{Decimal, MathematicalOps};
use serde::Deserialize;

const MAX_RUNS: u32 = 200_000;
const DEFAULT_RUNS: u32 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "default_runs")]
    runs: u32,
    #[serde(default = "default_costs")]
    costs: Relative,
    #[serde(default = "default_benefits")]
    benefits: Relative,
    #[serde(default)]
    periods: Vec<PeriodOverride>,
}

fn default_seed() -> u64 {
    1
}
fn default_runs() -> u32 {
    DEFAULT_RUNS
}
fn default_costs() -> Relative {
    Relative { distribution: Shape::Pert, low: 0.9, high: 1.3 }
}
fn default_benefits() -> Relative {
    Relative { distribution: Shape::Pert, low: 0.7, high: 1.1 }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum Shape {
    Fixed,
    Uniform,
    Triangular,
    Pert,
}

/// A distribution around each period's estimate: minimum `low` × estimate,
/// mode the estimate, maximum `high` × estimate.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Relative {
    distribution: Shape,
    #[serde(default = "one")]
    low: f64,
    #[serde(default = "one")]
    high: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PeriodOverride {
    costs: Option<Absolute>,
    benefits: Option<Absolute>,
}

/// A distribution in amounts (decimal strings or numbers).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Absolute {
    distribution: Shape,
    min: Option<serde_json::Value>,
    mode: serde_json::Value,
    max: Option<serde_json::Value>,
}

/// One drawable distribution.
#[derive(Clone, Copy, Debug)]
struct Dist {
    shape: Shape,
    min: f64,
    mode: f64,
    max: f64,
}

impl Dist {
    fn new(shape: Shape, min: f64, mode: f64, max: f64, what: &str) -> Result<Dist, PluginError> {
        if ![min, mode, max].iter().all(|v| v.is_finite()) {
            return Err(invalid(format!("{what}: the bounds must be finite numbers")));
        }
        if shape != Shape::Fixed && !(min <= mode && mode <= max) {
            return Err(invalid(format!("{what}: needs min ≤ mode ≤ max, got {min}, {mode}, {max}")));
        }
        Ok(Dist { shape, min, mode, max })
    }

    fn relative(spec: Relative, estimate: f64, what: &str) -> Result<Dist, PluginError> {
        if spec.low > 1.0 || spec.high < 1.0 || spec.low < 0.0 {
            return Err(invalid(format!("{what}: needs 0 ≤ low ≤ 1 ≤ high, got low {} and high {}", spec.low, spec.high)));
        }
        let (a, b) = (estimate * spec.low, estimate * spec.high);
        Dist::new(spec.distribution, a.min(b), estimate, a.max(b), what)
    }

    fn sample(&self, rng: &mut SplitMix64) -> f64 {
        let (a, c, b) = (self.min, self.mode, self.max);
        if self.shape == Shape::Fixed || b <= a {
            return c;
        }
        match self.shape {
            Shape::Fixed => c,
            Shape::Uniform => a + (b - a) * rng.unit(),
            Shape::Triangular => {
                // Inverse of the triangular distribution's CDF.
                let u = rng.unit();
                let f = (c - a) / (b - a);
                if u < f { a + ((b - a) * (c - a) * u).sqrt() } else { b - ((b - a) * (b - c) * (1.0 - u)).sqrt() }
            }
            Shape::Pert => {
                // Beta(α, β) on [a, b] with the classic PERT weight of 4 on the mode.
                let alpha = 1.0 + 4.0 * (c - a) / (b - a);
                let beta = 1.0 + 4.0 * (b - c) / (b - a);
                let x = rng.gamma(alpha);
                let y = rng.gamma(beta);
                a + (b - a) * x / (x + y)
            }
        }
    }
}

/// SplitMix64: a small, well-mixed generator, fully determined by its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang; shape ≥ 1 here (PERT's α, β).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.unit();
            if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }
}

fn invalid(message: String) -> PluginError {
    PluginError::InvalidInput(message)
}

fn decimal(text: &str, what: &str) -> Result<Decimal, PluginError> {
    text.parse::<Decimal>().map_err(|_| invalid(format!("{what}: {text:?} is not a decimal number")))
}

fn float(value: &serde_json::Value, what: &str) -> Result<f64, PluginError> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(invalid(format!("{what}: must be a number or a decimal string"))),
    };
    text.parse::<f64>().map_err(|_| invalid(format!("{what}: {text:?} is not a number")))
}

struct Model;

impl Guest for Model {
    fn describe() -> Description {
        Description {
            name: "Monte Carlo simulation".into(),
            summary: "Costs and benefits per period drawn from distributions (fixed, uniform, triangular, PERT) with a seed; \
                      NPV percentiles P10, P50, P90, the mean NPV and the probability that NPV > 0 (statistics in 64-bit floating point)."
                .into(),
            metrics: ["npv", "npv-mean", "probability-npv-positive"].iter().map(|m| (*m).to_owned()).collect(),
            params_schema: PARAMS_SCHEMA.into(),
        }
    }

    fn evaluate(input: EvaluationInput) -> Result<Evaluation, PluginError> {
        let params: Params = serde_json::from_str(&input.params).map_err(|e| invalid(format!("params: {e}")))?;
        if !(1..=MAX_RUNS).contains(&params.runs) {
            return Err(invalid(format!("params/runs: must be between 1 and {MAX_RUNS}")));
        }
        if params.periods.len() > input.periods.len() {
            return Err(invalid(format!("params/periods: {} overrides for {} periods", params.periods.len(), input.periods.len())));
        }
        if input.periods.is_empty() || input.periods_per_year == 0 {
            return Err(invalid("periods: at least one period, and periods_per_year at least 1, are needed".into()));
        }
        let rate = decimal(&input.discount_rate, "discount_rate")?;
        if rate <= -Decimal::ONE {
            return Err(invalid("discount_rate must be greater than -1 (−100 %)".into()));
        }
        let period_rate = if input.periods_per_year == 1 {
            rate
        } else {
            (Decimal::ONE + rate)
                .checked_powd(Decimal::ONE / Decimal::from(input.periods_per_year))
                .map(|f| f - Decimal::ONE)
                .ok_or_else(|| invalid("discount_rate: its rate per period cannot be computed".into()))?
        };

        // The exact NPV of the estimates, and one distribution per period and side.
        let mut net = Vec::with_capacity(input.periods.len());
        let mut draws = Vec::with_capacity(input.periods.len());
        for (i, period) in input.periods.iter().enumerate() {
            let costs = decimal(&period.costs, &format!("periods/{i}/costs"))?;
            let benefits = decimal(&period.benefits, &format!("periods/{i}/benefits"))?;
            net.push(benefits - costs);
            let overrides = params.periods.get(i);
            let side = |over: Option<&Absolute>, spec: Relative, estimate: Decimal, what: String| match over {
                Some(a) => {
                    let mode = float(&a.mode, &format!("{what}/mode"))?;
                    let min = a.min.as_ref().map(|v| float(v, &format!("{what}/min"))).transpose()?.unwrap_or(mode);
                    let max = a.max.as_ref().map(|v| float(v, &format!("{what}/max"))).transpose()?.unwrap_or(mode);
                    Dist::new(a.distribution, min, mode, max, &what)
                }
                None => Dist::relative(spec, estimate.to_f64().unwrap_or(0.0), &what),
            };
            let c = side(overrides.and_then(|o| o.costs.as_ref()), params.costs, costs, format!("params/periods/{i}/costs"))?;
            let b = side(overrides.and_then(|o| o.benefits.as_ref()), params.benefits, benefits, format!("params/periods/{i}/benefits"))?;
            draws.push((c, b));
        }
        let exact = itbm_finance::npv_undiscounted_first(period_rate, &net);

        // Discount factors once; then `runs` draws of every period.
        let r = period_rate.to_f64().unwrap_or(0.0);
        let factors: Vec<f64> = (0..draws.len()).map(|t| (1.0 + r).powi(t as i32).recip()).collect();
        let mut rng = SplitMix64(params.seed);
        let mut npvs: Vec<f64> = (0..params.runs)
            .map(|_| draws.iter().zip(&factors).map(|((c, b), f)| (b.sample(&mut rng) - c.sample(&mut rng)) * f).sum())
            .collect();
        npvs.sort_by(f64::total_cmp);
        let n = npvs.len() as f64;
        let mean = npvs.iter().sum::<f64>() / n;
        let positive = npvs.iter().filter(|v| **v > 0.0).count() as f64 / n;

        let cents = |v: f64| format!("{:.2}", v);
        let mut notes = vec![format!(
            "{} runs, seed {}; NPV with the first period undiscounted at {} a year; \
             npv is exact (itbm-finance, of the estimates); npv-mean, probability-npv-positive and the percentiles are \
             statistics of the simulated runs computed in 64-bit floating point and rounded to cents (percentiles by linear interpolation)",
            params.runs, params.seed, rate
        )];
        let npv_value = match exact {
            Ok(v) => Some(v.normalize().to_string()),
            Err(why) => {
                notes.push(format!("npv: none, {why}"));
                None
            }
        };
        let metrics = vec![
            Metric { name: "npv".into(), value: npv_value, unit: input.currency.clone() },
            Metric { name: "npv-mean".into(), value: Some(cents(mean)), unit: input.currency.clone() },
            Metric { name: "probability-npv-positive".into(), value: Some(format!("{:.4}", positive)), unit: "probability".into() },
        ];
        let percentiles = [10u8, 50, 90]
            .iter()
            .map(|rank| Percentile { metric: "npv".into(), rank: *rank, value: cents(quantile(&npvs, f64::from(*rank) / 100.0)) })
            .collect();
        Ok(Evaluation { metrics, percentiles, explanation: notes.join("; ") })
    }
}

export!(Model);

/// The q-quantile of sorted values, interpolating linearly between ranks
/// (the method numpy calls `linear`).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
    sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower as f64)
}

const PARAMS_SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "seed": { "type": "integer", "minimum": 0 },
    "runs": { "type": "integer", "minimum": 1, "maximum": 200000 },
    "costs": { "$ref": "#/$defs/relative" },
    "benefits": { "$ref": "#/$defs/relative" },
    "periods": { "type": "array", "items": { "type": "object", "additionalProperties": false,
      "properties": { "costs": { "$ref": "#/$defs/absolute" }, "benefits": { "$ref": "#/$defs/absolute" } } } }
  },
  "$defs": {
    "shape": { "enum": ["fixed", "uniform", "triangular", "pert"] },
    "relative": { "type": "object", "required": ["distribution"], "additionalProperties": false,
      "properties": { "distribution": { "$ref": "#/$defs/shape" }, "low": { "type": "number" }, "high": { "type": "number" } } },
    "absolute": { "type": "object", "required": ["distribution", "mode"], "additionalProperties": false,
      "properties": { "distribution": { "$ref": "#/$defs/shape" }, "min": {}, "mode": {}, "max": {} } }
  }
}"##;
