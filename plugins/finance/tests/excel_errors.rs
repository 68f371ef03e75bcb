//! Where no result exists, the answer is Excel's error with the reason and,
//! where one argument is at fault, its name; never a number, never a panic.

use core::str::FromStr;

use itbm_finance::PaymentTiming::{Beginning, End};
use itbm_finance::rust_decimal::Decimal;
use itbm_finance::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn values(list: &[&str]) -> Vec<Decimal> {
    list.iter().map(|s| d(s)).collect()
}

#[track_caller]
fn num_at(result: Result<Decimal>, argument: &str) -> String {
    match result {
        Err(e @ Error::Num { .. }) => {
            assert_eq!(e.argument(), Some(argument), "{e}");
            e.to_string()
        }
        other => panic!("expected #NUM! at {argument}, got {other:?}"),
    }
}

#[track_caller]
fn div_zero_at(result: Result<Decimal>, argument: &str) {
    match result {
        Err(e @ Error::DivZero { .. }) => assert_eq!(e.argument(), Some(argument), "{e}"),
        other => panic!("expected #DIV/0! at {argument}, got {other:?}"),
    }
}

#[test]
fn irr_and_xirr_need_both_a_positive_and_a_negative_value() {
    let message = num_at(irr(&values(&["100", "200"]), None), "values");
    assert!(message.starts_with("#NUM!: values must contain at least one positive and one negative"), "{message}");
    num_at(irr(&values(&["-100", "0"]), None), "values");
    let date = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    num_at(xirr(&values(&["-1", "-2"]), &[date, date], None), "values");
}

#[test]
fn a_guess_of_minus_100_percent_or_less_is_refused() {
    num_at(irr(&values(&["-100", "110"]), Some(d("-1"))), "guess");
    num_at(rate(d("10"), d("-100"), d("800"), d("0"), End, Some(d("-2"))), "guess");
}

#[test]
fn a_rate_that_does_not_exist_is_num_with_no_single_argument_to_blame() {
    // Receiving 1000 now and 100 a period as well: no rate balances that.
    let err = rate(d("10"), d("100"), d("1000"), d("0"), End, None).unwrap_err();
    assert!(matches!(err, Error::Num { argument: None, .. }), "{err:?}");
    assert!(err.to_string().starts_with("#NUM!: no rate"), "{err}");
}

#[test]
fn xnpv_and_xirr_refuse_dates_that_do_not_fit_the_values() {
    let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let earlier = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let message = num_at(xnpv(d("0.1"), &values(&["-100", "110"]), &[first, earlier]), "dates");
    assert!(message.contains("2026-12-31 precedes the first date, 2027-01-01"), "{message}");
    num_at(xnpv(d("0.1"), &values(&["-100", "110"]), &[first]), "dates");
    num_at(xirr(&values(&["-100", "110"]), &[first], None), "dates");
    num_at(xnpv(d("-1"), &values(&["-100", "110"]), &[first, first]), "rate");
}

#[test]
fn discounting_at_minus_100_percent_divides_by_zero() {
    div_zero_at(npv(d("-1"), &values(&["100"])), "rate");
    div_zero_at(pv(d("-1"), d("10"), d("100"), d("0"), End), "rate");
    div_zero_at(mirr(&values(&["-100", "110"]), d("-1"), d("0.1")), "finance_rate");
    div_zero_at(pmt(d("-1"), d("10"), d("1000"), d("0"), Beginning), "rate");
}

#[test]
fn empty_cash_flows_have_no_value() {
    num_at(npv(d("0.1"), &[]), "values");
    num_at(payback(&[]), "values");
}

#[test]
fn mirr_without_both_signs_is_div_zero_as_excel_documents() {
    div_zero_at(mirr(&values(&["100", "200"]), d("0.1"), d("0.1")), "values");
}

#[test]
fn payment_functions_refuse_periods_outside_the_loan() {
    num_at(pmt(d("0.01"), d("0"), d("1000"), d("0"), End), "nper");
    num_at(ipmt(d("0.01"), d("0"), d("12"), d("1000"), d("0"), End), "per");
    num_at(ppmt(d("0.01"), d("13"), d("12"), d("1000"), d("0"), End), "per");
    num_at(rate(d("0"), d("-100"), d("1000"), d("0"), End, None), "nper");
}

#[test]
fn nper_says_when_no_number_of_periods_repays_the_loan() {
    // 10 a month never repays 10,000 at 1% a month (the interest alone is 100).
    let message = num_at(nper(d("0.01"), d("-10"), d("10000"), d("0"), End), "pmt");
    assert!(message.contains("no number of periods"), "{message}");
    num_at(nper(d("0.01"), d("-100"), d("10000"), d("0"), End), "pmt");
    div_zero_at(nper(d("0"), d("0"), d("10000"), d("0"), End), "pmt");
}

#[test]
fn depreciation_refuses_lives_periods_and_values_outside_excels_domain() {
    div_zero_at(sln(d("1000"), d("100"), d("0")), "life");
    num_at(syd(d("1000"), d("100"), d("0"), d("1")), "life");
    num_at(syd(d("1000"), d("100"), d("5"), d("6")), "per");
    num_at(db(d("0"), d("0"), d("5"), d("1"), d("12")), "cost");
    num_at(db(d("1000"), d("1100"), d("5"), d("1"), d("12")), "salvage");
    num_at(db(d("1000"), d("100"), d("5"), d("1"), d("13")), "month");
    num_at(db(d("1000"), d("100"), d("5"), d("7"), d("7")), "period");
    num_at(ddb(d("1000"), d("100"), d("5"), d("0"), d("2")), "period");
    num_at(ddb(d("1000"), d("100"), d("5"), d("1"), d("0")), "factor");
    num_at(ddb(d("1000"), d("-1"), d("5"), d("1"), d("2")), "salvage");
    num_at(vdb(d("1000"), d("100"), d("5"), d("0"), d("6"), d("2"), false), "end_period");
    num_at(vdb(d("1000"), d("100"), d("5"), d("3"), d("2"), d("2"), false), "end_period");
    num_at(vdb(d("1000"), d("100"), d("5"), d("-1"), d("2"), d("2"), false), "start_period");
    num_at(vdb(d("1000"), d("100"), d("0"), d("0"), d("0"), d("2"), false), "life");
    num_at(vdb(d("1000"), d("100"), d("1000000"), d("0"), d("200000"), d("2"), false), "end_period");
}

#[test]
fn metrics_say_why_they_have_no_value() {
    let message = num_at(payback(&values(&["-1000", "100", "100"])), "values");
    assert!(message.contains("not paid back"), "{message}");
    num_at(discounted_payback(d("0.5"), &values(&["-1000", "600", "600"])), "values");
    div_zero_at(roi(&values(&["100", "200"])), "values");
    num_at(eac(d("0.1"), &values(&["100"])), "values");
    num_at(eac_from_npv(d("0.1"), d("100"), d("0")), "nper");
}

#[test]
fn results_beyond_the_decimal_range_are_overflow_not_panics() {
    let err = fv(d("1"), d("200"), d("-1"), d("0"), End).unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }), "{err:?}");
    assert!(err.to_string().starts_with("#NUM!"), "{err}");
    let huge = d("79228162514264337593543950335");
    assert!(npv(d("0"), &[huge, huge]).is_err());
}
