//! Timestamps and dates from sources, normalised to UTC.
//!
//! Sources write instants in many ISO 8601 dialects: `2021-01-17T12:34:00.000+0000`
//! (Jira), `2015-10-08T14:42:00+0700`, `2024-02-01 09:30:00` (a local time
//! with no offset), Unix seconds with decimals (Prometheus). The host wants one
//! form: RFC 3339 in UTC, `2021-01-17T12:34:00Z`, so that records compare and
//! sort as text. Nothing here needs a clock or a time-zone database.

/// An instant, in milliseconds since the Unix epoch.
pub type Millis = i64;

/// Reads an ISO 8601 date and time with an offset (`Z`, `+07:00`, `+0700`,
/// `+07`); `T` or a space between date and time; seconds and fractions
/// optional. Without an offset, `default_offset_minutes` applies (a source
/// whose times are local to a configured zone); `None` refuses such times.
pub fn parse_instant(text: &str, default_offset_minutes: Option<i32>) -> Result<Millis, String> {
    let refuse = |why: &str| format!("{text:?} is not a date and time ({why})");
    let text = text.trim();
    if text.len() < 16 {
        return Err(refuse("too short"));
    }
    let (date, rest) = text.split_at(10);
    let days = days_of(date).ok_or_else(|| refuse("bad date"))?;
    let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(|| refuse("no time"))?;
    // The time runs until the offset, if any.
    let offset_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, offset) = rest.split_at(offset_at);
    let millis_of_day = time_of(time).ok_or_else(|| refuse("bad time"))?;
    let offset_minutes = match offset {
        "" => default_offset_minutes.ok_or_else(|| refuse("no offset"))?,
        "Z" | "z" => 0,
        _ => offset_of(offset).ok_or_else(|| refuse("bad offset"))?,
    };
    Ok(days * 86_400_000 + millis_of_day - offset_minutes as i64 * 60_000)
}

/// Reads a UTC offset written `+07:00`, `+0700`, `+07`, `-05:30` or `Z`, in minutes.
pub fn offset_of(text: &str) -> Option<i32> {
    if text == "Z" || text == "z" {
        return Some(0);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}

/// Reads `YYYY-MM-DD` into days since 1970-01-01, refusing impossible dates.
pub fn days_of(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &date[range];
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Checks a `YYYY-MM-DD` date and returns it unchanged.
pub fn parse_date(text: &str) -> Result<String, String> {
    let text = text.trim();
    days_of(text).map(|_| text.to_owned()).ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)"))
}

/// `HH:MM[:SS[.fff...]]` into milliseconds of the day (fractions beyond
/// milliseconds are cut).
fn time_of(time: &str) -> Option<i64> {
    let (clock, fraction) = time.split_once(['.', ',']).unwrap_or((time, ""));
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (time.contains(['.', ',']) && fraction.is_empty()) {
        return None;
    }
    let (h, m): (i64, i64) = (parts[0].parse().ok()?, parts[1].parse().ok()?);
    let s: i64 = parts.get(2).map_or(Some(0), |p| p.parse().ok())?;
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
    Some(((h * 60 + m) * 60 + s) * 1000 + millis)
}

/// RFC 3339 in UTC: `2021-01-17T12:34:00Z`, with `.mmm` only when the
/// milliseconds are not zero.
pub fn format_utc(ms: Millis) -> String {
    let days = ms.div_euclid(86_400_000);
    let of_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (secs, millis) = (of_day / 1000, of_day % 1000);
    let clock = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if millis == 0 { format!("{clock}Z") } else { format!("{clock}.{millis:03}Z") }
}

/// The date part of [`format_utc`].
pub fn format_date(ms: Millis) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Adds whole months to a `YYYY-MM-DD` date, clamping the day to the end of
/// the month (2024-01-31 plus one month is 2024-02-29).
pub fn add_months(date: &str, months: i64) -> Option<String> {
    let days = days_of(date)?;
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + (month - 1) + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let day = day.min(days_in_month(year, month));
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Reads a duration such as `30s`, `5m`, `1h`, `1d`, `1h30m` into seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let refuse = || format!("{text:?} is not a duration such as 30s, 5m, 1h or 1d");
    let mut total = 0i64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(refuse()),
        };
        let n: i64 = number.parse().map_err(|_| refuse())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(refuse)?;
        number.clear();
    }
    if !number.is_empty() || total <= 0 {
        return Err(refuse());
    }
    Ok(total)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (if month <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        format_utc(parse_instant(text, None).unwrap())
    }

    #[test]
    fn instants_with_offsets_become_utc() {
        assert_eq!(utc("2021-01-17T12:34:00.000+0000"), "2021-01-17T12:34:00Z");
        assert_eq!(utc("2015-10-08T14:42:00+0700"), "2015-10-08T07:42:00Z");
        assert_eq!(utc("2015-10-08T14:42:00.000+07:00"), "2015-10-08T07:42:00Z");
        assert_eq!(utc("2024-03-01T00:30:00-05:30"), "2024-03-01T06:00:00Z");
        assert_eq!(utc("2024-01-01T01:00:00+02"), "2023-12-31T23:00:00Z");
        assert_eq!(utc("2024-02-29 23:59:59.5Z"), "2024-02-29T23:59:59.500Z");
        assert_eq!(utc("2024-02-29T10:00Z"), "2024-02-29T10:00:00Z");
    }

    #[test]
    fn local_times_need_an_offset() {
        assert!(parse_instant("2024-02-01 09:30:00", None).is_err());
        assert_eq!(format_utc(parse_instant("2024-02-01 09:30:00", Some(60)).unwrap()), "2024-02-01T08:30:00Z");
    }

    #[test]
    fn impossible_instants_are_refused() {
        for bad in ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T10:00:00+25:00", "yesterday", "2024-01-01T10:00:00.Z", "2024-01-01"] {
            assert!(parse_instant(bad, None).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn dates_and_months() {
        assert_eq!(days_of("1970-01-01"), Some(0));
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_795_266_633_000), "2026-11-21T13:10:33Z");
        assert_eq!(add_months("2024-01-31", 1).as_deref(), Some("2024-02-29"));
        assert_eq!(add_months("2023-11-15", 36).as_deref(), Some("2026-11-15"));
        assert!(parse_date("2024-02-30").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("15s"), Ok(15));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10").is_err());
    }
}
