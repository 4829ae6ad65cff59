//! SVG charts of a run: a Gantt of batches and instances over the in-service capacity curve.
//!
//! Written by hand rather than with a charting crate: the chart is a few dozen rects, lines and
//! one path, and writing it directly keeps every byte under our control (D3): no hashed
//! iteration, no clock, every coordinate printed with one decimal, no transcendental float
//! functions whose last bit could differ between platforms. Fonts are the generic `sans-serif`
//! family and styling is presentation attributes only, so the file needs nothing external.

use super::svgkit::{
    BLUE, Esc, GREEN, GREY, GRID, INK, MUTED, ORANGE, P, PURPLE, SKY, VERMILLION, YELLOW, emit,
    flow_legend, open_svg, text_width,
};
use crate::api::{ActivityStatus, BatchStatus, InstanceStatus, LifeCycleState};
use crate::model::World;
use crate::model::world::Activity;
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::time::{Epoch, format_duration_ms, render_unix_secs};
use crate::timeline::{Event, Record, RunMeta, Sym, Timeline};
use std::collections::BTreeMap;
use std::ops::Range;

/// Per-instance rows are drawn only up to this many refresh instances in the whole run; beyond
/// it they would be unreadable slivers and would bloat the file.
pub const INSTANCE_ROWS_MAX: usize = 60;

const WIDTH: f64 = 1000.0;
const RIGHT_MARGIN: f64 = 24.0;
const ACTIVITY_ROW_H: f64 = 18.0;
const BATCH_ROW_H: f64 = 20.0;
const INSTANCE_ROW_H: f64 = 12.0;
const PANEL_GAP: f64 = 34.0;
const CAPACITY_H: f64 = 150.0;
const LEGEND_LINE_H: f64 = 16.0;
/// The capacity axis is zoomed (not drawn from 0) for groups of at least this many in-service
/// instances whose lowest count (and threshold) stays in the upper half of the axis: there a
/// 5 % dip would be a few pixels on a 0-based axis.
pub const CAPACITY_ZOOM_MIN_GROUP: u32 = 100;

/// How the time axis is labelled: offsets from the run start, or UTC wall-clock times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeLabels {
    #[default]
    Relative,
    Utc,
}

impl TimeLabels {
    /// Parses `relative` or `utc` (the `run --svg-time` values).
    pub fn parse(text: &str) -> Result<TimeLabels, String> {
        match text {
            "relative" => Ok(TimeLabels::Relative),
            "utc" => Ok(TimeLabels::Utc),
            other => Err(format!("expected relative or utc, found {other:?}")),
        }
    }
}

/// What the chart needs from the scenario beyond the run: its start instant (UTC labels) and
/// the capacity threshold the summary's "below floor" time is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SvgOptions {
    pub epoch: Epoch,
    /// `capacity_floor` × 1000 (`run --floor` overrides it), as `MetricsSink` uses it.
    pub floor_permille: u32,
    pub time_labels: TimeLabels,
}

impl SvgOptions {
    /// Relative labels, the scenario's epoch and threshold.
    pub fn of(scenario: &Scenario) -> SvgOptions {
        SvgOptions {
            epoch: scenario.epoch,
            floor_permille: scenario.floor_permille,
            time_labels: TimeLabels::Relative,
        }
    }
}

/// Renders `timeline.svg`: the full chart when the run kept its timeline, else a placeholder.
pub fn timeline_svg(run: &RunResult, options: &SvgOptions) -> String {
    match &run.timeline {
        Some(timeline) => chart_svg(run, timeline, options),
        None => placeholder_svg(&run.meta),
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting primitives

/// `+2m6s500ms`: offsets from the run start, as the summary prints them.
fn offset(ms: u64) -> String {
    format!("+{}", format_duration_ms(ms))
}

fn open_run_svg(out: &mut String, height: f64, title: &str, meta: &RunMeta) {
    open_svg(out, WIDTH, height, title, &meta_line(meta));
}

/// Who produced the chart (every output names version, seed and scenario hash, D9).
fn meta_line(meta: &RunMeta) -> String {
    format!(
        "refreshsim {}; scenario \"{}\"; seed {}; scenario sha256 {}",
        meta.version, meta.scenario_name, meta.seed, meta.scenario_sha256
    )
}

fn placeholder_svg(meta: &RunMeta) -> String {
    let mut out = String::new();
    let title = format!("refreshsim — {}", meta.scenario_name);
    open_run_svg(&mut out, 90.0, &title, meta);
    emit!(
        out,
        "<text x=\"16\" y=\"28\" font-size=\"15\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
        Esc(&title)
    );
    emit!(
        out,
        "<text x=\"16\" y=\"52\" fill=\"{INK}\">No timeline was kept for this run (metrics-only), so there is nothing to chart.</text>\n"
    );
    emit!(
        out,
        "<text x=\"16\" y=\"72\" fill=\"{MUTED}\">{}</text>\n",
        Esc(&meta_line(meta))
    );
    out.push_str("</svg>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Colours

fn batch_colour(status: BatchStatus) -> &'static str {
    match status {
        BatchStatus::Successful => GREEN,
        BatchStatus::PartiallySuccessful => ORANGE,
        BatchStatus::Failed => VERMILLION,
        BatchStatus::Cancelled => GREY,
        BatchStatus::Waiting | BatchStatus::Init | BatchStatus::Running => SKY,
    }
}

fn outcome_colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::InFlight => SKY,
        Outcome::Ended(status) => match status {
            InstanceStatus::Successful => GREEN,
            InstanceStatus::Failed => VERMILLION,
            InstanceStatus::Cancelled => GREY,
            InstanceStatus::NotFound => PURPLE,
            InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => SKY,
        },
    }
}

/// Fill and opacity of a pause band; `None` for statuses that are not pauses.
fn pause_style(status: ActivityStatus) -> Option<(&'static str, &'static str)> {
    match status {
        ActivityStatus::AutoPause => Some((YELLOW, "0.45")),
        ActivityStatus::ManualPause => Some((BLUE, "0.18")),
        ActivityStatus::FailedPause => Some((VERMILLION, "0.2")),
        ActivityStatus::Init
        | ActivityStatus::Running
        | ActivityStatus::Successful
        | ActivityStatus::Cancelled
        | ActivityStatus::Failed => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Time axis

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
}

impl TimeUnit {
    /// Minutes for ordinary refreshes, seconds for very short runs, hours for long ones.
    fn for_span(span_ms: u64) -> TimeUnit {
        if span_ms <= 2 * 60_000 {
            TimeUnit::Seconds
        } else if span_ms <= 3 * 3_600_000 {
            TimeUnit::Minutes
        } else {
            TimeUnit::Hours
        }
    }

    fn ms(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1_000,
            TimeUnit::Minutes => 60_000,
            TimeUnit::Hours => 3_600_000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "min",
            TimeUnit::Hours => "h",
        }
    }
}

/// Tick spacings that read well on a clock (100 ms … 30 days).
const TICK_STEPS_MS: [u64; 27] = [
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    345_600_000,
    604_800_000,
    1_209_600_000,
    2_592_000_000,
    5_184_000_000,
];
const TICKS_MAX: u64 = 10;

fn tick_step_ms(span_ms: u64) -> u64 {
    TICK_STEPS_MS
        .iter()
        .copied()
        .find(|step| span_ms / step <= TICKS_MAX)
        .unwrap_or_else(|| span_ms.div_ceil(TICKS_MAX))
}

/// `value / unit` with at most two decimals, trailing zeros dropped; integer arithmetic only.
fn format_in_unit(value_ms: u64, unit_ms: u64) -> String {
    let hundredths = (u128::from(value_ms) * 100 + u128::from(unit_ms) / 2) / u128::from(unit_ms);
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{whole}"),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Maps simulated milliseconds in `[0, end_ms]` to x pixels in `[x0, x1]`.
#[derive(Debug, Clone, Copy)]
struct TimeAxis {
    end_ms: u64,
    x0: f64,
    x1: f64,
    unit: TimeUnit,
    step_ms: u64,
    /// `Some(unix ms of the run start)` for UTC labels; ticks then fall on round clock times.
    utc_origin_ms: Option<u64>,
}

impl TimeAxis {
    fn new(run_end_ms: u64, x0: f64, x1: f64) -> TimeAxis {
        // A run that ends at 0 ms still needs a non-empty domain.
        let end_ms = run_end_ms.max(1);
        TimeAxis {
            end_ms,
            x0,
            x1,
            unit: TimeUnit::for_span(end_ms),
            step_ms: tick_step_ms(end_ms),
            utc_origin_ms: None,
        }
    }

    fn with_labels(mut self, labels: TimeLabels, epoch: Epoch) -> TimeAxis {
        self.utc_origin_ms = match labels {
            TimeLabels::Relative => None,
            TimeLabels::Utc => Some(epoch.unix_secs().saturating_mul(1000)),
        };
        self
    }

    fn x(&self, ms: u64) -> f64 {
        let fraction = ms.min(self.end_ms) as f64 / self.end_ms as f64;
        self.x0 + fraction * (self.x1 - self.x0)
    }

    fn ticks(&self) -> impl Iterator<Item = u64> + '_ {
        // UTC ticks start at the first round clock time at or after the run start.
        let first = self
            .utc_origin_ms
            .map_or(0, |o| (self.step_ms - o % self.step_ms) % self.step_ms);
        let count = if first > self.end_ms {
            0
        } else {
            (self.end_ms - first) / self.step_ms + 1
        };
        (0..count).map(move |i| first + i * self.step_ms)
    }

    fn label(&self, ms: u64) -> String {
        match self.utc_origin_ms {
            None => format_in_unit(ms, self.unit.ms()),
            Some(origin) => {
                // `YYYY-MM-DDTHH:MM:SSZ`: the date for day steps, else the clock time.
                let text = render_unix_secs(origin.saturating_add(ms) / 1000);
                let part = if self.step_ms >= 86_400_000 {
                    text.get(..10)
                } else if self.step_ms.is_multiple_of(60_000) {
                    text.get(11..16)
                } else {
                    text.get(11..19)
                };
                part.unwrap_or(&text).to_string()
            }
        }
    }

    fn title(&self) -> String {
        match self.utc_origin_ms {
            None => format!("simulated time ({})", self.unit.name()),
            Some(origin) => format!("UTC (run starts {})", render_unix_secs(origin / 1000)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gantt data

/// How an instance's stay in flight ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Still INIT/RUNNING at the end of the run, or sent back to WAITING.
    InFlight,
    /// A terminal refresh-instance status.
    Ended(InstanceStatus),
}

/// One span of an instance row. `start_ms == end_ms` for an instance that ended without ever
/// being in flight (NOT_FOUND or CANCELLED before its batch reached it): drawn as a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    start_ms: u64,
    end_ms: u64,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Row {
    /// The activity as a whole, created to ended: a thin line above its batches.
    Activity {
        label: String,
        tip: String,
        span: (u64, u64),
    },
    Batch {
        label: String,
        tip: String,
        status: BatchStatus,
        /// `None` for a batch that never started.
        span: Option<(u64, u64)>,
        /// Each time it ended with failures, and each retry of it.
        marks: Vec<BatchMark>,
    },
    Instance {
        label: String,
        marks: Vec<Mark>,
    },
}

impl Row {
    fn height(&self) -> f64 {
        match self {
            Row::Activity { .. } => ACTIVITY_ROW_H,
            Row::Batch { .. } => BATCH_ROW_H,
            Row::Instance { .. } => INSTANCE_ROW_H,
        }
    }

    fn label(&self) -> &str {
        match self {
            Row::Activity { label, .. }
            | Row::Batch { label, .. }
            | Row::Instance { label, .. } => label,
        }
    }
}

/// A batch event drawn on its bar, which otherwise shows only the final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMarkKind {
    /// The batch entered a status with failed instances (FAILED, PARTIALLY_SUCCESSFUL).
    Failed,
    /// The batch left such a status to run again (ResumeInstanceRefresh RETRY, OQ-22).
    Retry,
}

/// Whether a batch status change is a failure or a retry (the report's batch table counts the
/// same marks).
pub fn batch_mark_kind(from: Option<BatchStatus>, to: BatchStatus) -> Option<BatchMarkKind> {
    if ended_with_failures(to) {
        return Some(BatchMarkKind::Failed);
    }
    let again = match to {
        BatchStatus::Waiting | BatchStatus::Init | BatchStatus::Running => true,
        BatchStatus::Successful
        | BatchStatus::PartiallySuccessful
        | BatchStatus::Failed
        | BatchStatus::Cancelled => false,
    };
    (again && from.is_some_and(ended_with_failures)).then_some(BatchMarkKind::Retry)
}

/// A batch status that ends a batch with failed instances.
fn ended_with_failures(status: BatchStatus) -> bool {
    match status {
        BatchStatus::Failed | BatchStatus::PartiallySuccessful => true,
        BatchStatus::Successful
        | BatchStatus::Cancelled
        | BatchStatus::Waiting
        | BatchStatus::Init
        | BatchStatus::Running => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMark {
    at_ms: u64,
    kind: BatchMarkKind,
}

/// Failure and retry marks of every batch, from its `BatchStatus` records.
fn batch_marks(records: &[Record]) -> BTreeMap<(Sym, u32), Vec<BatchMark>> {
    let mut marks: BTreeMap<(Sym, u32), Vec<BatchMark>> = BTreeMap::new();
    for record in records {
        let Event::BatchStatus {
            activity,
            batch,
            from,
            to,
            ..
        } = &record.event
        else {
            continue;
        };
        if let Some(kind) = batch_mark_kind(*from, *to) {
            marks
                .entry((*activity, *batch))
                .or_default()
                .push(BatchMark {
                    at_ms: record.time.as_ms(),
                    kind,
                });
        }
    }
    marks
}

/// An activity-level pause, shaded across that activity's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PauseBand {
    activity: Sym,
    status: ActivityStatus,
    start_ms: u64,
    end_ms: u64,
}

#[derive(Debug, Clone)]
struct Gantt {
    rows: Vec<Row>,
    /// Each activity's timeline symbol and the rows it owns, in world order.
    activity_rows: Vec<(Option<Sym>, Range<usize>)>,
    bands: Vec<PauseBand>,
    refresh_instances: usize,
    instance_rows: bool,
}

type InstanceKey = (Sym, u32, Sym);

impl Gantt {
    fn build(world: &World, timeline: &Timeline, end_ms: u64) -> Gantt {
        let refresh_instances = world.activities.iter().map(|a| a.items.len()).sum();
        let instance_rows = refresh_instances <= INSTANCE_ROWS_MAX;
        let marks = if instance_rows {
            instance_marks(&timeline.records, end_ms)
        } else {
            BTreeMap::new()
        };
        let mut gantt = Gantt {
            rows: Vec::new(),
            activity_rows: Vec::new(),
            bands: pause_bands(&timeline.records, end_ms),
            refresh_instances,
            instance_rows,
        };
        let batch_marks = batch_marks(&timeline.records);
        for act in &world.activities {
            let first = gantt.rows.len();
            // The timeline's name table is the world's, but look names up rather than assume
            // the symbols agree, so a mismatch leaves instance rows empty rather than wrong.
            let act_sym = timeline.names.lookup(world.names.get(act.id));
            gantt.push_activity(world, act, end_ms);
            for b in 0..act.batches.len() {
                let num = u32::try_from(b + 1).expect("batch numbers fit in u32");
                let on_bar = act_sym
                    .and_then(|a| batch_marks.get(&(a, num)))
                    .cloned()
                    .unwrap_or_default();
                gantt.push_batch(world, act, b, end_ms, on_bar);
                if instance_rows {
                    gantt.push_instances(world, timeline, act, act_sym, b, &marks);
                }
            }
            gantt.activity_rows.push((act_sym, first..gantt.rows.len()));
        }
        gantt
    }

    fn push_activity(&mut self, world: &World, act: &Activity, end_ms: u64) {
        let id = world.names.get(act.id);
        let start = act.created.as_ms();
        let end = act.ended.map_or(end_ms, |t| t.as_ms());
        self.rows.push(Row::Activity {
            label: id.to_string(),
            tip: format!(
                "{id} {} {}: {}, {} instances in {} batches, created {} → {}",
                act.activity_type,
                act.mode,
                act.status,
                act.items.len(),
                act.batches.len(),
                offset(start),
                act.ended
                    .map_or_else(|| "not ended".to_string(), |t| offset(t.as_ms())),
            ),
            span: (start, end),
        });
    }

    fn push_batch(
        &mut self,
        world: &World,
        act: &Activity,
        b: usize,
        end_ms: u64,
        marks: Vec<BatchMark>,
    ) {
        let batch = &act.batches[b];
        let id = world.names.get(act.id);
        let label = format!("{id} batch {}", b + 1);
        // Unfinished batches (RUNNING, or reopened by a RETRY) extend to the run end.
        let span = batch
            .started
            .map(|s| (s.as_ms(), batch.ended.map_or(end_ms, |e| e.as_ms())));
        let when = match span {
            Some((s, e)) => format!(
                "{} → {} ({})",
                offset(s),
                offset(e),
                format_duration_ms(e - s)
            ),
            None => "never started".to_string(),
        };
        let count = |k: BatchMarkKind| marks.iter().filter(|m| m.kind == k).count();
        let (failed, retries) = (count(BatchMarkKind::Failed), count(BatchMarkKind::Retry));
        let history = if failed + retries > 0 {
            format!(", ended with failures {failed}×, retried {retries}×")
        } else {
            String::new()
        };
        self.rows.push(Row::Batch {
            tip: format!(
                "{label}: {}, {} instances, {when}{history}",
                batch.status,
                batch.items.len()
            ),
            label,
            status: batch.status,
            span,
            marks,
        });
    }

    fn push_instances(
        &mut self,
        world: &World,
        timeline: &Timeline,
        act: &Activity,
        act_sym: Option<Sym>,
        b: usize,
        marks: &BTreeMap<InstanceKey, Vec<Mark>>,
    ) {
        let batch_num = u32::try_from(b + 1).expect("batch numbers fit in u32");
        for i in act.batch_items(batch_num - 1) {
            let id = world
                .names
                .get(world.instances[act.items[i].instance as usize].id);
            let key = act_sym
                .zip(timeline.names.lookup(id))
                .map(|(a, ins)| (a, batch_num, ins));
            self.rows.push(Row::Instance {
                label: id.to_string(),
                marks: key.and_then(|k| marks.get(&k)).cloned().unwrap_or_default(),
            });
        }
    }
}

/// Each refresh instance's in-flight spans, from its `InstanceStatus` transitions.
fn instance_marks(records: &[Record], end_ms: u64) -> BTreeMap<InstanceKey, Vec<Mark>> {
    let mut open: BTreeMap<InstanceKey, u64> = BTreeMap::new();
    let mut marks: BTreeMap<InstanceKey, Vec<Mark>> = BTreeMap::new();
    for record in records {
        let Event::InstanceStatus {
            activity,
            batch,
            instance,
            to,
            ..
        } = &record.event
        else {
            continue;
        };
        let key = (*activity, *batch, *instance);
        let now = record.time.as_ms();
        let outcome = match to {
            InstanceStatus::Init | InstanceStatus::Running => {
                open.entry(key).or_insert(now);
                continue;
            }
            InstanceStatus::Waiting => {
                // Only a span that was in flight has anything to close (RETRY passes
                // FAILED → WAITING, which has none).
                if !open.contains_key(&key) {
                    continue;
                }
                Outcome::InFlight
            }
            InstanceStatus::Successful
            | InstanceStatus::Failed
            | InstanceStatus::Cancelled
            | InstanceStatus::NotFound => Outcome::Ended(*to),
        };
        let start_ms = open.remove(&key).unwrap_or(now);
        marks.entry(key).or_default().push(Mark {
            start_ms,
            end_ms: now,
            outcome,
        });
    }
    for (key, start_ms) in open {
        marks.entry(key).or_default().push(Mark {
            start_ms,
            end_ms,
            outcome: Outcome::InFlight,
        });
    }
    marks
}

/// Pauses from `ActivityStatus` records: from entering a `*_PAUSE` status until the activity's
/// next status change (or the run end).
fn pause_bands(records: &[Record], end_ms: u64) -> Vec<PauseBand> {
    let mut open: BTreeMap<Sym, (ActivityStatus, u64)> = BTreeMap::new();
    let mut bands = Vec::new();
    for record in records {
        let Event::ActivityStatus { activity, to, .. } = &record.event else {
            continue;
        };
        let now = record.time.as_ms();
        if let Some((status, start_ms)) = open.remove(activity) {
            bands.push(PauseBand {
                activity: *activity,
                status,
                start_ms,
                end_ms: now,
            });
        }
        if to.is_paused() {
            open.insert(*activity, (*to, now));
        }
    }
    for (activity, (status, start_ms)) in open {
        bands.push(PauseBand {
            activity,
            status,
            start_ms,
            end_ms,
        });
    }
    bands
}

// ---------------------------------------------------------------------------------------------
// Capacity data

/// The lowest in-service count and when it was first reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Floor {
    count: u32,
    at_ms: u64,
}

/// In-service instances over time, computed from records alone.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Capacity {
    /// `(time, count)` after the last record at that time, one entry per time the count changed.
    steps: Vec<(u64, u32)>,
    /// The count when the first refresh activity was created.
    before: Option<u32>,
    /// Lowest count while a refresh was active (the same rule as the run metrics, so chart and
    /// summary agree); over the whole run when no refresh ever ran.
    floor: Option<Floor>,
    peak: u32,
}

/// How one record changes the in-service count.
fn in_service_delta(event: &Event) -> i32 {
    let in_service = |state: &LifeCycleState| *state == LifeCycleState::InService;
    match event {
        Event::InstanceJoined { state, .. } => i32::from(in_service(state)),
        Event::InstanceLeft { from, .. } => -i32::from(in_service(from)),
        Event::LifeCycle { from, to, .. } => {
            i32::from(in_service(to)) - i32::from(in_service(from))
        }
        Event::Reinstalled { .. }
        | Event::GroupEnabled { .. }
        | Event::GroupStatus { .. }
        | Event::RoleAuthorized { .. }
        | Event::ScalingActivity { .. }
        | Event::ActivityCreated { .. }
        | Event::ActivityStatus { .. }
        | Event::Phase { .. }
        | Event::BatchStatus { .. }
        | Event::InstanceStatus { .. }
        | Event::InstanceSkipped { .. }
        | Event::ApiCall { .. }
        | Event::ApiResult { .. }
        | Event::LaunchConfig { .. }
        | Event::ImageAvailability { .. }
        | Event::HookStarted { .. }
        | Event::HookCompleted { .. }
        | Event::ScalingIgnored { .. }
        | Event::RunEnd { .. } => 0,
    }
}

/// Change in the number of non-terminal refresh activities.
fn active_refresh_delta(event: &Event) -> i32 {
    match event {
        Event::ActivityCreated { .. } => 1,
        Event::ActivityStatus { from, to, .. } => {
            -i32::from(to.is_terminal() && !from.is_terminal())
        }
        Event::InstanceJoined { .. }
        | Event::InstanceLeft { .. }
        | Event::LifeCycle { .. }
        | Event::Reinstalled { .. }
        | Event::GroupEnabled { .. }
        | Event::GroupStatus { .. }
        | Event::RoleAuthorized { .. }
        | Event::ScalingActivity { .. }
        | Event::Phase { .. }
        | Event::BatchStatus { .. }
        | Event::InstanceStatus { .. }
        | Event::InstanceSkipped { .. }
        | Event::ApiCall { .. }
        | Event::ApiResult { .. }
        | Event::LaunchConfig { .. }
        | Event::ImageAvailability { .. }
        | Event::HookStarted { .. }
        | Event::HookCompleted { .. }
        | Event::ScalingIgnored { .. }
        | Event::RunEnd { .. } => 0,
    }
}

/// In-service count over time: `(time, count)` after the last record at each time it changed
/// (the curve `report.html` draws; the same computation as this chart's).
pub fn capacity_steps(records: &[Record]) -> Vec<(u64, u32)> {
    Capacity::from_records(records).steps
}

impl Capacity {
    fn from_records(records: &[Record]) -> Capacity {
        let mut count: u32 = 0;
        let mut active: u32 = 0;
        let mut cap = Capacity {
            steps: Vec::new(),
            before: None,
            floor: None,
            peak: 0,
        };
        let mut lowest_overall: Option<Floor> = None;
        for record in records {
            let now = record.time.as_ms();
            count = count.saturating_add_signed(in_service_delta(&record.event));
            if matches!(record.event, Event::ActivityCreated { .. }) && cap.before.is_none() {
                cap.before = Some(count);
            }
            active = active.saturating_add_signed(active_refresh_delta(&record.event));
            cap.push_step(now, count);
            let here = Floor { count, at_ms: now };
            if active > 0 {
                lower(&mut cap.floor, here);
            }
            lower(&mut lowest_overall, here);
        }
        if cap.before.is_none() {
            cap.floor = lowest_overall;
        }
        cap
    }

    fn push_step(&mut self, now: u64, count: u32) {
        self.peak = self.peak.max(count);
        match self.steps.last_mut() {
            Some(last) if last.0 == now => last.1 = count,
            Some(last) if last.1 == count => {}
            Some(_) | None => self.steps.push((now, count)),
        }
    }
}

fn lower(floor: &mut Option<Floor>, here: Floor) {
    if floor.is_none_or(|f| here.count < f.count) {
        *floor = Some(here);
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50 … that puts at most five steps on `[0, max]`.
fn count_step(max: u32) -> u32 {
    let mut magnitude = 1u32;
    loop {
        for step in [
            magnitude,
            magnitude.saturating_mul(2),
            magnitude.saturating_mul(5),
        ] {
            if max.div_ceil(step) <= 5 {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

// ---------------------------------------------------------------------------------------------
// Layout and rendering

/// Vertical positions of the chart's parts.
#[derive(Debug, Clone, Copy)]
struct Layout {
    legend_top: f64,
    gantt_top: f64,
    capacity_top: f64,
    capacity_bottom: f64,
    height: f64,
}

/// The capacity panel's count axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CapScale {
    lo: u32,
    hi: u32,
    step: u32,
    zoomed: bool,
}

/// The capacity threshold: `permille`/1000 of the pre-refresh in-service count, the line below
/// which the summary counts "time below floor".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Threshold {
    permille: u32,
    before: u32,
}

impl Threshold {
    fn new(permille: u32, before: Option<u32>) -> Option<Threshold> {
        let before = before.filter(|b| *b > 0)?;
        (permille > 0).then_some(Threshold { permille, before })
    }

    fn count(self) -> f64 {
        f64::from(self.before) * f64::from(self.permille) / 1000.0
    }

    /// The whole count at or below the threshold, for the axis range.
    fn count_floor(self) -> u32 {
        u32::try_from(u64::from(self.before) * u64::from(self.permille) / 1000).unwrap_or(u32::MAX)
    }

    fn label(self) -> String {
        let tenths = u64::from(self.before) * u64::from(self.permille) / 100;
        let count = match tenths % 10 {
            0 => format!("{}", tenths / 10),
            d => format!("{}.{d}", tenths / 10),
        };
        let pct = match self.permille % 10 {
            0 => format!("{}", self.permille / 10),
            d => format!("{}.{d}", self.permille / 10),
        };
        format!(
            "threshold {pct}% of {} = {count} (the summary's time below floor)",
            self.before
        )
    }
}

struct Chart<'a> {
    run: &'a RunResult,
    gantt: Gantt,
    capacity: Capacity,
    threshold: Option<Threshold>,
    axis: TimeAxis,
    legend: Vec<Vec<LegendEntry>>,
    layout: Layout,
}

fn chart_svg(run: &RunResult, timeline: &Timeline, options: &SvgOptions) -> String {
    let end_ms = run.end.as_ms();
    let gantt = Gantt::build(&run.world, timeline, end_ms);
    let capacity = Capacity::from_records(&timeline.records);
    let threshold = Threshold::new(options.floor_permille, capacity.before);
    let x0 = label_column_width(&gantt.rows);
    let axis = TimeAxis::new(end_ms, x0, WIDTH - RIGHT_MARGIN)
        .with_labels(options.time_labels, options.epoch);
    let legend = flow_legend(
        legend_entries(gantt.instance_rows, threshold.is_some()),
        WIDTH - 32.0,
        LegendEntry::width,
    );
    let legend_top = 58.0;
    let gantt_top = legend_top + legend.len() as f64 * LEGEND_LINE_H + 22.0;
    let gantt_bottom = gantt_top + gantt.rows.iter().map(Row::height).sum::<f64>();
    let capacity_top = gantt_bottom + PANEL_GAP;
    let capacity_bottom = capacity_top + CAPACITY_H;
    let layout = Layout {
        legend_top,
        gantt_top,
        capacity_top,
        capacity_bottom,
        height: capacity_bottom + 48.0,
    };
    let chart = Chart {
        run,
        gantt,
        capacity,
        threshold,
        axis,
        legend,
        layout,
    };
    chart.render()
}

/// Wide enough for the longest row label, within sensible bounds.
fn label_column_width(rows: &[Row]) -> f64 {
    let longest = rows
        .iter()
        .map(|r| text_width(r.label(), 11.0))
        .fold(0.0, f64::max);
    (longest + 28.0).clamp(120.0, 320.0)
}

impl Chart<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        let title = format!("refreshsim — {}", self.run.meta.scenario_name);
        open_run_svg(&mut out, self.layout.height, &title, &self.run.meta);
        self.render_header(&mut out, &title);
        render_legend(&mut out, &self.legend, self.layout.legend_top);
        self.render_grid(&mut out);
        self.render_pauses(&mut out);
        self.render_rows(&mut out);
        self.render_capacity(&mut out);
        self.render_axis(&mut out);
        out.push_str("</svg>\n");
        out
    }

    fn render_header(&self, out: &mut String, title: &str) {
        let meta = &self.run.meta;
        emit!(
            out,
            "<text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
            Esc(title)
        );
        let hash: String = meta.scenario_sha256.chars().take(12).collect();
        let mut subtitle = format!(
            "simulated {} · {} refresh instances · seed {} · scenario sha256 {hash} · refreshsim {}",
            format_duration_ms(self.run.end.as_ms()),
            self.gantt.refresh_instances,
            meta.seed,
            meta.version,
        );
        if !self.gantt.instance_rows {
            subtitle.push_str(&format!(
                " · batch rows only (more than {INSTANCE_ROWS_MAX} instances)"
            ));
        }
        emit!(
            out,
            "<text x=\"16\" y=\"42\" fill=\"{MUTED}\">{}</text>\n",
            Esc(&subtitle)
        );
    }

    /// Vertical grid lines at every tick, through both panels, so they share one time axis.
    fn render_grid(&self, out: &mut String) {
        let (top, bottom) = (self.layout.gantt_top, self.layout.capacity_bottom);
        out.push_str(&format!("<g stroke=\"{GRID}\" stroke-width=\"1\">\n"));
        for tick in self.axis.ticks() {
            let x = P(self.axis.x(tick));
            emit!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>\n",
                P(top),
                P(bottom)
            );
        }
        out.push_str("</g>\n");
        let top_labels = self.layout.gantt_top - 5.0;
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"middle\">\n"
        ));
        for tick in self.axis.ticks() {
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>\n",
                P(self.axis.x(tick)),
                P(top_labels),
                self.axis.label(tick)
            );
        }
        out.push_str("</g>\n");
    }

    fn row_tops(&self) -> Vec<f64> {
        let mut y = self.layout.gantt_top;
        self.gantt
            .rows
            .iter()
            .map(|row| {
                let top = y;
                y += row.height();
                top
            })
            .collect()
    }

    fn render_pauses(&self, out: &mut String) {
        let tops = self.row_tops();
        for band in &self.gantt.bands {
            let Some((fill, opacity)) = pause_style(band.status) else {
                continue;
            };
            let Some((_, rows)) = self
                .gantt
                .activity_rows
                .iter()
                .find(|(sym, rows)| *sym == Some(band.activity) && !rows.is_empty())
            else {
                continue;
            };
            let top = tops[rows.start];
            let bottom = tops[rows.end - 1] + self.gantt.rows[rows.end - 1].height();
            let x = self.axis.x(band.start_ms);
            let w = (self.axis.x(band.end_ms) - x).max(1.0);
            emit!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" fill-opacity=\"{opacity}\"><title>{}: {} → {}</title></rect>\n",
                P(x),
                P(top),
                P(w),
                P(bottom - top),
                band.status,
                offset(band.start_ms),
                offset(band.end_ms)
            );
        }
    }

    fn render_rows(&self, out: &mut String) {
        let tops = self.row_tops();
        for (row, top) in self.gantt.rows.iter().zip(tops) {
            match row {
                Row::Activity { label, tip, span } => {
                    self.render_activity_row(out, top, label, tip, *span)
                }
                Row::Batch {
                    label,
                    tip,
                    status,
                    span,
                    marks,
                } => {
                    self.render_batch_row(out, top, label, tip, *status, *span);
                    self.render_batch_marks(out, top, label, marks);
                }
                Row::Instance { label, marks } => self.render_instance_row(out, top, label, marks),
            }
        }
    }

    fn render_activity_row(
        &self,
        out: &mut String,
        top: f64,
        label: &str,
        tip: &str,
        span: (u64, u64),
    ) {
        let mid = top + ACTIVITY_ROW_H / 2.0;
        emit!(
            out,
            "<text x=\"8\" y=\"{}\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
            P(mid + 4.0),
            Esc(label)
        );
        let (x1, x2) = (self.axis.x(span.0), self.axis.x(span.1));
        emit!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{INK}\" stroke-width=\"2\"><title>{}</title></line>\n",
            P(x1),
            P(mid),
            P(x2.max(x1 + 1.0)),
            P(mid),
            Esc(tip)
        );
    }

    fn render_batch_row(
        &self,
        out: &mut String,
        top: f64,
        label: &str,
        tip: &str,
        status: BatchStatus,
        span: Option<(u64, u64)>,
    ) {
        emit!(
            out,
            "<text x=\"16\" y=\"{}\" fill=\"{INK}\">{}</text>\n",
            P(top + 14.0),
            Esc(label)
        );
        match span {
            Some((start, end)) => {
                let x = self.axis.x(start);
                let w = (self.axis.x(end) - x).max(1.5);
                emit!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>\n",
                    P(x),
                    P(top + 3.0),
                    P(w),
                    batch_colour(status),
                    Esc(tip)
                );
            }
            None => emit!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" font-style=\"italic\" fill=\"{MUTED}\">{status}, never started<title>{}</title></text>\n",
                P(self.axis.x0 + 4.0),
                P(top + 14.0),
                Esc(tip)
            ),
        }
    }

    /// A failure is a vermillion tick across the bar, a retry a ring on its baseline.
    fn render_batch_marks(&self, out: &mut String, top: f64, label: &str, marks: &[BatchMark]) {
        for mark in marks {
            let x = P(self.axis.x(mark.at_ms));
            let at = offset(mark.at_ms);
            match mark.kind {
                BatchMarkKind::Failed => emit!(
                    out,
                    "<line class=\"batch-failed\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{VERMILLION}\" stroke-width=\"2\"><title>{}: ended with failures at {at}</title></line>\n",
                    P(top + 1.0),
                    P(top + 19.0),
                    Esc(label)
                ),
                BatchMarkKind::Retry => emit!(
                    out,
                    "<circle class=\"batch-retry\" cx=\"{x}\" cy=\"{}\" r=\"3\" fill=\"#FFFFFF\" stroke=\"{INK}\" stroke-width=\"1.2\"><title>{}: retried at {at}</title></circle>\n",
                    P(top + 17.0),
                    Esc(label)
                ),
            }
        }
    }

    fn render_instance_row(&self, out: &mut String, top: f64, label: &str, marks: &[Mark]) {
        emit!(
            out,
            "<text x=\"28\" y=\"{}\" font-size=\"9\" fill=\"{MUTED}\">{}</text>\n",
            P(top + 9.0),
            Esc(label)
        );
        for mark in marks {
            let x = self.axis.x(mark.start_ms);
            let w = self.axis.x(mark.end_ms) - x;
            // Zero-length outcomes are drawn as a tick centred on their instant, kept inside
            // the plot so one at the run end stays visible.
            let (x, w) = if w < 2.0 {
                ((x - 1.0).clamp(self.axis.x0, self.axis.x1 - 2.0), 2.0)
            } else {
                (x, w)
            };
            let what = match mark.outcome {
                Outcome::InFlight => "in flight".to_string(),
                Outcome::Ended(status) => status.to_string(),
            };
            emit!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"8\" fill=\"{}\"><title>{label} {what}: {} → {}</title></rect>\n",
                P(x),
                P(top + 2.0),
                P(w),
                outcome_colour(mark.outcome),
                offset(mark.start_ms),
                offset(mark.end_ms),
                label = Esc(label)
            );
        }
    }

    fn capacity_y(&self, count: f64, scale: &CapScale) -> f64 {
        let span = f64::from(scale.hi.saturating_sub(scale.lo).max(1));
        let fraction = ((count - f64::from(scale.lo)) / span).clamp(0.0, 1.0);
        self.layout.capacity_bottom - fraction * CAPACITY_H
    }

    /// The counts at the bottom and top of the capacity panel and the spacing of its ticks.
    /// From 0, unless the group is large and every count (and the threshold) stays in the
    /// upper half: then the axis starts a step below the lowest of them, so a dip of a few
    /// percent fills a visible share of the panel (and the chart says the axis is zoomed).
    fn capacity_scale(&self) -> CapScale {
        let top = self
            .capacity
            .peak
            .max(self.capacity.before.unwrap_or(0))
            .max(1);
        let lowest = self
            .capacity
            .steps
            .iter()
            .map(|s| s.1)
            .chain(self.threshold.map(|t| t.count_floor()))
            .min()
            .unwrap_or(0);
        if top >= CAPACITY_ZOOM_MIN_GROUP && u64::from(lowest) * 2 >= u64::from(top) {
            let step = count_step(top - lowest + top.div_ceil(50));
            let lo = (lowest.saturating_sub(top.div_ceil(50)) / step) * step;
            let hi = top.div_ceil(step).saturating_mul(step);
            if lo > 0 {
                return CapScale {
                    lo,
                    hi,
                    step,
                    zoomed: true,
                };
            }
        }
        let step = count_step(top);
        CapScale {
            lo: 0,
            hi: top.div_ceil(step).saturating_mul(step),
            step,
            zoomed: false,
        }
    }

    fn render_capacity(&self, out: &mut String) {
        let scale = self.capacity_scale();
        let (x0, x1) = (self.axis.x0, self.axis.x1);
        let (top, bottom) = (self.layout.capacity_top, self.layout.capacity_bottom);
        emit!(
            out,
            "<text x=\"8\" y=\"{}\" font-weight=\"bold\" fill=\"{INK}\">in-service instances</text>\n",
            P(top - 8.0)
        );
        if scale.zoomed {
            emit!(
                out,
                "<text id=\"capacity-axis-zoomed\" x=\"{}\" y=\"{}\" fill=\"{VERMILLION}\">axis zoomed: starts at {}, not 0</text>\n",
                P(x0 + 120.0),
                P(top - 8.0),
                scale.lo
            );
            // A break mark on the axis: the count scale does not reach 0.
            emit!(
                out,
                "<path d=\"M{},{}l8,-4M{},{}l8,-4\" stroke=\"{VERMILLION}\" stroke-width=\"1.5\"/>\n",
                P(x0 - 4.0),
                P(bottom + 2.0),
                P(x0 - 4.0),
                P(bottom + 6.0)
            );
        }
        emit!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#BBBBBB\"/>\n",
            P(x0),
            P(top),
            P(x1 - x0),
            P(bottom - top)
        );
        self.render_count_ticks(out, &scale);
        if let Some(before) = self.capacity.before {
            let y = P(self.capacity_y(f64::from(before), &scale));
            emit!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{MUTED}\" stroke-dasharray=\"6 4\"/>\n",
                P(x0),
                P(x1)
            );
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\" fill=\"{MUTED}\">pre-refresh {before}</text>\n",
                P(x1 - 4.0),
                P(self.capacity_y(f64::from(before), &scale) - 4.0)
            );
        }
        self.render_threshold(out, &scale);
        emit!(
            out,
            "<path d=\"{}\" fill=\"none\" stroke=\"{BLUE}\" stroke-width=\"1.5\"/>\n",
            self.capacity_path(&scale)
        );
        self.render_floor(out, &scale);
    }

    /// The threshold the summary's time below floor is measured against, as a dashed line.
    fn render_threshold(&self, out: &mut String, scale: &CapScale) {
        let Some(t) = self.threshold else {
            return;
        };
        let y = self.capacity_y(t.count(), scale);
        emit!(
            out,
            "<line id=\"capacity-threshold\" x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{VERMILLION}\" stroke-dasharray=\"2 3\" stroke-width=\"1.2\"/>\n",
            P(self.axis.x0),
            P(self.axis.x1),
            yy = P(y)
        );
        emit!(
            out,
            "<text id=\"capacity-threshold-label\" x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{VERMILLION}\">{}</text>\n",
            P(self.axis.x0 + 4.0),
            P(y - 4.0),
            Esc(&t.label())
        );
    }

    fn render_count_ticks(&self, out: &mut String, scale: &CapScale) {
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"end\">\n"
        ));
        for count in (scale.lo..=scale.hi).step_by(scale.step as usize) {
            let y = self.capacity_y(f64::from(count), scale);
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\">{count}</text>\n",
                P(self.axis.x0 - 6.0),
                P(y + 3.5)
            );
        }
        out.push_str("</g>\n");
    }

    /// The step line. Steps that land on the same tenth of a pixel merge into the last one, so
    /// the path stays small however many instances the group has.
    fn capacity_path(&self, scale: &CapScale) -> String {
        let tenths = |x: f64| (x * 10.0).round() as i64;
        let mut points: Vec<(i64, u32)> = Vec::new();
        for &(ms, count) in &self.capacity.steps {
            let x = tenths(self.axis.x(ms));
            match points.last_mut() {
                Some(last) if last.0 == x => last.1 = count,
                Some(_) | None => points.push((x, count)),
            }
        }
        let y = |count: u32| P(self.capacity_y(f64::from(count), scale));
        let first = points.first().map_or(0, |p| p.1);
        let mut d = format!("M{},{}", P(self.axis.x0), y(first));
        let mut current = first;
        for (x, count) in points {
            if count == current {
                continue;
            }
            emit!(d, "H{}V{}", P(x as f64 / 10.0), y(count));
            current = count;
        }
        emit!(d, "H{}", P(self.axis.x1));
        d
    }

    fn render_floor(&self, out: &mut String, scale: &CapScale) {
        let Some(floor) = self.capacity.floor else {
            return;
        };
        let (x, y) = (
            self.axis.x(floor.at_ms),
            self.capacity_y(f64::from(floor.count), scale),
        );
        let share = match self.capacity.before {
            Some(before) if before > 0 => {
                format!(
                    " ({}% of {before})",
                    u64::from(floor.count) * 100 / u64::from(before)
                )
            }
            Some(_) | None => String::new(),
        };
        let label = format!("floor {}{share} at {}", floor.count, offset(floor.at_ms));
        emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{VERMILLION}\"/>\n",
            P(x),
            P(y)
        );
        // Keep the label inside the plot: right of the marker unless that would overflow.
        let fits_right = x + 8.0 + text_width(&label, 11.0) <= self.axis.x1;
        let (tx, anchor) = if fits_right {
            (x + 8.0, "start")
        } else {
            (x - 8.0, "end")
        };
        let ty = if y + 16.0 <= self.layout.capacity_bottom {
            y + 16.0
        } else {
            y - 8.0
        };
        emit!(
            out,
            "<text id=\"capacity-floor\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{VERMILLION}\">{}</text>\n",
            P(tx),
            P(ty),
            Esc(&label)
        );
    }

    fn render_axis(&self, out: &mut String) {
        let bottom = self.layout.capacity_bottom;
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"middle\">\n"
        ));
        for tick in self.axis.ticks() {
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>\n",
                P(self.axis.x(tick)),
                P(bottom + 14.0),
                self.axis.label(tick)
            );
        }
        out.push_str("</g>\n");
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\n",
            P((self.axis.x0 + self.axis.x1) / 2.0),
            P(bottom + 34.0),
            self.axis.title()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Legend

#[derive(Debug, Clone, Copy)]
enum Swatch {
    Fill(&'static str, &'static str),
    Dashed(&'static str),
    Dotted(&'static str),
    Line(&'static str),
    Dot(&'static str),
    Tick(&'static str),
    Ring(&'static str),
}

#[derive(Debug, Clone)]
struct LegendEntry {
    swatch: Swatch,
    label: &'static str,
}

const SWATCH_W: f64 = 14.0;

impl LegendEntry {
    fn width(&self) -> f64 {
        SWATCH_W + 5.0 + text_width(self.label, 11.0) + 16.0
    }
}

fn legend_entries(instance_rows: bool, threshold: bool) -> Vec<LegendEntry> {
    let entry = |swatch, label| LegendEntry { swatch, label };
    let mut entries = vec![
        entry(Swatch::Fill(GREEN, "1"), "SUCCESSFUL"),
        entry(Swatch::Fill(ORANGE, "1"), "PARTIALLY_SUCCESSFUL"),
        entry(Swatch::Fill(VERMILLION, "1"), "FAILED"),
        entry(Swatch::Fill(GREY, "1"), "CANCELLED"),
        entry(Swatch::Fill(SKY, "1"), "running / in flight"),
    ];
    if instance_rows {
        entries.push(entry(Swatch::Fill(PURPLE, "1"), "NOT_FOUND"));
    }
    for status in [
        ActivityStatus::AutoPause,
        ActivityStatus::ManualPause,
        ActivityStatus::FailedPause,
    ] {
        if let Some((fill, opacity)) = pause_style(status) {
            entries.push(entry(Swatch::Fill(fill, opacity), status.as_str()));
        }
    }
    entries.extend([
        entry(Swatch::Tick(VERMILLION), "batch ended with failures"),
        entry(Swatch::Ring(INK), "batch retried"),
        entry(Swatch::Line(BLUE), "in service"),
        entry(Swatch::Dashed(MUTED), "pre-refresh"),
        entry(Swatch::Dot(VERMILLION), "capacity floor (lowest)"),
    ]);
    if threshold {
        entries.push(entry(Swatch::Dotted(VERMILLION), "capacity threshold"));
    }
    entries
}

fn render_legend(out: &mut String, lines: &[Vec<LegendEntry>], top: f64) {
    for (i, line) in lines.iter().enumerate() {
        let mid = top + i as f64 * LEGEND_LINE_H + LEGEND_LINE_H / 2.0;
        let mut x = 16.0;
        for entry in line {
            render_swatch(out, entry.swatch, x, mid);
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\" fill=\"{INK}\">{}</text>\n",
                P(x + SWATCH_W + 5.0),
                P(mid + 4.0),
                Esc(entry.label)
            );
            x += entry.width();
        }
    }
}

fn render_swatch(out: &mut String, swatch: Swatch, x: f64, mid: f64) {
    let (x1, x2) = (P(x), P(x + SWATCH_W));
    match swatch {
        Swatch::Fill(fill, opacity) => emit!(
            out,
            "<rect x=\"{x1}\" y=\"{}\" width=\"{}\" height=\"10\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"#BBBBBB\" stroke-width=\"0.5\"/>\n",
            P(mid - 5.0),
            P(SWATCH_W)
        ),
        Swatch::Line(stroke) => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>\n",
            m = P(mid)
        ),
        Swatch::Dashed(stroke) => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{stroke}\" stroke-dasharray=\"4 2\"/>\n",
            m = P(mid)
        ),
        Swatch::Dot(fill) => emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{fill}\"/>\n",
            P(x + SWATCH_W / 2.0),
            P(mid)
        ),
        Swatch::Dotted(stroke) => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{stroke}\" stroke-dasharray=\"2 3\" stroke-width=\"1.2\"/>\n",
            m = P(mid)
        ),
        Swatch::Tick(stroke) => emit!(
            out,
            "<line x1=\"{c}\" y1=\"{}\" x2=\"{c}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"2\"/>\n",
            P(mid - 6.0),
            P(mid + 6.0),
            c = P(x + SWATCH_W / 2.0)
        ),
        Swatch::Ring(stroke) => emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#FFFFFF\" stroke=\"{stroke}\" stroke-width=\"1.2\"/>\n",
            P(x + SWATCH_W / 2.0),
            P(mid)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::run_scenario;
    use crate::scenario::parse_scenario;
    use crate::scenario::resolve::generated_instance_id;

    const EXAMPLE: &str = include_str!("../../scenarios/tencent-documented-example.toml");

    fn run_text(name: &str, text: &str, keep_timeline: bool) -> RunResult {
        let scenario = parse_scenario(name, text).expect("test scenario parses");
        run_scenario(&scenario, scenario.seed, keep_timeline).expect("test scenario runs")
    }

    /// The default options: relative labels, the 80 % threshold, the example's epoch.
    fn relative() -> SvgOptions {
        SvgOptions {
            epoch: Epoch::from_unix_secs(1_694_104_069),
            floor_permille: 800,
            time_labels: TimeLabels::Relative,
        }
    }

    fn example(keep_timeline: bool) -> RunResult {
        run_text("tencent-documented-example.toml", EXAMPLE, keep_timeline)
    }

    /// A generated group refreshed in `batches` AUTOMATIC batches.
    fn generated_group(name: &str, size: u32, batches: u32, extra: &str) -> String {
        format!(
            r#"
[scenario]
name = "{name}"
seed = 7

[group]
id = "asg-svgtest"
size = {size}
forward_clb = true

[launch_configuration]
image_id = "img-new"

[timing]
reinstall = {{ uniform = {{ min = "60s", max = "120s" }} }}
target_health = "10s"

{extra}

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
[actions.request]
AutoScalingGroupId = "asg-svgtest"
RefreshMode = "ROLLING_UPDATE_RESET"
RefreshSettings = {{ CheckInstanceTargetHealth = true, RollingUpdateSettings = {{ BatchNumber = {batches}, BatchPause = "AUTOMATIC" }} }}
"#
        )
    }

    /// Checks that tags nest and close, there is one root element, and every `&` starts one of
    /// the five predefined entities (all this writer ever emits).
    fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg "), "starts with <svg");
        assert!(svg.trim_end().ends_with("</svg>"), "ends with </svg>");
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            let close = rest[open..].find('>').expect("every tag is closed") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "no '<' inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "closing tag matches");
            } else {
                let name = tag.split([' ', '/']).next().expect("tag has a name");
                if stack.is_empty() {
                    roots += 1;
                }
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[close + 1..];
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        assert_eq!(roots, 1, "one root element");
        for (i, _) in svg.match_indices('&') {
            let entity = &svg[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & at {i}"
            );
        }
    }

    fn floor_label(svg: &str) -> &str {
        let start = svg
            .find("id=\"capacity-floor\"")
            .expect("floor label present");
        let text = &svg[start..];
        let open = text.find('>').expect("label text") + 1;
        let close = text.find("</text>").expect("label closed");
        &text[open..close]
    }

    fn batch_labels(run: &RunResult) -> Vec<String> {
        run.world
            .activities
            .iter()
            .flat_map(|act| {
                let id = run.world.names.get(act.id).to_string();
                (1..=act.batches.len()).map(move |b| format!("{id} batch {b}"))
            })
            .collect()
    }

    #[test]
    fn rendering_is_deterministic() {
        let run = example(true);
        let first = timeline_svg(&run, &relative());
        assert_eq!(first, timeline_svg(&run, &relative()));
        // A second, independent run of the same scenario and seed gives the same bytes.
        assert_eq!(first, timeline_svg(&example(true), &relative()));
    }

    #[test]
    fn example_is_well_formed_with_every_row_and_the_run_meta() {
        let run = example(true);
        let svg = timeline_svg(&run, &relative());
        assert_well_formed(&svg);
        let labels = batch_labels(&run);
        assert_eq!(labels.len(), 3);
        for label in &labels {
            assert!(svg.contains(&format!(">{label}</text>")), "row {label}");
        }
        for instance in [
            "ins-w188n53k",
            "ins-w188n53n",
            "ins-w1824wre",
            "ins-w188n53m",
            "ins-w188n53l",
        ] {
            assert!(
                svg.contains(&format!(">{instance}</text>")),
                "instance row {instance}"
            );
        }
        let desc = format!(
            "<desc>refreshsim {}; scenario \"tencent-documented-example\"; seed 1; scenario sha256 {}</desc>",
            run.meta.version, run.meta.scenario_sha256
        );
        assert!(
            svg.contains(&desc.replace('"', "&quot;")),
            "run meta in <desc>"
        );
        assert!(svg.contains("simulated time (min)"));
    }

    #[test]
    fn floor_label_shows_the_example_minimum() {
        let run = example(true);
        let svg = timeline_svg(&run, &relative());
        assert_eq!(floor_label(&svg), "floor 3 (60% of 5) at +0s");
        // The chart derives the floor from records by the same rule as the run metrics.
        assert_eq!(run.metrics.min_in_service, Some(3));
        assert!(svg.contains(">pre-refresh 5</text>"));
    }

    #[test]
    fn run_without_timeline_gives_a_placeholder() {
        let run = example(false);
        assert!(run.timeline.is_none());
        let svg = timeline_svg(&run, &relative());
        assert_well_formed(&svg);
        assert!(svg.contains("No timeline was kept"));
        assert!(svg.contains(&run.meta.scenario_sha256));
        assert!(svg.contains("seed 1"));
        assert!(svg.len() < 2_000);
    }

    #[test]
    fn two_thousand_instances_draw_batch_rows_only_and_stay_small() {
        let text = generated_group("svg-2000", 2000, 20, "");
        let run = run_text("svg-2000.toml", &text, true);
        let svg = timeline_svg(&run, &relative());
        assert_well_formed(&svg);
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
        let labels = batch_labels(&run);
        assert_eq!(labels.len(), 20);
        for label in &labels {
            assert!(svg.contains(&format!(">{label}</text>")), "row {label}");
        }
        for index in [0, 1999] {
            let id = generated_instance_id("asg-svgtest", index);
            assert!(!svg.contains(&id), "no instance row for {id}");
        }
        let floor = run.metrics.min_in_service.expect("a refresh ran");
        assert!(floor_label(&svg).starts_with(&format!("floor {floor} ")));
    }

    #[test]
    fn pauses_failures_and_retries_are_drawn() {
        let extra = r##"
[[faults.scripted]]
instance = "#3"
attempt = 1
step = "reinstall"
message = "disk full"

[[actions]]
id = "retry"
when = { activity_status = "FAILED_PAUSE" }
after = "10m"
action = "ResumeInstanceRefresh"
request = { ResumeMode = "RETRY" }
"##;
        let text = generated_group("svg <pauses> & 'retries'", 6, 3, extra);
        let run = run_text("svg-pauses.toml", &text, true);
        let svg = timeline_svg(&run, &relative());
        assert_well_formed(&svg);
        assert!(svg.contains("svg &lt;pauses&gt; &amp; &apos;retries&apos;"));
        assert!(svg.contains("<title>FAILED_PAUSE: +"), "pause band drawn");
        let failed = generated_instance_id("asg-svgtest", 2);
        // The failed attempt and the successful retry are two spans on one instance row.
        assert!(svg.contains(&format!("<title>{failed} FAILED: +")));
        assert!(svg.contains(&format!("<title>{failed} SUCCESSFUL: +")));
    }

    /// The batch bar carries a failure tick when the batch ended with failures and a ring when
    /// a RETRY reopened it; the tooltip counts both.
    #[test]
    fn batch_bars_mark_failures_and_retries() {
        let extra = r##"
[[faults.scripted]]
instance = "#3"
attempt = 1
step = "reinstall"
message = "disk full"

[[actions]]
id = "retry"
when = { activity_status = "FAILED_PAUSE" }
after = "10m"
action = "ResumeInstanceRefresh"
request = { ResumeMode = "RETRY" }
"##;
        let run = run_text(
            "svg-marks.toml",
            &generated_group("marks", 6, 3, extra),
            true,
        );
        let svg = timeline_svg(&run, &relative());
        let id = run.world.names.get(run.world.activities[0].id);
        assert_eq!(svg.matches("class=\"batch-failed\"").count(), 1);
        assert_eq!(svg.matches("class=\"batch-retry\"").count(), 1);
        assert!(svg.contains(&format!("<title>{id} batch 2: ended with failures at +")));
        assert!(svg.contains(&format!("<title>{id} batch 2: retried at +")));
        assert!(svg.contains("ended with failures 1×, retried 1×</title>"));
        // A run without failures has neither mark.
        let clean = timeline_svg(&example(true), &relative());
        assert!(
            !clean.contains("class=\"batch-failed\"") && !clean.contains("class=\"batch-retry\"")
        );
    }

    #[test]
    fn batch_marks_are_failures_and_reopenings_only() {
        use BatchStatus::*;
        assert_eq!(
            batch_mark_kind(Some(Running), Failed),
            Some(BatchMarkKind::Failed)
        );
        assert_eq!(
            batch_mark_kind(Some(Running), PartiallySuccessful),
            Some(BatchMarkKind::Failed)
        );
        assert_eq!(
            batch_mark_kind(Some(Failed), Running),
            Some(BatchMarkKind::Retry)
        );
        assert_eq!(
            batch_mark_kind(Some(Failed), Waiting),
            Some(BatchMarkKind::Retry)
        );
        // Cancelling a failed batch is no retry; a first start is neither.
        assert_eq!(batch_mark_kind(Some(Failed), Cancelled), None);
        assert_eq!(batch_mark_kind(None, Running), None);
        assert_eq!(batch_mark_kind(Some(Running), Successful), None);
    }

    #[test]
    fn the_threshold_is_drawn_where_the_summary_measures_time_below_floor() {
        let run = example(true);
        let svg = timeline_svg(&run, &relative());
        assert!(
            svg.contains(">threshold 80% of 5 = 4 (the summary&apos;s time below floor)</text>")
        );
        assert!(svg.contains("id=\"capacity-threshold\""));
        let half = SvgOptions {
            floor_permille: 875,
            ..relative()
        };
        assert!(timeline_svg(&run, &half).contains(">threshold 87.5% of 5 = 4.3 (the summary"));
        let none = SvgOptions {
            floor_permille: 0,
            ..relative()
        };
        assert!(!timeline_svg(&run, &none).contains("capacity-threshold"));
    }

    #[test]
    fn utc_labels_fall_on_round_clock_times_from_the_scenario_start() {
        let scenario = parse_scenario("tencent-documented-example.toml", EXAMPLE).unwrap();
        let run = run_scenario(&scenario, scenario.seed, true).unwrap();
        let utc = SvgOptions {
            time_labels: TimeLabels::Utc,
            ..SvgOptions::of(&scenario)
        };
        let svg = timeline_svg(&run, &utc);
        assert_well_formed(&svg);
        // The example starts at 16:27:49; 30 s ticks start at 16:28:00.
        assert!(svg.contains(">UTC (run starts 2023-09-07T16:27:49Z)</text>"));
        assert!(svg.contains(">16:28:00</text>") && svg.contains(">16:32:30</text>"));
        assert!(!svg.contains(">16:27:49</text>"));
        let relative = timeline_svg(&run, &SvgOptions::of(&scenario));
        assert!(relative.contains("simulated time (min)") && !relative.contains("UTC ("));
        assert_eq!(TimeLabels::parse("utc"), Ok(TimeLabels::Utc));
        assert!(TimeLabels::parse("UTC").is_err());
    }

    #[test]
    fn large_groups_get_a_zoomed_capacity_axis_that_says_so() {
        let text = generated_group("zoom", 2000, 20, "");
        let run = run_text("zoom.toml", &text, true);
        let svg = timeline_svg(&run, &relative());
        assert!(
            svg.contains(">axis zoomed: starts at 1500, not 0</text>"),
            "zoomed"
        );
        // Ticks start at the zoomed bottom, not 0.
        let ticks_at = svg.find("font-size=\"10\" text-anchor=\"end\">\n").unwrap();
        let ticks = &svg[ticks_at..ticks_at + svg[ticks_at..].find("</g>").unwrap()];
        let counts: Vec<&str> = ticks
            .split("\">")
            .skip(2)
            .filter_map(|t| t.split("</text>").next())
            .collect();
        assert_eq!(counts, ["1500", "1600", "1700", "1800", "1900", "2000"]);
        // The 5 % dip spans a quarter of the panel: 100 of the 500 counts shown.
        let timeline = run.timeline.as_ref().unwrap();
        let floor = Capacity::from_records(&timeline.records)
            .floor
            .unwrap()
            .count;
        assert_eq!(floor, 1900);
        // A small group keeps its axis from 0.
        assert!(!timeline_svg(&example(true), &relative()).contains("axis zoomed"));
    }

    #[test]
    fn instance_marks_follow_status_transitions() {
        let run = example(true);
        let timeline = run.timeline.as_ref().expect("timeline kept");
        let marks = instance_marks(&timeline.records, run.end.as_ms());
        assert_eq!(marks.len(), 5);
        let act = timeline
            .names
            .lookup(run.world.names.get(run.world.activities[0].id));
        let ins = timeline.names.lookup("ins-w188n53n");
        let key = (
            act.expect("activity named"),
            1,
            ins.expect("instance named"),
        );
        assert_eq!(
            marks[&key],
            vec![Mark {
                start_ms: 0,
                end_ms: 101_000,
                outcome: Outcome::Ended(InstanceStatus::Successful),
            }]
        );
    }

    #[test]
    fn capacity_steps_keep_the_last_count_per_instant() {
        let run = example(true);
        let timeline = run.timeline.as_ref().expect("timeline kept");
        let capacity = Capacity::from_records(&timeline.records);
        assert_eq!(capacity.before, Some(5));
        assert_eq!(capacity.floor, Some(Floor { count: 3, at_ms: 0 }));
        assert_eq!(
            capacity.steps,
            vec![
                (0, 3),
                (101_000, 4),
                (126_500, 5),
                (127_000, 3),
                (222_000, 4),
                (235_000, 5),
                (235_500, 4),
                (307_500, 5),
            ]
        );
    }

    #[test]
    fn time_ticks_are_round_in_a_readable_unit() {
        assert_eq!(tick_step_ms(307_500), 30_000);
        assert_eq!(TimeUnit::for_span(307_500), TimeUnit::Minutes);
        assert_eq!(TimeUnit::for_span(90_000), TimeUnit::Seconds);
        assert_eq!(TimeUnit::for_span(5 * 3_600_000), TimeUnit::Hours);
        assert_eq!(tick_step_ms(1), 100);
        assert_eq!(tick_step_ms(90 * 86_400_000), 1_209_600_000);
        assert_eq!(format_in_unit(150_000, 60_000), "2.5");
        assert_eq!(format_in_unit(15_000, 60_000), "0.25");
        assert_eq!(format_in_unit(7_200_000, 3_600_000), "2");
        let axis = TimeAxis::new(0, 100.0, 200.0);
        assert_eq!(axis.ticks().collect::<Vec<_>>(), vec![0]);
        assert_eq!(axis.x(0), 100.0);
    }

    #[test]
    fn count_ticks_use_one_two_five_steps() {
        assert_eq!(count_step(1), 1);
        assert_eq!(count_step(5), 1);
        assert_eq!(count_step(8), 2);
        assert_eq!(count_step(2000), 500);
        assert_eq!(count_step(u32::MAX), 1_000_000_000);
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            Esc("a<b>&\"c'\u{1}").to_string(),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
        assert_eq!(P(1.25).to_string(), "1.2");
        assert_eq!(P(3.0).to_string(), "3.0");
    }
}
