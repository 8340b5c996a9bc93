//! Defensive parsing of the rate-limit headers a sign server sends with a 429 (or 503).
//!
//! Sign servers in the wild send any of (protocol.md §5.2):
//!
//! * `Retry-After`: delta seconds (`"30"`) or an HTTP date (`"Wed, 21 Oct 2026 07:28:00 GMT"`);
//! * `X-RateLimit-Reset`: epoch seconds (read by the Node reference);
//! * `RateLimit-Reset` / `RateLimit-Remaining` (read by the Python reference, which uses the
//!   *remaining count* as the delay: a bug this crate does not copy; the count is kept as
//!   information only);
//! * the IETF draft's structured `RateLimit: limit=10, remaining=0, reset=30`.
//!
//! Every value is parsed without panicking: garbage, negative, NaN and absurdly large values are
//! ignored or clamped to [`MAX_RETRY_AFTER`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// The longest retry delay this crate will ever report or pause for (one day). A server that
/// asks for more is clamped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Values at or above this are taken as epoch milliseconds rather than seconds.
const EPOCH_MS_THRESHOLD: f64 = 1.0e12;
/// Values at or above this (2001-09-09 as epoch seconds) are taken as epoch seconds rather than a
/// delta; no server means "retry in 31 years".
const EPOCH_S_THRESHOLD: f64 = 1.0e9;

/// What the rate-limit headers of one response said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RateLimitHeaders {
    /// When to retry, from the first header that parsed (clamped to [`MAX_RETRY_AFTER`]).
    pub retry_after: Option<Duration>,
    /// Requests left in the current window, if the server said.
    pub remaining: Option<u64>,
}

/// Parses the rate-limit headers of a response. `now` is the wall clock used to turn dates and
/// epoch timestamps into delays (a parameter so tests are deterministic).
pub(crate) fn parse_rate_limit_headers(headers: &HeaderMap, now: SystemTime) -> RateLimitHeaders {
    let values = |name: &str| -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    };

    let retry_after = values("retry-after")
        .into_iter()
        .find_map(|v| parse_retry_after(v, now))
        .or_else(|| {
            values("x-ratelimit-reset")
                .into_iter()
                .find_map(|v| parse_reset(v, now))
        })
        .or_else(|| {
            values("ratelimit-reset")
                .into_iter()
                .find_map(|v| parse_reset(v, now))
        })
        .or_else(|| {
            values("ratelimit")
                .into_iter()
                .find_map(|v| structured_param(v, "reset").and_then(|r| parse_reset(r, now)))
        });

    let remaining = values("ratelimit-remaining")
        .into_iter()
        .chain(values("x-ratelimit-remaining"))
        .find_map(parse_count)
        .or_else(|| {
            values("ratelimit")
                .into_iter()
                .find_map(|v| structured_param(v, "remaining").and_then(parse_count))
        });

    RateLimitHeaders {
        retry_after,
        remaining,
    }
}

/// `Retry-After`: delta seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(secs) = parse_non_negative(value) {
        return Some(clamp_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(until(date, now))
}

/// A reset value: epoch milliseconds, epoch seconds or delta seconds (see the thresholds), or an
/// HTTP date.
pub(crate) fn parse_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let Some(n) = parse_non_negative(value) else {
        return httpdate::parse_http_date(value)
            .ok()
            .map(|date| until(date, now));
    };
    if n >= EPOCH_S_THRESHOLD {
        let secs = if n >= EPOCH_MS_THRESHOLD {
            n / 1000.0
        } else {
            n
        };
        // `secs` is finite and at most f64::MAX / 1000; saturate instead of overflowing.
        let at = Duration::try_from_secs_f64(secs)
            .ok()
            .and_then(|d| UNIX_EPOCH.checked_add(d));
        return Some(match at {
            Some(at) => until(at, now),
            None => MAX_RETRY_AFTER,
        });
    }
    Some(clamp_secs(n))
}

/// A non-negative finite decimal number (`"30"`, `"1.5"`); anything else is `None`.
fn parse_non_negative(value: &str) -> Option<f64> {
    // Only plain decimals: `f64::from_str` would also take "inf", "NaN" and "1e999".
    if value.is_empty()
        || value.len() > 32
        || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || value.bytes().filter(|&b| b == b'.').count() > 1
        || !value.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n: f64 = value.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn parse_count(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn clamp_secs(secs: f64) -> Duration {
    if secs >= MAX_RETRY_AFTER.as_secs_f64() {
        MAX_RETRY_AFTER
    } else {
        Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER)
    }
}

/// Time from `now` until `at`, zero if `at` is past, clamped to [`MAX_RETRY_AFTER`].
fn until(at: SystemTime, now: SystemTime) -> Duration {
    at.duration_since(now)
        .unwrap_or(Duration::ZERO)
        .min(MAX_RETRY_AFTER)
}

/// Reads `key=value` out of a structured header like `limit=10, remaining=0, reset=30` (also
/// accepts `;` separators and quoted values).
fn structured_param<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    header.split([',', ';']).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after("30", now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now()),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now() + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&date, now()),
            Some(Duration::from_secs(90))
        );
        // A date in the past means "now".
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&past, now()), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_negative_and_huge_values_never_panic() {
        for v in [
            "",
            "-5",
            "abc",
            "NaN",
            "inf",
            "1e999",
            "1..2",
            ".",
            "Wed, 99 Foo 2026",
            "😀",
        ] {
            assert_eq!(parse_retry_after(v, now()), None, "{v:?}");
        }
        assert_eq!(
            parse_retry_after("18446744073709551616", now()),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after(&"9".repeat(32), now()),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_reset(&"9".repeat(32), now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_reset("-1", now()), None);
    }

    #[test]
    fn reset_epoch_seconds_millis_and_delta() {
        assert_eq!(
            parse_reset("1800000042", now()),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_reset("1800000042000", now()),
            Some(Duration::from_secs(42))
        );
        assert_eq!(parse_reset("42", now()), Some(Duration::from_secs(42)));
        // Past epoch: retry now.
        assert_eq!(parse_reset("1700000000", now()), Some(Duration::ZERO));
        // Far-future epoch: clamped.
        assert_eq!(parse_reset("99999999999", now()), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn header_precedence_and_fallbacks() {
        let h = headers(&[("Retry-After", "7"), ("X-RateLimit-Reset", "1800000100")]);
        assert_eq!(
            parse_rate_limit_headers(&h, now()).retry_after,
            Some(Duration::from_secs(7))
        );
        // Garbage Retry-After falls through to the next header.
        let h = headers(&[("Retry-After", "soon"), ("X-RateLimit-Reset", "1800000100")]);
        assert_eq!(
            parse_rate_limit_headers(&h, now()).retry_after,
            Some(Duration::from_secs(100))
        );
        let h = headers(&[("RateLimit-Reset", "12"), ("RateLimit-Remaining", "0")]);
        let parsed = parse_rate_limit_headers(&h, now());
        assert_eq!(parsed.retry_after, Some(Duration::from_secs(12)));
        assert_eq!(parsed.remaining, Some(0));
        let h = headers(&[("RateLimit", "limit=10, remaining=3, reset=5")]);
        let parsed = parse_rate_limit_headers(&h, now());
        assert_eq!(parsed.retry_after, Some(Duration::from_secs(5)));
        assert_eq!(parsed.remaining, Some(3));
        // Remaining alone is not a delay (unlike the Python reference).
        let h = headers(&[("RateLimit-Remaining", "30")]);
        let parsed = parse_rate_limit_headers(&h, now());
        assert_eq!(parsed.retry_after, None);
        assert_eq!(parsed.remaining, Some(30));
        assert_eq!(
            parse_rate_limit_headers(&HeaderMap::new(), now()),
            RateLimitHeaders::default()
        );
    }
}
