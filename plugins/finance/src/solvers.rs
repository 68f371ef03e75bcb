//! The rates no formula gives: Excel's `IRR`, `XIRR` and `RATE`, found by
//! iteration.
//!
//! # How a rate is found
//! All three look for a rate `r` > −1 where a function `f(r)` (the net present
//! value of the cash flows, or the residual of the annuity equation) is 0:
//!
//! 1. **Newton's method from `guess`** (default [`DEFAULT_GUESS`] = 0.1, as in
//!    Excel), `r ← r − f(r)/f′(r)` with the exact derivative, for at most
//!    [`NEWTON_MAX_ITERATIONS`] (100) steps. It stops when a step moves the rate
//!    by no more than [`TOLERANCE`] (10^-20; relative to the rate beyond ±100%,
//!    where 28 digits leave fewer decimals) and `|f|` is negligible against the
//!    size of its terms (10^-12 of `Σ|term|`), which rules out creeping towards
//!    −100% without a root. Newton converges quadratically, so the rate is then
//!    exact to about the decimal's resolution, far beyond Excel's own
//!    tolerance (IRR: 0.00001% after at most 20 iterations; XIRR: 0.000001%
//!    after 100; RATE: 0.0000001 after 20).
//! 2. **If Newton fails** (a zero derivative, a step to −100% or below, an
//!    overflow, or no convergence within the limit), **a bracketing search**:
//!    `f` is evaluated on a grid running outward from the guess, alternately
//!    upward (`guess + 0.01·2^k`, up to about 10^10) and downward
//!    (`guess − 0.01·2^k`, then halving the distance to −1), and the first
//!    interval over which `f` changes sign is bisected until it is narrower
//!    than [`TOLERANCE`] (at most [`BISECTION_MAX_ITERATIONS`] halvings). Where
//!    `f` overflows (long series near −100%), that direction ends at the
//!    furthest point it can still be evaluated at, found by halving.
//!
//! A solve costs at most about 550 evaluations of `f`; an evaluation is
//! linear in the number of cash flows (XIRR's needs one exponential per flow).
//!
//! # Which root
//! Cash flows that change sign more than once can have several rates. The rate
//! returned is the one Newton's method converges to from `guess`, as in Excel,
//! which also iterates Newton from the guess. That is normally the root nearest
//! the guess, but not always: Newton's first steps can overshoot (for
//! `-5, 10.5, 1, -8, 1`, with rates −87.02%, 8.86% and 70.96%, a guess of 200%
//! ends at 8.86%). When Newton fails, the rate is the root in the sign-changing
//! interval nearest the guess on the grid above. A root where `f` touches 0
//! without changing sign can only be found by Newton. To pick another root,
//! pass a guess near it. Where no sign change exists the answer is `#NUM!`,
//! saying so.
//!
//! Unlike Excel, which gives up with `#NUM!` after its iteration limit, the
//! bisection fallback also finds rates far from the guess (e.g. an IRR of
//! −99% from the default guess of 10%).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::num::{ONE, ZERO, add, annuity, div, growth, ln, mul, sub};
use crate::tvm::{day_offsets, discount_factor};
use crate::{Error, PaymentTiming, Result, finish};

/// Excel's default `guess` for `IRR`, `XIRR` and `RATE`: 10%.
pub const DEFAULT_GUESS: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// The solvers stop when the rate is known to within this: 10^-20 (relative to
/// the rate for rates beyond ±100%).
pub const TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 20);
/// Newton steps before the bracketing fallback takes over (Excel's IRR stops
/// after 20 and reports `#NUM!`).
pub const NEWTON_MAX_ITERATIONS: u32 = 100;
/// Halvings of a bracketing interval before giving up; 200 narrow any interval
/// this search can produce to well below [`TOLERANCE`].
pub const BISECTION_MAX_ITERATIONS: u32 = 200;

/// `|f|` must be at most this fraction of `Σ|term|` for Newton's answer to
/// count as a root.
const RESIDUAL_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 12);
/// The first grid step of the bracketing search: one percentage point.
const GRID_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// Doublings of the grid step upward: 0.01·2^40 ≈ 1.1 × 10^10.
const GRID_DOUBLINGS: u32 = 40;
/// Halvings of the distance to −1 once the downward grid passes it.
const GRID_HALVINGS: u32 = 90;
/// Halvings between the last point `f` could be evaluated at and the first it
/// could not, to get as close to that edge as a root may lie.
const EDGE_HALVINGS: u32 = 40;

/// [`TOLERANCE`], relative for rates beyond ±100%, where a 28-digit decimal
/// has fewer than 20 decimal places left.
fn tolerance_at(rate: Decimal) -> Decimal {
    if rate.abs() > ONE { TOLERANCE * rate.abs() } else { TOLERANCE }
}

/// `f` at a rate, its derivative, and the magnitude of its terms.
struct Evaluation {
    value: Decimal,
    slope: Decimal,
    scale: Decimal,
}

/// Excel's `IRR(values, [guess])`: the rate at which the net present value of
/// `values` (the first at t = 0, one per period) is 0,
/// `Σ values[t] / (1 + irr)^t = 0`.
///
/// `#NUM!` unless `values` holds at least one positive and one negative value
/// (there is no rate otherwise), when `guess` ≤ −1, or when no rate is found
/// (see the module documentation for the method and which root is returned).
///
/// `IRR({-70000, 12000, 15000, 18000, 21000, 26000})` = 0.0866309480365316… (Excel: 9%, i.e. 8.66%).
pub fn irr(values: &[Decimal], guess: Option<Decimal>) -> Result<Decimal> {
    require_both_signs(values, "values")?;
    let guess = checked_guess(guess)?;
    let rate = solve(guess, |r| irr_evaluation(values, r)).map_err(|_| {
        Error::no_result("no rate between -100% and 10^10 makes the net present value of values zero")
    })?;
    Ok(finish(rate))
}

fn irr_evaluation(values: &[Decimal], rate: Decimal) -> Result<Evaluation> {
    // f(r) = Σ v_t x^t with x = 1/(1 + r): Horner's scheme in x for the
    // polynomial p, its derivative p′ and the scale Σ|v_t| x^t; df/dr = −x²·p′(x).
    let x = div(ONE, add(ONE, rate)?)?;
    let (mut p, mut dp, mut scale) = (ZERO, ZERO, ZERO);
    for value in values.iter().rev() {
        dp = add(mul(dp, x)?, p)?;
        p = add(mul(p, x)?, *value)?;
        scale = add(mul(scale, x)?, value.abs())?;
    }
    Ok(Evaluation { value: p, slope: -mul(mul(x, x)?, dp)?, scale })
}

/// Excel's `XIRR(values, dates, [guess])`: the annual rate at which
/// [`xnpv`](crate::xnpv) of the dated cash flows is 0,
/// `Σ values[i] / (1 + xirr)^((dates[i] − dates[0]) / 365) = 0`.
///
/// `#NUM!` as for [`irr`], and as for `XNPV` when `dates` do not match
/// `values` or a date precedes the first.
///
/// Microsoft's example = 0.3733625335188… (Excel: 0.373362535, i.e. 37.34%).
pub fn xirr(values: &[Decimal], dates: &[NaiveDate], guess: Option<Decimal>) -> Result<Decimal> {
    let days = day_offsets(values, dates)?;
    require_both_signs(values, "values")?;
    let guess = checked_guess(guess)?;
    let rate = solve(guess, |r| xirr_evaluation(values, &days, r)).map_err(|_| {
        Error::no_result("no annual rate between -100% and 10^10 makes the XNPV of values on dates zero")
    })?;
    Ok(finish(rate))
}

fn xirr_evaluation(values: &[Decimal], days: &[i64], rate: Decimal) -> Result<Evaluation> {
    // f(r) = Σ v_i (1+r)^(−t_i), f′(r) = −Σ t_i v_i (1+r)^(−t_i) / (1+r), t_i = days_i/365.
    let base = add(ONE, rate)?;
    let log_growth = ln(base)?;
    let (mut value, mut weighted, mut scale) = (ZERO, ZERO, ZERO);
    for (v, d) in values.iter().zip(days) {
        let term = mul(*v, discount_factor(log_growth, *d)?)?;
        value = add(value, term)?;
        weighted = add(weighted, mul(term, Decimal::from(*d))?)?;
        scale = add(scale, term.abs())?;
    }
    let slope = -div(div(weighted, Decimal::from(365))?, base)?;
    Ok(Evaluation { value, slope, scale })
}

/// Excel's `RATE(nper, pmt, pv, [fv], [type], [guess])`: the interest rate per
/// period at which `nper` payments `pmt` take `pv` to `fv` (the cash-flow
/// equation of [`crate::tvm`] solved for `rate`).
///
/// `#NUM!` when `nper` ≤ 0, when `guess` ≤ −1, or when no rate exists (for
/// instance payments that never repay the loan even at 0%).
///
/// `RATE(48, -200, 8000)` = 0.0077014724882020… (Excel: 1%, i.e. 0.77% a month).
pub fn rate(nper: Decimal, pmt: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming, guess: Option<Decimal>) -> Result<Decimal> {
    if nper <= ZERO {
        return Err(Error::num("nper", "nper must be greater than 0"));
    }
    let guess = checked_guess(guess)?;
    let rate = solve(guess, |r| rate_evaluation(nper, pmt, pv, fv, timing, r)).map_err(|_| {
        Error::no_result("no rate between -100% and 10^10 makes these payments take pv to fv in nper periods")
    })?;
    Ok(finish(rate))
}

fn rate_evaluation(nper: Decimal, pmt: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming, rate: Decimal) -> Result<Evaluation> {
    // f(r) = pv·g + pmt·(1 + r·t)·A(r) + fv, g = (1+r)^n, A = (g − 1)/r;
    // f′(r) = pv·n·g/(1+r) + pmt·t·A + pmt·(1 + r·t)·A′(r).
    let t = timing.excel_type();
    let g = growth(rate, nper)?;
    let (factor, factor_slope) = annuity(rate, nper)?;
    let scaled_pmt = mul(pmt, add(ONE, mul(rate, t)?)?)?;
    let balance = mul(pv, g)?;
    let payments = mul(scaled_pmt, factor)?;
    let value = add(add(balance, payments)?, fv)?;
    let slope = add(
        add(div(mul(mul(pv, nper)?, g)?, add(ONE, rate)?)?, mul(mul(pmt, t)?, factor)?)?,
        mul(scaled_pmt, factor_slope)?,
    )?;
    let scale = add(add(balance.abs(), payments.abs())?, fv.abs())?;
    Ok(Evaluation { value, slope, scale })
}

fn require_both_signs(values: &[Decimal], argument: &'static str) -> Result<()> {
    let positive = values.iter().any(|v| *v > ZERO);
    let negative = values.iter().any(|v| *v < ZERO);
    if positive && negative {
        Ok(())
    } else {
        Err(Error::num(
            argument,
            "values must contain at least one positive and one negative value: otherwise no rate makes their present value zero",
        ))
    }
}

fn checked_guess(guess: Option<Decimal>) -> Result<Decimal> {
    let guess = guess.unwrap_or(DEFAULT_GUESS);
    if guess <= -ONE {
        return Err(Error::num("guess", "guess must be greater than -1 (−100%)"));
    }
    Ok(guess)
}

/// A root of `f` on (−1, ∞) by Newton from `guess`, else by bisecting the
/// nearest sign change; see the module documentation.
fn solve(guess: Decimal, f: impl Fn(Decimal) -> Result<Evaluation>) -> Result<Decimal> {
    if let Some(root) = newton(guess, &f) {
        return Ok(root);
    }
    bisect(bracket(guess, &f)?, &f)
}

fn newton(guess: Decimal, f: &impl Fn(Decimal) -> Result<Evaluation>) -> Option<Decimal> {
    let mut rate = guess;
    for _ in 0..NEWTON_MAX_ITERATIONS {
        let at = f(rate).ok()?;
        if at.value.is_zero() {
            return Some(rate);
        }
        if at.slope.is_zero() {
            return None;
        }
        let step = at.value.checked_div(at.slope)?;
        let next = rate.checked_sub(step)?;
        if next <= -ONE {
            return None;
        }
        if step.abs() <= tolerance_at(next) {
            let check = f(next).ok()?;
            let negligible = check.value.abs() <= check.scale.checked_mul(RESIDUAL_TOLERANCE)?;
            return negligible.then_some(next);
        }
        rate = next;
    }
    None
}

/// A root with its sign: `Some(true)` positive, `Some(false)` negative, `None` zero.
fn sign(value: Decimal) -> Option<bool> {
    if value.is_zero() { None } else { Some(value.is_sign_positive()) }
}

/// Two points `(rate, f(rate))` between which `f` changes sign (in either
/// order), or the same point twice when the grid hits a root exactly.
type Bracket = ((Decimal, Decimal), (Decimal, Decimal));

/// One direction of the bracketing search: the last point evaluated, and
/// whether the grid may go on.
struct Side {
    previous: Option<(Decimal, Decimal)>,
    open: bool,
}

impl Side {
    /// Records `f(rate)`, returning the bracket if the sign changed since the
    /// previous point.
    fn record(&mut self, rate: Decimal, value: Decimal) -> Option<Bracket> {
        if sign(value).is_none() {
            return Some(((rate, value), (rate, value)));
        }
        let previous = self.previous.replace((rate, value));
        previous.filter(|p| sign(p.1) != sign(value)).map(|p| (p, (rate, value)))
    }

    /// Evaluates the grid point `target`. Where `f` cannot be evaluated there
    /// (its terms overflow, typically near −100%), the side closes, but not
    /// before the points between the last good one and `target` have been
    /// searched by halving for the furthest that can, so that a root short of
    /// the overflow is still bracketed.
    fn visit(&mut self, target: Decimal, f: &impl Fn(Decimal) -> Result<Evaluation>) -> Option<Bracket> {
        if let Ok(at) = f(target) {
            return self.record(target, at.value);
        }
        self.open = false;
        let (mut good, _) = self.previous?;
        let mut bad = target;
        for _ in 0..EDGE_HALVINGS {
            let middle = (good + bad) / Decimal::TWO;
            match f(middle) {
                Ok(at) => {
                    if let Some(found) = self.record(middle, at.value) {
                        return Some(found);
                    }
                    good = middle;
                }
                Err(_) => bad = middle,
            }
        }
        None
    }
}

fn bracket(guess: Decimal, f: &impl Fn(Decimal) -> Result<Evaluation>) -> Result<Bracket> {
    let mut up = Side { previous: None, open: true };
    if let Ok(at) = f(guess)
        && let Some(found) = up.record(guess, at.value)
    {
        return Ok(found);
    }
    let mut down = Side { previous: up.previous, open: true };
    let widest_step = GRID_STEP * Decimal::from(1u64 << GRID_DOUBLINGS);
    let mut step = GRID_STEP;
    let mut down_rate = guess;
    let mut halvings = 0;
    // Each round moves both sides one grid point; the bound is explicit so the
    // search ends whatever the guess.
    for _ in 0..=(GRID_DOUBLINGS + GRID_HALVINGS + 1) {
        if !(up.open || down.open) {
            break;
        }
        if up.open {
            match guess.checked_add(step) {
                Some(target) if step <= widest_step => {
                    if let Some(found) = up.visit(target, f) {
                        return Ok(found);
                    }
                }
                _ => up.open = false,
            }
        }
        if down.open {
            // Down by the same steps while that stays above −1, then halving
            // the distance to −1.
            let candidate = guess - step;
            if candidate > -ONE && halvings == 0 && step <= widest_step {
                down_rate = candidate;
            } else {
                halvings += 1;
                down_rate = (down_rate - ONE) / Decimal::TWO;
            }
            if halvings > GRID_HALVINGS || down_rate <= -ONE {
                down.open = false;
            } else if let Some(found) = down.visit(down_rate, f) {
                return Ok(found);
            }
        }
        if step <= widest_step {
            step *= Decimal::TWO;
        }
    }
    Err(Error::no_result("f never changes sign on the search grid"))
}

/// Bisects a bracket (its ends in either order) down to [`TOLERANCE`].
fn bisect(bracket: Bracket, f: &impl Fn(Decimal) -> Result<Evaluation>) -> Result<Decimal> {
    let ((mut a, mut fa), (mut b, _)) = bracket;
    if a == b {
        return Ok(a);
    }
    for _ in 0..BISECTION_MAX_ITERATIONS {
        let middle = div(add(a, b)?, Decimal::TWO)?;
        if sub(b, a)?.abs() <= tolerance_at(middle) || middle == a || middle == b {
            return Ok(middle);
        }
        let at = f(middle)?.value;
        if at.is_zero() {
            return Ok(middle);
        }
        if sign(at) == sign(fa) {
            a = middle;
            fa = at;
        } else {
            b = middle;
        }
    }
    Err(Error::no_result("bisection did not converge"))
}
