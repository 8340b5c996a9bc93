//! Wall-clock helpers: milliseconds since the epoch, UTC dates, and reading `--since` values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::ArchiveError;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch, now.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The UTC date (`YYYY-MM-DD`) of a time in ms since the epoch.
pub(crate) fn utc_date(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let mut s = humantime::format_rfc3339_seconds(t).to_string();
    s.truncate(10);
    s
}

/// Reads a point in time for `export --since`: RFC 3339 (`2026-01-02T03:04:05Z`), a date
/// (`2026-01-02`, midnight UTC), Unix seconds or milliseconds (a number; 12 digits or more is
/// read as ms), or a duration back from now (`90m`, `2h`, `7d`). Returns ms since the epoch.
pub fn parse_since(text: &str) -> Result<i64, ArchiveError> {
    let t = text.trim();
    let bad = || ArchiveError::BadTime(t.chars().take(64).collect());
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().map_err(|_| bad())?;
        return Ok(if t.len() >= 12 {
            n
        } else {
            n.saturating_mul(1000)
        });
    }
    if t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') {
        return parse_since(&format!("{t}T00:00:00Z"));
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(t) {
        return at
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .map_err(|_| bad());
    }
    if let Ok(ago) = humantime::parse_duration(t) {
        let ago = i64::try_from(ago.as_millis()).map_err(|_| bad())?;
        return Ok(now_ms().saturating_sub(ago));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_times_numbers_and_durations() {
        assert_eq!(
            parse_since("2026-01-02T03:04:05Z").unwrap(),
            1_767_323_045_000
        );
        assert_eq!(parse_since("2026-01-02").unwrap(), 1_767_312_000_000);
        assert_eq!(parse_since("1767323045").unwrap(), 1_767_323_045_000);
        assert_eq!(parse_since("1767323045123").unwrap(), 1_767_323_045_123);
        let two_h = parse_since("2h").unwrap();
        assert!((now_ms() - two_h - 7_200_000).abs() < 5_000);
        assert!(matches!(
            parse_since("yesterday"),
            Err(ArchiveError::BadTime(_))
        ));
        assert_eq!(utc_date(1_767_323_045_000), "2026-01-02");
    }
}
