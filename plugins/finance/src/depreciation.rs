//! Depreciation: Excel's `SLN`, `SYD`, `DB`, `DDB` and `VDB`.
//!
//! `life`, `period`, `per`, `start_period` and `end_period` share one unit
//! (years, months or days), as in Excel. The period loops of `DB` and `VDB` are
//! bounded by [`MAX_PERIODS`].

use rust_decimal::{Decimal, RoundingStrategy};

use crate::num::{ONE, ZERO, add, div, mul, pow, sub};
use crate::{Error, Result, finish};

/// Most periods `DB` and `VDB` step through (about 274 years of days): a bound
/// on the work one call can ask for, not a limit Excel has.
pub const MAX_PERIODS: u32 = 100_000;

const TWELVE: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

/// Excel's `SLN(cost, salvage, life)`: straight-line depreciation for one
/// period, `(cost − salvage) / life`. `#DIV/0!` when `life` is 0.
///
/// `SLN(30000, 7500, 10)` = 2250.
pub fn sln(cost: Decimal, salvage: Decimal, life: Decimal) -> Result<Decimal> {
    if life.is_zero() {
        return Err(Error::div_zero("life", "life is 0: the depreciable amount is divided by the life"));
    }
    Ok(finish(div(sub(cost, salvage)?, life)?))
}

/// Excel's `SYD(cost, salvage, life, per)`: sum-of-years' digits depreciation
/// for period `per`, `(cost − salvage) · (life − per + 1) · 2 / (life · (life + 1))`.
///
/// `#NUM!` when `life` ≤ 0 or `per` is outside (0, `life`]; a fractional `per`
/// is allowed, as in Excel.
///
/// `SYD(30000, 7500, 10, 1)` = 4090.9090909090909091 (Excel: $4,090.91).
pub fn syd(cost: Decimal, salvage: Decimal, life: Decimal, per: Decimal) -> Result<Decimal> {
    if life <= ZERO {
        return Err(Error::num("life", "life must be greater than 0"));
    }
    if per <= ZERO || per > life {
        return Err(Error::num("per", "per must be greater than 0 and at most life"));
    }
    let remaining = add(sub(life, per)?, ONE)?;
    let numerator = mul(mul(sub(cost, salvage)?, remaining)?, Decimal::TWO)?;
    Ok(finish(div(numerator, mul(life, add(life, ONE)?)?)?))
}

/// Excel's `DB(cost, salvage, life, period, [month])`: fixed-declining balance.
///
/// The rate is `1 − (salvage/cost)^(1/life)` rounded to three decimal places
/// (half away from zero), as Excel does. The first period covers `month`
/// months (default 12): `cost · rate · month/12`; each later one
/// `(cost − depreciation so far) · rate`; when `month` < 12 a period `life + 1`
/// takes the rest of the last year, `(cost − so far) · rate · (12 − month)/12`.
/// `period` and `month` are truncated to whole numbers.
///
/// `#NUM!` when `cost` ≤ 0, `salvage` < 0 or > `cost`, `life` ≤ 0, `period` is
/// outside 1‥`life + 1`, `month` is outside 1‥12, or more than
/// [`MAX_PERIODS`] periods would be stepped through (these bounds are
/// LibreOffice's, which Excel's documentation does not list; in period
/// `life + 1` of a 12-month first year the answer is 0).
///
/// `DB(1000000, 100000, 6, 1, 7)` = 186083.3333333333333333 (Excel: $186,083.33).
pub fn db(cost: Decimal, salvage: Decimal, life: Decimal, period: Decimal, month: Decimal) -> Result<Decimal> {
    if cost <= ZERO {
        return Err(Error::num("cost", "cost must be greater than 0"));
    }
    if salvage < ZERO || salvage > cost {
        return Err(Error::num("salvage", "salvage must be between 0 and cost"));
    }
    if life <= ZERO {
        return Err(Error::num("life", "life must be greater than 0"));
    }
    let month = month.trunc();
    if month < ONE || month > TWELVE {
        return Err(Error::num("month", "month must be between 1 and 12"));
    }
    let period = period.trunc();
    if period < ONE || period > add(life, ONE)? {
        return Err(Error::num("period", "period must be between 1 and life + 1"));
    }
    if period > Decimal::from(MAX_PERIODS) {
        return Err(Error::num("period", format!("DB steps through at most {MAX_PERIODS} periods")));
    }
    let rate = sub(ONE, pow(div(salvage, cost)?, div(ONE, life)?)?)?
        .round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
    let first = div(mul(mul(cost, rate)?, month)?, TWELVE)?;
    if period == ONE {
        return Ok(finish(first));
    }
    let mut so_far = first;
    let mut depreciation = first;
    let mut p = Decimal::TWO;
    while p <= period && p <= life {
        depreciation = mul(sub(cost, so_far)?, rate)?;
        so_far = add(so_far, depreciation)?;
        p += ONE;
    }
    if period > life {
        depreciation = div(mul(mul(sub(cost, so_far)?, rate)?, sub(TWELVE, month)?)?, TWELVE)?;
    }
    Ok(finish(depreciation))
}

/// Excel's `DDB(cost, salvage, life, period, [factor])`: declining balance at
/// `factor/life` per period (default factor 2, double-declining), never taking
/// the book value below `salvage`:
/// `min((cost − prior depreciation) · factor/life, cost − salvage − prior depreciation)`.
///
/// Computed in closed form, `book(p) = cost·(1 − factor/life)^p`, so a
/// fractional `period` is allowed as in Excel. `#NUM!` when `cost` or `salvage`
/// is negative, `salvage` > `cost`, `factor` ≤ 0, or `period` is outside
/// 1‥`life`.
///
/// `DDB(2400, 300, 3650, 1)` = 1.3150684931506849 (Excel: $1.32).
pub fn ddb(cost: Decimal, salvage: Decimal, life: Decimal, period: Decimal, factor: Decimal) -> Result<Decimal> {
    check_declining_balance(cost, salvage, life, factor)?;
    if period < ONE || period > life {
        return Err(Error::num("period", "period must be between 1 and life"));
    }
    Ok(finish(declining_balance(cost, salvage, life, period, factor)?))
}

fn check_declining_balance(cost: Decimal, salvage: Decimal, life: Decimal, factor: Decimal) -> Result<()> {
    if cost < ZERO {
        return Err(Error::num("cost", "cost must not be negative"));
    }
    if salvage < ZERO || salvage > cost {
        return Err(Error::num("salvage", "salvage must be between 0 and cost"));
    }
    if life <= ZERO {
        return Err(Error::num("life", "life must be greater than 0"));
    }
    if factor <= ZERO {
        return Err(Error::num("factor", "factor must be greater than 0"));
    }
    Ok(())
}

/// The declining-balance rate `factor/life`, capped at 100% (all of the
/// depreciation in the first period), and its complement: the share of the
/// book value each period keeps.
fn kept_per_period(life: Decimal, factor: Decimal) -> Result<Decimal> {
    sub(ONE, div(factor, life)?.min(ONE))
}

/// Declining-balance depreciation of one period from the book values before
/// and after it (`cost·kept^(p−1)` and `cost·kept^p`), floored so that the
/// book value never drops below `salvage` (Excel's DDB core).
fn declining_step(salvage: Decimal, before: Decimal, after: Decimal) -> Result<Decimal> {
    let depreciation = if after < salvage { sub(before, salvage)? } else { sub(before, after)? };
    Ok(depreciation.max(ZERO))
}

/// Declining-balance depreciation of period `period`, which may be fractional.
fn declining_balance(cost: Decimal, salvage: Decimal, life: Decimal, period: Decimal, factor: Decimal) -> Result<Decimal> {
    let kept = kept_per_period(life, factor)?;
    let before = mul(cost, pow(kept, sub(period, ONE)?)?)?;
    let after = mul(cost, pow(kept, period)?)?;
    declining_step(salvage, before, after)
}

/// Excel's `VDB(cost, salvage, life, start_period, end_period, [factor], [no_switch])`:
/// declining-balance depreciation (at `factor/life`, default 2) accumulated
/// from `start_period` to `end_period`, switching to straight line over the
/// remaining life in the first period where that is larger, unless `no_switch`.
///
/// Fractional periods are handled as Excel does: a partial first or last
/// period contributes its fraction of that whole period's depreciation. With
/// the switch, the whole periods `⌊start⌋ + 1 ‥ ⌈end⌉` are computed from the
/// book value after `⌊start⌋` periods, and the fractions of the first and last
/// of them that fall outside `[start, end]` are subtracted.
///
/// `#NUM!` when `cost` or `salvage` is negative, `salvage` > `cost`, `life` ≤ 0,
/// `factor` ≤ 0, `start_period` < 0, `end_period` < `start_period`,
/// `end_period` > `life` (Excel: "all arguments except no_switch must be
/// positive"), or beyond [`MAX_PERIODS`].
///
/// `VDB(2400, 300, 3650, 0, 1)` = 1.3150684931506849 (Excel: $1.32);
/// `VDB(2400, 300, 10, 0, 0.875, 1.5)` = 315 (Excel: $315.00).
pub fn vdb(
    cost: Decimal,
    salvage: Decimal,
    life: Decimal,
    start_period: Decimal,
    end_period: Decimal,
    factor: Decimal,
    no_switch: bool,
) -> Result<Decimal> {
    check_declining_balance(cost, salvage, life, factor)?;
    if start_period < ZERO {
        return Err(Error::num("start_period", "start_period must not be negative"));
    }
    if end_period < start_period {
        return Err(Error::num("end_period", "end_period must not be before start_period"));
    }
    if end_period > life {
        return Err(Error::num("end_period", "end_period must not be after life"));
    }
    let whole_start = start_period.floor();
    let whole_end = end_period.ceil();
    if whole_end > Decimal::from(MAX_PERIODS) {
        return Err(Error::num("end_period", format!("VDB steps through at most {MAX_PERIODS} periods")));
    }

    if no_switch {
        // Periods ⌊start⌋+1 ‥ ⌈end⌉, the first and last weighted by the share
        // of them inside [start, end]; book values by repeated multiplication.
        let kept = kept_per_period(life, factor)?;
        let mut before = mul(cost, pow(kept, whole_start)?)?;
        let mut total = ZERO;
        let mut i = add(whole_start, ONE)?;
        while i <= whole_end {
            let after = mul(before, kept)?;
            let mut term = declining_step(salvage, before, after)?;
            if i == whole_start + ONE {
                term = mul(term, sub(end_period.min(add(whole_start, ONE)?), start_period)?)?;
            } else if i == whole_end {
                term = mul(term, sub(add(end_period, ONE)?, whole_end)?)?;
            }
            total = add(total, term)?;
            before = after;
            i += ONE;
        }
        return Ok(finish(total));
    }

    let mut partial = ZERO;
    if start_period != whole_start {
        // The part of period ⌊start⌋ + 1 before start_period.
        let book = sub(cost, switching_depreciation(cost, salvage, life, life, whole_start, factor)?)?;
        let first_whole = switching_depreciation(book, salvage, life, sub(life, whole_start)?, ONE, factor)?;
        partial = add(partial, mul(sub(start_period, whole_start)?, first_whole)?)?;
    }
    if end_period != whole_end {
        // The part of period ⌈end⌉ after end_period.
        let before_last = sub(whole_end, ONE)?;
        let book = sub(cost, switching_depreciation(cost, salvage, life, life, before_last, factor)?)?;
        let last_whole = switching_depreciation(book, salvage, life, sub(life, before_last)?, ONE, factor)?;
        partial = add(partial, mul(sub(whole_end, end_period)?, last_whole)?)?;
    }
    let book = sub(cost, switching_depreciation(cost, salvage, life, life, whole_start, factor)?)?;
    let whole = switching_depreciation(book, salvage, life, sub(life, whole_start)?, sub(whole_end, whole_start)?, factor)?;
    Ok(finish(sub(whole, partial)?))
}

/// Depreciation of the first `periods` periods of an asset with book value
/// `cost` and `remaining_life` periods to go, declining balance (at
/// `factor/life`) until straight line over the remaining life is larger, then
/// straight line (LibreOffice's and Excel's VDB core). `periods` is whole here.
fn switching_depreciation(
    cost: Decimal,
    salvage: Decimal,
    life: Decimal,
    remaining_life: Decimal,
    periods: Decimal,
    factor: Decimal,
) -> Result<Decimal> {
    let kept = kept_per_period(life, factor)?;
    let mut total = ZERO;
    let mut depreciable = sub(cost, salvage)?;
    let mut before = cost;
    let mut i = ONE;
    while i <= periods {
        let after = mul(before, kept)?;
        let declining = declining_step(salvage, before, after)?;
        let periods_left = sub(remaining_life, sub(i, ONE)?)?;
        if periods_left.is_zero() {
            return Err(Error::div_zero("life", "no life remains to spread the straight-line depreciation over"));
        }
        let level = div(depreciable, periods_left)?;
        if level > declining {
            // Straight line from here on: the same amount each remaining period.
            let remaining_periods = add(sub(periods, i)?, ONE)?;
            return add(total, mul(level, remaining_periods)?);
        }
        depreciable = sub(depreciable, declining)?;
        total = add(total, declining)?;
        before = after;
        i += ONE;
    }
    Ok(total)
}
