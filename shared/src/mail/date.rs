//! Dates in mail (RFC 5322 §3.3): parsing `Date:` and the date of a
//! `Received:` line with the obsolete forms the course uses (two-digit
//! years, `GMT`, `EST`), checking the day of the week, and formatting a
//! time for the trace headers a server adds.
//!
//! Pure calendar arithmetic on the proleptic Gregorian calendar; the caller
//! supplies the time (the shared crate reads no clock).

use crate::dissect::Severity;

/// A calendar date and time with its offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Minutes east of UTC (`+0100` is 60).
    pub offset_minutes: i32,
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    crate::calendar::days_from_civil(year, u32::from(month), u32::from(day))
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let (year, month, day) = crate::calendar::civil_from_days(days);
    (year, month as u8, day as u8)
}

/// 0 = Sunday.
pub fn weekday_of(year: i64, month: u8, day: u8) -> usize {
    (crate::calendar::weekday_from_monday(days_from_civil(year, month, day)) + 1) % 7
}

fn days_in_month(year: i64, month: u8) -> u8 {
    crate::calendar::days_in_month(year, u32::from(month)) as u8
}

impl DateTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The UTC date and time of a Unix timestamp.
    pub fn from_unix(secs: i64) -> DateTime {
        let days = secs.div_euclid(86_400);
        let rest = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            hour: (rest / 3600) as u8,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
            offset_minutes: 0,
        }
    }

    pub fn weekday(&self) -> usize {
        weekday_of(self.year, self.month, self.day)
    }

    /// `Thu, 4 Sep 2003 10:21:22 -0500`, the RFC 5322 §3.3 form.
    pub fn to_rfc5322(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        format!(
            "{}, {} {} {} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            WEEKDAYS[self.weekday()],
            self.day,
            MONTHS[usize::from(self.month.clamp(1, 12)) - 1],
            self.year,
            self.hour,
            self.minute,
            self.second,
            off / 60,
            off % 60
        )
    }

    /// `2003-09-04 15:21:22 UTC`: the same instant in UTC, for display.
    pub fn utc_iso(&self) -> String {
        let u = DateTime::from_unix(self.unix());
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            u.year, u.month, u.day, u.hour, u.minute, u.second
        )
    }
}

/// The result of reading a date: the date if it could be read, and what is
/// wrong or obsolete in how it was written: (severity, message, RFC section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedDate {
    pub date: Option<DateTime>,
    pub problems: Vec<(Severity, String, &'static str)>,
}

fn zone_offset(zone: &str) -> Option<(i32, bool)> {
    // (minutes east of UTC, obsolete)
    let z = zone.to_ascii_uppercase();
    if let Some(digits) = z.strip_prefix(['+', '-'])
        && digits.len() == 4
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let h: i32 = digits[..2].parse().ok()?;
        let m: i32 = digits[2..].parse().ok()?;
        let sign = if z.starts_with('-') { -1 } else { 1 };
        return Some((sign * (h * 60 + m), false));
    }
    let hours = match z.as_str() {
        "UT" | "GMT" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        // Military zones: RFC 5322 §4.3 says to read them as -0000.
        _ if z.len() == 1 && z.as_bytes()[0].is_ascii_alphabetic() => 0,
        _ => return None,
    };
    Some((hours * 60, true))
}

/// Reads an RFC 5322 date-time, accepting the obsolete syntax of §4.3.
pub fn parse(text: &str) -> ParsedDate {
    let mut out = ParsedDate::default();
    // Comments such as "(UTC)" or "(PDT)" carry no meaning.
    let mut cleaned = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => cleaned.push(c),
            _ => {}
        }
    }
    let mut tokens: Vec<&str> = cleaned
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let mut written_weekday = None;
    if let Some(first) = tokens.first()
        && let Some(i) = WEEKDAYS.iter().position(|w| w.eq_ignore_ascii_case(first))
    {
        written_weekday = Some(i);
        tokens.remove(0);
    }
    let fail = |mut out: ParsedDate, why: &str| {
        out.problems.push((
            Severity::Error,
            format!("{why}; the form is \"Thu, 4 Sep 2003 10:21:22 -0500\""),
            "RFC 5322 §3.3",
        ));
        out
    };
    if tokens.len() < 4 {
        return fail(out, "this date lacks parts (day, month, year, time, zone)");
    }
    let Ok(day) = tokens[0].parse::<u8>() else {
        return fail(out, &format!("{:?} is not a day of the month", tokens[0]));
    };
    let Some(month_index) = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(tokens[1]))
    else {
        return fail(out, &format!("{:?} is not a month name", tokens[1]));
    };
    let month = month_index as u8 + 1;
    let year_text = tokens[2];
    let Ok(mut year) = year_text.parse::<i64>() else {
        return fail(out, &format!("{year_text:?} is not a year"));
    };
    if year_text.len() < 4 {
        year += if year_text.len() == 2 && year < 50 {
            2000
        } else {
            1900
        };
        out.problems.push((
            Severity::Warning,
            format!(
                "the year {year_text:?} has {} digits: obsolete syntax, read as {year}; write \
                 four digits",
                year_text.len()
            ),
            "RFC 5322 §4.3",
        ));
    }
    let time_text = tokens[3];
    if time_text.contains('.') {
        out.problems.push((
            Severity::Error,
            format!("the time {time_text:?} uses '.' where the syntax has ':' (hh:mm:ss)"),
            "RFC 5322 §3.3",
        ));
    }
    let parts: Vec<&str> = time_text.split([':', '.']).collect();
    let numbers: Option<Vec<u8>> = parts.iter().map(|p| p.parse::<u8>().ok()).collect();
    let (hour, minute, second) = match numbers.as_deref() {
        Some([h, m]) => (*h, *m, 0),
        Some([h, m, s]) => (*h, *m, *s),
        _ => return fail(out, &format!("{time_text:?} is not a time of day")),
    };
    if hour > 23 || minute > 59 || second > 60 {
        return fail(out, &format!("{time_text:?} is not a valid time of day"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return fail(
            out,
            &format!("{} {} has no day {day}", MONTHS[month_index], year),
        );
    }
    let offset_minutes = match tokens.get(4) {
        None => {
            out.problems.push((
                Severity::Error,
                "the date has no time zone (such as +0000 or -0500)".into(),
                "RFC 5322 §3.3",
            ));
            0
        }
        Some(zone) => match zone_offset(zone) {
            Some((offset, obsolete)) => {
                if obsolete {
                    let sign = if offset < 0 { '-' } else { '+' };
                    let off = offset.unsigned_abs();
                    out.problems.push((
                        Severity::Note,
                        format!(
                            "the zone {zone:?} is an obsolete name; today it is written as a \
                             numeric offset, {sign}{:02}{:02}",
                            off / 60,
                            off % 60
                        ),
                        "RFC 5322 §4.3",
                    ));
                }
                offset
            }
            None => {
                out.problems.push((
                    Severity::Error,
                    format!("{zone:?} is not a time zone"),
                    "RFC 5322 §3.3",
                ));
                0
            }
        },
    };
    let date = DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset_minutes,
    };
    if let Some(written) = written_weekday {
        let actual = date.weekday();
        if written != actual {
            out.problems.push((
                Severity::Warning,
                format!(
                    "{} {} {} was a {}, not a {} as written",
                    day, MONTHS[month_index], year, WEEKDAYS[actual], WEEKDAYS[written]
                ),
                "RFC 5322 §3.3",
            ));
        }
    }
    out.date = Some(date);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_known_answers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(WEEKDAYS[weekday_of(2003, 9, 4)], "Thu");
        assert_eq!(
            DateTime::from_unix(1_700_000_000).to_rfc5322(),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
    }

    #[test]
    fn the_course_date_has_the_wrong_weekday_and_an_obsolete_zone() {
        let p = parse("Wed, 4 Sep 2003 10:21:22 EST");
        let d = p.date.unwrap();
        assert_eq!(d.offset_minutes, -300);
        assert_eq!(d.utc_iso(), "2003-09-04 15:21:22 UTC");
        let messages: Vec<_> = p.problems.iter().map(|(_, m, _)| m.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("was a Thu, not a Wed")));
        assert!(messages.iter().any(|m| m.contains("-0500")));
    }

    #[test]
    fn textbook_received_dates() {
        let p = parse("12 Oct 98 15:27:39 GMT");
        assert_eq!(p.date.unwrap().year, 1998);
        assert_eq!(p.problems.len(), 2);
        let p = parse("3 Jul 01 15:30.01 GMT");
        assert_eq!(p.date.unwrap().year, 2001);
        assert!(
            p.problems
                .iter()
                .any(|(s, m, _)| *s == Severity::Error && m.contains("'.'"))
        );
    }

    #[test]
    fn good_and_bad_dates() {
        let p = parse("Tue, 14 Nov 2023 22:13:20 +0000 (UTC)");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.date.unwrap().unix(), 1_700_000_000);
        for bad in [
            "",
            "yesterday",
            "31 Feb 2020 10:00 +0000",
            "1 Jan 2020 25:00 +0000",
        ] {
            let p = parse(bad);
            assert!(p.date.is_none(), "{bad}");
            assert_eq!(p.problems[0].0, Severity::Error);
        }
        assert!(
            parse("1 Jan 2020 10:00").problems[0]
                .1
                .contains("no time zone")
        );
    }
}
