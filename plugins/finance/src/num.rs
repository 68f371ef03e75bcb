//! Checked decimal arithmetic: every step that can overflow or divide by zero
//! returns an [`Error`] instead of panicking, and powers are computed so that
//! the functions above need not care whether an exponent is whole.

use rust_decimal::Decimal;
use rust_decimal::prelude::{MathematicalOps, ToPrimitive};

use crate::{Error, Result};

pub(crate) const ZERO: Decimal = Decimal::ZERO;
pub(crate) const ONE: Decimal = Decimal::ONE;

/// `e^y` underflows below 5 × 10^-29, the smallest magnitude a 28-place decimal
/// holds, once `y < -65.1`; the margin keeps rounding out of the comparison.
const EXP_UNDERFLOW: Decimal = Decimal::from_parts(66, 0, 0, true, 0);
/// `e^y` exceeds the decimal range (7.9 × 10^28) once `y > 66.54`.
const EXP_OVERFLOW: Decimal = Decimal::from_parts(6654, 0, 0, false, 2);

pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b).ok_or(Error::Overflow { context: "a sum" })
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_sub(b).ok_or(Error::Overflow { context: "a difference" })
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_mul(b).ok_or(Error::Overflow { context: "a product" })
}

/// `a / b`. Callers check the divisors that a user's arguments can make zero
/// and explain them; this `#DIV/0!` is the safety net for the rest.
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal> {
    if b.is_zero() {
        return Err(Error::DivZero { argument: None, reason: "the calculation divides by zero".into() });
    }
    a.checked_div(b).ok_or(Error::Overflow { context: "a quotient" })
}

/// The whole number `value` is, if it is one that fits an `i64`.
pub(crate) fn whole(value: Decimal) -> Option<i64> {
    if value.fract().is_zero() { value.to_i64() } else { None }
}

/// `e^y`, as 0 where the result is below a 28-place decimal's resolution.
pub(crate) fn exp(y: Decimal) -> Result<Decimal> {
    if y < EXP_UNDERFLOW {
        return Ok(ZERO);
    }
    if y > EXP_OVERFLOW {
        return Err(Error::Overflow { context: "an exponential" });
    }
    y.checked_exp().ok_or(Error::Overflow { context: "an exponential" })
}

/// The natural logarithm of a positive `x`.
pub(crate) fn ln(x: Decimal) -> Result<Decimal> {
    if x <= ZERO {
        return Err(Error::no_result("the logarithm of a number that is not positive does not exist"));
    }
    x.checked_ln().ok_or(Error::Overflow { context: "a logarithm" })
}

/// `base^exponent`.
///
/// A whole exponent is exact repeated multiplication (by squaring, in 192-bit
/// intermediates); a fractional one is `exp(exponent · ln base)` and needs a
/// positive base. A result too small for 28 decimal places is 0, as a sum of
/// such terms would round it anyway.
pub(crate) fn pow(base: Decimal, exponent: Decimal) -> Result<Decimal> {
    if exponent.is_zero() {
        return Ok(ONE);
    }
    if let Some(n) = whole(exponent) {
        if base.is_zero() {
            return if n < 0 {
                Err(Error::DivZero { argument: None, reason: "0 raised to a negative power divides by zero".into() })
            } else {
                Ok(ZERO)
            };
        }
        return match base.checked_powi(n) {
            Some(value) => Ok(value),
            // |base|^|n| overflowed, so its reciprocal is below 1.3 × 10^-29.
            None if n < 0 && base.abs() > ONE => Ok(ZERO),
            None => Err(Error::Overflow { context: "a power" }),
        };
    }
    if base.is_zero() && exponent > ZERO {
        return Ok(ZERO);
    }
    if base <= ZERO {
        return Err(Error::no_result("a fractional power of a negative number (or of 0) is not a real number"));
    }
    exp(mul(ln(base)?, exponent)?)
}

/// `(1 + rate)^n`, the growth of one unit over `n` periods. A fractional `n`
/// needs `rate` > −1, and the error says so about `rate`.
pub(crate) fn growth(rate: Decimal, n: Decimal) -> Result<Decimal> {
    pow(add(ONE, rate)?, n).map_err(|err| match err {
        Error::Num { argument: None, .. } => {
            Error::num("rate", "rate must be greater than -1 when the number of periods is fractional")
        }
        Error::DivZero { argument: None, .. } => {
            Error::div_zero("rate", "rate is -1 (−100%): discounting divides by (1 + rate) = 0")
        }
        other => other,
    })
}

/// Below this magnitude of `rate` (with `|n · rate|` < 1/2), the annuity factor
/// is summed as a binomial series: the closed form would subtract two nearly
/// equal numbers and keep only `28 + log10(rate)` digits.
const SERIES_RATE_LIMIT: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
const SERIES_SPAN_LIMIT: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
/// Terms of the series below this size no longer change a 28-place sum.
const SERIES_NEGLIGIBLE: Decimal = Decimal::from_parts(1, 0, 0, false, 28);

/// The annuity factor `((1 + rate)^n − 1) / rate` with its derivative by `rate`;
/// at `rate` = 0 its limit, `n` (and `n(n − 1)/2`).
///
/// It is the future value of `n` payments of 1; `-annuity(rate, -n)` is their
/// present value. Near `rate` = 0 both come from the binomial series
/// `Σ_{k≥1} C(n, k) · rate^(k−1)`, which has no cancellation.
pub(crate) fn annuity(rate: Decimal, n: Decimal) -> Result<(Decimal, Decimal)> {
    if rate.is_zero() {
        let slope = div(mul(n, sub(n, ONE)?)?, Decimal::TWO)?;
        return Ok((n, slope));
    }
    let span = mul(n, rate)?;
    if rate.abs() < SERIES_RATE_LIMIT && span.abs() < SERIES_SPAN_LIMIT {
        // term_k = C(n, k) · rate^(k−1); its derivative C(n, k) · (k − 1) · rate^(k−2).
        let (mut factor, mut sum, mut slope) = (n, n, ZERO);
        let mut power_below = ONE; // rate^(k−2)
        for k in 2..=64u32 {
            let k_dec = Decimal::from(k);
            factor = div(mul(factor, sub(n, Decimal::from(k - 1))?)?, k_dec)?;
            let term = mul(mul(factor, power_below)?, rate)?;
            let term_slope = mul(mul(factor, Decimal::from(k - 1))?, power_below)?;
            sum = add(sum, term)?;
            slope = add(slope, term_slope)?;
            if term.abs() < SERIES_NEGLIGIBLE && term_slope.abs() < SERIES_NEGLIGIBLE {
                break;
            }
            power_below = mul(power_below, rate)?;
        }
        return Ok((sum, slope));
    }
    let base = add(ONE, rate)?;
    let g = pow(base, n)?;
    let factor = div(sub(g, ONE)?, rate)?;
    // d/dr ((1+r)^n − 1)/r = (n(1+r)^(n−1) − factor)/r
    let slope = div(sub(div(mul(n, g)?, base)?, factor)?, rate)?;
    Ok((factor, slope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn whole_powers_are_exact_and_tiny_results_underflow_to_zero() {
        assert_eq!(pow(d("1.1"), d("3")).unwrap(), d("1.331"));
        assert_eq!(pow(d("2"), d("-2")).unwrap(), d("0.25"));
        assert_eq!(pow(d("10"), d("-40")).unwrap(), ZERO);
        assert!(matches!(pow(d("10"), d("40")), Err(Error::Overflow { .. })));
        assert!(matches!(pow(ZERO, d("-1")), Err(Error::DivZero { .. })));
    }

    #[test]
    fn fractional_powers_need_a_positive_base() {
        let root = pow(d("2"), d("0.5")).unwrap();
        assert!((root - d("1.4142135623730950488016887242")).abs() < d("1e-25"), "{root}");
        assert!(matches!(pow(d("-2"), d("0.5")), Err(Error::Num { .. })));
        assert_eq!(pow(ZERO, d("0.5")).unwrap(), ZERO);
    }

    #[test]
    fn the_annuity_factor_is_continuous_through_a_zero_rate() {
        let n = d("360");
        let (at_zero, slope_at_zero) = annuity(ZERO, n).unwrap();
        assert_eq!(at_zero, n);
        assert_eq!(slope_at_zero, d("64620"));
        let tiny = d("0.0000000001");
        let (near, slope_near) = annuity(tiny, n).unwrap();
        // 360 + C(360,2)·1e-10 + C(360,3)·1e-20 + C(360,4)·1e-30 …
        assert!((near - d("360.000006462000077113200688")).abs() < d("1e-24"), "{near}");
        assert!((slope_near - d("64620.00154226")).abs() < d("1e-6"), "{slope_near}");
        let (direct, _) = annuity(d("0.01"), d("12")).unwrap();
        assert!((direct - d("12.682503013196972")).abs() < d("1e-14"), "{direct}");
    }
}
