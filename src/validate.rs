//! Collects every problem with an input before refusing it, so one answer names
//! all the fields to fix.

use rust_decimal::Decimal;

use crate::error::{Error, FieldError, Result};

/// Largest magnitude an amount may have: ten to the fifteenth, a thousand
/// trillion. Anything larger is a typo or an attack, not a budget.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);
/// Most decimal places an amount keeps. Cloud bills carry up to 10 or 11
/// (FOCUS `BilledCost` such as `0.00000080000`); we store 12 exactly and refuse
/// more rather than round silently.
pub const MAX_SCALE: u32 = 12;

#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.errors.push(FieldError::at(pointer, detail));
    }

    pub fn check(&mut self, ok: bool, pointer: &str, detail: &str) {
        if !ok {
            self.fail(pointer, detail);
        }
    }

    /// A required name-like text: not blank, at most `max` characters.
    pub fn text(&mut self, pointer: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(pointer, "must not be empty");
        } else if value.chars().count() > max {
            self.fail(pointer, format!("must be at most {max} characters"));
        }
    }

    pub fn opt_text(&mut self, pointer: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.fail(pointer, format!("must be at most {max} characters"));
            }
        }
    }

    /// An amount of money: at most [`MAX_SCALE`] decimals and [`MAX_AMOUNT`] in
    /// magnitude; negative only where it means something (credits, adjustments).
    pub fn amount(&mut self, pointer: &str, value: Decimal, allow_negative: bool) {
        if value.scale() > MAX_SCALE {
            self.fail(pointer, format!("has more than {MAX_SCALE} decimal places"));
        } else if value.abs() > MAX_AMOUNT {
            self.fail(pointer, "is larger than 1,000,000,000,000,000 in magnitude");
        } else if !allow_negative && value.is_sign_negative() && !value.is_zero() {
            self.fail(pointer, "must not be negative");
        }
    }

    /// An ISO 4217 code's shape; whether the currency exists is checked against
    /// the currency table by the caller.
    pub fn currency_format(&mut self, pointer: &str, code: &str) {
        if !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())) {
            self.fail(pointer, "must be an ISO 4217 code such as \"EUR\"");
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn max_amount_is_ten_to_the_fifteenth() {
        assert_eq!(MAX_AMOUNT, Decimal::from_str("1000000000000000").unwrap());
    }

    #[test]
    fn amounts_beyond_scale_magnitude_or_sign_are_refused() {
        let mut c = Checks::new();
        c.amount("/a", Decimal::from_str("0.0000000000001").unwrap(), true);
        c.amount("/b", Decimal::from_str("1000000000000000.01").unwrap(), true);
        c.amount("/c", Decimal::from_str("-1").unwrap(), false);
        c.amount("/d", Decimal::from_str("-1").unwrap(), true);
        c.amount("/e", Decimal::from_str("0.00000080000").unwrap(), false);
        let pointers: Vec<_> = c.errors.iter().filter_map(|e| e.pointer.clone()).collect();
        assert_eq!(pointers, ["/a", "/b", "/c"]);
    }
}
