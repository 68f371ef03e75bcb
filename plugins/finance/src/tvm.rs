//! Time value of money: Excel's `PV`, `FV`, `PMT`, `NPER`, `IPMT`, `PPMT`, `NPV`
//! and `XNPV` (the solvers `RATE`, `IRR` and `XIRR` are in [`crate::solvers`]).
//!
//! `PV`, `FV`, `PMT`, `NPER`, `RATE`, `IPMT` and `PPMT` all solve Excel's
//! cash-flow equation (from the `PV` reference) for one of its terms:
//!
//! ```text
//! pv·(1 + rate)^nper + pmt·(1 + rate·type)·((1 + rate)^nper − 1)/rate + fv = 0
//! pv + pmt·nper + fv = 0                                       (rate = 0)
//! ```
//!
//! Money paid out is negative and money received positive: borrowing 10,000
//! (`pv` = 10000) makes payments negative. `nper` and `per` may be fractional,
//! as in Excel.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::num::{ONE, ZERO, add, annuity, div, exp, growth, ln, mul, sub};
use crate::{Error, PaymentTiming, Result, finish};

const DAYS_PER_YEAR: Decimal = Decimal::from_parts(365, 0, 0, false, 0);

/// `1 + rate·type`: a payment at the start of a period earns one more period.
fn timing_factor(rate: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    add(ONE, mul(rate, timing.excel_type())?)
}

/// Excel's `FV(rate, nper, pmt, [pv], [type])`: the value after `nper` periods
/// of a balance `pv` with a payment `pmt` each period.
///
/// `FV(0.06/12, 10, -200, -500, 1)` = 2581.4033740601… (Excel: $2,581.40).
pub fn fv(rate: Decimal, nper: Decimal, pmt: Decimal, pv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    future_value(rate, nper, pmt, pv, timing).map(finish)
}

pub(crate) fn future_value(rate: Decimal, nper: Decimal, pmt: Decimal, pv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    let g = growth(rate, nper)?;
    let (factor, _) = annuity(rate, nper)?;
    let payments = mul(mul(pmt, timing_factor(rate, timing)?)?, factor)?;
    Ok(-add(mul(pv, g)?, payments)?)
}

/// Excel's `PV(rate, nper, pmt, [fv], [type])`: what a series of `nper`
/// payments `pmt` and a final `fv` are worth today.
///
/// Computed by discounting, `pv = −(fv·v + pmt·(1 + rate·type)·(1 − v)/rate)`
/// with `v = (1 + rate)^−nper`, so that a long horizon discounts to (nearly)
/// nothing instead of overflowing. A rate of −100% divides by zero (`#DIV/0!`).
///
/// `PV(0.08/12, 240, 500, 0, 0)` = −59777.1458511878… (Excel: ($59,777.15)).
pub fn pv(rate: Decimal, nper: Decimal, pmt: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    if rate == -ONE {
        return Err(Error::div_zero("rate", "rate is -1 (−100%): discounting divides by (1 + rate) = 0"));
    }
    let v = growth(rate, -nper)?;
    // (1 − v)/rate = −annuity(rate, −nper), the present value of `nper` payments of 1.
    let (negated_present_factor, _) = annuity(rate, -nper)?;
    let payments = mul(mul(pmt, timing_factor(rate, timing)?)?, negated_present_factor)?;
    Ok(finish(-sub(mul(fv, v)?, payments)?))
}

/// Excel's `PMT(rate, nper, pv, [fv], [type])`: the constant payment that takes
/// a balance `pv` to `fv` in `nper` periods.
///
/// `#NUM!` when `nper` is 0; `#DIV/0!` when the payments cannot move the
/// balance (a rate of −100% with payments at the start of the period).
///
/// `PMT(0.08/12, 10, 10000)` = −1037.0320893591… (Excel: ($1,037.03)).
pub fn pmt(rate: Decimal, nper: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    payment(rate, nper, pv, fv, timing).map(finish)
}

pub(crate) fn payment(rate: Decimal, nper: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    if nper.is_zero() {
        return Err(Error::num("nper", "nper is 0: there is no period to make a payment in"));
    }
    let timing = timing_factor(rate, timing)?;
    if timing.is_zero() {
        return Err(Error::div_zero("rate", "rate is -1 with payments at the beginning of each period: every payment is worth 0"));
    }
    // Solve pv·g + pmt·timing·annuity(rate, nper) + fv = 0. For growing
    // balances divide through by g = (1 + rate)^nper first, so that a long
    // horizon cannot overflow: fv·v + pv + pmt·timing·(−annuity(rate, −nper)) = 0.
    let (numerator, per_payment) = if rate >= ZERO {
        let v = growth(rate, -nper)?;
        let (negated_present_factor, _) = annuity(rate, -nper)?;
        (add(mul(fv, v)?, pv)?, -mul(timing, negated_present_factor)?)
    } else {
        let g = growth(rate, nper)?;
        let (factor, _) = annuity(rate, nper)?;
        (add(fv, mul(pv, g)?)?, mul(timing, factor)?)
    };
    if per_payment.is_zero() {
        return Err(Error::div_zero("rate", "at this rate a payment is worth 0, so no payment reaches fv"));
    }
    Ok(-div(numerator, per_payment)?)
}

/// Excel's `NPER(rate, pmt, pv, [fv], [type])`: how many periods of payment
/// `pmt` take a balance `pv` to `fv`; fractional in general.
///
/// `nper = ln((pmt·(1+rate·type) − fv·rate) / (pmt·(1+rate·type) + pv·rate)) / ln(1 + rate)`,
/// or `−(pv + fv)/pmt` at a rate of 0.
///
/// `#NUM!` when no number of periods gets there: the payment only covers the
/// interest, or moves the balance away from `fv`, or `rate` ≤ −1. `#DIV/0!`
/// when both `rate` and `pmt` are 0 (the balance never changes). Excel's
/// documentation does not name these cases; LibreOffice returns the same
/// errors except that it shows `#DIV/0!` for a payment that exactly covers the
/// interest, where this returns `#NUM!` because no period count exists.
///
/// `NPER(0.12/12, -100, -1000, 10000, 1)` = 59.6738656742946… (Excel: 59.6738657).
pub fn nper(rate: Decimal, pmt: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    if rate.is_zero() {
        if pmt.is_zero() {
            return Err(Error::div_zero("pmt", "with rate 0 and pmt 0 the balance never changes: NPER divides by pmt = 0"));
        }
        return Ok(finish(-div(add(pv, fv)?, pmt)?));
    }
    if rate <= -ONE {
        return Err(Error::num("rate", "rate must be greater than -1: (1 + rate) has no logarithm"));
    }
    let scaled_pmt = mul(pmt, timing_factor(rate, timing)?)?;
    let numerator = sub(scaled_pmt, mul(fv, rate)?)?;
    let denominator = add(scaled_pmt, mul(pv, rate)?)?;
    if denominator.is_zero() {
        return Err(Error::num(
            "pmt",
            "the payment exactly equals the interest on pv, so the balance never changes and never reaches fv",
        ));
    }
    let ratio = div(numerator, denominator)?;
    if ratio <= ZERO {
        return Err(Error::num(
            "pmt",
            "no number of periods reaches fv: at this rate the payments move the balance away from fv (or only pay the interest)",
        ));
    }
    Ok(finish(div(ln(ratio)?, ln(add(ONE, rate)?)?)?))
}

/// Excel's `IPMT(rate, per, nper, pv, [fv], [type])`: the interest part of the
/// payment of period `per` (1 ≤ `per` ≤ `nper`, else `#NUM!`).
///
/// It is the interest on the balance after `per − 1` payments:
/// `FV(rate, per − 1, PMT(…), pv, type) · rate`, divided by `1 + rate` when
/// payments are at the beginning (they earn a period less), and 0 for the first
/// payment at the beginning (no interest has accrued yet).
///
/// `IPMT(0.1/12, 1, 36, 8000)` = −66.6666666666666667 (Excel: ($66.67)).
pub fn ipmt(rate: Decimal, per: Decimal, nper: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    let (interest, _) = interest_and_payment(rate, per, nper, pv, fv, timing)?;
    Ok(finish(interest))
}

/// Excel's `PPMT(rate, per, nper, pv, [fv], [type])`: the principal part of the
/// payment of period `per`, `PMT − IPMT`.
///
/// `PPMT(0.1/12, 1, 24, 2000)` = −75.6231860083663… (Excel: ($75.62)).
pub fn ppmt(rate: Decimal, per: Decimal, nper: Decimal, pv: Decimal, fv: Decimal, timing: PaymentTiming) -> Result<Decimal> {
    let (interest, payment) = interest_and_payment(rate, per, nper, pv, fv, timing)?;
    Ok(finish(sub(payment, interest)?))
}

fn interest_and_payment(
    rate: Decimal,
    per: Decimal,
    nper: Decimal,
    pv: Decimal,
    fv: Decimal,
    timing: PaymentTiming,
) -> Result<(Decimal, Decimal)> {
    if nper <= ZERO {
        return Err(Error::num("nper", "nper must be greater than 0"));
    }
    if per < ONE || per > nper {
        return Err(Error::num("per", "per must be between 1 and nper"));
    }
    let payment = payment(rate, nper, pv, fv, timing)?;
    if timing == PaymentTiming::Beginning && per == ONE {
        return Ok((ZERO, payment));
    }
    let balance = future_value(rate, sub(per, ONE)?, payment, pv, timing)?;
    let mut interest = mul(balance, rate)?;
    if timing == PaymentTiming::Beginning {
        let base = add(ONE, rate)?;
        if base.is_zero() {
            return Err(Error::div_zero("rate", "rate is -1 with payments at the beginning of each period"));
        }
        interest = div(interest, base)?;
    }
    Ok((interest, payment))
}

/// Excel's `NPV(rate, value1, [value2], …)`: the values discounted to one
/// period BEFORE the first, i.e. `Σ values[i] / (1 + rate)^(i+1)`.
///
/// Excel discounts the first value by a full period. For cash flows whose first
/// value falls today (an investment at t = 0), use [`npv_undiscounted_first`]
/// or, as Microsoft's own example does, add the first value to the `NPV` of
/// the rest. `#DIV/0!` at a rate of −100%; `#NUM!` without values.
///
/// `NPV(10%, -10000, 3000, 4200, 6800)` = 1188.4434123352… (Excel: $1,188.44).
pub fn npv(rate: Decimal, values: &[Decimal]) -> Result<Decimal> {
    let at_zero = present_value_at_zero(rate, values)?;
    Ok(finish(div(at_zero, add(ONE, rate)?)?))
}

/// Net present value with the first value at t = 0 (not discounted):
/// `Σ values[t] / (1 + rate)^t`. This is numpy-financial's `npf.npv` and the
/// textbook NPV of a project whose investment is made today; it equals
/// `values[0] + NPV(rate, values[1..])` in Excel.
///
/// `npv_undiscounted_first(0.08, [-40000, 5000, 8000, 12000, 30000])`
/// = 3065.2226681795… (numpy-financial: 3065.22266817).
pub fn npv_undiscounted_first(rate: Decimal, values: &[Decimal]) -> Result<Decimal> {
    present_value_at_zero(rate, values).map(finish)
}

/// `Σ values[t] / (1 + rate)^t`, by Horner's scheme from the last value, so
/// that no power of `(1 + rate)` is ever formed.
pub(crate) fn present_value_at_zero(rate: Decimal, values: &[Decimal]) -> Result<Decimal> {
    if values.is_empty() {
        return Err(Error::num("values", "values must contain at least one value"));
    }
    let base = add(ONE, rate)?;
    if base.is_zero() {
        return Err(Error::div_zero("rate", "rate is -1 (−100%): discounting divides by (1 + rate) = 0"));
    }
    let mut sum = ZERO;
    for value in values[1..].iter().rev() {
        sum = div(add(sum, *value)?, base)?;
    }
    add(sum, values[0])
}

/// Excel's `XNPV(rate, values, dates)`: each value discounted from its date to
/// the first date, `Σ values[i] / (1 + rate)^((dates[i] − dates[0]) / 365)`.
///
/// The day count is actual days over 365 (Excel's; leap days count as days).
/// `#NUM!` when `values` and `dates` differ in length or are empty, when a date
/// precedes the first date, or when `rate` ≤ −1 (a fractional power of a
/// non-positive number).
///
/// Microsoft's example at 9% = 2086.6476020315… (Excel: $2,086.65).
pub fn xnpv(rate: Decimal, values: &[Decimal], dates: &[NaiveDate]) -> Result<Decimal> {
    let days = day_offsets(values, dates)?;
    if rate <= -ONE {
        return Err(Error::num("rate", "rate must be greater than -1: (1 + rate) is raised to fractional powers"));
    }
    let log_growth = ln(add(ONE, rate)?)?;
    let mut sum = ZERO;
    for (value, days) in values.iter().zip(&days) {
        sum = add(sum, mul(*value, discount_factor(log_growth, *days)?)?)?;
    }
    Ok(finish(sum))
}

/// Days from the first date to each date, checked as XNPV and XIRR require.
pub(crate) fn day_offsets(values: &[Decimal], dates: &[NaiveDate]) -> Result<Vec<i64>> {
    if values.is_empty() {
        return Err(Error::num("values", "values must contain at least one value"));
    }
    if values.len() != dates.len() {
        return Err(Error::num(
            "dates",
            format!("values and dates must have as many entries each ({} values, {} dates)", values.len(), dates.len()),
        ));
    }
    let first = dates[0];
    dates
        .iter()
        .map(|date| {
            let days = date.signed_duration_since(first).num_days();
            if days < 0 {
                Err(Error::num("dates", format!("{date} precedes the first date, {first}")))
            } else {
                Ok(days)
            }
        })
        .collect()
}

/// `(1 + rate)^−(days/365)` from `log_growth` = ln(1 + rate): one exponential,
/// with the division by 365 after the product to round once.
pub(crate) fn discount_factor(log_growth: Decimal, days: i64) -> Result<Decimal> {
    if days == 0 {
        return Ok(ONE);
    }
    exp(-div(mul(Decimal::from(days), log_growth)?, DAYS_PER_YEAR)?)
}
