//! Every function against the examples of Microsoft's Excel function
//! reference. Each check asserts two things:
//! - the result, shown as Excel shows it (its decimals, half away from zero),
//!   is the documented value;
//! - the result is within 10^-16 of a reference value computed independently
//!   with 60-digit arithmetic (Python's `decimal`, straightforward formulas,
//!   roots by 300 bisections), i.e. it is right to the 16 decimal places the
//!   crate returns.

use core::str::FromStr;

use itbm_finance::PaymentTiming::{Beginning, End};
use itbm_finance::rust_decimal::{Decimal, RoundingStrategy};
use itbm_finance::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// `actual` as Excel displays it equals `excel`, and it is within 10^-16 of `reference`.
#[track_caller]
fn check(actual: Result<Decimal>, excel: &str, reference: &str) {
    let actual = actual.unwrap_or_else(|e| panic!("expected {excel}, got {e}"));
    let excel = d(excel);
    assert_eq!(
        actual.round_dp_with_strategy(excel.scale(), RoundingStrategy::MidpointAwayFromZero),
        excel,
        "{actual} does not show as Excel's {excel}"
    );
    let error = (actual - d(reference)).abs();
    assert!(error <= d("0.0000000000000001"), "{actual} is {error} away from {reference}");
}

fn twelfth(annual: &str) -> Decimal {
    d(annual) / d("12")
}

// ---- NPV, XNPV ----

#[test]
fn npv_discounts_the_first_value_by_one_period_as_excel_does() {
    check(npv(d("0.1"), &[d("-10000"), d("3000"), d("4200"), d("6800")]), "1188.44", "1188.44341233522300389317669558");
}

#[test]
fn npv_plus_an_initial_investment_matches_excels_second_example() {
    let flows = [d("8000"), d("9200"), d("10000"), d("12000"), d("14500")];
    check(npv(d("0.08"), &flows).map(|v| v - d("40000")), "1922.06", "1922.06155493237220089307150712");
    let with_loss = [&flows[..], &[d("-9000")]].concat();
    check(npv(d("0.08"), &with_loss).map(|v| v - d("40000")), "-3749.47", "-3749.46508701557082594049381833");
}

fn xnpv_example() -> (Vec<Decimal>, Vec<NaiveDate>) {
    let values = ["-10000", "2750", "4250", "3250", "2750"].map(d).to_vec();
    let dates = ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"].map(date).to_vec();
    (values, dates)
}

#[test]
fn xnpv_discounts_by_actual_days_over_365() {
    let (values, dates) = xnpv_example();
    check(xnpv(d("0.09"), &values, &dates), "2086.65", "2086.64760203153662166361009431");
}

// ---- IRR, XIRR, MIRR ----

fn irr_example() -> Vec<Decimal> {
    ["-70000", "12000", "15000", "18000", "21000", "26000"].map(d).to_vec()
}

#[test]
fn irr_matches_excels_examples_including_a_negative_rate_from_a_guess() {
    let values = irr_example();
    check(irr(&values[..5], None), "-0.021", "-0.0212448482734109910310502248386");
    check(irr(&values, None), "0.0866", "0.0866309480365316142930942025085");
    check(irr(&values[..3], Some(d("-0.1"))), "-0.4435", "-0.443506941334740539502585984797");
}

#[test]
fn xirr_finds_the_exact_root_where_excel_prints_one_within_its_tolerance() {
    let (values, dates) = xirr_example();
    let rate = xirr(&values, &dates, None).unwrap();
    // Excel prints 0.373362535 (37.34%); the root of XNPV is 0.37336253351883…,
    // 1.5 × 10^-9 away, inside Excel's stated tolerance of 0.000001%.
    check(Ok(rate), "0.3734", "0.373362533518831510308455411915");
    assert!((rate - d("0.373362535")).abs() < d("0.00000001"));
    assert!(xnpv(rate, &values, &dates).unwrap().abs() < d("0.000000000001"));
}

fn xirr_example() -> (Vec<Decimal>, Vec<NaiveDate>) {
    xnpv_example()
}

#[test]
fn mirr_matches_excels_three_examples() {
    let values = ["-120000", "39000", "30000", "21000", "37000", "46000"].map(d);
    check(mirr(&values, d("0.1"), d("0.12")), "0.1261", "0.126094130365905145828421880050");
    check(mirr(&values[..4], d("0.1"), d("0.12")), "-0.0480", "-0.0480446552499808200406985924618");
    check(mirr(&values, d("0.1"), d("0.14")), "0.1348", "0.134759110828314846280478965079");
}

// ---- PMT, PV, FV, NPER, RATE, IPMT, PPMT ----

#[test]
fn pmt_matches_excels_examples_for_both_payment_timings() {
    check(pmt(twelfth("0.08"), d("10"), d("10000"), d("0"), End), "-1037.03", "-1037.03208935915217565209482932");
    check(pmt(twelfth("0.08"), d("10"), d("10000"), d("0"), Beginning), "-1030.16", "-1030.16432717796573740274320794");
    check(pmt(twelfth("0.06"), d("216"), d("0"), d("50000"), End), "-129.08", "-129.081160867990923051091495272");
}

#[test]
fn pv_of_an_annuity_matches_excel() {
    check(pv(twelfth("0.08"), d("240"), d("500"), d("0"), End), "-59777.15", "-59777.1458511880218168080388440");
}

#[test]
fn fv_matches_excels_examples() {
    check(fv(twelfth("0.06"), d("10"), d("-200"), d("-500"), Beginning), "2581.40", "2581.40337406017915372500683594");
    check(fv(twelfth("0.12"), d("12"), d("-1000"), d("0"), End), "12682.50", "12682.503013196972066120100000");
    check(fv(twelfth("0.11"), d("35"), d("-2000"), d("0"), Beginning), "82846.25", "82846.2463718995200823831561074");
}

#[test]
fn nper_matches_excels_examples() {
    // Microsoft's data: an annual rate of 12%, used as 12%/12 a month.
    let rate = twelfth("0.12");
    check(nper(rate, d("-100"), d("-1000"), d("10000"), Beginning), "59.6738657", "59.6738656742946255875035904300");
    check(nper(rate, d("-100"), d("-1000"), d("10000"), End), "60.0821229", "60.0821228537617225537691075110");
    check(nper(rate, d("-100"), d("-1000"), d("0"), End), "-9.5785940", "-9.57859403981316667037279251251");
}

#[test]
fn rate_of_a_four_year_loan_matches_excel() {
    let monthly = rate(d("48"), d("-200"), d("8000"), d("0"), End, None);
    check(monthly.clone(), "0.0077", "0.00770147248820204381596913010440");
    let annual = monthly.unwrap() * d("12");
    assert_eq!(annual.round_dp(4), d("0.0924"), "Excel: 9.24% a year");
}

#[test]
fn ipmt_matches_excels_examples() {
    check(ipmt(twelfth("0.1"), d("1"), d("36"), d("8000"), d("0"), End), "-66.67", "-66.6666666666666666666666666667");
    check(ipmt(d("0.1"), d("3"), d("3"), d("8000"), d("0"), End), "-292.45", "-292.447129909365558912386706949");
}

#[test]
fn ppmt_matches_excels_examples() {
    check(ppmt(twelfth("0.1"), d("1"), d("24"), d("2000"), d("0"), End), "-75.62", "-75.6231860083663402390423786276");
    check(ppmt(d("0.08"), d("10"), d("10"), d("200000"), d("0"), End), "-27598.05", "-27598.0534624213754586355453968");
}

// ---- depreciation ----

#[test]
fn sln_is_exact() {
    assert_eq!(sln(d("30000"), d("7500"), d("10")).unwrap().to_string(), "2250");
}

#[test]
fn syd_matches_excels_first_and_last_year() {
    check(syd(d("30000"), d("7500"), d("10"), d("1")), "4090.91", "4090.90909090909090909090909091");
    check(syd(d("30000"), d("7500"), d("10"), d("10")), "409.09", "409.090909090909090909090909091");
}

#[test]
fn ddb_matches_excels_examples_by_day_month_and_year() {
    let (cost, salvage) = (d("2400"), d("300"));
    check(ddb(cost, salvage, d("3650"), d("1"), d("2")), "1.32", "1.31506849315068493150684931507");
    check(ddb(cost, salvage, d("120"), d("1"), d("2")), "40.00", "40");
    check(ddb(cost, salvage, d("10"), d("1"), d("2")), "480.00", "480");
    check(ddb(cost, salvage, d("10"), d("2"), d("1.5")), "306.00", "306");
    check(ddb(cost, salvage, d("10"), d("10"), d("2")), "22.12", "22.1225472");
}

#[test]
fn db_matches_excels_seven_year_schedule_with_a_seven_month_first_year() {
    let expected = [
        ("186083.33", "186083.333333333333333333333333"),
        ("259639.42", "259639.416666666666666666666667"),
        ("176814.44", "176814.44275"),
        ("120410.64", "120410.63551275"),
        ("81999.64", "81999.64278418275"),
        ("55841.76", "55841.75673602845275"),
        ("15845.10", "15845.0984738480734678125"),
    ];
    for (period, (excel, reference)) in expected.iter().enumerate() {
        let period = Decimal::from(period + 1);
        check(db(d("1000000"), d("100000"), d("6"), period, d("7")), excel, reference);
    }
}

#[test]
fn vdb_matches_excels_examples_including_fractional_periods_and_factors() {
    let (cost, salvage) = (d("2400"), d("300"));
    let two = d("2");
    check(vdb(cost, salvage, d("3650"), d("0"), d("1"), two, false), "1.32", "1.31506849315068493150684931507");
    check(vdb(cost, salvage, d("120"), d("0"), d("1"), two, false), "40.00", "40");
    check(vdb(cost, salvage, d("10"), d("0"), d("1"), two, false), "480.00", "480");
    check(vdb(cost, salvage, d("120"), d("6"), d("18"), two, false), "396.31", "396.306053264750860842656635004");
    check(vdb(cost, salvage, d("120"), d("6"), d("18"), d("1.5"), false), "311.81", "311.808936658234082963176425489");
    check(vdb(cost, salvage, d("10"), d("0"), d("0.875"), d("1.5"), false), "315.00", "315");
}
