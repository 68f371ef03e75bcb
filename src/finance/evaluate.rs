//! `POST /finance/evaluate`: any function of the finance engine
//! ([`itbm_finance`], the crate the ROI model plugins use too) by its Excel
//! name, with Excel's argument names, so that a finance team can check a
//! number against Excel, and a client can compute one without reimplementing
//! it.
//!
//! The request is checked whole before anything is computed: every unknown,
//! missing or malformed argument is reported at once, each at its JSON pointer
//! (`/args/<name>`, `/args/values/3`). A well-formed request whose function has
//! no value for these arguments is refused with the Excel error it would show:
//! at the argument's pointer where one argument is at fault (problem type
//! `validation`), otherwise as a problem of type `num` or `div-zero` whose
//! detail starts with `#NUM!` or `#DIV/0!` and says why.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use itbm_finance::{self as finance, PaymentTiming};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{Caller, Json};
use crate::http::problem::Problem;
use crate::validate::Checks;

/// Most entries `values` or `dates` may have. XIRR's search evaluates the
/// cash flows at most ~550 times with an exponential per flow, so this bounds
/// one request to a second or two of CPU at worst (and it runs off the async
/// workers).
pub const MAX_CASH_FLOWS: usize = 1000;

/// A function to evaluate and its arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "function": "XIRR",
    "args": {
        "values": [-10000, 2750, 4250, 3250, 2750],
        "dates": ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"],
        "guess": "0.1"
    }
}))]
pub struct EvaluateRequest {
    /// The function's name, in any case: NPV, XNPV, IRR, XIRR, MIRR, PMT, PV,
    /// FV, NPER, RATE, IPMT, PPMT, SLN, DB, DDB, VDB, SYD, PAYBACK,
    /// DISCOUNTED_PAYBACK, ROI, EAC.
    pub function: String,
    /// The arguments by Excel's names in lower case. Numbers are JSON numbers
    /// (kept exactly) or decimal strings; `values` an array of them; `dates`
    /// an array of "YYYY-MM-DD"; `type` 0 or 1; `no_switch` a boolean. An
    /// optional argument that is absent or null takes Excel's default.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub args: Map<String, Value>,
}

/// The function's value.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluation {
    /// Exact where it terminates within 16 decimal places, else rounded half
    /// away from zero to 16 (the finance engine's rounding rule).
    #[schema(value_type = String, example = "0.3733625335188315")]
    pub value: Decimal,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(evaluate))
}

/// Evaluates an Excel financial function exactly.
///
/// Functions and their arguments (optional ones in brackets, with Excel's
/// defaults):
///
/// | function | args |
/// | --- | --- |
/// | NPV | rate, values (Excel: the first value is discounted one period) |
/// | XNPV | rate, values, dates |
/// | IRR | values, [guess = 0.1] |
/// | XIRR | values, dates, [guess = 0.1] |
/// | MIRR | values, finance_rate, reinvest_rate |
/// | PMT | rate, nper, pv, [fv = 0], [type = 0] |
/// | PV | rate, nper, pmt, [fv = 0], [type = 0] |
/// | FV | rate, nper, pmt, [pv = 0], [type = 0] |
/// | NPER | rate, pmt, pv, [fv = 0], [type = 0] |
/// | RATE | nper, pmt, pv, [fv = 0], [type = 0], [guess = 0.1] |
/// | IPMT, PPMT | rate, per, nper, pv, [fv = 0], [type = 0] |
/// | SLN | cost, salvage, life |
/// | SYD | cost, salvage, life, per |
/// | DB | cost, salvage, life, period, [month = 12] |
/// | DDB | cost, salvage, life, period, [factor = 2] |
/// | VDB | cost, salvage, life, start_period, end_period, [factor = 2], [no_switch = false] |
/// | PAYBACK | values (t = 0, 1, …; fractional periods by linear interpolation within the period) |
/// | DISCOUNTED_PAYBACK | rate, values |
/// | ROI | values ((benefits − costs)/costs, as a fraction) |
/// | EAC | rate, and either values (t = 0 … n) or pv and nper |
///
/// IRR, XIRR and RATE use Newton's method from the guess with a bisection
/// fallback, to 10^-20; see the finance engine's documentation for which rate
/// is returned when there are several. Any authenticated role may call this:
/// it reads and writes nothing.
#[utoipa::path(post, path = "/finance/evaluate", tag = "finance",
    request_body(content = EvaluateRequest, examples(
        ("XIRR" = (summary = "Microsoft's XIRR example", value = json!({
            "function": "XIRR",
            "args": {
                "values": [-10000, 2750, 4250, 3250, 2750],
                "dates": ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"]
            }
        }))),
        ("PMT" = (summary = "Monthly payment of a 10-month loan of 10,000 at 8% a year", value = json!({
            "function": "pmt",
            "args": { "rate": "0.0066666666666666666666666667", "nper": 10, "pv": 10000 }
        }))),
        ("VDB" = (summary = "Depreciation from month 6 to 18 of a 10-year asset", value = json!({
            "function": "VDB",
            "args": { "cost": 2400, "salvage": 300, "life": 120, "start_period": 6, "end_period": 18 }
        })))
    )),
    responses(
        (status = 200, body = Evaluation, example = json!({ "value": "0.3733625335188315" })),
        (status = 400, body = Problem, description = "The body is not JSON"),
        (status = 401, body = Problem),
        (status = 422, body = Problem, description = "An unknown function (at /function); an unknown, missing or malformed \
            argument (at /args/<name>); or Excel's #NUM! or #DIV/0! for these arguments, at the argument at fault \
            or, when none is, as problem type urn:itbm:problem:num or urn:itbm:problem:div-zero")
    ))]
async fn evaluate(Caller(_who): Caller, Json(request): Json<EvaluateRequest>) -> Result<axum::Json<Evaluation>, Refusal> {
    let spec = FunctionSpec::named(&request.function)?;
    let args = Args::parse(spec, &request.args)?;
    // The solvers are CPU work: keep them off the async workers.
    let value = tokio::task::spawn_blocking(move || spec.evaluate(&args))
        .await
        .map_err(|e| Refusal::Input(Error::Internal(anyhow::anyhow!("evaluation task failed: {e}"))))??;
    Ok(axum::Json(Evaluation { value }))
}

/// Why a request has no value: its input is wrong, or the function has no
/// value for it (Excel's error).
#[derive(Debug)]
pub enum Refusal {
    Input(Error),
    Excel(finance::Error),
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Refusal::Input(error)
    }
}

impl From<finance::Error> for Refusal {
    fn from(error: finance::Error) -> Self {
        Refusal::Excel(error)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Input(error) => error.into_response(),
            Refusal::Excel(error) => match error.argument() {
                Some(argument) => Error::invalid(format!("/args/{argument}"), error.to_string()).into_response(),
                None => {
                    let kind = match error {
                        finance::Error::DivZero { .. } => "div-zero",
                        finance::Error::Num { .. } | finance::Error::Overflow { .. } => "num",
                    };
                    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, kind, error.to_string()).into_response()
                }
            },
        }
    }
}

/// The shape of an argument's value.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A number: JSON number or decimal string.
    Number,
    /// An array of numbers (`values`).
    Numbers,
    /// An array of "YYYY-MM-DD" dates.
    Dates,
    /// Excel's `type`: 0 or 1.
    Timing,
    /// A boolean (`no_switch`).
    Flag,
}

#[derive(Debug)]
struct Param {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Param {
    Param { name, kind, required: true }
}

const fn opt(name: &'static str, kind: Kind) -> Param {
    Param { name, kind, required: false }
}

#[derive(Debug)]
struct FunctionSpec {
    name: &'static str,
    params: &'static [Param],
}

use Kind::{Dates, Flag, Number, Numbers, Timing};

const LOAN: [Param; 5] = [req("rate", Number), req("nper", Number), req("pv", Number), opt("fv", Number), opt("type", Timing)];
const PERIOD_PAYMENT: [Param; 6] =
    [req("rate", Number), req("per", Number), req("nper", Number), req("pv", Number), opt("fv", Number), opt("type", Timing)];

/// Every function, with Excel's argument names in Excel's order.
static FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec { name: "NPV", params: &[req("rate", Number), req("values", Numbers)] },
    FunctionSpec { name: "XNPV", params: &[req("rate", Number), req("values", Numbers), req("dates", Dates)] },
    FunctionSpec { name: "IRR", params: &[req("values", Numbers), opt("guess", Number)] },
    FunctionSpec { name: "XIRR", params: &[req("values", Numbers), req("dates", Dates), opt("guess", Number)] },
    FunctionSpec {
        name: "MIRR",
        params: &[req("values", Numbers), req("finance_rate", Number), req("reinvest_rate", Number)],
    },
    FunctionSpec { name: "PMT", params: &LOAN },
    FunctionSpec {
        name: "PV",
        params: &[req("rate", Number), req("nper", Number), req("pmt", Number), opt("fv", Number), opt("type", Timing)],
    },
    FunctionSpec {
        name: "FV",
        params: &[req("rate", Number), req("nper", Number), req("pmt", Number), opt("pv", Number), opt("type", Timing)],
    },
    FunctionSpec {
        name: "NPER",
        params: &[req("rate", Number), req("pmt", Number), req("pv", Number), opt("fv", Number), opt("type", Timing)],
    },
    FunctionSpec {
        name: "RATE",
        params: &[
            req("nper", Number),
            req("pmt", Number),
            req("pv", Number),
            opt("fv", Number),
            opt("type", Timing),
            opt("guess", Number),
        ],
    },
    FunctionSpec { name: "IPMT", params: &PERIOD_PAYMENT },
    FunctionSpec { name: "PPMT", params: &PERIOD_PAYMENT },
    FunctionSpec { name: "SLN", params: &[req("cost", Number), req("salvage", Number), req("life", Number)] },
    FunctionSpec {
        name: "DB",
        params: &[req("cost", Number), req("salvage", Number), req("life", Number), req("period", Number), opt("month", Number)],
    },
    FunctionSpec {
        name: "DDB",
        params: &[req("cost", Number), req("salvage", Number), req("life", Number), req("period", Number), opt("factor", Number)],
    },
    FunctionSpec {
        name: "VDB",
        params: &[
            req("cost", Number),
            req("salvage", Number),
            req("life", Number),
            req("start_period", Number),
            req("end_period", Number),
            opt("factor", Number),
            opt("no_switch", Flag),
        ],
    },
    FunctionSpec {
        name: "SYD",
        params: &[req("cost", Number), req("salvage", Number), req("life", Number), req("per", Number)],
    },
    FunctionSpec { name: "PAYBACK", params: &[req("values", Numbers)] },
    FunctionSpec { name: "DISCOUNTED_PAYBACK", params: &[req("rate", Number), req("values", Numbers)] },
    FunctionSpec { name: "ROI", params: &[req("values", Numbers)] },
    // Either values (t = 0 … n), or pv (a net present value) and nper.
    FunctionSpec { name: "EAC", params: &[req("rate", Number), opt("values", Numbers), opt("pv", Number), opt("nper", Number)] },
];

impl FunctionSpec {
    fn named(name: &str) -> Result<&'static FunctionSpec, Error> {
        FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
            let known: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
            Error::invalid("/function", format!("is not a function this server evaluates; it knows {}", known.join(", ")))
        })
    }

    fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    fn evaluate(&self, a: &Args) -> Result<Decimal, Refusal> {
        let value = match self.name {
            "NPV" => finance::npv(a.number("rate")?, a.numbers("values")?),
            "XNPV" => finance::xnpv(a.number("rate")?, a.numbers("values")?, a.dates("dates")?),
            "IRR" => finance::irr(a.numbers("values")?, a.optional("guess")),
            "XIRR" => finance::xirr(a.numbers("values")?, a.dates("dates")?, a.optional("guess")),
            "MIRR" => finance::mirr(a.numbers("values")?, a.number("finance_rate")?, a.number("reinvest_rate")?),
            "PMT" => finance::pmt(a.number("rate")?, a.number("nper")?, a.number("pv")?, a.or_zero("fv"), a.timing()),
            "PV" => finance::pv(a.number("rate")?, a.number("nper")?, a.number("pmt")?, a.or_zero("fv"), a.timing()),
            "FV" => finance::fv(a.number("rate")?, a.number("nper")?, a.number("pmt")?, a.or_zero("pv"), a.timing()),
            "NPER" => finance::nper(a.number("rate")?, a.number("pmt")?, a.number("pv")?, a.or_zero("fv"), a.timing()),
            "RATE" => finance::rate(
                a.number("nper")?,
                a.number("pmt")?,
                a.number("pv")?,
                a.or_zero("fv"),
                a.timing(),
                a.optional("guess"),
            ),
            "IPMT" => finance::ipmt(
                a.number("rate")?,
                a.number("per")?,
                a.number("nper")?,
                a.number("pv")?,
                a.or_zero("fv"),
                a.timing(),
            ),
            "PPMT" => finance::ppmt(
                a.number("rate")?,
                a.number("per")?,
                a.number("nper")?,
                a.number("pv")?,
                a.or_zero("fv"),
                a.timing(),
            ),
            "SLN" => finance::sln(a.number("cost")?, a.number("salvage")?, a.number("life")?),
            "SYD" => finance::syd(a.number("cost")?, a.number("salvage")?, a.number("life")?, a.number("per")?),
            "DB" => finance::db(
                a.number("cost")?,
                a.number("salvage")?,
                a.number("life")?,
                a.number("period")?,
                a.optional("month").unwrap_or(Decimal::from(12)),
            ),
            "DDB" => finance::ddb(
                a.number("cost")?,
                a.number("salvage")?,
                a.number("life")?,
                a.number("period")?,
                a.optional("factor").unwrap_or(Decimal::TWO),
            ),
            "VDB" => finance::vdb(
                a.number("cost")?,
                a.number("salvage")?,
                a.number("life")?,
                a.number("start_period")?,
                a.number("end_period")?,
                a.optional("factor").unwrap_or(Decimal::TWO),
                a.flag("no_switch"),
            ),
            "PAYBACK" => finance::payback(a.numbers("values")?),
            "DISCOUNTED_PAYBACK" => finance::discounted_payback(a.number("rate")?, a.numbers("values")?),
            "ROI" => finance::roi(a.numbers("values")?),
            "EAC" => match a.values.get("values") {
                Some(_) => finance::eac(a.number("rate")?, a.numbers("values")?),
                None => finance::eac_from_npv(a.number("rate")?, a.number("pv")?, a.number("nper")?),
            },
            other => return Err(Error::Internal(anyhow::anyhow!("no evaluation for {other}")).into()),
        };
        Ok(value?)
    }
}

/// An argument's parsed value.
#[derive(Debug)]
enum Arg {
    Number(Decimal),
    Numbers(Vec<Decimal>),
    Dates(Vec<NaiveDate>),
    Timing(PaymentTiming),
    Flag(bool),
}

/// The arguments of one call, parsed and checked against the function's
/// parameters.
#[derive(Debug)]
struct Args {
    values: BTreeMap<&'static str, Arg>,
}

impl Args {
    /// Checks every argument of `raw` against `spec`, reporting all problems.
    fn parse(spec: &'static FunctionSpec, raw: &Map<String, Value>) -> Result<Args, Error> {
        let mut checks = Checks::new();
        for name in raw.keys() {
            if spec.param(name).is_none() {
                let takes: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                checks.fail(
                    pointer(name),
                    format!("is not an argument of {}; it takes {}", spec.name, takes.join(", ")),
                );
            }
        }
        let mut values = BTreeMap::new();
        for param in spec.params {
            match raw.get(param.name) {
                None | Some(Value::Null) => {
                    if param.required {
                        checks.fail(pointer(param.name), format!("is required by {}", spec.name));
                    }
                }
                Some(value) => {
                    if let Some(arg) = parse_arg(param, value, &mut checks) {
                        values.insert(param.name, arg);
                    }
                }
            }
        }
        if spec.name == "EAC" && checks.is_empty() {
            let has = |name: &str| values.contains_key(name);
            if has("values") && (has("pv") || has("nper")) {
                checks.fail(pointer(if has("pv") { "pv" } else { "nper" }), "EAC takes either values, or pv and nper, not both");
            } else if !has("values") {
                for name in ["pv", "nper"] {
                    if !has(name) {
                        checks.fail(pointer(name), "is required by EAC unless values are given");
                    }
                }
            }
        }
        checks.finish()?;
        Ok(Args { values })
    }

    fn missing(name: &str) -> Refusal {
        Error::invalid(pointer(name), "is required").into()
    }

    fn number(&self, name: &str) -> Result<Decimal, Refusal> {
        match self.values.get(name) {
            Some(Arg::Number(value)) => Ok(*value),
            _ => Err(Self::missing(name)),
        }
    }

    fn optional(&self, name: &str) -> Option<Decimal> {
        match self.values.get(name) {
            Some(Arg::Number(value)) => Some(*value),
            _ => None,
        }
    }

    fn or_zero(&self, name: &str) -> Decimal {
        self.optional(name).unwrap_or(Decimal::ZERO)
    }

    fn numbers(&self, name: &str) -> Result<&[Decimal], Refusal> {
        match self.values.get(name) {
            Some(Arg::Numbers(values)) => Ok(values),
            _ => Err(Self::missing(name)),
        }
    }

    fn dates(&self, name: &str) -> Result<&[NaiveDate], Refusal> {
        match self.values.get(name) {
            Some(Arg::Dates(dates)) => Ok(dates),
            _ => Err(Self::missing(name)),
        }
    }

    fn timing(&self) -> PaymentTiming {
        match self.values.get("type") {
            Some(Arg::Timing(timing)) => *timing,
            _ => PaymentTiming::End,
        }
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Arg::Flag(true)))
    }
}

/// The JSON pointer of argument `name` (RFC 6901 escaping).
fn pointer(name: &str) -> String {
    format!("/args/{}", name.replace('~', "~0").replace('/', "~1"))
}

fn parse_arg(param: &Param, value: &Value, checks: &mut Checks) -> Option<Arg> {
    let at = pointer(param.name);
    match param.kind {
        Kind::Number => match decimal(value) {
            Ok(number) => Some(Arg::Number(number)),
            Err(why) => {
                checks.fail(at, why);
                None
            }
        },
        Kind::Numbers => {
            let items = array(value, &at, "numbers", checks)?;
            let mut numbers = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match decimal(item) {
                    Ok(number) => numbers.push(number),
                    Err(why) => checks.fail(format!("{at}/{i}"), why),
                }
            }
            (numbers.len() == items.len()).then_some(Arg::Numbers(numbers))
        }
        Kind::Dates => {
            let items = array(value, &at, "dates", checks)?;
            let mut dates = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
                    Some(date) => dates.push(date),
                    None => checks.fail(format!("{at}/{i}"), "must be a date written as \"YYYY-MM-DD\""),
                }
            }
            (dates.len() == items.len()).then_some(Arg::Dates(dates))
        }
        Kind::Timing => {
            match decimal(value).ok().and_then(PaymentTiming::from_excel_type) {
                Some(timing) => Some(Arg::Timing(timing)),
                None => {
                    checks.fail(at, "must be 0 (payments at the end of each period) or 1 (at the beginning)");
                    None
                }
            }
        }
        Kind::Flag => match value {
            Value::Bool(flag) => Some(Arg::Flag(*flag)),
            _ => {
                checks.fail(at, "must be true or false");
                None
            }
        },
    }
}

/// The array at `at`, at most [`MAX_CASH_FLOWS`] long.
fn array<'v>(value: &'v Value, at: &str, what: &str, checks: &mut Checks) -> Option<&'v Vec<Value>> {
    match value {
        Value::Array(items) if items.len() <= MAX_CASH_FLOWS => Some(items),
        Value::Array(_) => {
            checks.fail(at, format!("may hold at most {MAX_CASH_FLOWS} entries"));
            None
        }
        _ => {
            checks.fail(at, format!("must be an array of {what}"));
            None
        }
    }
}

/// A JSON number, exactly as written (serde_json keeps its digits), or a
/// decimal string.
fn decimal(value: &Value) -> Result<Decimal, &'static str> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err("must be a number: a JSON number or a decimal string such as \"0.08\""),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| "must be a number that a 28-digit decimal holds (at most about ±7.9e28), such as 1250.50 or \"0.08\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(function: &str, raw: Value) -> Result<Args, Error> {
        Args::parse(FunctionSpec::named(function).unwrap(), raw.as_object().unwrap())
    }

    fn pointers(error: Error) -> Vec<String> {
        match error {
            Error::Validation(errors) => errors.into_iter().filter_map(|e| e.pointer).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_function_named_in_the_documentation_is_known_in_any_case() {
        for name in ["npv", "Xnpv", "IRR", "xirr", "MIRR", "pmt", "PV", "fv", "NPER", "rate", "IPMT", "ppmt", "SLN", "db", "DDB",
            "vdb", "SYD", "payback", "Discounted_Payback", "roi", "EAC"]
        {
            assert!(FunctionSpec::named(name).is_ok(), "{name}");
        }
        assert_eq!(pointers(FunctionSpec::named("XIRRR").unwrap_err()), ["/function"]);
    }

    #[test]
    fn every_function_evaluates_with_its_own_arguments() {
        let sample = json!({
            "rate": 0.1, "values": [-100, 60, 60], "dates": ["2027-01-01", "2027-07-01", "2028-01-01"], "guess": 0.1,
            "finance_rate": 0.1, "reinvest_rate": 0.12, "nper": 3, "pmt": -10, "pv": 100, "fv": 0, "type": 1, "per": 1,
            "cost": 1000, "salvage": 100, "life": 5, "period": 1, "month": 7, "factor": 1.5, "start_period": 0,
            "end_period": 1.5, "no_switch": true
        });
        for spec in FUNCTIONS {
            let raw: Map<String, Value> = sample
                .as_object()
                .unwrap()
                .iter()
                .filter(|(name, _)| spec.param(name).is_some() && !(spec.name == "EAC" && ["pv", "nper"].contains(&name.as_str())))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let parsed = Args::parse(spec, &raw).unwrap_or_else(|e| panic!("{}: {e:?}", spec.name));
            let value = spec.evaluate(&parsed).unwrap_or_else(|e| panic!("{}: {e:?}", spec.name));
            assert!(!value.is_zero() || spec.name == "IPMT", "{} = {value}", spec.name);
        }
    }

    #[test]
    fn every_problem_with_the_arguments_is_reported_at_once() {
        let error = args("PMT", json!({ "rate": "ten", "bogus": 1, "type": 2 })).unwrap_err();
        assert_eq!(pointers(error), ["/args/bogus", "/args/rate", "/args/nper", "/args/pv", "/args/type"]);
        let error = args("XNPV", json!({ "rate": 0.1, "values": [1, "x"], "dates": ["2027-01-01", "01/02/2027"] })).unwrap_err();
        assert_eq!(pointers(error), ["/args/values/1", "/args/dates/1"]);
    }

    #[test]
    fn numbers_keep_every_digit_written_and_null_means_omitted() {
        let parsed = args("PMT", json!({ "rate": "0.0066666666666666666666666667", "nper": 1e1, "pv": 10000, "fv": null }))
            .unwrap();
        assert_eq!(parsed.number("rate").unwrap().to_string(), "0.0066666666666666666666666667");
        assert_eq!(parsed.number("nper").unwrap(), Decimal::TEN);
        assert_eq!(parsed.or_zero("fv"), Decimal::ZERO);
    }

    #[test]
    fn eac_takes_values_or_a_present_value_with_periods() {
        assert!(args("EAC", json!({ "rate": 0.1, "values": [1, 2] })).is_ok());
        assert!(args("EAC", json!({ "rate": 0.1, "pv": 100, "nper": 5 })).is_ok());
        assert_eq!(pointers(args("EAC", json!({ "rate": 0.1, "pv": 100 })).unwrap_err()), ["/args/nper"]);
        assert_eq!(pointers(args("EAC", json!({ "rate": 0.1, "values": [1], "pv": 1 })).unwrap_err()), ["/args/pv"]);
    }
}
