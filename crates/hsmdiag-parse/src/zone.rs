//! The zone of timestamps that carry none: UTC, a fixed offset, or an IANA
//! zone whose offset follows daylight saving time.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

/// Where zone-less times were written: a fixed offset (`+02:00`) or an IANA
/// zone (`Europe/Berlin`), whose offset is the one in force at each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zone {
    /// The same offset all year.
    Fixed(FixedOffset),
    /// A zone of the IANA time zone database.
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl From<FixedOffset> for Zone {
    fn from(o: FixedOffset) -> Self {
        Zone::Fixed(o)
    }
}

impl From<chrono_tz::Tz> for Zone {
    fn from(z: chrono_tz::Tz) -> Self {
        Zone::Named(z)
    }
}

const ZERO: FixedOffset = match FixedOffset::east_opt(0) {
    Some(z) => z,
    None => unreachable!(),
};

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone::Fixed(ZERO);

    /// Parses `UTC`, `Z`, an offset (`+02:00`, `+0200`, `-5`, `UTC+01:30`) or an
    /// IANA zone name (`Europe/Berlin`, `America/New_York`, case-insensitive).
    ///
    /// ```
    /// use hsmdiag_parse::Zone;
    /// assert_eq!(Zone::parse("+02:00").unwrap().to_string(), "+02:00");
    /// assert_eq!(Zone::parse("europe/berlin").unwrap().to_string(), "Europe/Berlin");
    /// assert!(Zone::parse("CEST").is_err());
    /// ```
    ///
    /// # Errors
    /// A message naming the forms accepted, with a close zone name when there is one.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t == "0" {
            return Ok(Zone::UTC);
        }
        let offset = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("utc"))
            .unwrap_or(t);
        if offset.starts_with(['+', '-']) {
            return parse_offset(offset)
                .map(Zone::Fixed)
                .ok_or_else(|| format!("`{s}`: give UTC, an offset such as +02:00 or -0500, or a zone such as Europe/Berlin"));
        }
        if let Ok(z) = t.parse::<chrono_tz::Tz>() {
            return Ok(Zone::Named(z));
        }
        if let Some(z) = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(t))
        {
            return Ok(Zone::Named(*z));
        }
        let hint = closest_zone(t)
            .map(|z| format!(" (did you mean {z}?)"))
            .unwrap_or_default();
        Err(format!(
            "`{s}` is not a zone{hint}: give UTC, an offset such as +02:00 or -0500, or an IANA zone such as Europe/Berlin"
        ))
    }

    /// The instant a zone-less local time names. In the hour a clock is set
    /// back, the first of the two; in the hour it skips, the time read one
    /// hour later (a clock that skipped the hour wrote it so).
    pub fn to_utc(&self, local: &NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(o) => o
                .from_local_datetime(local)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            Zone::Named(z) => z
                .from_local_datetime(local)
                .earliest()
                .or_else(|| {
                    z.from_local_datetime(&(*local + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// The offset from UTC in force at an instant.
    pub fn offset_at(&self, t: &DateTime<Utc>) -> FixedOffset {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(z) => z.offset_from_utc_datetime(&t.naive_utc()).fix(),
        }
    }

    /// An instant as local time in this zone.
    pub fn local(&self, t: &DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.offset_at(t))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(o) if o.local_minus_utc() == 0 => f.write_str("UTC"),
            Zone::Fixed(o) => write!(f, "{o}"),
            Zone::Named(z) => f.write_str(z.name()),
        }
    }
}

/// `+02:00`, `+0200`, `-5`, `+5:30`.
fn parse_offset(t: &str) -> Option<FixedOffset> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (h, m): (i32, i32) = match rest.split_once(':') {
        Some((h, m)) => (h.parse().ok()?, m.parse().ok()?),
        None if rest.len() <= 2 => (rest.parse().ok()?, 0),
        None if rest.len() == 4 => (rest[..2].parse().ok()?, rest[2..].parse().ok()?),
        None => return None,
    };
    if h > 14 || m >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The IANA zone whose name is nearest to `s` (by edit distance over the
/// city part too), when it is near enough to be a typo.
fn closest_zone(s: &str) -> Option<&'static str> {
    let want = s.to_ascii_lowercase();
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| {
            let name = z.name();
            let full = name.to_ascii_lowercase();
            let city = full.rsplit('/').next().unwrap_or(&full).to_owned();
            let d = strsim::levenshtein(&want, &full).min(strsim::levenshtein(&want, &city));
            (d, name)
        })
        .filter(|(d, _)| *d <= 2.max(want.len() / 5))
        .min_by_key(|(d, name)| (*d, name.len()))
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::Zone;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn offsets_and_names() {
        for (s, secs) in [
            ("UTC", 0),
            ("+02:00", 7200),
            ("-0500", -18000),
            ("+5", 18000),
            ("UTC+01:30", 5400),
        ] {
            match Zone::parse(s).unwrap() {
                Zone::Fixed(o) => assert_eq!(o.local_minus_utc(), secs, "{s}"),
                z => panic!("{s}: {z:?}"),
            }
        }
        for bad in ["CEST", "+25:00", "+1:75", "2", "Mars/Olympus"] {
            assert!(Zone::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Zone::parse("Europe/Berln")
                .unwrap_err()
                .contains("did you mean Europe/Berlin?")
        );
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_time() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let winter = NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let summer = NaiveDate::from_ymd_opt(2026, 7, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            berlin.to_utc(&winter),
            Some(Utc.with_ymd_and_hms(2026, 1, 15, 11, 0, 0).unwrap())
        );
        assert_eq!(
            berlin.to_utc(&summer),
            Some(Utc.with_ymd_and_hms(2026, 7, 15, 10, 0, 0).unwrap())
        );
        // 2026-03-29 02:30 does not exist in Berlin: read as 03:30 CEST.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            berlin.to_utc(&gap),
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap())
        );
        let t = Utc.with_ymd_and_hms(2026, 7, 15, 10, 0, 0).unwrap();
        assert_eq!(berlin.local(&t).to_rfc3339(), "2026-07-15T12:00:00+02:00");
    }
}
