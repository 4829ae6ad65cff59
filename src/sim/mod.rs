//! The engine: simulated time, the `(time, seq)` event queue, seeded draws, the scenario's
//! actions and faults (timed or conditional), sinks, and run bounds.
//!
//! The engine is driven step by step (`submit`, `step`, `advance_until`), so `run` (scenario
//! actions as the caller) and `serve` (HTTP requests as the caller) share it.

pub mod draws;
pub mod queue;
pub mod rng;
pub mod sample;

use crate::api::{Action, ApiOutput, ApiResponse, ErrorCode};
use crate::model::{Fx, Timer, World};
use crate::scenario::{ActivityRef, Condition, Happening, Limits, Scenario, Trigger, What};
use crate::time::SimTime;
use crate::timeline::{Event, Record, Sink, Sym};
use draws::{DrawSource, DrawTables};
use queue::EventQueue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A run stopped by one of its bounds (D12), or a world that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(
        "the run processed {limit} events without ending (scenario.limits.max_events); at simulated time {at}"
    )]
    MaxEvents { limit: u64, at: SimTime },
    #[error("the run reached simulated time {limit} without ending (scenario.limits.max_sim_time)")]
    MaxSimTime { limit: SimTime },
    #[error(
        "the run kept {limit} timeline records without ending (scenario.limits.max_records); at simulated time {at}"
    )]
    MaxRecords { limit: u64, at: SimTime },
    #[error(
        "the run's recorded API calls (requests and responses) exceeded {limit} bytes (scenario.limits.max_call_bytes); at simulated time {at}"
    )]
    MaxCallBytes { limit: u64, at: SimTime },
    #[error(
        "the run kept more than {limit} bytes in memory without ending (scenario.limits.max_memory_bytes): {kept}; at simulated time {at}"
    )]
    MaxMemory {
        limit: u64,
        at: SimTime,
        /// What was kept, part by part.
        kept: String,
    },
    #[error("{0}")]
    World(String),
}

/// What one API call of the run was and what it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub time: SimTime,
    /// The scenario action id, if it has one.
    pub id: Option<String>,
    pub action: Action,
    pub request: Value,
    pub response: Value,
    pub code: Option<ErrorCode>,
    /// The activity it created (Start, Rollback) or addressed.
    pub activity: Option<String>,
}

impl CallRecord {
    /// Writes the call as one line of `responses.jsonl` (without the newline).
    pub fn write_line<W: std::io::Write>(
        &self,
        epoch: crate::time::Epoch,
        out: W,
    ) -> serde_json::Result<()> {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            time_ms: u64,
            time: String,
            id: &'a Option<String>,
            action: &'a str,
            request: &'a Value,
            response: &'a Value,
        }
        serde_json::to_writer(
            out,
            &Line {
                time_ms: self.time.as_ms(),
                time: epoch.render(self.time),
                id: &self.id,
                action: self.action.as_str(),
                request: &self.request,
                response: &self.response,
            },
        )
    }
}

/// Refused calls a streamed run keeps in memory (the first ones), for the summary's listing;
/// the summary lists at most this many.
pub const REFUSED_CALLS_KEPT: usize = 20;

/// `run --stream`: each call goes to `responses.jsonl` as it is answered; the run keeps only
/// what the summary and the expectations read: the first call of each scenario action id
/// (expectations name calls by id and read the first) and the first `REFUSED_CALLS_KEPT`
/// refused calls. Memory then no longer grows with the number of calls (OQ-97).
pub struct CallStream {
    out: Box<dyn std::io::Write + Send>,
    epoch: crate::time::Epoch,
    /// The first write error; later calls are not written and `finish_call_stream` returns it.
    error: Option<std::io::Error>,
    ids_kept: std::collections::BTreeSet<String>,
    refused_kept: usize,
}

impl CallStream {
    /// `out` already holds the file's header line.
    pub fn new(out: Box<dyn std::io::Write + Send>, epoch: crate::time::Epoch) -> CallStream {
        CallStream {
            out,
            epoch,
            error: None,
            ids_kept: std::collections::BTreeSet::new(),
            refused_kept: 0,
        }
    }

    /// Writes `call`; whether the run must still keep it.
    fn write(&mut self, call: &CallRecord) -> bool {
        if self.error.is_none() {
            let written = call
                .write_line(self.epoch, &mut self.out)
                .map_err(std::io::Error::other)
                .and_then(|()| self.out.write_all(b"\n"));
            self.error = written.err();
        }
        let first_of_id = call
            .id
            .as_ref()
            .is_some_and(|id| self.ids_kept.insert(id.clone()));
        let listed_refusal = call.code.is_some() && self.refused_kept < REFUSED_CALLS_KEPT;
        if listed_refusal {
            self.refused_kept += 1;
        }
        first_of_id || listed_refusal
    }
}

#[derive(Debug, Clone, Copy)]
enum QueueItem {
    Model(Timer),
    /// A scenario happening; `activity` is the activity whose change triggered it, if any.
    Happening {
        index: u32,
        activity: Option<Sym>,
    },
}

/// A conditional happening, with its condition's names resolved to symbols.
#[derive(Debug, Clone)]
struct Watch {
    index: u32,
    condition: Condition,
    instance: Option<Sym>,
    after_ms: u64,
    repeat: bool,
    armed: bool,
}

pub struct Simulation {
    world: World,
    /// The engine's own events: model timers and the scenario's faults and changes.
    queue: EventQueue<QueueItem>,
    /// The scenario's API actions. OQ-68: an action due at t runs after every event of `queue`
    /// due at or before t (those scheduled at t meanwhile included), as a `serve` request does.
    api_queue: EventQueue<QueueItem>,
    draws: DrawSource,
    happenings: Arc<[Happening]>,
    watches: Vec<Watch>,
    /// Action id → (activity it created or addressed, error code).
    action_results: BTreeMap<String, (Option<Sym>, Option<ErrorCode>)>,
    calls: Vec<CallRecord>,
    /// `run --stream`: where calls go instead of `calls` (which keeps only a few of them).
    call_stream: Option<CallStream>,
    /// Refused calls so far (all of them, kept or streamed).
    refused_calls: u64,
    /// Serialized size of the requests and responses of every call so far, kept or streamed
    /// (bounded by `limits.max_call_bytes`: with `--stream`, the size of `responses.jsonl`).
    call_bytes: u64,
    /// What `calls` holds in memory (OQ-97: the JSON trees, not their serialized size).
    call_memory: u64,
    now: SimTime,
    record_seq: u64,
    events_processed: u64,
    requests: u64,
    limits: Limits,
    fx: Fx,
    /// Which record kinds any condition watches (`WATCH_*` bits).
    watch_kinds: u8,
}

const WATCH_ACTIVITY: u8 = 1;
const WATCH_BATCH: u8 = 2;
const WATCH_INSTANCE: u8 = 4;

fn watch_kinds(watches: &[Watch]) -> u8 {
    watches.iter().fold(0, |bits, w| {
        bits | match w.condition {
            Condition::ActivityStatus { .. } => WATCH_ACTIVITY,
            Condition::BatchStatus { .. } => WATCH_BATCH,
            Condition::InstanceStatus { .. } => WATCH_INSTANCE,
            Condition::ActionCalled { .. } => 0,
        }
    })
}

/// Everything about a scenario that does not depend on the seed, built once and shared by all
/// of its runs (a sweep runs one scenario thousands of times).
#[derive(Debug, Clone)]
pub struct Prepared {
    world: World,
    tables: Arc<DrawTables>,
    happenings: Arc<[Happening]>,
    watches: Vec<Watch>,
    timed: Vec<(SimTime, u32)>,
    limits: Limits,
}

impl Prepared {
    pub fn new(scenario: &Scenario) -> Result<Prepared, RunError> {
        let mut world = World::new(&scenario.world).map_err(RunError::World)?;
        let mut tables = DrawTables::new(&scenario.timing, &scenario.faults);
        tables.intern_messages(&mut world.names);
        let mut watches = Vec::new();
        let mut timed = Vec::new();
        for (index, h) in scenario.happenings.iter().enumerate() {
            match &h.trigger {
                Trigger::At { at_ms } => timed.push((SimTime(*at_ms), index as u32)),
                Trigger::When {
                    condition,
                    after_ms,
                    repeat,
                } => {
                    let instance = match condition {
                        Condition::InstanceStatus { instance, .. } => world.names.lookup(instance),
                        Condition::ActivityStatus { .. }
                        | Condition::BatchStatus { .. }
                        | Condition::ActionCalled { .. } => None,
                    };
                    watches.push(Watch {
                        index: index as u32,
                        condition: condition.clone(),
                        instance,
                        after_ms: *after_ms,
                        repeat: *repeat,
                        armed: true,
                    });
                }
            }
        }
        Ok(Prepared {
            world,
            tables: Arc::new(tables),
            happenings: scenario.happenings.clone().into(),
            watches,
            timed,
            limits: scenario.limits,
        })
    }
}

impl Simulation {
    /// Builds the engine for one run (emitting the world's initial records to `sink`) and
    /// schedules the scenario's timed happenings.
    pub fn new<S: Sink>(
        scenario: &Scenario,
        seed: u64,
        sink: &mut S,
    ) -> Result<Simulation, RunError> {
        Ok(Simulation::from_prepared(
            &Prepared::new(scenario)?,
            seed,
            sink,
        ))
    }

    /// One run from a prepared scenario: clones the world template, no re-parsing or interning.
    pub fn from_prepared<S: Sink>(prepared: &Prepared, seed: u64, sink: &mut S) -> Simulation {
        let mut sim = Simulation {
            world: prepared.world.clone(),
            queue: EventQueue::new(),
            api_queue: EventQueue::new(),
            draws: DrawSource::with_tables(seed, prepared.tables.clone()),
            happenings: prepared.happenings.clone(),
            watches: prepared.watches.clone(),
            action_results: BTreeMap::new(),
            calls: Vec::new(),
            call_stream: None,
            refused_calls: 0,
            call_bytes: 0,
            call_memory: 0,
            now: SimTime::ZERO,
            record_seq: 0,
            events_processed: 0,
            requests: 0,
            limits: prepared.limits,
            fx: Fx::new(SimTime::ZERO),
            watch_kinds: watch_kinds(&prepared.watches),
        };
        for (at, index) in &prepared.timed {
            sim.schedule_happening(*at, *index, None);
        }
        sim.world.initial_records(&mut sim.fx);
        sim.flush(sink);
        sim
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world and the API calls, once the run is over (no copy of either).
    pub fn into_parts(self) -> (World, Vec<CallRecord>) {
        (self.world, self.calls)
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }

    /// Refused API calls so far, streamed ones included.
    pub fn refused_calls(&self) -> u64 {
        self.refused_calls
    }

    /// From now on, calls are written to `stream` as they are answered (`run --stream`).
    pub fn stream_calls(&mut self, stream: CallStream) {
        self.call_stream = Some(stream);
    }

    /// The stream's writer back, flushed, or its first write error.
    pub fn finish_call_stream(
        &mut self,
    ) -> Option<std::io::Result<Box<dyn std::io::Write + Send>>> {
        let mut stream = self.call_stream.take()?;
        Some(match stream.error {
            Some(e) => Err(e),
            None => stream.out.flush().map(|()| stream.out),
        })
    }

    /// Forgets the calls recorded so far. `serve` answers every call over HTTP and keeps no call
    /// log (the timeline still has each call), so a long session does not grow without bound.
    pub fn clear_calls(&mut self) {
        self.calls.clear();
        self.call_bytes = 0;
        self.call_memory = 0;
    }

    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    pub fn next_event_time(&self) -> Option<SimTime> {
        match (self.queue.peek_time(), self.api_queue.peek_time()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// OQ-68: whether the next event is an API action — only when one is due strictly before
    /// the engine's next event (at equal times the engine's events go first).
    fn api_first(&self) -> bool {
        match (self.queue.peek_time(), self.api_queue.peek_time()) {
            (Some(engine), Some(api)) => api < engine,
            (None, Some(_)) => true,
            (Some(_), None) | (None, None) => false,
        }
    }

    fn next_queue(&self) -> &EventQueue<QueueItem> {
        if self.api_first() {
            &self.api_queue
        } else {
            &self.queue
        }
    }

    fn pop_next(&mut self) -> Option<(SimTime, QueueItem)> {
        if self.api_first() {
            self.api_queue.pop()
        } else {
            self.queue.pop()
        }
    }

    /// Queues scenario happening `index` at `at`: API actions on their own queue (OQ-68).
    fn schedule_happening(&mut self, at: SimTime, index: u32, activity: Option<Sym>) {
        let item = QueueItem::Happening { index, activity };
        match self.happenings[index as usize].what {
            What::Api { .. } => self.api_queue.push(at, item),
            What::Change(_) => self.queue.push(at, item),
        }
    }

    /// Calls an API at the current simulated time.
    pub fn submit<S: Sink>(&mut self, action: Action, body: &Value, sink: &mut S) -> ApiResponse {
        self.submit_as(None, action, body, sink)
    }

    fn submit_as<S: Sink>(
        &mut self,
        id: Option<&str>,
        action: Action,
        body: &Value,
        sink: &mut S,
    ) -> ApiResponse {
        let request_id = self.draws.request_id(self.requests);
        self.requests += 1;
        let rid = self.world.names.intern(&request_id);
        self.fx.now = self.now;
        let result = self
            .world
            .submit(rid, action, body, &mut self.draws, &mut self.fx);
        // The activity the call named or created is on its ApiResult, the last one emitted.
        let activity = self.fx.events.iter().rev().find_map(|e| {
            if let Event::ApiResult { activity, .. } = e {
                *activity
            } else {
                None
            }
        });
        self.flush(sink);
        let response = ApiResponse { request_id, result };
        let code = response.error_code();
        if let Some(id) = id {
            self.action_results.insert(id.to_string(), (activity, code));
        }
        let created = if let Ok(ApiOutput::RefreshActivityId(a)) = &response.result {
            Some(a.clone())
        } else {
            activity.map(|s| self.world.names.get(s).to_string())
        };
        let response_json = response.to_json();
        self.call_bytes = self
            .call_bytes
            .saturating_add(json_len(body))
            .saturating_add(json_len(&response_json));
        if code.is_some() {
            self.refused_calls += 1;
        }
        let call = CallRecord {
            time: self.now,
            id: id.map(str::to_string),
            action,
            request: body.clone(),
            response: response_json,
            code,
            activity: created,
        };
        let keep = self
            .call_stream
            .as_mut()
            .is_none_or(|stream| stream.write(&call));
        if keep {
            self.call_memory = self.call_memory.saturating_add(
                std::mem::size_of::<CallRecord>() as u64
                    + value_memory(&call.request)
                    + value_memory(&call.response)
                    + call.id.as_ref().map_or(0, |id| id.len() as u64),
            );
            self.calls.push(call);
        }
        if let Some(id) = id {
            self.on_action_called(id);
        }
        response
    }

    /// Processes events until the scenario happening `index` is the next one to run (everything
    /// scheduled before it, at the same instant included, has run); `Ok(false)` if the queue
    /// empties first.
    pub fn step_until_happening<S: Sink>(
        &mut self,
        index: u32,
        sink: &mut S,
    ) -> Result<bool, RunError> {
        loop {
            match self.next_queue().peek() {
                None => return Ok(false),
                Some((_, QueueItem::Happening { index: next, .. })) if *next == index => {
                    return Ok(true);
                }
                Some(_) => {
                    self.step(sink)?;
                }
            }
        }
    }

    /// Processes the next event. `Ok(false)` when nothing is left to do.
    pub fn step<S: Sink>(&mut self, sink: &mut S) -> Result<bool, RunError> {
        let Some((time, item)) = self.pop_next() else {
            return Ok(false);
        };
        if time.as_ms() > self.limits.max_sim_time_ms {
            return Err(RunError::MaxSimTime {
                limit: SimTime(self.limits.max_sim_time_ms),
            });
        }
        self.events_processed += 1;
        if self.events_processed > self.limits.max_events {
            return Err(RunError::MaxEvents {
                limit: self.limits.max_events,
                at: time,
            });
        }
        // The queue pops in (time, seq) order: simulated time never goes back.
        debug_assert!(
            time >= self.now,
            "event at {time:?} popped after {:?}",
            self.now
        );
        self.now = time;
        self.fx.now = time;
        match item {
            QueueItem::Model(timer) => {
                self.world.on_timer(timer, &mut self.draws, &mut self.fx);
                self.flush(sink);
            }
            QueueItem::Happening { index, activity } => self.execute(index, activity, sink),
        }
        // D12: what a run keeps in memory is bounded too, not only its events and time.
        if sink.keeps_records() && self.record_seq > self.limits.max_records {
            return Err(RunError::MaxRecords {
                limit: self.limits.max_records,
                at: time,
            });
        }
        if self.call_bytes > self.limits.max_call_bytes {
            return Err(RunError::MaxCallBytes {
                limit: self.limits.max_call_bytes,
                at: time,
            });
        }
        self.check_memory(sink, time)?;
        Ok(true)
    }

    /// OQ-97: what the run keeps that grows with its length, in bytes, part by part.
    pub fn kept_bytes<S: Sink>(&self, sink: &S) -> [(&'static str, u64); 4] {
        let calls =
            self.call_memory + (self.calls.capacity() * std::mem::size_of::<CallRecord>()) as u64;
        [
            ("timeline records", sink.kept_bytes()),
            ("API calls", calls),
            ("names", self.world.names.kept_bytes()),
            (
                "instances, activities and operations",
                self.world.kept_bytes() - self.world.names.kept_bytes(),
            ),
        ]
    }

    fn check_memory<S: Sink>(&self, sink: &S, at: SimTime) -> Result<(), RunError> {
        let parts = self.kept_bytes(sink);
        let total: u64 = parts.iter().map(|(_, b)| b).sum();
        if total <= self.limits.max_memory_bytes {
            return Ok(());
        }
        let kept = parts
            .iter()
            .map(|(what, b)| format!("{what} {}", mib(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        Err(RunError::MaxMemory {
            limit: self.limits.max_memory_bytes,
            at,
            kept,
        })
    }

    /// How many records the run has emitted (the last record's `seq`).
    pub fn records_emitted(&self) -> u64 {
        self.record_seq
    }

    /// Runs until nothing is scheduled.
    pub fn run_until_idle<S: Sink>(&mut self, sink: &mut S) -> Result<(), RunError> {
        while self.step(sink)? {}
        Ok(())
    }

    /// Records the end of the run (the timeline's last record) and why it ended.
    pub fn end_run<S: Sink>(&mut self, reason: crate::timeline::RunEndReason, sink: &mut S) {
        self.fx.now = self.now;
        self.fx.emit(Event::RunEnd { reason });
        self.flush(sink);
    }

    /// Processes every event due at or before `t`, then sets the clock to `t`.
    pub fn advance_until<S: Sink>(&mut self, t: SimTime, sink: &mut S) -> Result<(), RunError> {
        while self.next_event_time().is_some_and(|next| next <= t) {
            self.step(sink)?;
        }
        if t > self.now {
            if t.as_ms() > self.limits.max_sim_time_ms {
                return Err(RunError::MaxSimTime {
                    limit: SimTime(self.limits.max_sim_time_ms),
                });
            }
            self.now = t;
        }
        Ok(())
    }

    fn execute<S: Sink>(&mut self, index: u32, trigger_activity: Option<Sym>, sink: &mut S) {
        let happening = &self.happenings[index as usize];
        match &happening.what {
            What::Api {
                action,
                body,
                fill,
                activity,
            } => {
                let (action, id) = (*action, happening.id.clone());
                let mut body = body.clone();
                if *fill && let Value::Object(map) = &mut body {
                    self.fill_ids(action, map, &activity.clone(), trigger_activity);
                }
                self.submit_as(id.as_deref(), action, &body, sink);
            }
            What::Change(change) => {
                let change = change.clone();
                self.world
                    .apply_change(&change, &mut self.draws, &mut self.fx);
                self.flush(sink);
            }
        }
    }

    /// Fills ids a scenario leaves out: the group, the launch configuration, and the activity
    /// (the one named by `activity`, else the one whose change triggered the action, else the
    /// latest created).
    fn fill_ids(
        &self,
        action: Action,
        body: &mut Map<String, Value>,
        activity: &ActivityRef,
        trigger: Option<Sym>,
    ) {
        let group = self.world.names.get(self.world.group.id);
        let activity_field = action.activity_id_field();
        let takes_group = match action {
            Action::DescribeRefreshActivities
            | Action::ModifyLaunchConfigurationAttributes
            | Action::CompleteLifecycleAction
            | Action::ExecuteScalingPolicy
            | Action::DescribeAutoScalingGroups
            | Action::DescribeAutoScalingInstances
            | Action::DescribeAutoScalingActivities
            | Action::DescribeLaunchConfigurations
            | Action::DescribeLifecycleHooks
            | Action::DescribeAccountLimits => false,
            Action::StartInstanceRefresh
            | Action::StopInstanceRefresh
            | Action::ResumeInstanceRefresh
            | Action::CancelInstanceRefresh
            | Action::RollbackInstanceRefresh
            | Action::EnableAutoScalingGroup
            | Action::DisableAutoScalingGroup
            | Action::RemoveInstances
            | Action::DetachInstances
            | Action::ScaleInInstances
            | Action::ScaleOutInstances => true,
        };
        if takes_group && !body.contains_key("AutoScalingGroupId") {
            body.insert(
                "AutoScalingGroupId".into(),
                Value::String(group.to_string()),
            );
        }
        if action == Action::ModifyLaunchConfigurationAttributes
            && !body.contains_key("LaunchConfigurationId")
        {
            let id = self.world.current_lc().spec.id.clone();
            body.insert("LaunchConfigurationId".into(), Value::String(id));
        }
        if let Some(field) = activity_field
            && !body.contains_key(field)
        {
            let chosen = match activity {
                ActivityRef::CreatedBy(id) => self.action_results.get(id).and_then(|(a, _)| *a),
                ActivityRef::Any => trigger.or_else(|| self.world.activities.last().map(|a| a.id)),
            };
            if let Some(sym) = chosen {
                body.insert(
                    field.into(),
                    Value::String(self.world.names.get(sym).to_string()),
                );
            }
        }
    }

    /// Stamps pending records with `(now, seq)`, checks conditions, hands them to the sink, and
    /// queues pending timers.
    fn flush<S: Sink>(&mut self, sink: &mut S) {
        for (time, timer) in self.fx.timers.drain(..) {
            self.queue.push(time, QueueItem::Model(timer));
        }
        if self.fx.events.is_empty() {
            return;
        }
        let mut events = std::mem::take(&mut self.fx.events);
        for event in events.drain(..) {
            self.record_seq += 1;
            if self.watched(&event) {
                self.observe(&event);
            }
            sink.record(Record {
                time: self.now,
                seq: self.record_seq,
                event,
            });
        }
        self.fx.events = events; // keep the allocation
        sink.step_done(&self.world.names);
    }

    fn activity_matches(&self, wanted: &ActivityRef, actual: Sym) -> bool {
        match wanted {
            ActivityRef::Any => true,
            ActivityRef::CreatedBy(id) => {
                self.action_results.get(id).and_then(|(a, _)| *a) == Some(actual)
            }
        }
    }

    /// Whether any condition could match this record (a cheap filter for the hot path).
    fn watched(&self, event: &Event) -> bool {
        let kind = match event {
            Event::ActivityStatus { .. } => WATCH_ACTIVITY,
            Event::BatchStatus { .. } => WATCH_BATCH,
            Event::InstanceStatus { .. } => WATCH_INSTANCE,
            // No condition watches these (scenario::Condition has no variant for them).
            Event::InstanceJoined { .. }
            | Event::InstanceLeft { .. }
            | Event::LifeCycle { .. }
            | Event::Reinstalled { .. }
            | Event::GroupEnabled { .. }
            | Event::GroupStatus { .. }
            | Event::RoleAuthorized { .. }
            | Event::ScalingActivity { .. }
            | Event::ActivityCreated { .. }
            | Event::Phase { .. }
            | Event::InstanceSkipped { .. }
            | Event::ApiCall { .. }
            | Event::ApiResult { .. }
            | Event::LaunchConfig { .. }
            | Event::ImageAvailability { .. }
            | Event::HookStarted { .. }
            | Event::HookCompleted { .. }
            | Event::ScalingIgnored { .. }
            | Event::RunEnd { .. } => return false,
        };
        self.watch_kinds & kind != 0
    }

    fn observe(&mut self, event: &Event) {
        let mut fired = Vec::new();
        for (w, watch) in self.watches.iter().enumerate() {
            if !watch.armed {
                continue;
            }
            if let Some(activity) = self.hit(watch, event) {
                fired.push((w, activity));
            }
        }
        for (w, activity) in fired {
            self.fire(w, Some(activity));
        }
    }

    /// The activity of `event` when it meets the watch's condition.
    fn hit(&self, watch: &Watch, event: &Event) -> Option<Sym> {
        match &watch.condition {
            Condition::ActivityStatus { status, activity } => {
                let Event::ActivityStatus {
                    activity: a, to, ..
                } = event
                else {
                    return None;
                };
                (to == status && self.activity_matches(activity, *a)).then_some(*a)
            }
            Condition::BatchStatus {
                status,
                batch,
                activity,
            } => {
                let Event::BatchStatus {
                    activity: a,
                    batch: b,
                    to,
                    ..
                } = event
                else {
                    return None;
                };
                (to == status
                    && batch.is_none_or(|x| x == *b)
                    && self.activity_matches(activity, *a))
                .then_some(*a)
            }
            Condition::InstanceStatus {
                status, activity, ..
            } => {
                let Event::InstanceStatus {
                    activity: a,
                    instance,
                    to,
                    ..
                } = event
                else {
                    return None;
                };
                (to == status
                    && watch.instance == Some(*instance)
                    && self.activity_matches(activity, *a))
                .then_some(*a)
            }
            // Fired by on_action_called, not by a record.
            Condition::ActionCalled { .. } => None,
        }
    }

    fn on_action_called(&mut self, id: &str) {
        let fired: Vec<usize> = self
            .watches
            .iter()
            .enumerate()
            .filter(|(_, w)| w.armed && matches!(&w.condition, Condition::ActionCalled { action_id } if action_id == id))
            .map(|(i, _)| i)
            .collect();
        let activity = self.action_results.get(id).and_then(|(a, _)| *a);
        for w in fired {
            self.fire(w, activity);
        }
    }

    fn fire(&mut self, w: usize, activity: Option<Sym>) {
        let watch = &mut self.watches[w];
        if !watch.repeat {
            watch.armed = false;
        }
        let (at, index) = (self.now.plus_ms(watch.after_ms), watch.index);
        self.schedule_happening(at, index, activity);
    }
}

/// Length of a JSON value's compact serialization (what `responses.jsonl` keeps per call).
fn json_len(v: &Value) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, v).expect("JSON values always serialize");
    counter.0
}

/// Bytes as MiB with one decimal, for messages.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// What a JSON tree holds in memory (OQ-97), allocator overhead included: each heap block is
/// counted as glibc's malloc sizes it, and a map entry as an IndexMap bucket (hash, key, value)
/// plus its index slot (serde_json with `preserve_order`).
fn value_memory(v: &Value) -> u64 {
    const NODE: u64 = std::mem::size_of::<Value>() as u64;
    NODE + value_heap(v)
}

fn value_heap(v: &Value) -> u64 {
    const NODE: u64 = std::mem::size_of::<Value>() as u64;
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => malloc_block(s.capacity() as u64),
        Value::Array(items) => {
            malloc_block(items.capacity() as u64 * NODE) + items.iter().map(value_heap).sum::<u64>()
        }
        Value::Object(map) => {
            let buckets = malloc_block(map.len() as u64 * (8 + 24 + NODE));
            let index = malloc_block(map.len() as u64 * 9);
            buckets
                + index
                + map
                    .iter()
                    .map(|(k, v)| malloc_block(k.capacity() as u64) + value_heap(v))
                    .sum::<u64>()
        }
    }
}

/// The size of the chunk glibc's malloc uses for `n` bytes (none for 0).
fn malloc_block(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

#[cfg(test)]
mod call_stream_tests {
    use super::*;
    use std::sync::Mutex;

    /// A writer whose bytes the test can read after handing it to the stream.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn call(id: Option<&str>, code: Option<ErrorCode>, t: u64) -> CallRecord {
        CallRecord {
            time: SimTime(t),
            id: id.map(str::to_string),
            action: Action::DescribeRefreshActivities,
            request: serde_json::json!({}),
            response: serde_json::json!({"Response": {"RequestId": format!("r{t}")}}),
            code,
            activity: None,
        }
    }

    /// OQ-97: every call is written, in order, as `write_line` renders it; only the first call
    /// of each action id and the first `REFUSED_CALLS_KEPT` refused calls are kept.
    #[test]
    fn oq97_a_call_stream_writes_every_call_and_keeps_only_what_is_read() {
        let epoch = crate::time::Epoch::from_unix_secs(1_700_000_000);
        let buffer = Shared::default();
        let mut stream = CallStream::new(Box::new(buffer.clone()), epoch);
        let refused = Some(ErrorCode::RequestLimitExceeded);
        let mut calls = vec![
            call(Some("poll"), None, 0),
            call(Some("poll"), None, 1),
            call(None, None, 2),
        ];
        calls.extend((0..REFUSED_CALLS_KEPT as u64 + 5).map(|i| call(None, refused, 10 + i)));
        // A refused call of an id not seen before is kept for `expect`, past the listing.
        calls.push(call(Some("start"), refused, 99));
        let kept: Vec<u64> = calls
            .iter()
            .filter(|c| stream.write(c))
            .map(|c| c.time.as_ms())
            .collect();
        let mut want = vec![0];
        want.extend(10..10 + REFUSED_CALLS_KEPT as u64);
        want.push(99);
        assert_eq!(kept, want);
        let mut expected = Vec::new();
        for c in &calls {
            c.write_line(epoch, &mut expected).expect("renders");
            expected.push(b'\n');
        }
        assert!(*buffer.0.lock().expect("not poisoned") == expected);
    }
}
