//! Numbers from sources, read exactly into decimal strings ("1999.00"),
//! never through floating point: the host stores money as exact decimals.
//!
//! Sources format numbers for people ("1,999.00", "1.999,00", "1 999,00") or
//! for machines ("0.0232", "1.5e3"); each reader here accepts one of those
//! shapes strictly and refuses anything else with a reason, so a malformed
//! value is reported rather than guessed.

/// How a source groups digits and marks the decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    /// `1,234.56`: comma groups, point decimals.
    PointDecimal,
    /// `1.234,56`: point groups, comma decimals.
    CommaDecimal,
    /// `1 234,56` (a space or a no-break space groups), comma decimals.
    SpaceCommaDecimal,
    /// Decided from each value by [`detect`]; a value that could be read
    /// either way (such as `1,234`) is refused as ambiguous.
    Auto,
}

impl NumberFormat {
    /// Parses a configuration value: `"1,234.56"`, `"1.234,56"`, `"1 234,56"` or `"auto"`.
    pub fn from_example(text: &str) -> Option<NumberFormat> {
        match text {
            "1,234.56" => Some(NumberFormat::PointDecimal),
            "1.234,56" => Some(NumberFormat::CommaDecimal),
            "1 234,56" => Some(NumberFormat::SpaceCommaDecimal),
            "auto" => Some(NumberFormat::Auto),
            _ => None,
        }
    }

    fn separators(self) -> (&'static [char], char) {
        match self {
            NumberFormat::PointDecimal => (&[','], '.'),
            NumberFormat::CommaDecimal => (&['.'], ','),
            NumberFormat::SpaceCommaDecimal => (&[' ', '\u{a0}', '\u{202f}'], ','),
            NumberFormat::Auto => (&[], '.'),
        }
    }
}

/// Decides the format of one value from its separators: the last separator
/// marks the decimals when both kinds appear, or when the one kind appears
/// once and is not followed by exactly three digits; a single separator
/// followed by three digits (`1,234`) could be either and is ambiguous.
pub fn detect(text: &str) -> Result<NumberFormat, String> {
    let text = text.trim();
    let commas = text.matches(',').count();
    let points = text.matches('.').count();
    let spaced = text.contains([' ', '\u{a0}', '\u{202f}']);
    let last = text.rfind([',', '.']);
    match (commas, points) {
        (0, 0) if spaced => Ok(NumberFormat::SpaceCommaDecimal),
        (0, 0) => Ok(NumberFormat::PointDecimal),
        (_, _) if commas > 0 && points > 0 => {
            if text[last.unwrap_or(0)..].starts_with('.') { Ok(NumberFormat::PointDecimal) } else { Ok(NumberFormat::CommaDecimal) }
        }
        (c, 0) if spaced => {
            if c == 1 { Ok(NumberFormat::SpaceCommaDecimal) } else { Err(format!("{text:?} is not a number")) }
        }
        (c, p) => {
            let separator = if c > 0 { ',' } else { '.' };
            if c + p > 1 {
                // Repeated: it can only group.
                return Ok(if separator == ',' { NumberFormat::PointDecimal } else { NumberFormat::CommaDecimal });
            }
            let after = text.len() - last.unwrap_or(0) - 1;
            match (after, separator) {
                (3, _) => Err(format!("{text:?} could be read with {separator:?} grouping thousands or marking decimals; configure the number format")),
                (_, ',') => Ok(NumberFormat::CommaDecimal),
                _ => Ok(NumberFormat::PointDecimal),
            }
        }
    }
}

/// Reads a number written for people in `format` into a canonical decimal
/// string: no grouping, `.` before the decimals, the decimals kept as written
/// (`"1.999,00"` → `"1999.00"`). Groups must be of three digits.
pub fn parse_formatted(text: &str, format: NumberFormat) -> Result<String, String> {
    let trimmed = text.trim();
    let format = if format == NumberFormat::Auto { detect(trimmed)? } else { format };
    let (group_marks, decimal_mark) = format.separators();
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (whole, fraction) = match unsigned.split_once(decimal_mark) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let groups: Vec<&str> = whole.split(|c| group_marks.contains(&c)).collect();
    let grouped_well = groups.iter().enumerate().all(|(i, g)| {
        let len_ok = if i == 0 { (1..=3).contains(&g.len()) || groups.len() == 1 } else { g.len() == 3 };
        len_ok && !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())
    });
    let fraction_ok = fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !grouped_well || !fraction_ok {
        return Err(format!("{text:?} is not a number written as {}", example(format)));
    }
    Ok(canonical(negative, &groups.concat(), fraction.unwrap_or("")))
}

/// Reads a number written for machines: an optional sign, digits, an
/// optional `.` and decimals, an optional exponent (`1.5e3` → `"1500"`).
/// `NaN` and the infinities are refused: they are not amounts.
pub fn parse_plain(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let refuse = || format!("{text:?} is not a finite decimal number");
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| refuse())?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_ok(whole) || !digits_ok(fraction) || exponent.unsigned_abs() > 64 {
        return Err(refuse());
    }
    // Shift the decimal point by the exponent over the digit string.
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i64 + exponent as i64;
    let (whole, fraction) = if point <= 0 {
        ("0".to_owned(), format!("{}{digits}", "0".repeat((-point) as usize)))
    } else if point as usize >= digits.len() {
        (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_owned(), digits[point as usize..].to_owned())
    };
    let fraction = if exponent != 0 { fraction.trim_end_matches('0').to_owned() } else { fraction };
    Ok(canonical(negative, &whole, &fraction))
}

/// `-`, the whole digits without leading zeros, and the decimals if any.
fn canonical(negative: bool, whole: &str, fraction: &str) -> String {
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let zero = whole == "0" && fraction.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") }
}

fn example(format: NumberFormat) -> &'static str {
    match format {
        NumberFormat::PointDecimal => "1,234.56",
        NumberFormat::CommaDecimal => "1.234,56",
        NumberFormat::SpaceCommaDecimal => "1 234,56",
        NumberFormat::Auto => "a number",
    }
}

/// Divides a whole number of units (seconds) by `divisor` (3600 for hours),
/// rounding half to even at `places` decimals: `ratio(400, 3600, 4)` is `"0.1111"`.
pub fn ratio(units: i64, divisor: i64, places: u32) -> String {
    let scale = 10i128.pow(places);
    let numerator = units as i128 * scale;
    let divisor = divisor as i128;
    let (mut quotient, remainder) = (numerator / divisor, numerator % divisor);
    let twice = remainder.abs() * 2;
    if twice > divisor.abs() || (twice == divisor.abs() && quotient % 2 != 0) {
        quotient += if (numerator < 0) == (divisor < 0) { 1 } else { -1 };
    }
    let negative = quotient < 0;
    let digits = format!("{:0width$}", quotient.abs(), width = places as usize + 1);
    let (whole, fraction) = digits.split_at(digits.len() - places as usize);
    canonical(negative, whole, fraction)
}

#[cfg(test)]
mod tests {
    use super::NumberFormat::*;
    use super::*;

    #[test]
    fn formatted_numbers_are_read_exactly_in_each_locale() {
        assert_eq!(parse_formatted("1,999.00", PointDecimal).unwrap(), "1999.00");
        assert_eq!(parse_formatted("1.999,00", CommaDecimal).unwrap(), "1999.00");
        assert_eq!(parse_formatted("1 234 567,891", SpaceCommaDecimal).unwrap(), "1234567.891");
        assert_eq!(parse_formatted("12,345,678.90", PointDecimal).unwrap(), "12345678.90");
        assert_eq!(parse_formatted("0.10", PointDecimal).unwrap(), "0.10");
        assert_eq!(parse_formatted("999", CommaDecimal).unwrap(), "999");
        assert_eq!(parse_formatted("-1.000,5", CommaDecimal).unwrap(), "-1000.5");
        // Digits beyond what a float carries survive.
        assert_eq!(parse_formatted("90,071,992,547,409,931.01", PointDecimal).unwrap(), "90071992547409931.01");
    }

    #[test]
    fn malformed_numbers_are_refused_not_guessed() {
        for bad in ["1,99.00", "1,9999.00", "12,34", "1.999,00", "abc", "", "1,999.", ",5", "1,999.0a", "1 999.00", "$1,999.00"] {
            assert!(parse_formatted(bad, PointDecimal).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_formatted("1,999.00", CommaDecimal).is_err());
    }

    #[test]
    fn the_format_is_detected_from_each_value_unless_ambiguous() {
        assert_eq!(parse_formatted("1,999.00", Auto).unwrap(), "1999.00");
        assert_eq!(parse_formatted("1.999,00", Auto).unwrap(), "1999.00");
        assert_eq!(parse_formatted("999,00", Auto).unwrap(), "999.00");
        assert_eq!(parse_formatted("999.00", Auto).unwrap(), "999.00");
        assert_eq!(parse_formatted("1.234.567", Auto).unwrap(), "1234567");
        assert_eq!(parse_formatted("1 999,00", Auto).unwrap(), "1999.00");
        assert!(parse_formatted("1,234", Auto).unwrap_err().contains("configure"));
        assert!(parse_formatted("1.234", Auto).is_err());
    }

    #[test]
    fn machine_numbers_with_exponents_become_plain_decimals() {
        assert_eq!(parse_plain("0.023196599999999307").unwrap(), "0.023196599999999307");
        assert_eq!(parse_plain("24552259584").unwrap(), "24552259584");
        assert_eq!(parse_plain("1.5e3").unwrap(), "1500");
        assert_eq!(parse_plain("2.5E-4").unwrap(), "0.00025");
        assert_eq!(parse_plain("-0.0000").unwrap(), "0.0000");
        assert_eq!(parse_plain("007.50").unwrap(), "7.50");
        for bad in ["NaN", "+Inf", "-Inf", "", ".", "1.2.3", "1e", "0x10", "1,5"] {
            assert!(parse_plain(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn ratios_round_half_to_even() {
        assert_eq!(ratio(400, 3600, 4), "0.1111");
        assert_eq!(ratio(12000, 3600, 4), "3.3333");
        assert_eq!(ratio(5400, 3600, 2), "1.50");
        assert_eq!(ratio(9, 360, 1), "0.0"); // 0.025 → 0.0 (half to even)
        assert_eq!(ratio(27, 360, 2), "0.08"); // 0.075 → 0.08
        assert_eq!(ratio(0, 3600, 4), "0.0000");
    }
}
