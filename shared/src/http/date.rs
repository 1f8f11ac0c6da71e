//! HTTP dates (RFC 9110 §5.6.7): the preferred IMF-fixdate
//! (`Sun, 06 Nov 1994 08:49:37 GMT`), the two obsolete forms a recipient
//! must still accept (RFC 850 and asctime), and the checks a student's date
//! deserves: is it the preferred form, is the weekday right, is it GMT.
//!
//! Times are seconds since the Unix epoch (UTC); the calendar arithmetic is
//! the proleptic Gregorian one, good for any year from 1 to 9999.

/// Which of the three formats a date was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `Sun, 06 Nov 1994 08:49:37 GMT` — the only one a sender may generate.
    ImfFixdate,
    /// `Sunday, 06-Nov-94 08:49:37 GMT` — obsolete (RFC 850).
    Rfc850,
    /// `Sun Nov  6 08:49:37 1994` — obsolete (C's asctime).
    Asctime,
}

/// A date read from a header, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpDate {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    pub format: DateFormat,
    /// The weekday written, if it does not match the date.
    pub wrong_weekday: Option<WrongWeekday>,
}

/// The weekday a date says and the one the calendar says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongWeekday {
    pub written: &'static str,
    pub actual: &'static str,
}

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("not an HTTP date: expected the form `Sun, 06 Nov 1994 08:49:37 GMT`")]
    Unrecognised,
    #[error("the time zone must be GMT, not {0}")]
    NotGmt(String),
    #[error("{0}")]
    OutOfRange(&'static str),
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Index into [`WEEKDAYS`] (Monday = 0) of a day count since 1970-01-01.
pub fn weekday_index(days: i64) -> usize {
    crate::calendar::weekday_from_monday(days)
}

/// Formats a time as an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn format_imf(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[weekday_index(days)],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn month_index(name: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as u32 + 1)
}

fn parse_time(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((h, m, s))
}

fn weekday_of(name: &str) -> Option<usize> {
    WEEKDAYS
        .iter()
        .position(|w| w.eq_ignore_ascii_case(name))
        .or_else(|| {
            LONG_WEEKDAYS
                .iter()
                .position(|w| w.eq_ignore_ascii_case(name))
        })
}

/// Reads a date in any of the three formats.
pub fn parse(text: &str) -> Result<HttpDate, DateError> {
    let text = text.trim();
    let words: Vec<&str> = text.split_whitespace().collect();
    let (weekday, day, month, year, time, format, zone) = match words.as_slice() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        [wd, d, mon, y, t, zone] if wd.ends_with(',') && !d.contains('-') => (
            wd.trim_end_matches(','),
            *d,
            *mon,
            y.to_string(),
            *t,
            if wd.len() == 4 {
                DateFormat::ImfFixdate
            } else {
                DateFormat::Rfc850
            },
            Some(*zone),
        ),
        // Sunday, 06-Nov-94 08:49:37 GMT
        [wd, dmy, t, zone] if wd.ends_with(',') && dmy.contains('-') => {
            let mut parts = dmy.split('-');
            let (d, mon, y) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the
            // future is in the past century; without a clock, pivot at 70.
            let year = match y.len() {
                2 => match y.parse::<i64>() {
                    Ok(v) if v >= 70 => format!("19{y}"),
                    Ok(_) => format!("20{y}"),
                    Err(_) => return Err(DateError::Unrecognised),
                },
                _ => y.to_string(),
            };
            (
                wd.trim_end_matches(','),
                d,
                mon,
                year,
                *t,
                DateFormat::Rfc850,
                Some(*zone),
            )
        }
        // Sun Nov  6 08:49:37 1994
        [wd, mon, d, t, y] => (*wd, *d, *mon, y.to_string(), *t, DateFormat::Asctime, None),
        _ => return Err(DateError::Unrecognised),
    };
    if let Some(zone) = zone
        && !zone.eq_ignore_ascii_case("GMT")
    {
        return Err(DateError::NotGmt(zone.to_string()));
    }
    let month = month_index(month).ok_or(DateError::Unrecognised)?;
    let day: u32 = day.parse().map_err(|_| DateError::Unrecognised)?;
    let year: i64 = year.parse().map_err(|_| DateError::Unrecognised)?;
    let (h, m, s) = parse_time(time).ok_or(DateError::Unrecognised)?;
    if !(1..=9999).contains(&year) {
        return Err(DateError::OutOfRange("the year is out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(DateError::OutOfRange("that month has no such day"));
    }
    // 60 seconds is a leap second, which RFC 9110 allows.
    if h > 23 || m > 59 || s > 60 {
        return Err(DateError::OutOfRange("the time of day is out of range"));
    }
    let days = days_from_civil(year, month, day);
    let unix = days * 86_400 + (h * 3600 + m * 60 + s) as i64;
    let written = weekday_of(weekday).ok_or(DateError::Unrecognised)?;
    let actual = weekday_index(days);
    let wrong_weekday = (written != actual).then(|| WrongWeekday {
        written: WEEKDAYS[written],
        actual: WEEKDAYS[actual],
    });
    // IMF-fixdate also demands a two-digit day.
    let format = if format == DateFormat::ImfFixdate && day_text_len(text) != 2 {
        DateFormat::Rfc850
    } else {
        format
    };
    Ok(HttpDate {
        unix,
        format,
        wrong_weekday,
    })
}

fn day_text_len(text: &str) -> usize {
    text.split_whitespace().nth(1).map_or(0, str::len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_rfc_example_in_all_three_forms() {
        let want = 784_111_777;
        let imf = parse("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            (imf.unix, imf.format, imf.wrong_weekday),
            (want, DateFormat::ImfFixdate, None)
        );
        let rfc850 = parse("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
        assert_eq!((rfc850.unix, rfc850.format), (want, DateFormat::Rfc850));
        let asctime = parse("Sun Nov  6 08:49:37 1994").unwrap();
        assert_eq!((asctime.unix, asctime.format), (want, DateFormat::Asctime));
        assert_eq!(format_imf(want), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn the_courses_dates() {
        // Right: the textbook's conditional GET.
        assert!(
            parse("Mon, 22 Jun 1998 09:23:24 GMT")
                .unwrap()
                .wrong_weekday
                .is_none()
        );
        assert!(
            parse("Sun, 26 Sep 2010 20:09:20 GMT")
                .unwrap()
                .wrong_weekday
                .is_none()
        );
        // Wrong: 6 January 2017 was a Friday.
        let d = parse("Thu, 06 Jan 2017 12:00:15 GMT").unwrap();
        assert_eq!(
            d.wrong_weekday,
            Some(WrongWeekday {
                written: "Thu",
                actual: "Fri"
            })
        );
        // Not GMT, and a one-digit day.
        assert_eq!(
            parse("Wed, 4 Sep 2003 10:21:22 EST"),
            Err(DateError::NotGmt("EST".into()))
        );
        assert_eq!(
            parse("Thu, 4 Sep 2003 10:21:22 GMT").unwrap().format,
            DateFormat::Rfc850
        );
        // The textbook's dates without a zone at all.
        assert_eq!(
            parse("Wed, 12 Aug 1998 15:39:29"),
            Err(DateError::Unrecognised)
        );
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert!(matches!(
            parse("Sat, 30 Feb 2019 00:00:00 GMT"),
            Err(DateError::OutOfRange(_))
        ));
        assert!(matches!(
            parse("Sat, 01 Jan 2000 25:00:00 GMT"),
            Err(DateError::OutOfRange(_))
        ));
        assert!(parse("Tue, 29 Feb 2000 00:00:00 GMT").is_ok());
        assert!(parse("yesterday").is_err());
        assert!(parse("").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(unix in -2_000_000_000i64..100_000_000_000) {
            let text = format_imf(unix);
            let back = parse(&text).unwrap();
            prop_assert_eq!(back.unix, unix);
            prop_assert_eq!(back.format, DateFormat::ImfFixdate);
            prop_assert!(back.wrong_weekday.is_none());
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse(&text);
        }
    }
}
