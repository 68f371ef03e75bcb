//! How the solvers choose among several rates, and how they find rates that
//! Newton's method alone (and so Excel) misses.

use core::str::FromStr;

use itbm_finance::PaymentTiming::End;
use itbm_finance::rust_decimal::Decimal;
use itbm_finance::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn values(list: &[&str]) -> Vec<Decimal> {
    list.iter().map(|s| d(s)).collect()
}

#[track_caller]
fn within(actual: Decimal, expected: &str, tolerance: &str) {
    assert!((actual - d(expected)).abs() <= d(tolerance), "{actual} is not {expected}");
}

#[test]
fn with_several_rates_the_one_newton_reaches_from_the_guess_is_returned() {
    // Three sign changes, three rates: about -87.0%, 8.86% and 70.96%.
    let flows = values(&["-5", "10.5", "1", "-8", "1"]);
    within(irr(&flows, None).unwrap(), "0.0885983385277553456703471038376", "0.0000000000000001");
    within(irr(&flows, Some(d("-0.9"))).unwrap(), "-0.870201247484741178527754612298", "0.0000000000000001");
    within(irr(&flows, Some(d("0.6"))).unwrap(), "0.709559527686183571147994210479", "0.0000000000000001");
    // Not always the nearest: from -80% or 200% Newton's first steps overshoot
    // to the middle rate, as Excel's Newton iteration does.
    within(irr(&flows, Some(d("-0.8"))).unwrap(), "0.0885983385277553456703471038376", "0.0000000000000001");
    within(irr(&flows, Some(d("2"))).unwrap(), "0.0885983385277553456703471038376", "0.0000000000000001");
}

#[test]
fn when_newton_fails_the_first_sign_change_outward_from_the_guess_is_bisected() {
    // NPV(r) = -100 + 230/(1+r) - 132/(1+r)^2 has rates 10% and 20% and its
    // maximum at r = 264/230 - 1, where the slope is 0 and Newton cannot step.
    let flows = values(&["-100", "230", "-132"]);
    let at_the_maximum = d("264") / d("230") - Decimal::ONE;
    // The grid reaches the sign change above (0.1878 → 0.2278) before the one below.
    assert_eq!(irr(&flows, Some(at_the_maximum)).unwrap(), d("0.2"));
    assert_eq!(irr(&flows, Some(d("0.05"))).unwrap(), d("0.1"));
}

#[test]
fn a_rate_far_below_the_guess_is_found_where_excel_gives_up() {
    // Newton's first step from 10% lands below -100%; bisection finds -99%.
    assert_eq!(irr(&values(&["-100", "1"]), None).unwrap(), d("-0.99"));
}

#[test]
fn an_annualised_rate_in_the_hundreds_of_millions_is_found_to_relative_precision() {
    let first = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let later = NaiveDate::from_ymd_opt(2026, 2, 9).unwrap();
    let rate = xirr(&values(&["-60841.54", "250094.88"]), &[first, later], None).unwrap();
    // (250094.88 / 60841.54)^(365/25) − 1
    within(rate, "918347816.382319784161988677471", "0.00000001");
}

#[test]
fn a_rate_of_exactly_zero_is_found_without_the_noise_of_the_closed_form() {
    // Ten payments of 100 repay 1000 at 0%.
    assert_eq!(rate(d("10"), d("-100"), d("1000"), Decimal::ZERO, End, None).unwrap(), Decimal::ZERO);
}

#[test]
fn a_guess_changes_nothing_when_there_is_one_rate() {
    let flows = values(&["-70000", "12000", "15000", "18000", "21000", "26000"]);
    let from_default = irr(&flows, None).unwrap();
    for guess in ["-0.9", "-0.5", "0", "0.5", "3", "100"] {
        assert_eq!(irr(&flows, Some(d(guess))).unwrap(), from_default, "guess {guess}");
    }
}
