//! Run metrics computed from records alone, as they stream past: in-service capacity over time,
//! its floor during refreshes, surge instance-seconds, pauses and API errors. Sweeps use only
//! this sink, so a run need not keep its timeline.

use super::record::{Event, Record};
use crate::api::{Action, ActivityStatus, ErrorCode, LifeCycleState};
use std::collections::BTreeMap;

/// Metrics of one run. Times are simulated milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// In-service instances right now (LifeCycleState `IN_SERVICE`, surge instances included).
    pub in_service: u32,
    /// In-service count when the first refresh activity was created.
    pub in_service_before: Option<u32>,
    /// Lowest in-service count while any refresh activity was non-terminal.
    pub min_in_service: Option<u32>,
    pub min_in_service_at_ms: u64,
    /// Time with in-service below `floor_permille`/1000 of `in_service_before`, during refreshes.
    pub below_floor_ms: u64,
    /// Integral of live surge instances over time (the pay-as-you-go cost driver).
    pub surge_instance_ms: u64,
    pub surge_peak: u32,
    /// Number of transitions into a `*_PAUSE` status, and when the first happened.
    pub pauses: u32,
    pub failed_pauses: u32,
    pub first_pause_ms: Option<u64>,
    pub first_refresh_created_ms: Option<u64>,
    pub last_refresh_ended_ms: Option<u64>,
    pub api_calls: u32,
    /// Error responses by code.
    pub api_errors: BTreeMap<ErrorCode, u32>,
    /// The error of the first refused `StartInstanceRefresh`, if any was refused.
    pub first_start_error: Option<ErrorCode>,
    pub records: u64,
}

/// Streams records into `Metrics`.
#[derive(Debug, Clone, Default)]
pub struct MetricsSink {
    pub metrics: Metrics,
    floor_permille: u32,
    active_refreshes: u32,
    surge_live: u32,
    /// Dense flags by symbol index: is this instance a surge instance?
    surge_flags: Vec<bool>,
    last_ms: u64,
}

impl MetricsSink {
    /// `floor_permille` is the threshold for `below_floor_ms` (800 = 80 % of the pre-refresh
    /// in-service count).
    pub fn new(floor_permille: u32) -> MetricsSink {
        MetricsSink {
            floor_permille,
            ..MetricsSink::default()
        }
    }

    pub fn observe(&mut self, record: &Record) {
        let now = record.time.as_ms();
        self.integrate_until(now);
        let m = &mut self.metrics;
        m.records += 1;
        match &record.event {
            Event::InstanceJoined {
                instance,
                state,
                surge,
                ..
            } => {
                if *state == LifeCycleState::InService {
                    m.in_service += 1;
                }
                if *surge {
                    let index = instance.index();
                    if self.surge_flags.len() <= index {
                        self.surge_flags.resize(index + 1, false);
                    }
                    self.surge_flags[index] = true;
                    self.surge_live += 1;
                    m.surge_peak = m.surge_peak.max(self.surge_live);
                }
            }
            Event::InstanceLeft { instance, from, .. } => {
                if *from == LifeCycleState::InService {
                    m.in_service = m.in_service.saturating_sub(1);
                }
                if self
                    .surge_flags
                    .get(instance.index())
                    .copied()
                    .unwrap_or(false)
                {
                    self.surge_flags[instance.index()] = false;
                    self.surge_live = self.surge_live.saturating_sub(1);
                }
            }
            Event::LifeCycle { from, to, .. } => {
                let was = *from == LifeCycleState::InService;
                let is = *to == LifeCycleState::InService;
                if was && !is {
                    m.in_service = m.in_service.saturating_sub(1);
                } else if is && !was {
                    m.in_service += 1;
                }
            }
            Event::ActivityCreated { .. } => {
                if m.in_service_before.is_none() {
                    m.in_service_before = Some(m.in_service);
                    m.first_refresh_created_ms = Some(now);
                }
                self.active_refreshes += 1;
            }
            Event::ActivityStatus { from, to, .. } => {
                if to.is_paused() {
                    m.pauses += 1;
                    if *to == ActivityStatus::FailedPause {
                        m.failed_pauses += 1;
                    }
                    m.first_pause_ms.get_or_insert(now);
                }
                if to.is_terminal() && !from.is_terminal() {
                    self.active_refreshes = self.active_refreshes.saturating_sub(1);
                    if self.active_refreshes == 0 {
                        m.last_refresh_ended_ms = Some(now);
                    }
                }
            }
            Event::ApiCall { .. } => m.api_calls += 1,
            Event::ApiResult {
                error: Some((code, _)),
                action,
                ..
            } => {
                *m.api_errors.entry(*code).or_insert(0) += 1;
                if *action == Action::StartInstanceRefresh {
                    m.first_start_error.get_or_insert(*code);
                }
            }
            Event::ApiResult { error: None, .. }
            | Event::Reinstalled { .. }
            | Event::GroupEnabled { .. }
            | Event::GroupStatus { .. }
            | Event::RoleAuthorized { .. }
            | Event::ScalingActivity { .. }
            | Event::Phase { .. }
            | Event::BatchStatus { .. }
            | Event::InstanceStatus { .. }
            | Event::InstanceSkipped { .. }
            | Event::LaunchConfig { .. }
            | Event::ImageAvailability { .. }
            | Event::HookStarted { .. }
            | Event::HookCompleted { .. }
            | Event::ScalingIgnored { .. }
            | Event::RunEnd { .. } => {}
        }
        if self.active_refreshes > 0 {
            let m = &mut self.metrics;
            if m.min_in_service.is_none_or(|min| m.in_service < min) {
                m.min_in_service = Some(m.in_service);
                m.min_in_service_at_ms = now;
            }
        }
    }

    /// Accumulates time-weighted quantities up to `now_ms`.
    fn integrate_until(&mut self, now_ms: u64) {
        let dt = now_ms.saturating_sub(self.last_ms);
        if dt == 0 {
            return;
        }
        let m = &mut self.metrics;
        m.surge_instance_ms += dt * u64::from(self.surge_live);
        if self.active_refreshes > 0
            && let Some(before) = m.in_service_before
            && u64::from(m.in_service) * 1000 < u64::from(before) * u64::from(self.floor_permille)
        {
            m.below_floor_ms += dt;
        }
        self.last_ms = now_ms;
    }

    /// Closes the integrals at the end of the run.
    pub fn finish(&mut self, end_ms: u64) -> &Metrics {
        self.integrate_until(end_ms);
        &self.metrics
    }
}
