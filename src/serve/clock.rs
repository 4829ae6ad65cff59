//! The serve clock: how simulated time relates to the wall clock. The engine never reads a
//! clock (DESIGN.md §4); this module does, and turns it into `advance_until` targets.
//!
//! Simulated now = `offset_ms + real time elapsed since origin × rate`. The manual clock has rate
//! 0, so only control calls (which raise `offset_ms`) move it; `scaled:N` has rate N; `real` has
//! rate 1. Jumps (an advance control call) raise the offset, so time never goes back.

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

/// The most simulated seconds per real second `scaled:N` accepts.
pub const SCALE_MAX: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Simulated time moves only when a control call advances it (deterministic).
    Manual,
    /// `rate_permille / 1000` simulated seconds per real second.
    Scaled { rate_permille: u64 },
    /// One simulated second per real second.
    Real,
}

impl ClockMode {
    fn rate_permille(self) -> u64 {
        match self {
            ClockMode::Manual => 0,
            ClockMode::Scaled { rate_permille } => rate_permille,
            ClockMode::Real => 1000,
        }
    }

    /// Whether simulated time moves by itself (a background thread then keeps the engine up to
    /// date).
    pub fn runs_by_itself(self) -> bool {
        self.rate_permille() > 0
    }
}

impl FromStr for ClockMode {
    type Err = String;

    /// `manual`, `real`, or `scaled:N` with N > 0 simulated seconds per real second (up to three
    /// decimals, at most 1,000,000).
    fn from_str(text: &str) -> Result<ClockMode, String> {
        match text {
            "manual" => return Ok(ClockMode::Manual),
            "real" => return Ok(ClockMode::Real),
            _ => {}
        }
        let expected = || format!("expected manual, real or scaled:N (N > 0), found {text:?}");
        let factor = text.strip_prefix("scaled:").ok_or_else(expected)?;
        let rate_permille = parse_permille(factor).ok_or_else(expected)?;
        if rate_permille == 0 || rate_permille > SCALE_MAX * 1000 {
            return Err(format!(
                "scaled:N needs 0 < N <= {SCALE_MAX}, found {factor:?}"
            ));
        }
        Ok(ClockMode::Scaled { rate_permille })
    }
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockMode::Manual => f.write_str("manual"),
            ClockMode::Real => f.write_str("real"),
            ClockMode::Scaled { rate_permille } => {
                let (whole, frac) = (rate_permille / 1000, rate_permille % 1000);
                if frac == 0 {
                    write!(f, "scaled:{whole}")
                } else {
                    let digits = format!("{frac:03}");
                    write!(f, "scaled:{whole}.{}", digits.trim_end_matches('0'))
                }
            }
        }
    }
}

/// `"60"`, `"0.5"`, `"2.125"` → thousandths, exactly (no floating point).
fn parse_permille(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(frac) || frac.len() > 3 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = format!("{frac:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(frac)
}

#[derive(Debug, Clone)]
pub struct Clock {
    mode: ClockMode,
    origin: Instant,
    offset_ms: u64,
}

impl Clock {
    pub fn new(mode: ClockMode, real_now: Instant) -> Clock {
        Clock {
            mode,
            origin: real_now,
            offset_ms: 0,
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Simulated milliseconds at the real instant `real_now`.
    pub fn sim_now_ms(&self, real_now: Instant) -> u64 {
        let elapsed_ms = real_now.saturating_duration_since(self.origin).as_millis();
        let scaled = elapsed_ms * u128::from(self.mode.rate_permille()) / 1000;
        let scaled = u64::try_from(scaled).unwrap_or(u64::MAX);
        self.offset_ms.saturating_add(scaled)
    }

    /// Moves simulated time forward to `target_ms` (never back).
    pub fn jump_to(&mut self, target_ms: u64, real_now: Instant) {
        let now = self.sim_now_ms(real_now);
        if target_ms > now {
            self.offset_ms += target_ms - now;
        }
    }

    /// Back to simulated time 0 (reset).
    pub fn restart(&mut self, real_now: Instant) {
        self.origin = real_now;
        self.offset_ms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_and_renders_modes() {
        for (text, mode) in [
            ("manual", ClockMode::Manual),
            ("real", ClockMode::Real),
            (
                "scaled:60",
                ClockMode::Scaled {
                    rate_permille: 60_000,
                },
            ),
            ("scaled:0.5", ClockMode::Scaled { rate_permille: 500 }),
            (
                "scaled:2.125",
                ClockMode::Scaled {
                    rate_permille: 2125,
                },
            ),
        ] {
            assert_eq!(text.parse::<ClockMode>(), Ok(mode));
            assert_eq!(mode.to_string(), text);
        }
        for bad in [
            "",
            "fast",
            "scaled:",
            "scaled:0",
            "scaled:-1",
            "scaled:1e3",
            "scaled:0.0001",
            "scaled:1000001",
            "scaled:99999999999999999999",
        ] {
            assert!(bad.parse::<ClockMode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn manual_time_moves_only_by_jumps() {
        let t0 = Instant::now();
        let mut clock = Clock::new(ClockMode::Manual, t0);
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(clock.sim_now_ms(later), 0);
        clock.jump_to(90_000, later);
        assert_eq!(clock.sim_now_ms(later), 90_000);
        clock.jump_to(10_000, later);
        assert_eq!(clock.sim_now_ms(later), 90_000, "never back");
        clock.restart(later);
        assert_eq!(clock.sim_now_ms(later), 0);
    }

    #[test]
    fn scaled_time_runs_at_its_rate_plus_jumps() {
        let t0 = Instant::now();
        let mut clock = Clock::new(
            ClockMode::Scaled {
                rate_permille: 60_000,
            },
            t0,
        );
        let t1 = t0 + Duration::from_millis(1500);
        assert_eq!(clock.sim_now_ms(t1), 90_000);
        clock.jump_to(100_000, t1);
        assert_eq!(clock.sim_now_ms(t1), 100_000);
        assert_eq!(clock.sim_now_ms(t1 + Duration::from_secs(1)), 160_000);
        let real = Clock::new(ClockMode::Real, t0);
        assert_eq!(real.sim_now_ms(t1), 1500);
    }
}
