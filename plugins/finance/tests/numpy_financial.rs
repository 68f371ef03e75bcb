//! Examples from numpy-financial's documentation. numpy-financial computes in
//! 64-bit floats and its documentation prints 8 to 17 digits, so results are
//! compared within the error of what it prints (exact values are checked
//! against Excel's examples and 60-digit references elsewhere).
//!
//! Convention difference: numpy-financial's `npv(rate, values)` discounts from
//! t = 0 (`values[0]` undiscounted), which is [`npv_undiscounted_first`], not
//! Excel's `NPV` ([`npv`]), which discounts `values[0]` by one period. Their
//! `irr` solves the same equation as ours; where cash flows have several rates
//! numpy-financial picks one by its own rule, so only single-root examples and
//! the root nearest the default guess are compared.

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
fn close(actual: Result<Decimal>, expected: &str, tolerance: &str) {
    let actual = actual.unwrap();
    assert!((actual - d(expected)).abs() <= d(tolerance), "{actual} differs from numpy-financial's {expected}");
}

#[test]
fn numpy_npv_is_our_npv_with_the_first_value_undiscounted() {
    let flows = values(&["-40000", "5000", "8000", "12000", "30000"]);
    close(npv_undiscounted_first(d("0.08"), &flows), "3065.22266817", "0.00000001");
    // Excel's NPV of the same flows is one period further discounted.
    let excel = npv(d("0.08"), &flows).unwrap();
    close(Ok(excel * d("1.08")), "3065.22266817", "0.00000001");
    let old = values(&["-100", "39", "59", "55", "20"]);
    close(npv_undiscounted_first(d("0.281"), &old), "-0.0084785916384548798", "0.0000000000001");
}

#[test]
fn numpy_irr_examples() {
    close(irr(&values(&["-100", "39", "59", "55", "20"]), None), "0.2809484211599611", "0.0000000000000002");
    close(irr(&values(&["-250000", "100000", "150000", "200000", "250000", "300000"]), None), "0.5672303344358536", "0.0000000000000002");
    close(irr(&values(&["-100", "0", "0", "74"]), None), "-0.0955", "0.00005");
    close(irr(&values(&["-100", "100", "0", "-7"]), None), "-0.0833", "0.00005");
    close(irr(&values(&["-100", "100", "0", "7"]), None), "0.06206", "0.000005");
    close(irr(&values(&["-5", "10.5", "1", "-8", "1"]), None), "0.0886", "0.00005");
}

#[test]
fn numpy_payment_and_value_examples() {
    // Exact: -1854.02472000547625; the float result is 1.4e-11 off.
    close(pmt(d("0.075") / d("12"), d("180"), d("200000"), d("0"), End), "-1854.0247200054619", "0.0000000001");
    close(fv(d("0.05") / d("12"), d("120"), d("-100"), d("-100"), End), "15692.928894335748", "0.0000000001");
    close(pv(d("0.05") / d("12"), d("120"), d("-100"), d("15692.93"), End), "-100.00067131625819", "0.0000000001");
    close(nper(d("0.07") / d("12"), d("-150"), d("8000"), d("0"), End), "64.07334877", "0.000000005");
    close(nper(d("0.08") / d("12"), d("-200"), d("10000"), d("0"), End), "61.02", "0.005");
    close(rate(d("10"), d("0"), d("-3500"), d("10000"), End, None), "0.1107", "0.00005");
}
