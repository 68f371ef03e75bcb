//! Month arithmetic: the demo plans and books spend month by month, each month
//! named by its first day.

use chrono::{Datelike, Months, NaiveDate};

/// The first day of the month `date` falls in.
pub fn start_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

/// The first day of the month `n` months after (or before, when negative) `month`.
pub fn add(month: NaiveDate, n: i32) -> NaiveDate {
    let month = start_of(month);
    if n >= 0 { month + Months::new(n as u32) } else { month - Months::new(n.unsigned_abs()) }
}

/// The last day of `month`.
pub fn end_of(month: NaiveDate) -> NaiveDate {
    add(month, 1).pred_opt().expect("a day before the first of a month")
}

pub fn days_in(month: NaiveDate) -> u32 {
    end_of(month).day()
}

/// Every month from `first` to `last`, both included.
pub fn between(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    let last = start_of(last);
    std::iter::successors(Some(start_of(first)), |m| Some(add(*m, 1))).take_while(move |m| *m <= last)
}

/// Months from `earlier` to `later`, counting whole calendar months.
pub fn count(earlier: NaiveDate, later: NaiveDate) -> i32 {
    (later.year() - earlier.year()) * 12 + later.month() as i32 - earlier.month() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_ranges_include_both_ends_and_cross_years() {
        let months: Vec<NaiveDate> = between(date(2025, 11, 20), date(2026, 2, 3)).collect();
        assert_eq!(months, vec![date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]);
        assert_eq!(end_of(date(2024, 2, 10)), date(2024, 2, 29));
        assert_eq!(add(date(2026, 1, 31), -2), date(2025, 11, 1));
        assert_eq!(count(date(2025, 11, 1), date(2026, 2, 1)), 3);
    }
}
