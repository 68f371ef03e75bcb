//! The fiscal calendar: twelve monthly periods per fiscal year, starting in a
//! configurable month. A fiscal year is named after the calendar year in which
//! it ends (with a July start, FY2027 runs from July 2026 to June 2027), as the
//! US federal government and most ERPs name them.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiscalCalendar {
    /// 1 (January) to 12.
    pub start_month: u32,
}

/// One period of a fiscal year, written `FY2027-P03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiscalPeriod {
    pub year: i32,
    /// 1 to 12.
    pub number: u32,
}

/// A period with its calendar dates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodInfo {
    pub id: FiscalPeriod,
    pub fiscal_year: i32,
    pub number: u32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

impl FiscalCalendar {
    pub fn new(start_month: u32) -> Option<Self> {
        (1..=12).contains(&start_month).then_some(FiscalCalendar { start_month })
    }

    /// The fiscal year `date` falls in.
    pub fn year_of(&self, date: NaiveDate) -> i32 {
        if self.start_month == 1 || date.month() < self.start_month { date.year() } else { date.year() + 1 }
    }

    /// The fiscal period `date` falls in.
    pub fn period_of(&self, date: NaiveDate) -> FiscalPeriod {
        let number = (date.month() + 12 - self.start_month) % 12 + 1;
        FiscalPeriod { year: self.year_of(date), number }
    }

    /// First day of the fiscal year `year`.
    pub fn year_start(&self, year: i32) -> NaiveDate {
        let calendar_year = if self.start_month == 1 { year } else { year - 1 };
        NaiveDate::from_ymd_opt(calendar_year, self.start_month, 1).expect("valid month")
    }

    /// First and last day of `period`.
    pub fn bounds(&self, period: FiscalPeriod) -> (NaiveDate, NaiveDate) {
        let start = self.year_start(period.year) + Months::new(period.number - 1);
        let end = start + Months::new(1) - chrono::Days::new(1);
        (start, end)
    }

    /// `period` as instants, from its first midnight (UTC) to the midnight
    /// after its last day, exclusive: what timestamps "fall in" the period.
    pub fn utc_range(&self, period: FiscalPeriod) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
        let (first, last) = self.bounds(period);
        let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        (midnight(first), midnight(last + chrono::Days::new(1)))
    }

    /// The twelve periods of fiscal year `year`.
    pub fn periods(&self, year: i32) -> Vec<PeriodInfo> {
        (1..=12)
            .map(|number| {
                let id = FiscalPeriod { year, number };
                let (start_date, end_date) = self.bounds(id);
                PeriodInfo { id, fiscal_year: year, number, start_date, end_date }
            })
            .collect()
    }
}

/// The organisation's calendar, from the settings.
pub async fn load(ex: &mut impl Executor) -> Result<FiscalCalendar> {
    let row = crate::db::query("SELECT fiscal_year_start_month FROM settings WHERE id = 1").fetch_one(ex).await?;
    let month: i64 = row.get("fiscal_year_start_month")?;
    FiscalCalendar::new(month as u32).ok_or_else(|| anyhow::anyhow!("settings hold an invalid fiscal start month {month}").into())
}

impl fmt::Display for FiscalPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{}-P{:02}", self.year, self.number)
    }
}

impl FromStr for FiscalPeriod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("{s:?} is not a fiscal period such as \"FY2027-P03\"");
        let rest = s.strip_prefix("FY").ok_or_else(err)?;
        let (year, number) = rest.split_once("-P").ok_or_else(err)?;
        let year: i32 = year.parse().map_err(|_| err())?;
        let number: u32 = number.parse().map_err(|_| err())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&number) || rest.len() != 8 {
            return Err(err());
        }
        Ok(FiscalPeriod { year, number })
    }
}

impl utoipa::PartialSchema for FiscalPeriod {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^FY[0-9]{4}-P(0[1-9]|1[0-2])$"))
            .description(Some("A fiscal period: fiscal year (named after the calendar year it ends in) and period 01 to 12"))
            .examples([serde_json::json!("FY2027-P03")])
            .into()
    }
}

impl ToSchema for FiscalPeriod {}

impl Serialize for FiscalPeriod {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FiscalPeriod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_calendar_year_is_its_own_fiscal_year() {
        let cal = FiscalCalendar::new(1).unwrap();
        assert_eq!(cal.period_of(date(2026, 1, 1)).to_string(), "FY2026-P01");
        assert_eq!(cal.period_of(date(2026, 12, 31)).to_string(), "FY2026-P12");
    }

    #[test]
    fn a_july_start_names_the_year_after_its_end() {
        let cal = FiscalCalendar::new(7).unwrap();
        assert_eq!(cal.period_of(date(2026, 7, 1)).to_string(), "FY2027-P01");
        assert_eq!(cal.period_of(date(2027, 6, 30)).to_string(), "FY2027-P12");
        assert_eq!(cal.bounds("FY2027-P08".parse().unwrap()), (date(2027, 2, 1), date(2027, 2, 28)));
    }

    #[test]
    fn periods_cover_the_year_without_gaps() {
        let cal = FiscalCalendar::new(4).unwrap();
        let periods = cal.periods(2026);
        assert_eq!(periods[0].start_date, date(2025, 4, 1));
        assert_eq!(periods[11].end_date, date(2026, 3, 31));
        for pair in periods.windows(2) {
            assert_eq!(pair[0].end_date.succ_opt().unwrap(), pair[1].start_date);
        }
    }

    #[test]
    fn malformed_period_names_are_refused() {
        for bad in ["FY2026-P13", "FY2026-P00", "2026-01", "FY26-P01", "FY2026-P1", "FY2026-P011"] {
            assert!(bad.parse::<FiscalPeriod>().is_err(), "{bad}");
        }
    }
}
