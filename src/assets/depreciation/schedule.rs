//! The depreciation schedule of one asset: pure computation, no I/O.
//!
//! # How a schedule is built
//! 1. **Life-years.** The method gives the depreciation of each year of the
//!    asset's life (`Y = useful_life_months / 12` years, the last one partial
//!    when the life is not whole years), with Excel's functions from
//!    `itbm-finance`:
//!    * `straight_line`: `SLN(cost, salvage, Y)` per year;
//!    * `declining_balance`: `DB(cost, salvage, Y, k, 12)` (Excel's
//!      fixed-declining balance, rate rounded to three places);
//!    * `double_declining_balance`: `VDB(cost, salvage, Y, k−1, k, 2)`, double
//!      declining balance switching to straight line when that is larger, so
//!      that the book value reaches salvage at the end of the life (where no
//!      switch happens, as in Excel's `DDB(2400, 300, 10, k)` examples, this is
//!      exactly `DDB`);
//!    * `sum_of_years_digits`: `SYD(cost, salvage, Y, k)`.
//! 2. **Months.** The convention says how much of the life each calendar
//!    month (each fiscal period) uses:
//!    * `full_month`: the month the asset enters service counts whole, then one
//!      twelfth of a year per month for `useful_life_months` months;
//!    * `half_year`: the first fiscal year counts as half a year whatever the
//!      in-service month, spread evenly over its months in service; then one
//!      twelfth per month until the life is used up (so the last fiscal year
//!      also gets about half a year);
//!    * `daily`: the first month counts the days from the in-service date to
//!      its end (the date itself included) over the days of that month; then
//!      one twelfth per month; the last month takes what is left of the life.
//!
//!    A month's depreciation is the life-years' depreciation pro rata to the
//!    part of each life-year the month covers. For declining methods this is
//!    Excel's own treatment of fractional periods in `VDB`, and a fiscal year
//!    of `m` months in service at the start gets `DB(…, month = m)` exactly.
//! 3. **Rounding.** The accumulated depreciation is capped at `cost − salvage`
//!    (the salvage floor: the book value never goes below salvage) and rounded
//!    half to even to the currency's minor units at each period end; a
//!    period's amount is the difference of two rounded accumulations, so the
//!    amounts of any run of periods add up to its rounded total. The last
//!    period takes whatever is left, so the schedule adds up to
//!    `cost − salvage` exactly: that residue is the rounding, plus, for
//!    `declining_balance`, what Excel's rounded rate leaves undepreciated.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use utoipa::ToSchema;

use crate::assets::{DepreciationConvention, DepreciationMethod};
use crate::finance::calendar::{FiscalCalendar, FiscalPeriod};

/// What a schedule is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    pub cost: Decimal,
    pub salvage: Decimal,
    pub method: DepreciationMethod,
    pub convention: DepreciationConvention,
    pub life_months: u32,
    pub in_service: NaiveDate,
    /// Decimal places of the asset's currency.
    pub minor_units: u32,
}

/// Why no schedule exists for a basis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the asset does not depreciate (method none)")]
    NotDepreciated,
    #[error("the useful life must be at least one month")]
    NoLife,
    #[error("the salvage value must be between 0 and the cost")]
    BadSalvage,
    #[error("{0}")]
    Finance(#[from] itbm_finance::Error),
}

/// One fiscal period of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PeriodDepreciation {
    pub fiscal_period: FiscalPeriod,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[schema(value_type = String, example = "41.67")]
    pub amount: Decimal,
    /// Depreciation up to and including this period.
    #[schema(value_type = String, example = "500.00")]
    pub accumulated: Decimal,
    /// Cost minus accumulated depreciation at the end of the period.
    #[schema(value_type = String, example = "1500.00")]
    pub book_value: Decimal,
}

/// The periods of one fiscal year added up.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct YearDepreciation {
    pub fiscal_year: i32,
    #[schema(value_type = String, example = "500.00")]
    pub amount: Decimal,
    #[schema(value_type = String, example = "500.00")]
    pub accumulated: Decimal,
    #[schema(value_type = String, example = "1500.00")]
    pub book_value: Decimal,
}

/// A month of the asset's life: which part of the life (in years) it uses.
struct Slice {
    month: NaiveDate,
    from: Decimal,
    to: Decimal,
}

const TWELVE: Decimal = Decimal::from_parts(12, 0, 0, false, 0);
/// Below this many years, what is left of a life is arithmetic noise.
const EPSILON: Decimal = Decimal::from_parts(1, 0, 0, false, 18);

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

fn days_in_month(month: NaiveDate) -> u32 {
    ((first_of_month(month) + Months::new(1)) - chrono::Days::new(1)).day()
}

/// The months of the life and the part of it each uses, per the convention.
fn slices(basis: &Basis, calendar: &FiscalCalendar) -> Vec<Slice> {
    let life = Decimal::from(basis.life_months) / TWELVE;
    let one_month = Decimal::ONE / TWELVE;
    let mut month = first_of_month(basis.in_service);
    let mut used = Decimal::ZERO;
    let mut out = Vec::new();
    let mut push = |month: NaiveDate, length: Decimal, used: &mut Decimal| {
        let to = (*used + length).min(life);
        out.push(Slice { month, from: *used, to });
        *used = to;
    };
    match basis.convention {
        DepreciationConvention::FullMonth => {}
        DepreciationConvention::HalfYear => {
            let year = calendar.year_of(basis.in_service);
            let months_left = 12 - calendar.period_of(basis.in_service).number + 1;
            let each = Decimal::new(5, 1).min(life) / Decimal::from(months_left);
            while calendar.year_of(month) == year {
                push(month, each, &mut used);
                month = month + Months::new(1);
            }
        }
        DepreciationConvention::Daily => {
            let days = days_in_month(month);
            let in_service_days = days - basis.in_service.day() + 1;
            push(month, Decimal::from(in_service_days) / Decimal::from(days) / TWELVE, &mut used);
            month = month + Months::new(1);
        }
    }
    while life - used > EPSILON {
        push(month, one_month, &mut used);
        month = month + Months::new(1);
    }
    out
}

/// The depreciation of each year of the life, `k = 1 ..= ⌈Y⌉`.
fn life_years(basis: &Basis) -> Result<Vec<(Decimal, Decimal, Decimal)>, ScheduleError> {
    let life = Decimal::from(basis.life_months) / TWELVE;
    let (cost, salvage) = (basis.cost, basis.salvage);
    let years = basis.life_months.div_ceil(12);
    let mut out = Vec::with_capacity(years as usize);
    for k in 1..=years {
        let start = Decimal::from(k - 1);
        let end = Decimal::from(k).min(life);
        let amount = if cost == salvage {
            Decimal::ZERO
        } else {
            match basis.method {
                DepreciationMethod::None => return Err(ScheduleError::NotDepreciated),
                DepreciationMethod::StraightLine => (cost - salvage) * (end - start) / life,
                DepreciationMethod::DecliningBalance => itbm_finance::db(cost, salvage, life, Decimal::from(k), TWELVE)?,
                DepreciationMethod::DoubleDecliningBalance => itbm_finance::vdb(cost, salvage, life, start, end, Decimal::TWO, false)?,
                DepreciationMethod::SumOfYearsDigits => itbm_finance::syd(cost, salvage, life, Decimal::from(k).min(life))?,
            }
        };
        out.push((start, end, amount));
    }
    Ok(out)
}

fn round(value: Decimal, minor_units: u32) -> Decimal {
    value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven)
}

/// The schedule, one entry per fiscal period from the in-service period to the
/// last period of the life.
pub fn compute(basis: &Basis, calendar: &FiscalCalendar) -> Result<Vec<PeriodDepreciation>, ScheduleError> {
    if basis.method == DepreciationMethod::None {
        return Err(ScheduleError::NotDepreciated);
    }
    if basis.life_months == 0 {
        return Err(ScheduleError::NoLife);
    }
    if basis.salvage < Decimal::ZERO || basis.salvage > basis.cost {
        return Err(ScheduleError::BadSalvage);
    }
    let depreciable = basis.cost - basis.salvage;
    let years = life_years(basis)?;
    let slices = slices(basis, calendar);
    let mut exact = Decimal::ZERO;
    let mut posted = Decimal::ZERO;
    let mut periods = Vec::with_capacity(slices.len());
    for (i, slice) in slices.iter().enumerate() {
        for &(start, end, amount) in &years {
            let overlap = slice.to.min(end) - slice.from.max(start);
            if overlap > Decimal::ZERO && end > start {
                exact += amount * overlap / (end - start);
            }
        }
        // Rounding up could cross the salvage floor when cost or salvage has
        // more decimals than the currency: the floor wins.
        let accumulated =
            if i + 1 == slices.len() { depreciable } else { round(exact.min(depreciable), basis.minor_units).min(depreciable) };
        let fiscal_period = calendar.period_of(slice.month);
        let (start_date, end_date) = calendar.bounds(fiscal_period);
        periods.push(PeriodDepreciation {
            fiscal_period,
            start_date,
            end_date,
            amount: accumulated - posted,
            accumulated,
            book_value: basis.cost - accumulated,
        });
        posted = accumulated;
    }
    Ok(periods)
}

/// The periods of a schedule added up by fiscal year.
pub fn by_year(periods: &[PeriodDepreciation]) -> Vec<YearDepreciation> {
    let mut years: Vec<YearDepreciation> = Vec::new();
    for p in periods {
        match years.last_mut() {
            Some(y) if y.fiscal_year == p.fiscal_period.year => {
                y.amount += p.amount;
                y.accumulated = p.accumulated;
                y.book_value = p.book_value;
            }
            _ => years.push(YearDepreciation {
                fiscal_year: p.fiscal_period.year,
                amount: p.amount,
                accumulated: p.accumulated,
                book_value: p.book_value,
            }),
        }
    }
    years
}

/// Accumulated depreciation at the end of `date`: the periods before it in
/// full, and the period containing it pro rata by day (depreciation accrues
/// evenly within a period), rounded to the currency's minor units. Before the
/// first period it is 0; after the last, all of `cost − salvage`.
pub fn accumulated_on(periods: &[PeriodDepreciation], date: NaiveDate, minor_units: u32) -> Decimal {
    let mut before = Decimal::ZERO;
    for p in periods {
        if date > p.end_date {
            before = p.accumulated;
            continue;
        }
        if date < p.start_date {
            return before;
        }
        let days = Decimal::from((p.end_date - p.start_date).num_days() + 1);
        let elapsed = Decimal::from((date - p.start_date).num_days() + 1);
        return round(before + p.amount * elapsed / days, minor_units);
    }
    before
}

#[cfg(test)]
mod tests {
    use super::*;
    use DepreciationConvention::*;
    use DepreciationMethod::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn basis(cost: &str, salvage: &str, method: DepreciationMethod, convention: DepreciationConvention, life_months: u32, in_service: NaiveDate) -> Basis {
        Basis { cost: dec(cost), salvage: dec(salvage), method, convention, life_months, in_service, minor_units: 2 }
    }

    fn years(b: &Basis, calendar: &FiscalCalendar) -> Vec<Decimal> {
        by_year(&compute(b, calendar).unwrap()).iter().map(|y| y.amount).collect()
    }

    fn decs<const N: usize>(values: [&str; N]) -> Vec<Decimal> {
        values.iter().map(|v| dec(v)).collect()
    }

    #[test]
    fn every_method_and_convention_adds_up_to_cost_minus_salvage_exactly() {
        let calendars = [FiscalCalendar::new(1).unwrap(), FiscalCalendar::new(7).unwrap()];
        for method in [StraightLine, DecliningBalance, DoubleDecliningBalance, SumOfYearsDigits] {
            for convention in [FullMonth, HalfYear, Daily] {
                for (cost, salvage, life) in [("1999.99", "0", 36), ("1000000", "100000", 72), ("2400", "300", 120), ("777.77", "77.77", 7), ("10", "10", 12), ("1234.5678", "0.01", 40)] {
                    for in_service in [date(2026, 1, 1), date(2026, 6, 17), date(2024, 2, 29), date(2026, 12, 31)] {
                        for calendar in &calendars {
                            let b = basis(cost, salvage, method, convention, life, in_service);
                            let schedule = compute(&b, calendar).unwrap();
                            let total: Decimal = schedule.iter().map(|p| p.amount).sum();
                            assert_eq!(total, b.cost - b.salvage, "{b:?}");
                            assert_eq!(schedule.last().unwrap().book_value, b.salvage, "{b:?}");
                            assert!(schedule.iter().all(|p| p.book_value >= b.salvage), "the salvage floor holds: {b:?}");
                            assert!(schedule.iter().all(|p| p.amount >= Decimal::ZERO), "{b:?}");
                            for pair in schedule.windows(2) {
                                assert!(pair[0].fiscal_period < pair[1].fiscal_period);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn full_month_counts_the_in_service_month_whole_and_runs_the_life_in_months() {
        let calendar = FiscalCalendar::new(1).unwrap();
        let s = compute(&basis("1200", "0", StraightLine, FullMonth, 12, date(2026, 3, 31)), &calendar).unwrap();
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].fiscal_period.to_string(), "FY2026-P03");
        assert!(s.iter().all(|p| p.amount == dec("100")));
    }

    #[test]
    fn half_year_gives_the_first_and_last_fiscal_year_half_a_year() {
        let calendar = FiscalCalendar::new(1).unwrap();
        let b = basis("1000", "0", StraightLine, HalfYear, 36, date(2026, 10, 5));
        assert_eq!(years(&b, &calendar), decs(["166.67", "333.33", "333.33", "166.67"]));
    }

    #[test]
    fn daily_pro_rates_the_first_and_last_month_by_day() {
        let calendar = FiscalCalendar::new(1).unwrap();
        // 3100 over 31 months; in service on 17 Jan: 15 of January's 31 days.
        let s = compute(&basis("3100", "0", StraightLine, Daily, 31, date(2026, 1, 17)), &calendar).unwrap();
        assert_eq!(s[0].amount, dec("48.39"));
        assert_eq!(s[1].amount, dec("100"));
        assert_eq!(s.len(), 32);
        assert_eq!(s.last().unwrap().amount, dec("51.61"));
    }

    #[test]
    fn excel_db_example_with_a_seven_month_first_year() {
        // Excel: DB(1000000, 100000, 6, k, 7) = 186,083.33; 259,639.42;
        // 176,814.44; 120,410.64; 81,999.64; 55,841.76 (then 15,845.10 in the
        // seventh year, where the schedule also books what the rounded rate left).
        let calendar = FiscalCalendar::new(1).unwrap();
        let b = basis("1000000", "100000", DecliningBalance, FullMonth, 72, date(2026, 6, 1));
        let y = years(&b, &calendar);
        assert_eq!(y[..6], decs(["186083.33", "259639.42", "176814.44", "120410.64", "81999.64", "55841.76"]));
        assert_eq!(y.len(), 7);
    }

    #[test]
    fn excel_ddb_examples_year_by_year() {
        // Excel: DDB(2400, 300, 10, 1) = 480, DDB(2400, 300, 10, 2) = 384, DDB(2400, 300, 10, 10) = 22.12.
        let calendar = FiscalCalendar::new(1).unwrap();
        let b = basis("2400", "300", DoubleDecliningBalance, FullMonth, 120, date(2026, 1, 1));
        let y = years(&b, &calendar);
        assert_eq!((y[0], y[1], y[9]), (dec("480"), dec("384"), dec("22.12")));
        // The years between are Excel's DDB to the cent: each year is the
        // difference of two rounded accumulations, so it may differ from DDB
        // rounded on its own by a cent (157.28 for 157.2864), never more.
        for (k, ours) in y.iter().enumerate() {
            let excel = itbm_finance::ddb(dec("2400"), dec("300"), dec("10"), Decimal::from(k + 1), Decimal::TWO).unwrap();
            assert!((*ours - excel).abs() <= dec("0.01"), "year {}: {ours} vs {excel}", k + 1);
        }
        // DDB(2400, 300, 120, 1) = 40: the first month.
        assert_eq!(compute(&b, &calendar).unwrap()[0].amount, dec("40"));
    }

    #[test]
    fn value_on_a_date_accrues_within_the_period_by_day() {
        let calendar = FiscalCalendar::new(1).unwrap();
        let s = compute(&basis("3100", "100", StraightLine, FullMonth, 30, date(2026, 1, 10)), &calendar).unwrap();
        assert_eq!(accumulated_on(&s, date(2025, 12, 31), 2), Decimal::ZERO);
        assert_eq!(accumulated_on(&s, date(2026, 1, 31), 2), dec("100"));
        assert_eq!(accumulated_on(&s, date(2026, 2, 14), 2), dec("150"));
        assert_eq!(accumulated_on(&s, date(2040, 1, 1), 2), dec("3000"));
    }
}
