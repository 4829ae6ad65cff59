//! Checked refresh settings (spec §2.1, §2.2) and the value checks of OQ-27 step 4.

use super::enums::{BatchPause, FailProcess, RefreshMode, ResumeMode};
use super::error::{ApiError, ErrorCode};
use super::request::RefreshSettingsInput;
use serde::Serialize;

/// §2.1: `CheckInstanceTargetHealthTimeout` range and default, in seconds.
pub const HEALTH_TIMEOUT_MIN_S: u64 = 60;
pub const HEALTH_TIMEOUT_MAX_S: u64 = 7200;
pub const HEALTH_TIMEOUT_DEFAULT_S: u64 = 1800;

/// Settings after value checks, with documented defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSettings {
    /// As given (uint64 in the API): errors report the value the caller sent, never a clamp.
    pub batch_number: u64,
    pub batch_pause: BatchPause,
    pub max_surge: u64,
    pub fail_process: FailProcess,
    pub check_instance_target_health: bool,
    pub check_instance_target_health_timeout_s: u64,
}

impl RefreshSettings {
    /// The `RefreshSettings` object as `DescribeRefreshActivities` returns it, every field
    /// present with its effective value.
    pub fn to_output(&self) -> RefreshSettingsOutput {
        RefreshSettingsOutput {
            rolling_update_settings: RollingUpdateSettingsOutput {
                batch_number: self.batch_number,
                batch_pause: self.batch_pause,
                max_surge: self.max_surge as i64,
                fail_process: self.fail_process,
            },
            check_instance_target_health: self.check_instance_target_health,
            check_instance_target_health_timeout: self.check_instance_target_health_timeout_s,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RollingUpdateSettingsOutput {
    #[serde(rename = "BatchNumber")]
    pub batch_number: u64,
    #[serde(rename = "BatchPause")]
    pub batch_pause: BatchPause,
    #[serde(rename = "MaxSurge")]
    pub max_surge: i64,
    #[serde(rename = "FailProcess")]
    pub fail_process: FailProcess,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefreshSettingsOutput {
    #[serde(rename = "RollingUpdateSettings")]
    pub rolling_update_settings: RollingUpdateSettingsOutput,
    #[serde(rename = "CheckInstanceTargetHealth")]
    pub check_instance_target_health: bool,
    #[serde(rename = "CheckInstanceTargetHealthTimeout")]
    pub check_instance_target_health_timeout: u64,
}

fn invalid_value(field: &str, expected: String, found: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameterValue,
        format!(
            "The value `{found}` of parameter `{field}` is invalid; expected one of {expected}"
        ),
    )
}

/// OQ-36: only the two documented modes; the legacy `ROLLING_UPDATE` is rejected.
pub fn check_refresh_mode(mode: Option<&str>) -> Result<RefreshMode, ApiError> {
    match mode {
        None => Ok(RefreshMode::RollingUpdateReset),
        Some(text) => RefreshMode::parse(text)
            .ok_or_else(|| invalid_value("RefreshMode", RefreshMode::expected(), text)),
    }
}

pub fn check_resume_mode(mode: Option<&str>) -> Result<ResumeMode, ApiError> {
    match mode {
        None => Ok(ResumeMode::Retry),
        Some(text) => ResumeMode::parse(text)
            .ok_or_else(|| invalid_value("ResumeMode", ResumeMode::expected(), text)),
    }
}

/// OQ-27 step 4: enum and range checks of `RefreshSettings`, in field order.
/// Requires `require_settings` to have passed (RollingUpdateSettings.BatchNumber present).
pub fn check_settings(input: &RefreshSettingsInput) -> Result<RefreshSettings, ApiError> {
    let rolling = input
        .rolling_update_settings
        .as_ref()
        .expect("parse guarantees RollingUpdateSettings");
    let batch_number = rolling.batch_number.expect("parse guarantees BatchNumber");
    if batch_number == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueRange,
            "The parameter `RefreshSettings.RollingUpdateSettings.BatchNumber` must be at least 1",
        ));
    }
    let batch_pause = match rolling.batch_pause.as_deref() {
        None => BatchPause::Automatic,
        Some(text) => BatchPause::parse(text).ok_or_else(|| {
            invalid_value(
                "RefreshSettings.RollingUpdateSettings.BatchPause",
                BatchPause::expected(),
                text,
            )
        })?,
    };
    let max_surge = match rolling.max_surge {
        None => 0,
        // OQ-6: a negative MaxSurge is the common InvalidParameterValue.
        Some(n) if n < 0 => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "The parameter `RefreshSettings.RollingUpdateSettings.MaxSurge` must not be negative, found {n}"
                ),
            ));
        }
        Some(n) => n as u64, // n ≥ 0 here; reported as given, never clamped
    };
    let fail_process = match rolling.fail_process.as_deref() {
        None => FailProcess::AutoPause,
        Some(text) => FailProcess::parse(text).ok_or_else(|| {
            invalid_value(
                "RefreshSettings.RollingUpdateSettings.FailProcess",
                FailProcess::expected(),
                text,
            )
        })?,
    };
    let timeout_s = input
        .check_instance_target_health_timeout
        .unwrap_or(HEALTH_TIMEOUT_DEFAULT_S);
    if !(HEALTH_TIMEOUT_MIN_S..=HEALTH_TIMEOUT_MAX_S).contains(&timeout_s) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueRange,
            format!(
                "The parameter `RefreshSettings.CheckInstanceTargetHealthTimeout` must be within [{HEALTH_TIMEOUT_MIN_S}, {HEALTH_TIMEOUT_MAX_S}], found {timeout_s}"
            ),
        ));
    }
    Ok(RefreshSettings {
        batch_number,
        batch_pause,
        max_surge,
        fail_process,
        check_instance_target_health: input.check_instance_target_health.unwrap_or(false),
        check_instance_target_health_timeout_s: timeout_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::RollingUpdateSettingsInput;

    fn input(batch_number: u64) -> RefreshSettingsInput {
        RefreshSettingsInput {
            rolling_update_settings: Some(RollingUpdateSettingsInput {
                batch_number: Some(batch_number),
                batch_pause: None,
                max_surge: None,
                fail_process: None,
            }),
            check_instance_target_health: None,
            check_instance_target_health_timeout: None,
        }
    }

    #[test]
    fn s2_defaults_automatic_auto_pause_no_surge_1800s() {
        let s = check_settings(&input(3)).unwrap();
        assert_eq!(s.batch_pause, BatchPause::Automatic);
        assert_eq!(s.fail_process, FailProcess::AutoPause);
        assert_eq!(s.max_surge, 0);
        assert!(!s.check_instance_target_health);
        assert_eq!(s.check_instance_target_health_timeout_s, 1800);
    }

    #[test]
    fn oq27_step4_batch_number_zero_is_range_error() {
        assert_eq!(
            check_settings(&input(0)).unwrap_err().code,
            ErrorCode::InvalidParameterValueRange
        );
    }

    #[test]
    fn s2_1_health_timeout_range_60_to_7200() {
        for (timeout, ok) in [(59, false), (60, true), (7200, true), (7201, false)] {
            let mut i = input(1);
            i.check_instance_target_health_timeout = Some(timeout);
            assert_eq!(check_settings(&i).is_ok(), ok, "timeout {timeout}");
            if !ok {
                assert_eq!(
                    check_settings(&i).unwrap_err().code,
                    ErrorCode::InvalidParameterValueRange
                );
            }
        }
    }

    #[test]
    fn bad_enum_values_are_invalid_parameter_value() {
        let mut i = input(1);
        i.rolling_update_settings.as_mut().unwrap().batch_pause = Some("Automatic".into());
        assert_eq!(
            check_settings(&i).unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
        let mut i = input(1);
        i.rolling_update_settings.as_mut().unwrap().fail_process = Some("AUTO_RETRY".into());
        assert_eq!(
            check_settings(&i).unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
    }

    #[test]
    fn oq6_negative_max_surge_is_common_invalid_parameter_value() {
        let mut i = input(1);
        i.rolling_update_settings.as_mut().unwrap().max_surge = Some(-1);
        assert_eq!(
            check_settings(&i).unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
    }

    #[test]
    fn oq36_legacy_rolling_update_mode_is_rejected() {
        assert_eq!(
            check_refresh_mode(Some("ROLLING_UPDATE")).unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
        assert_eq!(
            check_refresh_mode(None).unwrap(),
            RefreshMode::RollingUpdateReset
        );
    }
}
