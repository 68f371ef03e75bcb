//! Excel's financial functions in exact decimals: time value of money, internal
//! rates of return, depreciation and the investment metrics `itbm` reports.
//!
//! One implementation serves the `itbm` server (`POST /api/v1/finance/evaluate`)
//! and the ROI model plugins (`roi-dcf`, `roi-montecarlo`) compiled to
//! `wasm32-wasip2`, so a number a finance team sees in the UI is the number a
//! plugin computed. The crate is pure computation: no I/O, no floating point, no
//! allocation beyond argument-sized vectors, and no panics on any input (every
//! arithmetic step is checked and a failure is an [`Error`]).
//!
//! # Definitions
//! Each function follows the definition in Microsoft's Excel function reference,
//! with Excel's argument names and order, Excel's sign convention (money paid out
//! is negative, money received positive) and Excel's error for each case where
//! no result exists ([`Error::Num`] for `#NUM!`, [`Error::DivZero`] for
//! `#DIV/0!`). Where Excel's documentation is silent about an edge case, the
//! function follows LibreOffice Calc, whose implementations were written to
//! match Excel's results, and its doc comment says so.
//!
//! | family | functions |
//! | --- | --- |
//! | [`tvm`] | [`npv`], [`npv_undiscounted_first`], [`xnpv`], [`pv`], [`fv`], [`pmt`], [`nper`], [`ipmt`], [`ppmt`] |
//! | [`solvers`] | [`irr`], [`xirr`], [`rate`] (Newton with a bisection fallback) |
//! | [`depreciation`] | [`sln`], [`syd`], [`db`], [`ddb`], [`vdb`] |
//! | [`metrics`] | [`mirr`], [`payback`], [`discounted_payback`], [`roi`], [`eac`] |
//!
//! # Precision and rounding
//! Arithmetic is [`Decimal`]: 96-bit integers scaled by a power of ten, about 28
//! significant digits, exact for every sum, difference and product that fits.
//! Powers with integer exponents are products; fractional exponents
//! (`XNPV`'s days/365, `MIRR`'s root, `DB`'s rate) use `exp(y·ln x)` with
//! rust_decimal's extended-precision `ln` and `exp`, correct to about 26
//! significant digits.
//!
//! **Rounding rule**: a result that is exact in at most
//! [`RESULT_DECIMAL_PLACES`] (16) decimal places is returned exactly, e.g.
//! `SLN(30000, 7500, 10)` is `2250`. A result with more decimals, because its
//! true value does not terminate (`SYD(30000, 7500, 10, 1)` = 4090.9090…) or
//! because it comes from a power, logarithm or solver, is rounded half away from
//! zero to 16 decimal places. Trailing zeros are dropped. Excel prints 15
//! significant digits, so a result of magnitude 0.01 or more carries at least
//! Excel's precision (an amount of 1,000,000 carries 22 digits); a smaller one
//! is exact to 10^-16. Only the returned result is rounded, never an
//! intermediate value.

pub mod depreciation;
pub mod metrics;
mod num;
pub mod solvers;
pub mod tvm;

use rust_decimal::{Decimal, RoundingStrategy};

pub use chrono::NaiveDate;
pub use depreciation::{db, ddb, sln, syd, vdb};
pub use metrics::{discounted_payback, eac, eac_from_npv, mirr, payback, roi, roi_from_totals};
pub use rust_decimal;
pub use solvers::{irr, rate, xirr};
pub use tvm::{fv, ipmt, nper, npv, npv_undiscounted_first, pmt, ppmt, pv, xnpv};

/// Most decimal places a returned result carries; see the rounding rule in the
/// crate documentation.
pub const RESULT_DECIMAL_PLACES: u32 = 16;

/// Why a function has no result, as Excel would show it.
///
/// Each variant carries a sentence saying why, and, where one argument is at
/// fault, that argument's Excel name in lower case (`"life"`, `"values"`), so
/// that an API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Excel's `#NUM!`: an argument outside the function's domain (a life of 0,
    /// `per` beyond `nper`, cash flows that never change sign), or no number
    /// satisfies the definition (the solver found no rate).
    #[error("#NUM!: {reason}")]
    Num {
        /// The argument at fault, by its Excel name; `None` when no single one is.
        argument: Option<&'static str>,
        /// Why, in words.
        reason: String,
    },
    /// Excel's `#DIV/0!`: the definition divides by zero for these arguments,
    /// e.g. `SLN` with a life of 0 or `NPV` at a rate of -100%.
    #[error("#DIV/0!: {reason}")]
    DivZero {
        /// The argument at fault, by its Excel name; `None` when no single one is.
        argument: Option<&'static str>,
        /// Why, in words.
        reason: String,
    },
    /// A value left the range of a 28-digit decimal (about ±7.9 × 10^28). Excel
    /// shows `#NUM!` for the doubles it cannot represent, and so does the
    /// display of this variant.
    #[error("#NUM!: {context} exceeds the range of a 28-digit decimal (about ±7.9 × 10^28)")]
    Overflow {
        /// What overflowed, e.g. "a product" or "(1 + rate)^nper".
        context: &'static str,
    },
}

impl Error {
    /// `#NUM!` blamed on `argument`.
    pub fn num(argument: &'static str, reason: impl Into<String>) -> Self {
        Error::Num { argument: Some(argument), reason: reason.into() }
    }

    /// `#NUM!` with no single argument at fault.
    pub fn no_result(reason: impl Into<String>) -> Self {
        Error::Num { argument: None, reason: reason.into() }
    }

    /// `#DIV/0!` blamed on `argument`.
    pub fn div_zero(argument: &'static str, reason: impl Into<String>) -> Self {
        Error::DivZero { argument: Some(argument), reason: reason.into() }
    }

    /// The argument at fault, by its Excel name, if one is.
    pub fn argument(&self) -> Option<&'static str> {
        match self {
            Error::Num { argument, .. } | Error::DivZero { argument, .. } => *argument,
            Error::Overflow { .. } => None,
        }
    }

    /// The error value Excel would show: `#NUM!` or `#DIV/0!`.
    pub fn excel_code(&self) -> &'static str {
        match self {
            Error::Num { .. } | Error::Overflow { .. } => "#NUM!",
            Error::DivZero { .. } => "#DIV/0!",
        }
    }
}

/// The result of every function of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// When payments fall due within each period: Excel's `type` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaymentTiming {
    /// `type` = 0 (Excel's default): at the end of each period, like a loan
    /// repayment.
    #[default]
    End,
    /// `type` = 1: at the beginning of each period, like rent.
    Beginning,
}

impl PaymentTiming {
    /// The timing for Excel's `type`: 0 is [`End`](Self::End), 1 is
    /// [`Beginning`](Self::Beginning); anything else is `None`.
    pub fn from_excel_type(value: Decimal) -> Option<Self> {
        if value == Decimal::ZERO {
            Some(PaymentTiming::End)
        } else if value == Decimal::ONE {
            Some(PaymentTiming::Beginning)
        } else {
            None
        }
    }

    /// Excel's `type` number: 0 or 1.
    pub fn excel_type(self) -> Decimal {
        match self {
            PaymentTiming::End => Decimal::ZERO,
            PaymentTiming::Beginning => Decimal::ONE,
        }
    }
}

/// Applies the crate's rounding rule to a result: exact up to 16 decimal
/// places, rounded half away from zero beyond, trailing zeros dropped.
pub(crate) fn finish(value: Decimal) -> Decimal {
    let rounded = if value.scale() > RESULT_DECIMAL_PLACES {
        value.round_dp_with_strategy(RESULT_DECIMAL_PLACES, RoundingStrategy::MidpointAwayFromZero)
    } else {
        value
    };
    rounded.normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::str::FromStr;

    #[test]
    fn results_keep_exact_values_and_round_only_beyond_sixteen_places() {
        assert_eq!(finish(Decimal::from_str("2250.000").unwrap()).to_string(), "2250");
        assert_eq!(finish(Decimal::from_str("0.0000000000000001").unwrap()).to_string(), "0.0000000000000001");
        let third = Decimal::ONE / Decimal::from(3);
        assert_eq!(finish(third).to_string(), "0.3333333333333333");
        let two_thirds = Decimal::TWO / Decimal::from(3);
        assert_eq!(finish(two_thirds).to_string(), "0.6666666666666667");
        assert_eq!(finish(-two_thirds).to_string(), "-0.6666666666666667");
    }

    #[test]
    fn errors_say_which_excel_error_they_are() {
        let e = Error::num("life", "life must be greater than 0");
        assert_eq!(e.to_string(), "#NUM!: life must be greater than 0");
        assert_eq!(e.argument(), Some("life"));
        assert_eq!(Error::div_zero("rate", "x").excel_code(), "#DIV/0!");
        assert_eq!(Error::Overflow { context: "a product" }.excel_code(), "#NUM!");
    }
}
