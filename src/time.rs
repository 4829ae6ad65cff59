//! Simulated time (D1): integer milliseconds since the scenario's start instant.
//!
//! Time is data: nothing in the engine reads a clock. Wall-clock rendering happens only at
//! output, from the scenario's `start_time`, at whole seconds (spec §0.1, OQ-15).

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

/// Milliseconds since the scenario's start instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn from_secs(secs: u64) -> SimTime {
        SimTime(secs.saturating_mul(1000))
    }

    pub fn as_ms(self) -> u64 {
        self.0
    }

    /// `self + duration_ms`, saturating so a huge sampled duration cannot wrap around.
    pub fn plus_ms(self, duration_ms: u64) -> SimTime {
        SimTime(self.0.saturating_add(duration_ms))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration_ms(self.0))
    }
}

/// The wall-clock instant that simulated time 0 corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch {
    unix_secs: u64,
}

impl Epoch {
    pub fn from_unix_secs(unix_secs: u64) -> Epoch {
        Epoch { unix_secs }
    }

    /// Parses an RFC 3339 UTC instant such as `2023-09-07T16:27:49Z`.
    pub fn parse(text: &str) -> Result<Epoch, String> {
        let instant = humantime::parse_rfc3339(text.trim()).map_err(|e| {
            format!("expected an RFC 3339 UTC time like 2023-09-07T16:27:49Z ({e})")
        })?;
        let since = instant
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "times before 1970 are not supported".to_string())?;
        // Whole seconds only (spec §0.1): a fraction would be dropped silently otherwise.
        if since.subsec_nanos() != 0 {
            return Err(format!(
                "expected a whole-second UTC instant like 2023-09-07T16:27:49Z, found {:?} (fractional seconds are not supported)",
                text.trim()
            ));
        }
        Ok(Epoch {
            unix_secs: since.as_secs(),
        })
    }

    pub fn unix_secs(self) -> u64 {
        self.unix_secs
    }

    /// Whole-second UTC rendering of a simulated instant (`YYYY-MM-DDTHH:mm:ssZ`), truncating
    /// milliseconds, as Tencent renders refresh times.
    pub fn render(self, t: SimTime) -> String {
        render_unix_secs(self.unix_secs.saturating_add(t.0 / 1000))
    }

    /// Milliseconds of simulated time at which a wall-clock instant falls (saturating at 0 for
    /// instants before the epoch).
    pub fn offset_ms_of(self, unix_secs: u64) -> u64 {
        unix_secs
            .saturating_sub(self.unix_secs)
            .saturating_mul(1000)
    }
}

pub fn render_unix_secs(unix_secs: u64) -> String {
    // Timelines render the same second many times in a row (a batch step touches every
    // instance at one instant): a one-entry cache per thread saves the formatting.
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((0, String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != unix_secs || last.1.is_empty() {
            use std::fmt::Write;
            let instant = UNIX_EPOCH + Duration::from_secs(unix_secs);
            last.1.clear();
            let _ = write!(last.1, "{}", humantime::format_rfc3339_seconds(instant));
            last.0 = unix_secs;
        }
        last.1.clone()
    })
}

pub fn parse_rfc3339_secs(text: &str) -> Result<u64, String> {
    Epoch::parse(text).map(Epoch::unix_secs)
}

/// Parses a human duration such as `90s`, `2m30s`, `1h`, `250ms` into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(0);
    }
    let duration = humantime::parse_duration(trimmed).map_err(|e| {
        format!("expected a duration like \"90s\", \"2m30s\" or \"250ms\", found {text:?} ({e})")
    })?;
    u64::try_from(duration.as_millis()).map_err(|_| format!("duration {text:?} is too large"))
}

/// Renders a duration for people: whole seconds from 10 s up, exact below. Whole seconds are
/// truncated, never rounded, exactly as Describe renders times (spec §0.1, OQ-15), so a summary's
/// `+20m41s` and a Describe `10:20:41Z` (from a 10:00:00 start) always agree.
pub fn format_duration_human(total_ms: u64) -> String {
    if total_ms >= 10_000 {
        format_duration_ms(total_ms / 1000 * 1000)
    } else {
        format_duration_ms(total_ms)
    }
}

/// Renders milliseconds compactly and losslessly: `1h2m3s`, `90s`, `1s500ms`, `0s`.
pub fn format_duration_ms(total_ms: u64) -> String {
    if total_ms == 0 {
        return "0s".to_string();
    }
    let ms = total_ms % 1000;
    let total_secs = total_ms / 1000;
    let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_whole_seconds_utc_from_epoch() {
        // spec §0.1: YYYY-MM-DDTHH:mm:ssZ, second precision; OQ-15 whole seconds.
        let epoch = Epoch::parse("2023-09-07T16:27:49Z").unwrap();
        assert_eq!(epoch.render(SimTime(0)), "2023-09-07T16:27:49Z");
        assert_eq!(epoch.render(SimTime(72_999)), "2023-09-07T16:29:01Z");
        assert_eq!(
            epoch.render(SimTime::from_secs(3600 * 24)),
            "2023-09-08T16:27:49Z"
        );
    }

    #[test]
    fn parses_and_formats_durations() {
        assert_eq!(parse_duration_ms("90s").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("2m30s").unwrap(), 150_000);
        assert_eq!(parse_duration_ms("250ms").unwrap(), 250);
        assert_eq!(parse_duration_ms("0").unwrap(), 0);
        assert!(parse_duration_ms("ninety").is_err());
        assert_eq!(format_duration_ms(3_723_000), "1h2m3s");
        assert_eq!(format_duration_ms(1_500), "1s500ms");
        assert_eq!(format_duration_ms(0), "0s");
    }

    #[test]
    fn oq15_human_durations_truncate_to_whole_seconds_like_describe() {
        // 1,241,621 ms after 10:00:00 is 10:20:41 in Describe (whole seconds, truncated).
        let epoch = Epoch::parse("2026-01-01T10:00:00Z").unwrap();
        assert_eq!(epoch.render(SimTime(1_241_621)), "2026-01-01T10:20:41Z");
        assert_eq!(format_duration_human(1_241_621), "20m41s");
        assert_eq!(format_duration_human(10_999), "10s");
        assert_eq!(format_duration_human(9_999), "9s999ms");
    }

    #[test]
    fn rejects_non_utc_garbage() {
        assert!(Epoch::parse("yesterday").is_err());
    }

    #[test]
    fn spec_0_1_fractional_seconds_are_refused_not_dropped() {
        let e = Epoch::parse("2026-01-01T00:00:00.700Z").unwrap_err();
        assert!(e.contains("whole-second UTC instant"), "{e}");
        assert!(e.contains("2026-01-01T00:00:00.700Z"), "{e}");
        assert!(Epoch::parse("2026-01-01T00:00:00.000Z").is_ok());
    }
}
