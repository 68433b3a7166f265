//! Rollback and freeze windows: weekly ranges ("Mon-Fri 09:00-17:00", "daily 00:00-24:00", ranges past
//! midnight) and absolute periods ("FROM/TO" in RFC 3339), in UTC or a fixed offset.

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

/// A parsed weekly range: the days it starts on (Mon = 0) and start/end minute of the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Weekly {
    days: [bool; 7],
    start: u32,
    end: u32,
}

/// One `allow` or `freeze` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    Weekly(Weekly),
    Absolute(DateTime<Utc>, DateTime<Utc>),
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(s: &str) -> Option<usize> {
    let s = s.to_ascii_lowercase();
    DAYS.iter().position(|d| s.starts_with(d) && s.len() >= 3 && d.starts_with(&s[..3]))
}

fn minute(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Parses a timezone: "UTC", "Z", or a fixed offset "+HH:MM" / "-HH:MM".
pub(crate) fn parse_timezone(s: &str) -> Result<FixedOffset, String> {
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return Ok(FixedOffset::east_opt(0).expect("zero offset"));
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(format!("timezone {s:?} is not UTC or a fixed offset like +01:00")),
    };
    let mins = minute(rest).filter(|m| *m < 24 * 60).ok_or_else(|| format!("timezone {s:?} has a bad offset"))?;
    FixedOffset::east_opt(sign * mins as i32 * 60).ok_or_else(|| format!("timezone {s:?} is out of range"))
}

/// Parses an `allow` or `freeze` item.
pub(crate) fn parse_span(s: &str) -> Result<Span, String> {
    let s = s.trim();
    if let Some((from, to)) = s.split_once('/') {
        let f = DateTime::parse_from_rfc3339(from.trim())
            .map_err(|_| format!("{s:?}: {from:?} is not an RFC 3339 time"))?;
        let t =
            DateTime::parse_from_rfc3339(to.trim()).map_err(|_| format!("{s:?}: {to:?} is not an RFC 3339 time"))?;
        if t <= f {
            return Err(format!("{s:?}: the period ends before it starts"));
        }
        return Ok(Span::Absolute(f.with_timezone(&Utc), t.with_timezone(&Utc)));
    }
    let (days_s, times) =
        s.split_once(' ').ok_or_else(|| format!("{s:?} is not \"DAYS HH:MM-HH:MM\" or \"FROM/TO\""))?;
    let mut days = [false; 7];
    if days_s.eq_ignore_ascii_case("daily") || days_s == "*" {
        days = [true; 7];
    } else {
        for part in days_s.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (
                        day(a).ok_or(format!("{s:?}: unknown day {a:?}"))?,
                        day(b).ok_or(format!("{s:?}: unknown day {b:?}"))?,
                    );
                    let mut d = a;
                    loop {
                        days[d] = true;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(part).ok_or(format!("{s:?}: unknown day {part:?}"))?] = true,
            }
        }
    }
    let (a, b) = times.trim().split_once('-').ok_or_else(|| format!("{s:?}: times must be HH:MM-HH:MM"))?;
    let start = minute(a).filter(|m| *m < 24 * 60).ok_or_else(|| format!("{s:?}: bad start time {a:?}"))?;
    let end = minute(b).ok_or_else(|| format!("{s:?}: bad end time {b:?}"))?;
    if start == end {
        return Err(format!("{s:?}: the range is empty"));
    }
    Ok(Span::Weekly(Weekly { days, start, end }))
}

impl Span {
    /// Whether `at` falls inside this span, reading weekly ranges in `tz`.
    pub(crate) fn contains(&self, at: DateTime<Utc>, tz: &FixedOffset) -> bool {
        match self {
            Span::Absolute(f, t) => *f <= at && at < *t,
            Span::Weekly(w) => {
                let local = at.with_timezone(tz);
                let wd = local.weekday().num_days_from_monday() as usize;
                let m = local.hour() * 60 + local.minute();
                if w.start < w.end {
                    w.days[wd] && w.start <= m && m < w.end
                } else {
                    // Runs past midnight: the evening part on a listed day, or the morning after it.
                    (w.days[wd] && m >= w.start) || (w.days[(wd + 6) % 7] && m < w.end)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekly_ranges() {
        let utc = parse_timezone("UTC").unwrap();
        let w = parse_span("Mon-Fri 09:00-17:00").unwrap();
        // 2026-11-23 is a Monday.
        assert!(w.contains(at("2026-11-23T09:00:00Z"), &utc));
        assert!(!w.contains(at("2026-11-23T17:00:00Z"), &utc));
        assert!(!w.contains(at("2026-11-28T10:00:00Z"), &utc)); // Saturday
        let night = parse_span("Fri 22:00-02:00").unwrap();
        assert!(night.contains(at("2026-11-27T23:00:00Z"), &utc));
        assert!(night.contains(at("2026-11-28T01:59:00Z"), &utc));
        assert!(!night.contains(at("2026-11-28T02:00:00Z"), &utc));
        assert!(parse_span("daily 00:00-24:00").unwrap().contains(at("2026-11-25T23:59:59Z"), &utc));
        let wrap = parse_span("Sat-Mon 10:00-11:00").unwrap();
        assert!(wrap.contains(at("2026-11-29T10:30:00Z"), &utc)); // Sunday
    }

    #[test]
    fn offsets_shift_weekly_ranges() {
        let plus2 = parse_timezone("+02:00").unwrap();
        let w = parse_span("Mon 09:00-10:00").unwrap();
        assert!(w.contains(at("2026-11-23T07:30:00Z"), &plus2));
        assert!(!w.contains(at("2026-11-23T09:30:00Z"), &plus2));
        assert!(parse_timezone("Europe/Paris").is_err());
        assert!(parse_timezone("+25:00").is_err());
    }

    #[test]
    fn absolute_periods_and_errors() {
        let utc = parse_timezone("UTC").unwrap();
        let f = parse_span("2026-12-20T00:00:00Z/2027-01-03T00:00:00Z").unwrap();
        assert!(f.contains(at("2026-12-25T12:00:00Z"), &utc));
        assert!(!f.contains(at("2027-01-03T00:00:00Z"), &utc));
        for bad in [
            "Mon 9-17",
            "Funday 09:00-10:00",
            "Mon 10:00-10:00",
            "2027-01-01T00:00:00Z/2026-01-01T00:00:00Z",
            "Mon 09:00-24:30",
        ] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }
}
