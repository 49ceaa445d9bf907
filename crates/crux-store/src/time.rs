//! Timestamps: the store keeps Unix epoch milliseconds (UTC); these helpers format and parse ISO-8601 text.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// RFC 3339 in UTC with milliseconds: `2024-05-01T12:00:00.123Z`.
pub fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses ISO-8601 date-times as the original system wrote them: `2024-05-01T12:00:00+00:00`,
/// `2024-05-01 12:00:00` (naive, read as UTC), optional fraction, `Z` or `±HH:MM` / `±HHMM`, or a bare date.
/// Returns epoch milliseconds, or `None` when the text is not such a timestamp.
pub fn parse_iso(text: &str) -> Option<i64> {
    let s = text.trim();
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (time, offset_min) = split_offset(rest.trim())?;
    let (mut h, mut mi, mut sec, mut frac_ms) = (0, 0, 0, 0);
    if !time.is_empty() {
        let (hms, frac) = time.split_once(['.', ',']).unwrap_or((time, ""));
        let mut t = hms.split(':');
        h = digits(t.next()?)?;
        mi = digits(t.next()?)?;
        sec = t.next().map_or(Some(0), digits)?;
        if t.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        if !frac.is_empty() {
            let f: String = frac.chars().chain("000".chars()).take(3).collect();
            frac_ms = digits(&f)?;
            digits(frac)?;
        }
    }
    let days = days_from_civil(y, m, d);
    Some((((days * 24 + h) * 60 + mi - offset_min) * 60 + sec) * 1000 + frac_ms)
}

/// Splits a trailing `Z`/`±HH:MM`/`±HHMM`/`±HH` offset off a time; the offset is in minutes east of UTC.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(t) = time.strip_suffix(['Z', 'z']) {
        return Some((t, 0));
    }
    let Some(i) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let (t, off) = time.split_at(i);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let off = off[1..].replace(':', "");
    let (hh, mm) = match off.len() {
        2 => (digits(&off)?, 0),
        4 => (digits(&off[..2])?, digits(&off[2..])?),
        _ => return None,
    };
    Some((t, sign * (hh * 60 + mm)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(
            parse_iso("2024-05-01T12:00:00.123Z"),
            Some(1_714_564_800_123)
        );
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
        for ms in [0, 951_782_400_000, 4_102_444_800_000, 1_709_164_800_999] {
            assert_eq!(parse_iso(&format_ms(ms)), Some(ms));
        }
    }

    #[test]
    fn parses_legacy_forms() {
        let utc = parse_iso("2024-05-01T12:00:00+00:00");
        assert_eq!(utc, Some(1_714_564_800_000));
        assert_eq!(parse_iso("2024-05-01 12:00:00"), utc);
        assert_eq!(parse_iso("2024-05-01T14:00:00+02:00"), utc);
        assert_eq!(parse_iso("2024-05-01T07:00:00-0500"), utc);
        assert_eq!(
            parse_iso("2024-05-01T12:00:00.123456+00:00"),
            Some(1_714_564_800_123)
        );
        assert_eq!(parse_iso("2024-05-01"), Some(1_714_521_600_000));
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-05-01T25:00",
            "2024-05-01T12:00:00+5",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }
}
