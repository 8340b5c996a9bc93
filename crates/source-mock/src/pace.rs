//! How fast recorded time passes.

use std::time::Duration;

/// How fast a replay (or the fake server) plays a recording's time offsets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Pace {
    /// As fast as possible: offsets are ignored.
    Instant,
    /// At the recorded pace.
    #[default]
    RealTime,
    /// `N`× the recorded pace (2.0 = twice as fast). A factor that is not a positive finite
    /// number plays instantly.
    Speed(f64),
}

impl Pace {
    /// The wall-clock delay for a recorded offset, or `None` for [`Pace::Instant`].
    pub fn scale(self, offset_ms: u64) -> Option<Duration> {
        let speed = match self {
            Pace::Instant => return None,
            Pace::RealTime => 1.0,
            Pace::Speed(s) if s.is_finite() && s > 0.0 => s,
            Pace::Speed(_) => return None,
        };
        #[allow(clippy::cast_precision_loss)]
        let secs = offset_ms as f64 / 1000.0 / speed;
        Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
    }

    /// Parses `instant`, `realtime` (or `1`), or a speed factor like `2`, `2x`, `0.5`.
    pub fn parse(s: &str) -> Option<Pace> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "instant" | "fast" | "0" => Some(Pace::Instant),
            "realtime" | "real-time" | "real" | "1" | "1x" => Some(Pace::RealTime),
            other => {
                let n: f64 = other.strip_suffix('x').unwrap_or(other).parse().ok()?;
                (n.is_finite() && n > 0.0).then_some(Pace::Speed(n))
            }
        }
    }
}
