//! Investment metrics on a series of cash flows: Excel's `MIRR`, and the
//! payback period, discounted payback, ROI and equivalent annual cost that
//! `itbm`'s project financials and the ROI model plugins report.
//!
//! Except for `MIRR` (Excel's definition), `values[0]` is the cash flow at
//! t = 0 (today, undiscounted) and `values[t]` the one at the end of period t,
//! the convention of [`irr`](crate::irr) and
//! [`npv_undiscounted_first`](crate::npv_undiscounted_first).

use rust_decimal::Decimal;

use crate::num::{ONE, ZERO, add, annuity, div, exp, ln, mul, pow, sub};
use crate::tvm::present_value_at_zero;
use crate::{Error, Result, finish};

/// Excel's `MIRR(values, finance_rate, reinvest_rate)`: the modified internal
/// rate of return, with negative cash flows financed at `finance_rate` and
/// positive ones reinvested at `reinvest_rate`:
///
/// ```text
/// MIRR = (−FV(positive values, reinvest_rate) / PV(negative values, finance_rate))^(1/(n−1)) − 1
/// ```
///
/// where `n` is the number of values, the present value is taken at the first
/// value and the future value at the last. `#DIV/0!` unless `values` holds at
/// least one positive and one negative value (Excel's documented error), or
/// when `finance_rate` is −1.
///
/// `MIRR({-120000, 39000, 30000, 21000, 37000, 46000}, 10%, 12%)`
/// = 0.1260941303659051… (Excel: 13%, i.e. 12.61%).
pub fn mirr(values: &[Decimal], finance_rate: Decimal, reinvest_rate: Decimal) -> Result<Decimal> {
    let positive = values.iter().any(|v| *v > ZERO);
    let negative = values.iter().any(|v| *v < ZERO);
    if !(positive && negative) {
        return Err(Error::div_zero("values", "values must contain at least one positive and one negative value"));
    }
    if finance_rate == -ONE {
        return Err(Error::div_zero("finance_rate", "finance_rate is -1 (−100%): discounting divides by 0"));
    }
    let last = values.len() - 1;
    let (mut future_of_positive, mut present_of_negative) = (ZERO, ZERO);
    let reinvest_growth = add(ONE, reinvest_rate)?;
    let finance_growth = add(ONE, finance_rate)?;
    for (t, value) in values.iter().enumerate() {
        if *value > ZERO {
            let periods_left = Decimal::from(last - t);
            future_of_positive = add(future_of_positive, mul(*value, pow(reinvest_growth, periods_left)?)?)?;
        } else if *value < ZERO {
            let periods = Decimal::from(t);
            present_of_negative = add(present_of_negative, div(*value, pow(finance_growth, periods)?)?)?;
        }
    }
    let ratio = div(-future_of_positive, present_of_negative)?;
    if ratio <= ZERO {
        // Only when reinvest_rate ≤ −1 zeroes or flips the positive values.
        return Err(Error::num("reinvest_rate", "reinvest_rate must be greater than -1"));
    }
    // The (n−1)th root as exp(ln(ratio)/(n−1)): one rounding instead of a
    // rounded exponent 1/(n−1).
    let root = exp(div(ln(ratio)?, Decimal::from(last))?)?;
    Ok(finish(sub(root, ONE)?))
}

/// Payback period: the time, in periods from t = 0, at which the cumulative
/// cash flow `values[0] + … + values[t]` first climbs back to zero after being
/// negative.
///
/// **Fractional periods by linear interpolation within the period**: the cash
/// flow of the recovering period is taken to arrive evenly over it, so a
/// cumulative −300 before a period bringing +400 pays back 3/4 into that period.
/// The first recovery counts; later negative flows (a refresh, say) are not
/// considered, as in the textbook definition. 0 when the cumulative flow is
/// never negative (nothing to pay back).
///
/// `#NUM!` when the cumulative flow is still negative after the last value
/// (the investment is not paid back within the periods given), or when
/// `values` is empty.
///
/// `payback([-1000, 300, 400, 500])` = 2.6 (−300 left after period 2, 500 in period 3).
pub fn payback(values: &[Decimal]) -> Result<Decimal> {
    recovery_time(values).map(finish)
}

/// Discounted payback period: [`payback`] of the cash flows discounted to
/// t = 0 at `rate` per period, `values[t] / (1 + rate)^t`; the recovering
/// period is again interpolated linearly, on its discounted cash flow.
///
/// `#NUM!` as for `payback`, and when `rate` ≤ −1.
///
/// `discounted_payback(0.1, [-1000, 500, 500, 500])` = 2.352 periods.
pub fn discounted_payback(rate: Decimal, values: &[Decimal]) -> Result<Decimal> {
    if rate <= -ONE {
        return Err(Error::num("rate", "rate must be greater than -1 (−100%)"));
    }
    let growth = add(ONE, rate)?;
    let mut discounted = Vec::with_capacity(values.len());
    let mut factor = ONE;
    for (t, value) in values.iter().enumerate() {
        if t > 0 {
            factor = mul(factor, growth)?;
        }
        discounted.push(div(*value, factor)?);
    }
    recovery_time(&discounted).map(finish)
}

fn recovery_time(values: &[Decimal]) -> Result<Decimal> {
    if values.is_empty() {
        return Err(Error::num("values", "values must contain at least one value"));
    }
    let mut cumulative = ZERO;
    let mut was_negative = false;
    for (t, value) in values.iter().enumerate() {
        let before = cumulative;
        cumulative = add(cumulative, *value)?;
        if cumulative < ZERO {
            was_negative = true;
        } else if was_negative {
            // before < 0 ≤ cumulative, so value > 0: the share of this period
            // needed to cover what was still outstanding.
            let share = div(-before, *value)?;
            return add(Decimal::from(t - 1), share);
        }
    }
    if was_negative {
        Err(Error::num(
            "values",
            format!("the cumulative cash flow is still negative after the last of the {} values: the investment is not paid back", values.len()),
        ))
    } else {
        Ok(ZERO)
    }
}

/// Return on investment as a fraction of the cost (0.25 = 25%), from cash flows:
/// `(benefits − costs) / costs` where benefits are the positive values and
/// costs the negative ones (as a positive amount), undiscounted.
///
/// `#DIV/0!` when there are no costs.
///
/// `roi([-1000, 300, 400, 500])` = 0.2.
pub fn roi(values: &[Decimal]) -> Result<Decimal> {
    let (mut benefits, mut costs) = (ZERO, ZERO);
    for value in values {
        if *value > ZERO {
            benefits = add(benefits, *value)?;
        } else {
            costs = sub(costs, *value)?;
        }
    }
    if costs.is_zero() {
        return Err(Error::div_zero("values", "values contain no cost (no negative value): ROI divides by the costs"));
    }
    roi_from_totals(benefits, costs)
}

/// Return on investment from totals: `(benefits − costs) / costs`, a fraction.
/// `#DIV/0!` when `costs` is 0.
pub fn roi_from_totals(benefits: Decimal, costs: Decimal) -> Result<Decimal> {
    if costs.is_zero() {
        return Err(Error::div_zero("costs", "costs are 0: ROI divides by the costs"));
    }
    Ok(finish(div(sub(benefits, costs)?, costs)?))
}

/// Equivalent annual cost of cash flows `values[0..=n]` (t = 0 to n): their
/// net present value at t = 0 spread evenly over the `n` periods,
///
/// ```text
/// EAC = NPV × rate / (1 − (1 + rate)^−n),   NPV = Σ values[t] / (1 + rate)^t
/// ```
///
/// (NPV / n at a rate of 0). It keeps the sign of the values: costs entered as
/// positive amounts give a positive EAC. `#NUM!` with fewer than two values
/// (no period to spread over) or a rate ≤ −1.
///
/// `eac(0.1, [10000, 1000, 1000, 1000])` = 5021.1480362537764350 per period.
pub fn eac(rate: Decimal, values: &[Decimal]) -> Result<Decimal> {
    if values.len() < 2 {
        return Err(Error::num("values", "values must contain at least two values: t = 0 and at least one period"));
    }
    if rate <= -ONE {
        return Err(Error::num("rate", "rate must be greater than -1 (−100%)"));
    }
    let npv = present_value_at_zero(rate, values)?;
    spread(rate, npv, Decimal::from(values.len() - 1)).map(finish)
}

/// Equivalent annual cost of a net present value `npv` over `nper` periods,
/// `npv × rate / (1 − (1 + rate)^−nper)`; `npv / nper` at a rate of 0.
/// `#NUM!` when `nper` ≤ 0 or `rate` ≤ −1.
pub fn eac_from_npv(rate: Decimal, npv: Decimal, nper: Decimal) -> Result<Decimal> {
    if nper <= ZERO {
        return Err(Error::num("nper", "nper must be greater than 0"));
    }
    if rate <= -ONE {
        return Err(Error::num("rate", "rate must be greater than -1 (−100%)"));
    }
    spread(rate, npv, nper).map(finish)
}

fn spread(rate: Decimal, npv: Decimal, periods: Decimal) -> Result<Decimal> {
    // (1 − (1 + rate)^−n)/rate = −annuity(rate, −n): the present value of n
    // payments of 1, continuous through rate = 0 (where it is n).
    let (negated_present_factor, _) = annuity(rate, -periods)?;
    div(npv, -negated_present_factor)
}
