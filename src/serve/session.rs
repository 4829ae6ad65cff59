//! One serve session: the engine built from the scenario's world, the timeline so far, and the
//! clock. Every method is applied atomically under the server's lock, so concurrent clients see
//! one request after another. Knows the engine only through `Simulation`'s step API.

use super::clock::{Clock, ClockMode};
use crate::api::{Action, ApiError, ErrorCode};
use crate::run::meta_for;
use crate::scenario::{Scenario, What};
use crate::sim::{Prepared, RunError, Simulation};
use crate::time::{SimTime, format_duration_ms};
use crate::timeline::{Event, Record, RunEndReason, RunMeta, Sink, Timeline};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Bounds of one session (everything is bounded: DESIGN.md §4).
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// The most simulated time one advance control call may cover.
    pub advance_ms_max: u64,
    /// The timeline kept for snapshots, in (estimated) rendered bytes; records past it are
    /// counted, not kept.
    pub timeline_bytes_max: usize,
    /// API calls answered before a reset is needed (each interns its RequestId).
    pub calls_max: u64,
}

pub const DEFAULT_SESSION_LIMITS: SessionLimits = SessionLimits {
    advance_ms_max: 30 * 24 * 3600 * 1000,
    timeline_bytes_max: 128 * 1024 * 1024,
    calls_max: 1_000_000,
};

/// What every session of a server is built from: the scenario's world without its actions.
#[derive(Debug, Clone)]
pub struct SessionTemplate {
    pub scenario: Scenario,
    pub prepared: Prepared,
    pub seed: u64,
    pub meta: RunMeta,
    pub limits: SessionLimits,
}

impl SessionTemplate {
    /// Drops the scenario's `[[actions]]` (clients make the calls) and keeps its group, launch
    /// configuration, timing, faults and launch-configuration changes.
    pub fn new(
        mut scenario: Scenario,
        seed: u64,
        limits: SessionLimits,
    ) -> Result<SessionTemplate, RunError> {
        scenario.happenings.retain(|h| match h.what {
            What::Api { .. } => false,
            What::Change(_) => true,
        });
        let prepared = Prepared::new(&scenario)?;
        let meta = meta_for(&scenario, seed);
        Ok(SessionTemplate {
            scenario,
            prepared,
            seed,
            meta,
            limits,
        })
    }
}

/// Keeps the timeline for snapshots, up to a byte budget.
#[derive(Debug, Default)]
pub struct BoundedSink {
    records: Vec<Record>,
    kept_bytes: usize,
    bytes_max: usize,
    dropped: u64,
}

/// A rendered row without its variable parts is under this many bytes.
const ROW_BYTES_ESTIMATE: usize = 160;

fn estimated_row_bytes(record: &Record) -> usize {
    // The variable-length parts: request bodies and Describe responses (OQ-29 keeps those).
    let payload = if let Event::ApiCall { body, .. } = &record.event {
        body.len()
    } else if let Event::ApiResult {
        error, response, ..
    } = &record.event
    {
        error.as_ref().map_or(0, |(_, m)| m.len()) + response.as_ref().map_or(0, |r| r.len())
    } else {
        0
    };
    ROW_BYTES_ESTIMATE + payload
}

impl BoundedSink {
    fn new(bytes_max: usize) -> BoundedSink {
        BoundedSink {
            bytes_max,
            ..BoundedSink::default()
        }
    }
}

impl Sink for BoundedSink {
    fn record(&mut self, record: Record) {
        let size = estimated_row_bytes(&record);
        if self.kept_bytes + size > self.bytes_max {
            self.dropped += 1;
            return;
        }
        self.kept_bytes += size;
        self.records.push(record);
    }
}

/// How far an advance control call moves simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    By {
        duration_ms: u64,
    },
    /// To the next scheduled event (nothing happens when none is scheduled).
    NextEvent,
    /// Event by event until nothing is scheduled, within the per-call cap.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineFormat {
    Csv,
    Jsonl,
}

/// Why a control call could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// The request asks for something outside the limits (answered 422).
    Refused(String),
    /// The engine hit a run bound; the session is stopped until a reset (answered 409).
    Stopped(String),
}

pub struct Session {
    sim: Simulation,
    sink: BoundedSink,
    clock: Clock,
    /// Requests refused before reaching the engine (their RequestIds come from this count).
    refusals: u64,
    calls: u64,
    /// Set when the engine hit a run bound (D12): the session answers errors until a reset.
    stopped: Option<String>,
}

impl Session {
    pub fn new(template: &SessionTemplate, clock: ClockMode, real_now: Instant) -> Session {
        let mut sink = BoundedSink::new(template.limits.timeline_bytes_max);
        let sim = Simulation::from_prepared(&template.prepared, template.seed, &mut sink);
        Session {
            sim,
            sink,
            clock: Clock::new(clock, real_now),
            refusals: 0,
            calls: 0,
            stopped: None,
        }
    }

    /// Starts again from the scenario's start: a new engine, timeline and clock.
    pub fn reset(&mut self, template: &SessionTemplate, real_now: Instant) {
        *self = Session::new(template, self.clock.mode(), real_now);
    }

    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// The `DescribeRefreshActivities` response `run` writes as `describe.json`, for the world
    /// as it is now (no call is made, nothing is recorded).
    pub fn final_describe(&self, template: &SessionTemplate) -> Value {
        crate::run::final_describe(self.sim.world(), template.seed)
    }

    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.clock.mode()
    }

    /// Brings the engine up to the clock's simulated now (scaled and real clocks), and applies
    /// whatever is due by now (with any clock, OQ-61): a request arrives after everything scheduled at
    /// or before its arrival has happened, e.g. a scenario's fault event `at = "0s"`, or the
    /// zero-delay step a previous call scheduled.
    pub fn catch_up(&mut self, real_now: Instant) {
        if self.stopped.is_some() {
            return;
        }
        let target = SimTime(self.clock.sim_now_ms(real_now)).max(self.sim.now());
        let _ = self.advance_engine(target);
    }

    fn advance_engine(&mut self, target: SimTime) -> Result<(), ControlError> {
        if let Some(why) = &self.stopped {
            return Err(ControlError::Stopped(why.clone()));
        }
        self.sim
            .advance_until(target, &mut self.sink)
            .map_err(|e| self.stop(&e))
    }

    fn stop(&mut self, error: &RunError) -> ControlError {
        self.sim.end_run(RunEndReason::Bound, &mut self.sink);
        let why =
            format!("the simulation stopped: {error}; POST /_refreshsim/reset to start again");
        self.stopped = Some(why.clone());
        ControlError::Stopped(why)
    }

    /// Calls the API on the engine at the current simulated time: the same `submit` as `run`.
    pub fn call(&mut self, template: &SessionTemplate, action: Action, body: &Value) -> Value {
        if let Some(why) = &self.stopped {
            let error = ApiError::new(ErrorCode::InternalError, why.clone());
            return self.refuse(template, &error);
        }
        if self.calls >= template.limits.calls_max {
            let error = ApiError::new(
                ErrorCode::RequestLimitExceeded,
                format!(
                    "this refreshsim session has answered {} calls, its limit; POST /_refreshsim/reset to start again",
                    template.limits.calls_max
                ),
            );
            return self.refuse(template, &error);
        }
        self.calls += 1;
        let response = self.sim.submit(action, body, &mut self.sink);
        // The timeline has the call; the engine's call log is for `run` and would only grow.
        self.sim.clear_calls();
        response.to_json()
    }

    /// The error envelope of a request refused before the engine (bad signature, unknown action,
    /// bad JSON ...), with a RequestId as deterministic as the engine's (OQ-62: no timeline row,
    /// no rate-limit count).
    pub fn refuse(&mut self, template: &SessionTemplate, error: &ApiError) -> Value {
        let request_id = refusal_request_id(template.seed, self.refusals);
        self.refusals += 1;
        error.envelope(&request_id)
    }

    pub fn advance(
        &mut self,
        template: &SessionTemplate,
        how: Advance,
        real_now: Instant,
    ) -> Result<Value, ControlError> {
        self.catch_up(real_now);
        let from = self.sim.now();
        let events_before = self.sim.events_processed();
        let cap = template.limits.advance_ms_max;
        let limit = from.plus_ms(cap);
        match how {
            Advance::By { duration_ms } => {
                if duration_ms > cap {
                    return Err(ControlError::Refused(format!(
                        "an advance covers at most {} of simulated time, asked for {}",
                        format_duration_ms(cap),
                        format_duration_ms(duration_ms)
                    )));
                }
                self.advance_engine(from.plus_ms(duration_ms))?;
            }
            Advance::NextEvent => {
                if let Some(next) = self.sim.next_event_time() {
                    if next > limit {
                        return Err(ControlError::Refused(format!(
                            "the next event is {} away, beyond the {} an advance may cover",
                            format_duration_ms(next.since(from)),
                            format_duration_ms(cap)
                        )));
                    }
                    self.advance_engine(next.max(from))?;
                }
            }
            Advance::Idle => {
                while let Some(next) = self.sim.next_event_time() {
                    if next > limit {
                        break;
                    }
                    let now = self.sim.now();
                    self.advance_engine(next.max(now))?;
                }
            }
        }
        self.clock.jump_to(self.sim.now().as_ms(), real_now);
        let mut report = self.time_report(template);
        if let Value::Object(map) = &mut report {
            map.insert("from_ms".into(), json!(from.as_ms()));
            map.insert("advanced_ms".into(), json!(self.sim.now().since(from)));
            map.insert(
                "events".into(),
                json!(self.sim.events_processed() - events_before),
            );
        }
        Ok(report)
    }

    /// The current simulated time and the next scheduled event.
    pub fn time_report(&self, template: &SessionTemplate) -> Value {
        let epoch = template.scenario.epoch;
        let now = self.sim.now();
        let next = self.sim.next_event_time();
        json!({
            "time_ms": now.as_ms(),
            "time": epoch.render(now),
            "next_event_ms": next.map(SimTime::as_ms),
            "next_event_time": next.map(|t| epoch.render(t)),
            "idle": next.is_none(),
            "clock": self.clock.mode().to_string(),
        })
    }

    /// The timeline so far, in the same format as `run --out` writes. Unless a run bound
    /// stopped the session (its `run_end` row says `bound`), the snapshot ends with a `run_end`
    /// row of its own, not kept in the session: `until` while events are still scheduled, `idle`
    /// when none is, so `check` judges the snapshot as what it is (a cut, or a settled world).
    pub fn timeline(
        &mut self,
        template: &SessionTemplate,
        format: TimelineFormat,
    ) -> std::io::Result<Vec<u8>> {
        let mut timeline = Timeline {
            epoch: template.scenario.epoch,
            names: self.sim.world().names.clone(),
            records: std::mem::take(&mut self.sink.records),
        };
        let snapshot_end = self.stopped.is_none();
        if snapshot_end {
            let reason = match self.sim.next_event_time() {
                Some(_) => RunEndReason::Until,
                None => RunEndReason::Idle,
            };
            timeline.records.push(Record {
                time: self.sim.now(),
                seq: self.sim.records_emitted() + 1,
                event: Event::RunEnd { reason },
            });
        }
        let mut out = Vec::new();
        let written = match format {
            TimelineFormat::Csv => timeline.write_csv(&template.meta, &mut out),
            TimelineFormat::Jsonl => timeline.write_jsonl(&template.meta, &mut out),
        };
        if snapshot_end {
            timeline.records.pop();
        }
        self.sink.records = timeline.records;
        written.map(|()| out)
    }

    /// Timeline records not kept because the byte budget was spent.
    pub fn timeline_dropped(&self) -> u64 {
        self.sink.dropped
    }
}

/// A v4-UUID-shaped RequestId for the `n`-th refused request of a session with `seed`.
fn refusal_request_id(seed: u64, n: u64) -> String {
    let digest = Sha256::digest(format!("refreshsim-serve-refusal/{seed}/{n}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = crate::timeline::hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    const SCENARIO: &str = r#"
[scenario]
name = "serve-session"
seed = 5

[group]
id = "asg-serve001"
size = 4

[launch_configuration]
image_id = "img-v2"

[timing]
reinstall = "90s"

[[actions]]
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 2 } } }
"#;

    fn template() -> SessionTemplate {
        let scenario = parse_scenario("serve-session.toml", SCENARIO).unwrap();
        SessionTemplate::new(scenario, 5, DEFAULT_SESSION_LIMITS).unwrap()
    }

    fn start_body() -> Value {
        json!({
            "AutoScalingGroupId": "asg-serve001",
            "RefreshSettings": { "RollingUpdateSettings": { "BatchNumber": 2 } }
        })
    }

    #[test]
    fn the_scenario_actions_are_not_run() {
        let t = template();
        let mut s = Session::new(&t, ClockMode::Manual, Instant::now());
        s.advance(&t, Advance::Idle, Instant::now()).unwrap();
        let describe = s.call(&t, Action::DescribeRefreshActivities, &json!({}));
        assert_eq!(describe["Response"]["TotalCount"], 0);
    }

    #[test]
    fn a_refresh_runs_as_time_is_advanced() {
        let t = template();
        let now = Instant::now();
        let mut s = Session::new(&t, ClockMode::Manual, now);
        let started = s.call(&t, Action::StartInstanceRefresh, &start_body());
        assert!(
            started["Response"]["RefreshActivityId"].is_string(),
            "{started}"
        );
        let report = s
            .advance(
                &t,
                Advance::By {
                    duration_ms: 60_000,
                },
                now,
            )
            .unwrap();
        assert_eq!(report["time_ms"], 60_000);
        let report = s.advance(&t, Advance::Idle, now).unwrap();
        assert_eq!(report["idle"], true);
        let describe = s.call(&t, Action::DescribeRefreshActivities, &json!({}));
        let activity = &describe["Response"]["RefreshActivitySet"][0];
        assert_eq!(activity["Status"], "SUCCESSFUL", "{describe}");
        let jsonl = s.timeline(&t, TimelineFormat::Jsonl).unwrap();
        let text = String::from_utf8(jsonl).unwrap();
        assert!(text.lines().next().unwrap().contains("\"kind\":\"run\""));
        assert!(text.contains("StartInstanceRefresh"));
        let csv = s.timeline(&t, TimelineFormat::Csv).unwrap();
        assert!(csv.starts_with(b"time_ms,"));
    }

    /// The last row of a snapshot, and what `check` finds in it.
    fn snapshot_end(s: &mut Session, t: &SessionTemplate) -> (String, usize) {
        let csv = s.timeline(t, TimelineFormat::Csv).unwrap();
        let read = crate::timeline::parse::read_csv(csv.as_slice()).unwrap();
        let last = read
            .timeline
            .records
            .last()
            .unwrap()
            .to_row(&read.timeline.names, read.timeline.epoch);
        assert_eq!(last.kind, "run_end");
        let violations = crate::check::check_timeline(&read.timeline);
        (last.to, violations.len())
    }

    #[test]
    fn a_snapshot_ends_until_with_events_scheduled_and_idle_without() {
        let t = template();
        let now = Instant::now();
        let mut s = Session::new(&t, ClockMode::Manual, now);
        s.call(&t, Action::StartInstanceRefresh, &start_body());
        let by = Advance::By {
            duration_ms: 60_000,
        };
        s.advance(&t, by, now).unwrap();
        assert_eq!(snapshot_end(&mut s, &t), ("until".into(), 0));
        // The snapshot's row is not kept: the next snapshot has exactly one run_end too, and
        // the engine's next record takes the seq the snapshot row showed.
        s.advance(&t, Advance::Idle, now).unwrap();
        assert_eq!(snapshot_end(&mut s, &t), ("idle".into(), 0));
        let csv = String::from_utf8(s.timeline(&t, TimelineFormat::Csv).unwrap()).unwrap();
        assert_eq!(csv.matches(",run_end,").count(), 1);
    }

    #[test]
    fn advances_are_capped_and_reset_starts_over() {
        let t = template();
        let now = Instant::now();
        let mut s = Session::new(&t, ClockMode::Manual, now);
        let too_far = Advance::By {
            duration_ms: t.limits.advance_ms_max + 1,
        };
        assert!(matches!(
            s.advance(&t, too_far, now),
            Err(ControlError::Refused(_))
        ));
        s.advance(&t, Advance::By { duration_ms: 5_000 }, now)
            .unwrap();
        s.reset(&t, now);
        assert_eq!(s.now(), SimTime::ZERO);
    }

    #[test]
    fn oq61_a_fault_due_at_zero_is_in_effect_for_the_first_call() {
        let text = format!(
            "{SCENARIO}\n[[faults.events]]\nat = \"0s\"\nkind = \"role\"\nauthorized = false\n"
        );
        let scenario = parse_scenario("serve-role.toml", &text).unwrap();
        let t = SessionTemplate::new(scenario, 5, DEFAULT_SESSION_LIMITS).unwrap();
        let now = Instant::now();
        let mut s = Session::new(&t, ClockMode::Manual, now);
        s.catch_up(now);
        let refused = s.call(&t, Action::StartInstanceRefresh, &start_body());
        assert_eq!(
            refused["Response"]["Error"]["Code"],
            "UnauthorizedOperation.AutoScalingRoleUnauthorized"
        );
    }

    #[test]
    fn oq62_refusal_ids_are_deterministic_and_uuid_shaped() {
        let a = refusal_request_id(7, 0);
        assert_eq!(a, refusal_request_id(7, 0));
        assert_ne!(a, refusal_request_id(7, 1));
        assert_ne!(a, refusal_request_id(8, 0));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn the_timeline_budget_drops_records_past_it() {
        let mut t = template();
        t.limits.timeline_bytes_max = 2_000;
        let mut s = Session::new(&t, ClockMode::Manual, Instant::now());
        for _ in 0..20 {
            s.call(&t, Action::DescribeAutoScalingGroups, &json!({}));
        }
        assert!(s.timeline_dropped() > 0);
        assert!(s.sink.kept_bytes <= 2_000);
    }

    #[test]
    fn the_call_limit_refuses_further_calls() {
        let mut t = template();
        t.limits.calls_max = 1;
        let mut s = Session::new(&t, ClockMode::Manual, Instant::now());
        let first = s.call(&t, Action::DescribeAutoScalingGroups, &json!({}));
        assert!(first["Response"].get("Error").is_none());
        let second = s.call(&t, Action::DescribeAutoScalingGroups, &json!({}));
        assert_eq!(second["Response"]["Error"]["Code"], "RequestLimitExceeded");
    }
}
