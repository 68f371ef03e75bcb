//! Splitting an amount by weights without losing or inventing a cent.
//!
//! The rule, used by every allocation: the amount is counted in *units* of its
//! quantum (the reporting currency's minor unit, or the amount's own finer
//! scale when it has one, so nothing is ever rounded away). Each target first
//! gets the whole units of its exact share, `floor(units × weight / total)`.
//! The units left over (fewer than the number of targets) go one each to the
//! targets with the largest fractional remainders; equal remainders are broken
//! by the targets' order as given (callers sort targets by kind and id, so the
//! result is deterministic). Negative amounts (credits) are split as their
//! magnitude and negated, so a credit mirrors the charge it reverses.
//! The shares therefore always add up to the amount exactly.

use rust_decimal::Decimal;

/// Why an amount could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the weights add up to zero")]
    NoWeight,
    #[error("a weight is negative")]
    NegativeWeight,
    #[error("the amount and weights are too large to split exactly")]
    Overflow,
}

/// Splits `amount` over `weights` (see the module documentation), with at
/// least `min_scale` decimals of quantum. Returns one share per weight.
pub fn split(amount: Decimal, weights: &[Decimal], min_scale: u32) -> Result<Vec<Decimal>, SplitError> {
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(SplitError::NegativeWeight);
    }
    // Weights as integers at a common scale.
    let wscale = weights.iter().map(|w| w.normalize().scale()).max().unwrap_or(0);
    let ints: Vec<i128> = weights
        .iter()
        .map(|w| {
            let mut w = w.normalize();
            w.rescale(wscale);
            w.mantissa()
        })
        .collect();
    let total: i128 = ints.iter().try_fold(0i128, |acc, w| acc.checked_add(*w)).ok_or(SplitError::Overflow)?;
    if total == 0 {
        return Err(SplitError::NoWeight);
    }
    let scale = amount.normalize().scale().max(min_scale);
    let mut scaled = amount;
    scaled.rescale(scale);
    let negative = scaled.is_sign_negative();
    let units = scaled.mantissa().abs();

    let mut shares = Vec::with_capacity(ints.len());
    let mut remainders = Vec::with_capacity(ints.len());
    let mut given: i128 = 0;
    for (i, w) in ints.iter().enumerate() {
        let product = units.checked_mul(*w).ok_or(SplitError::Overflow)?;
        shares.push(product / total);
        remainders.push((product % total, i));
        given += product / total;
    }
    let mut left = units - given;
    // Largest remainder first; ties by position (stable sort keeps the order).
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        if ints[i] > 0 {
            shares[i] += 1;
            left -= 1;
        }
    }
    debug_assert_eq!(left, 0);
    shares
        .into_iter()
        .map(|units| {
            let signed = if negative { -units } else { units };
            Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| SplitError::Overflow)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn ds(v: &[&str]) -> Vec<Decimal> {
        v.iter().map(|s| d(s)).collect()
    }

    #[test]
    fn thirds_of_a_hundred_give_the_odd_cent_to_the_first_target() {
        assert_eq!(split(d("100"), &ds(&["1", "1", "1"]), 2).unwrap(), ds(&["33.34", "33.33", "33.33"]));
    }

    #[test]
    fn the_largest_remainder_gets_the_residue_before_the_order_does() {
        // 10.00 by 1:2:4 = 1.428571.., 2.857142.., 5.714285.. → remainders .857, .714, .285 (in cents: 0.857 of a cent...)
        let shares = split(d("10.00"), &ds(&["1", "2", "4"]), 2).unwrap();
        assert_eq!(shares, ds(&["1.43", "2.86", "5.71"]));
        assert_eq!(shares.iter().sum::<Decimal>(), d("10.00"));
    }

    #[test]
    fn credits_mirror_charges() {
        assert_eq!(split(d("-100"), &ds(&["1", "1", "1"]), 2).unwrap(), ds(&["-33.34", "-33.33", "-33.33"]));
    }

    #[test]
    fn finer_amounts_keep_their_scale() {
        let shares = split(d("0.001"), &ds(&["1", "1"]), 2).unwrap();
        assert_eq!(shares, ds(&["0.001", "0.000"]));
    }

    #[test]
    fn zero_weights_receive_nothing_and_all_zero_is_an_error() {
        assert_eq!(split(d("5"), &ds(&["0", "3"]), 2).unwrap(), ds(&["0.00", "5.00"]));
        assert_eq!(split(d("5"), &ds(&["0", "0"]), 2), Err(SplitError::NoWeight));
        assert_eq!(split(d("5"), &ds(&["-1", "2"]), 2), Err(SplitError::NegativeWeight));
    }

    #[test]
    fn shares_always_add_up_for_many_seeded_cases() {
        let mut rng = Lcg(42);
        for _ in 0..5_000 {
            let n = 1 + (rng.next() % 9) as usize;
            let weights: Vec<Decimal> = (0..n).map(|_| Decimal::new((rng.next() % 100_000) as i64, (rng.next() % 4) as u32)).collect();
            if weights.iter().all(|w| w.is_zero()) {
                continue;
            }
            let amount = Decimal::new(rng.next() as i64 % 10_000_000_000 - 5_000_000_000, (rng.next() % 5) as u32);
            let shares = split(amount, &weights, 2).unwrap();
            assert_eq!(shares.iter().sum::<Decimal>(), amount, "{amount} by {weights:?}");
            for (s, w) in shares.iter().zip(&weights) {
                if w.is_zero() {
                    assert!(s.is_zero());
                }
            }
        }
    }

    /// A tiny deterministic generator, so failures reproduce.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }
}
