//! Properties that hold for any arguments, checked on seeded pseudo-random
//! cases (a fixed seed, so a failure reproduces): the functions invert each
//! other, split payments add up, and depreciation schedules sum to cost minus
//! salvage.

use core::str::FromStr;

use itbm_finance::PaymentTiming::{Beginning, End};
use itbm_finance::rust_decimal::Decimal;
use itbm_finance::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// SplitMix64: small, deterministic, good enough to spread test cases.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `low..=high`.
    fn int(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    /// A decimal in `[low, high]` with `places` decimal places.
    fn decimal(&mut self, low: &str, high: &str, places: u32) -> Decimal {
        let scale = Decimal::from(10i64.pow(places));
        let (low, high) = ((d(low) * scale).to_string(), (d(high) * scale).to_string());
        let (low, high) = (low.split('.').next().unwrap().parse().unwrap(), high.split('.').next().unwrap().parse().unwrap());
        Decimal::from(self.int(low, high)) / scale
    }

    fn timing(&mut self) -> PaymentTiming {
        if self.next().is_multiple_of(2) { End } else { Beginning }
    }
}

#[track_caller]
fn within(actual: Decimal, expected: Decimal, tolerance: &str) {
    assert!((actual - expected).abs() <= d(tolerance), "{actual} is not within {tolerance} of {expected}");
}

#[test]
fn rate_recovers_the_rate_a_payment_was_computed_at_and_pv_recovers_the_loan() {
    let mut cases = Cases(1);
    for _ in 0..200 {
        let rate_per_period = cases.decimal("0.0001", "0.05", 6);
        let periods = Decimal::from(cases.int(1, 360));
        let loan = cases.decimal("100", "1000000", 2);
        let balloon = cases.decimal("0", "1000", 2);
        let timing = cases.timing();
        let payment = pmt(rate_per_period, periods, loan, balloon, timing).unwrap();
        let solved = rate(periods, payment, loan, balloon, timing, None).unwrap();
        within(solved, rate_per_period, "0.000000000001");
        within(pv(rate_per_period, periods, payment, balloon, timing).unwrap(), loan, "0.00000001");
        within(nper(rate_per_period, payment, loan, balloon, timing).unwrap(), periods, "0.0000001");
        within(fv(rate_per_period, periods, payment, loan, timing).unwrap(), balloon, "0.00000001");
    }
}

#[test]
fn each_payment_splits_into_interest_and_principal_and_the_principal_repays_the_loan() {
    let mut cases = Cases(2);
    for _ in 0..40 {
        let rate_per_period = cases.decimal("0.001", "0.03", 4);
        let periods = cases.int(1, 60);
        let loan = cases.decimal("1000", "100000", 2);
        let timing = cases.timing();
        let n = Decimal::from(periods);
        let payment = pmt(rate_per_period, n, loan, Decimal::ZERO, timing).unwrap();
        let mut principal = Decimal::ZERO;
        for per in 1..=periods {
            let per = Decimal::from(per);
            let interest = ipmt(rate_per_period, per, n, loan, Decimal::ZERO, timing).unwrap();
            let repaid = ppmt(rate_per_period, per, n, loan, Decimal::ZERO, timing).unwrap();
            within(interest + repaid, payment, "0.000000000000001");
            principal += repaid;
        }
        within(principal, -loan, "0.0000000001");
    }
}

fn cash_flows(cases: &mut Cases) -> Vec<Decimal> {
    let mut flows = vec![-cases.decimal("1000", "1000000", 2)];
    for _ in 0..cases.int(1, 20) {
        flows.push(cases.decimal("0", "300000", 2));
    }
    flows
}

#[test]
fn the_net_present_value_at_the_irr_is_zero() {
    let mut cases = Cases(3);
    for _ in 0..200 {
        let flows = cash_flows(&mut cases);
        if flows[1..].iter().all(|v| v.is_zero()) {
            continue;
        }
        let rate = irr(&flows, None).unwrap();
        let scale: Decimal = flows.iter().map(|v| v.abs()).sum();
        let residual = npv_undiscounted_first(rate, &flows).unwrap();
        assert!(residual.abs() <= scale * d("0.000000000001"), "NPV at IRR {rate} of {flows:?} is {residual}");
    }
}

#[test]
fn the_xnpv_at_the_xirr_is_zero() {
    let mut cases = Cases(4);
    let start = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    for _ in 0..50 {
        let flows = cash_flows(&mut cases);
        if flows[1..].iter().all(|v| v.is_zero()) {
            continue;
        }
        let mut day = 0;
        let dates: Vec<NaiveDate> = flows
            .iter()
            .map(|_| {
                let date = start + chrono::Days::new(day);
                day += cases.int(1, 400) as u64;
                date
            })
            .collect();
        let rate = xirr(&flows, &dates, None).unwrap_or_else(|e| panic!("{e}: {flows:?} {dates:?}"));
        let scale: Decimal = flows.iter().map(|v| v.abs()).sum();
        let residual = xnpv(rate, &flows, &dates).unwrap();
        assert!(residual.abs() <= scale * d("0.000000000001"), "XNPV at XIRR {rate} is {residual}");
    }
}

#[test]
fn excels_npv_is_the_t0_npv_discounted_one_more_period() {
    let mut cases = Cases(5);
    for _ in 0..100 {
        let flows = cash_flows(&mut cases);
        let rate = cases.decimal("-0.5", "0.5", 4);
        let excel = npv(rate, &flows).unwrap();
        let at_zero = npv_undiscounted_first(rate, &flows).unwrap();
        within(excel * (Decimal::ONE + rate), at_zero, "0.00000000001");
    }
}

#[test]
fn the_equivalent_annual_cost_of_a_level_annuity_is_its_payment() {
    let mut cases = Cases(6);
    for _ in 0..100 {
        let rate = cases.decimal("0", "0.2", 4);
        let payment = cases.decimal("1", "100000", 2);
        let periods = cases.int(1, 40) as usize;
        let flows: Vec<Decimal> = core::iter::once(Decimal::ZERO).chain(core::iter::repeat_n(payment, periods)).collect();
        within(eac(rate, &flows).unwrap(), payment, "0.0000000001");
    }
}

#[test]
fn discounting_never_shortens_the_payback() {
    let mut cases = Cases(7);
    for _ in 0..200 {
        let flows = cash_flows(&mut cases);
        let rate = cases.decimal("0", "0.3", 3);
        if let (Ok(plain), Ok(discounted)) = (payback(&flows), discounted_payback(rate, &flows)) {
            assert!(plain <= discounted, "{plain} > {discounted} for {flows:?} at {rate}");
        }
    }
}

#[test]
fn straight_line_and_sum_of_years_digits_schedules_sum_to_cost_minus_salvage() {
    let mut cases = Cases(8);
    for _ in 0..100 {
        let cost = cases.decimal("1000", "1000000", 2);
        let salvage = cases.decimal("0", "900", 2);
        let life = cases.int(1, 40);
        let years = Decimal::from(life);
        let total_sln = sln(cost, salvage, years).unwrap() * years;
        within(total_sln, cost - salvage, "0.000000000001");
        let total_syd: Decimal = (1..=life).map(|p| syd(cost, salvage, years, Decimal::from(p)).unwrap()).sum();
        within(total_syd, cost - salvage, "0.000000000001");
    }
}

#[test]
fn vdb_with_the_switch_depreciates_exactly_to_salvage_and_adds_up_over_adjacent_ranges() {
    let mut cases = Cases(9);
    for _ in 0..60 {
        let cost = cases.decimal("1000", "1000000", 2);
        let salvage = cases.decimal("0", "900", 2);
        let life = cases.int(2, 30);
        let years = Decimal::from(life);
        let factor = cases.decimal("1", "3", 1);
        let whole = vdb(cost, salvage, years, Decimal::ZERO, years, factor, false).unwrap();
        within(whole, cost - salvage, "0.000000000001");
        let by_year: Decimal =
            (0..life).map(|p| vdb(cost, salvage, years, Decimal::from(p), Decimal::from(p + 1), factor, false).unwrap()).sum();
        within(by_year, cost - salvage, "0.000000000001");
        // Without the switch, declining balance alone never goes below salvage.
        let declining = vdb(cost, salvage, years, Decimal::ZERO, years, factor, true).unwrap();
        assert!(declining <= cost - salvage);
        let ddb_total: Decimal = (1..=life).map(|p| ddb(cost, salvage, years, Decimal::from(p), factor).unwrap()).sum();
        within(ddb_total, declining, "0.000000000001");
    }
}

#[test]
fn a_fixed_declining_balance_schedule_never_depreciates_more_than_the_cost() {
    let mut cases = Cases(10);
    for _ in 0..60 {
        let cost = cases.decimal("1000", "1000000", 2);
        let salvage = cases.decimal("0", "900", 2);
        let life = cases.int(1, 30);
        let month = Decimal::from(cases.int(1, 12));
        let periods = if month == Decimal::from(12) { life } else { life + 1 };
        let total: Decimal = (1..=periods)
            .map(|p| db(cost, salvage, Decimal::from(life), Decimal::from(p), month).unwrap())
            .sum();
        assert!(total <= cost && total > Decimal::ZERO, "DB schedule of {cost} sums to {total}");
    }
}

#[test]
fn no_function_panics_whatever_its_arguments() {
    let mut cases = Cases(11);
    let special = ["0", "1", "-1", "-2", "0.5", "-0.9999999999", "1000000000000000", "-79228162514264337593543950335", "79228162514264337593543950335", "0.0000000000000000000000000001", "12", "1e10"];
    let pick = |cases: &mut Cases| -> Decimal {
        if cases.next().is_multiple_of(2) {
            d(special[cases.int(0, special.len() as i64 - 1) as usize])
        } else {
            cases.decimal("-1000", "1000", 3)
        }
    };
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for _ in 0..300 {
        let [a, b, c, e, f] = [pick(&mut cases), pick(&mut cases), pick(&mut cases), pick(&mut cases), pick(&mut cases)];
        let timing = cases.timing();
        let flows: Vec<Decimal> = (0..cases.int(0, 6)).map(|_| pick(&mut cases)).collect();
        let dates: Vec<NaiveDate> = (0..flows.len() as u64).map(|i| start + chrono::Days::new(i * 90)).collect();
        let _ = (fv(a, b, c, e, timing), pv(a, b, c, e, timing), pmt(a, b, c, e, timing), nper(a, b, c, e, timing));
        let _ = (ipmt(a, b, c, e, f, timing), ppmt(a, b, c, e, f, timing), rate(a, b, c, e, timing, Some(f)));
        let _ = (npv(a, &flows), npv_undiscounted_first(a, &flows), xnpv(a, &flows, &dates));
        let _ = (irr(&flows, Some(a)), xirr(&flows, &dates, Some(a)), mirr(&flows, a, b));
        let _ = (sln(a, b, c), syd(a, b, c, e), db(a, b, c, e, f), ddb(a, b, c, e, f));
        let _ = (vdb(a, b, c, e, f, Decimal::TWO, false), vdb(a, b, c, e, f, Decimal::TWO, true));
        let _ = (payback(&flows), discounted_payback(a, &flows), roi(&flows), eac(a, &flows), eac_from_npv(a, b, c));
    }
}
