//! `report.html`: one self-contained page per run or sweep, readable offline and printable.
//!
//! The page carries its data as one JSON blob (`<script type="application/json">`) and draws
//! the interactive parts (Gantt, capacity curve, sweep filters) with the hand-written vanilla
//! JS and CSS in `src/report/html/`, inlined: no network, no CDN, no library. The tables
//! (summary, activities, batches, sweep variants) are rendered here as plain HTML so the page
//! reads and prints without script. Everything is a function of the run (D3): no clock, no
//! hashed iteration, integers for every time.

use crate::api::{InstanceStatus, LifeCycleState};
use crate::report::svg::{BatchMarkKind, batch_mark_kind, capacity_steps};
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::time::{Epoch, SimTime, format_duration_ms};
use crate::timeline::{Event, Record, Sym, Timeline};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const CSS: &str = include_str!("html/report.css");
const RUN_JS: &str = include_str!("html/run.js");
const SWEEP_JS: &str = include_str!("html/sweep.js");
const ADVISE_JS: &str = include_str!("html/advise.js");
/// The sortable table both the sweep and the advise pages use.
const TABLE_JS: &str = include_str!("html/table.js");

/// JSON for a `<script type="application/json">` element: `<`, `>` and `&` (so no `</script>`
/// or `<!--` can close or confuse the element) and U+2028/U+2029 are written as `\uXXXX`
/// escapes, which JSON.parse reads back as the same characters. In JSON text these characters
/// occur only inside strings, where the escape is equivalent.
pub fn script_json(value: &Value) -> String {
    let text = serde_json::to_string(value).expect("a JSON value serialises");
    let mut out = String::with_capacity(text.len() + 64);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
struct H<'a>(&'a str);

impl std::fmt::Display for H<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

fn page(title: &str, body: &str, data: &Value, js: &str) -> String {
    let mut out = String::with_capacity(body.len() + js.len() + CSS.len() + 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{body}\
         <script type=\"application/json\" id=\"report-data\">{}</script>\n\
         <script>\n{js}</script>\n</body>\n</html>\n",
        H(title),
        script_json(data),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Run report

/// Renders `report.html` for a run that kept its timeline; `summary` is the run's
/// `summary.json` value (report::summary, with its `_refreshsim` header).
pub fn run_html(
    scenario: &Scenario,
    run: &RunResult,
    timeline: &Timeline,
    summary: &Value,
) -> String {
    let epoch = scenario.epoch;
    let end_ms = run.end.as_ms();
    let data = RunData::build(timeline, end_ms);
    let blob = json!({
        "kind": "run",
        "scenario": run.meta.scenario_name,
        "epoch_ms": epoch.unix_secs().saturating_mul(1000),
        "end_ms": end_ms,
        "floor_fraction": summary.pointer("/capacity/floor_fraction").cloned().unwrap_or(Value::Null),
        "in_service_before": summary.pointer("/capacity/in_service_before").cloned().unwrap_or(Value::Null),
        // The threshold of the summary's below_floor_ms (capacity_floor, or run --floor).
        "threshold_permille": scenario.floor_permille,
        "phase_kinds": PhaseKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "activities": data.activities_json(),
        "batches": data.batches_json(),
        "instances": data.items_json(timeline),
        "others": data.others_json(timeline),
        "capacity": capacity_steps(&timeline.records).iter().map(|(t, c)| json!([t, c])).collect::<Vec<_>>(),
    });
    let title = format!("refreshsim — {}", run.meta.scenario_name);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"meta\">refreshsim {} · seed {} · scenario sha256 <code>{}</code> · start {}</p></header>",
        H(&title),
        H(&run.meta.version),
        run.meta.seed,
        H(&run.meta.scenario_sha256),
        H(&epoch.render(SimTime::ZERO)),
    );
    body.push_str(&summary_section(summary));
    body.push_str(&activity_section(summary, &data, epoch));
    body.push_str(CHART_SECTION);
    page(&title, &body, &blob, RUN_JS)
}

const CHART_SECTION: &str = "<section id=\"charts\"><h2>Timeline</h2>\n\
<div class=\"controls noprint\"><button id=\"zoom-in\" type=\"button\">Zoom in</button> \
<button id=\"zoom-out\" type=\"button\">Zoom out</button> \
<button id=\"pan-left\" type=\"button\">◀</button> <button id=\"pan-right\" type=\"button\">▶</button> \
<button id=\"zoom-reset\" type=\"button\">Whole run</button> \
<button id=\"cap-y\" type=\"button\">Capacity axis: from 0</button> \
<span class=\"hint\">wheel: zoom · drag: pan · hover: details</span></div>\n\
<div id=\"legend\" class=\"legend\"></div>\n\
<div id=\"gantt-wrap\" class=\"chart\"><canvas id=\"gantt\"></canvas></div>\n\
<h3>In service</h3>\n\
<div id=\"capacity-wrap\" class=\"chart\"><canvas id=\"capacity\"></canvas></div>\n\
<p id=\"density-note\" class=\"note\"></p>\n\
<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n\
<noscript><p>The interactive charts need JavaScript; the tables above carry the same numbers.</p></noscript>\n\
</section>\n";

/// Top-level facts of summary.json as a two-column table (activities get their own tables).
fn summary_section(summary: &Value) -> String {
    let mut out = String::from(
        "<section id=\"summary\"><h2>Summary</h2>\n<table class=\"kv\" id=\"summary-table\"><tbody>\n",
    );
    if let Value::Object(map) = summary {
        for (key, value) in map {
            if key == "activities" || key == "_refreshsim" {
                continue;
            }
            match value {
                Value::Object(inner) if !inner.is_empty() => {
                    for (sub, v) in inner {
                        kv_row(&mut out, &format!("{key}.{sub}"), v);
                    }
                }
                other => kv_row(&mut out, key, other),
            }
        }
    }
    out.push_str("</tbody></table></section>\n");
    out
}

fn kv_row(out: &mut String, key: &str, value: &Value) {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", H(key), H(&text));
}

fn rel_and_utc(epoch: Epoch, ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!(
            "+{} <span class=\"utc\">{}</span>",
            format_duration_ms(ms),
            H(&epoch.render(SimTime(ms)))
        ),
        None => "—".to_string(),
    }
}

fn counts_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        Some(_) | None => String::new(),
    }
}

fn activity_section(summary: &Value, data: &RunData, epoch: Epoch) -> String {
    let empty = Vec::new();
    let activities = summary
        .get("activities")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut out = String::from(
        "<section id=\"activities\"><h2>Activities</h2>\n<table id=\"activity-table\"><thead><tr>\
         <th>RefreshActivityId</th><th>Type</th><th>Mode</th><th>Status</th><th>Created</th>\
         <th>End</th><th>Duration</th><th>Instances</th></tr></thead><tbody>\n",
    );
    let ms = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for a in activities {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"st st-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            H(&text(a, "RefreshActivityId")),
            H(&text(a, "ActivityType")),
            H(&text(a, "RefreshMode")),
            H(&text(a, "Status")),
            H(&text(a, "Status")),
            rel_and_utc(epoch, ms(a, "created_ms")),
            rel_and_utc(epoch, ms(a, "end_ms")),
            ms(a, "duration_ms").map_or("—".into(), format_duration_ms),
            H(&counts_text(a.get("instances"))),
        );
    }
    out.push_str("</tbody></table>\n<h2>Batches</h2>\n<table id=\"batch-table\"><thead><tr>\
         <th>Activity</th><th>RefreshBatchNum</th><th>Status</th><th>Size</th><th>Start</th><th>End</th>\
         <th>Duration</th><th>Instances</th><th>Ended with failures</th><th>Retries</th></tr></thead><tbody>\n");
    for a in activities {
        let id = text(a, "RefreshActivityId");
        for b in a.get("batches").and_then(Value::as_array).unwrap_or(&empty) {
            let num = b
                .get("RefreshBatchNum")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let (failed, retries) = data.batch_failures(&id, num);
            let status = text(b, "RefreshBatchStatus");
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{num}</td><td class=\"st st-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{failed}</td><td>{retries}</td></tr>",
                H(&id),
                H(&status),
                H(&status),
                b.get("size").and_then(Value::as_u64).unwrap_or(0),
                rel_and_utc(epoch, ms(b, "start_ms")),
                rel_and_utc(epoch, ms(b, "end_ms")),
                ms(b, "duration_ms").map_or("—".into(), format_duration_ms),
                H(&counts_text(b.get("instances"))),
            );
        }
    }
    out.push_str("</tbody></table></section>\n");
    out
}

/// What an instance is doing while out of service, as coloured inside its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhaseKind {
    /// Refresh start (out of service) until the reinstall record, or the refresh's end.
    Reinstall,
    /// Between a lifecycle hook starting and completing.
    Hook,
    /// After the reinstall until back in service: the target-health wait.
    Health,
    /// A new (surge or replacement) instance being created.
    Create,
    /// An instance terminating or detaching (surge scale-in, removal).
    Remove,
}

impl PhaseKind {
    const ALL: [PhaseKind; 5] = [
        PhaseKind::Reinstall,
        PhaseKind::Hook,
        PhaseKind::Health,
        PhaseKind::Create,
        PhaseKind::Remove,
    ];

    fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Reinstall => "reinstall",
            PhaseKind::Hook => "lifecycle hook wait",
            PhaseKind::Health => "target-health wait",
            PhaseKind::Create => "surge/new instance create",
            PhaseKind::Remove => "instance remove",
        }
    }

    fn code(self) -> usize {
        match self {
            PhaseKind::Reinstall => 0,
            PhaseKind::Hook => 1,
            PhaseKind::Health => 2,
            PhaseKind::Create => 3,
            PhaseKind::Remove => 4,
        }
    }
}

/// One instance's phase tracking: the open phase and the one a hook interrupted.
#[derive(Debug, Default)]
struct PhaseTrack {
    open: Option<(PhaseKind, u64)>,
    resume: Option<PhaseKind>,
    done: Vec<(u64, u64, PhaseKind)>,
    joined: Option<u64>,
    left: Option<u64>,
    surge: bool,
}

impl PhaseTrack {
    fn close(&mut self, now: u64) -> Option<PhaseKind> {
        let (kind, start) = self.open.take()?;
        if now > start {
            self.done.push((start, now, kind));
        }
        Some(kind)
    }

    fn start(&mut self, kind: PhaseKind, now: u64) {
        self.close(now);
        self.open = Some((kind, now));
    }
}

#[derive(Debug)]
struct ActivityData {
    name: String,
    created_ms: u64,
    info: Value,
    statuses: Vec<Value>,
    phases: Vec<Value>,
}

#[derive(Debug)]
struct BatchData {
    activity: usize,
    num: u32,
    size: u32,
    statuses: Vec<Value>,
    failed: u32,
    retries: u32,
}

#[derive(Debug)]
struct ItemData {
    activity: usize,
    batch: usize,
    instance: Sym,
    statuses: Vec<Value>,
    spans: Vec<(u64, u64, &'static str)>,
    open: Option<u64>,
    skipped: Vec<u64>,
}

#[derive(Debug, Default)]
struct RunData {
    activities: Vec<ActivityData>,
    activity_index: BTreeMap<Sym, usize>,
    batches: Vec<BatchData>,
    batch_index: BTreeMap<(Sym, u32), usize>,
    items: Vec<ItemData>,
    item_index: BTreeMap<(Sym, u32, Sym), usize>,
    tracks: BTreeMap<Sym, PhaseTrack>,
    /// Instances in first-seen order (for rows of instances outside any refresh).
    instance_order: Vec<Sym>,
}

fn outcome_name(status: InstanceStatus) -> &'static str {
    match status {
        InstanceStatus::Successful => "SUCCESSFUL",
        InstanceStatus::Failed => "FAILED",
        InstanceStatus::Cancelled => "CANCELLED",
        InstanceStatus::NotFound => "NOT_FOUND",
        InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => "IN_FLIGHT",
    }
}

impl RunData {
    fn build(timeline: &Timeline, end_ms: u64) -> RunData {
        let mut data = RunData::default();
        for record in &timeline.records {
            data.observe(timeline, record);
        }
        for item in &mut data.items {
            if let Some(start) = item.open.take() {
                item.spans.push((start, end_ms, "IN_FLIGHT"));
            }
        }
        for track in data.tracks.values_mut() {
            track.close(end_ms);
        }
        data
    }

    fn track(&mut self, instance: Sym) -> &mut PhaseTrack {
        if !self.tracks.contains_key(&instance) {
            self.instance_order.push(instance);
        }
        self.tracks.entry(instance).or_default()
    }

    fn observe(&mut self, timeline: &Timeline, record: &Record) {
        let now = record.time.as_ms();
        let name = |s: Sym| timeline.names.get(s).to_string();
        match &record.event {
            Event::ActivityCreated {
                activity,
                activity_type,
                mode,
                origin,
                instances,
                ..
            } => {
                self.activity_index.insert(*activity, self.activities.len());
                self.activities.push(ActivityData {
                    name: name(*activity),
                    created_ms: now,
                    info: json!({
                        "type": activity_type.as_str(),
                        "mode": mode.as_str(),
                        "origin": origin.map(name),
                        "instances": instances,
                    }),
                    statuses: Vec::new(),
                    phases: Vec::new(),
                });
            }
            Event::ActivityStatus {
                activity,
                from,
                to,
                cause,
            } => {
                if let Some(&i) = self.activity_index.get(activity) {
                    self.activities[i].statuses.push(json!([
                        now,
                        from.as_str(),
                        to.as_str(),
                        cause.as_str()
                    ]));
                }
            }
            Event::Phase { activity, to, .. } => {
                if let Some(&i) = self.activity_index.get(activity) {
                    self.activities[i].phases.push(json!([now, to.as_str()]));
                }
            }
            Event::BatchStatus {
                activity,
                batch,
                from,
                to,
                size,
            } => self.observe_batch(*activity, *batch, *from, *to, *size, now),
            Event::InstanceStatus {
                activity,
                batch,
                instance,
                from,
                to,
                msg,
                scaling_activity,
            } => {
                let i = self.item(*activity, *batch, *instance);
                let item = &mut self.items[i];
                item.statuses.push(json!([
                    now,
                    from.map(|f| f.as_str()),
                    to.as_str(),
                    msg.render(&timeline.names),
                    scaling_activity.map(name),
                ]));
                match to {
                    InstanceStatus::Init | InstanceStatus::Running => {
                        item.open.get_or_insert(now);
                    }
                    InstanceStatus::Waiting => {
                        if let Some(start) = item.open.take() {
                            item.spans.push((start, now, "IN_FLIGHT"));
                        }
                    }
                    InstanceStatus::Successful
                    | InstanceStatus::Failed
                    | InstanceStatus::Cancelled
                    | InstanceStatus::NotFound => {
                        let start = item.open.take().unwrap_or(now);
                        item.spans.push((start, now, outcome_name(*to)));
                        let track = self.track(*instance);
                        if matches!(track.open, Some((PhaseKind::Reinstall, _))) {
                            track.close(now);
                        }
                    }
                }
            }
            Event::InstanceSkipped {
                activity,
                batch,
                instance,
            } => {
                let i = self.item(*activity, *batch, *instance);
                self.items[i].skipped.push(now);
            }
            other => self.observe_instance(other, now),
        }
    }

    fn observe_batch(
        &mut self,
        activity: Sym,
        batch: u32,
        from: Option<crate::api::BatchStatus>,
        to: crate::api::BatchStatus,
        size: u32,
        now: u64,
    ) {
        let Some(&a) = self.activity_index.get(&activity) else {
            return;
        };
        let next = self.batches.len();
        let i = *self.batch_index.entry((activity, batch)).or_insert(next);
        if i == next {
            self.batches.push(BatchData {
                activity: a,
                num: batch,
                size,
                statuses: Vec::new(),
                failed: 0,
                retries: 0,
            });
        }
        let b = &mut self.batches[i];
        b.size = size;
        b.statuses
            .push(json!([now, from.map(|f| f.as_str()), to.as_str()]));
        // The same marks timeline.svg draws on the batch bar.
        match batch_mark_kind(from, to) {
            Some(BatchMarkKind::Failed) => b.failed += 1,
            Some(BatchMarkKind::Retry) => b.retries += 1,
            None => {}
        }
    }

    /// Lifecycle and hook records: the phases coloured inside instance bars.
    fn observe_instance(&mut self, event: &Event, now: u64) {
        use crate::timeline::record::LifeCycleCause;
        match event {
            Event::InstanceJoined {
                instance,
                state,
                surge,
                replaces,
                ..
            } => {
                let track = self.track(*instance);
                track.joined = Some(now);
                track.surge = *surge || replaces.is_some();
                if *state == LifeCycleState::Creating {
                    track.start(PhaseKind::Create, now);
                }
            }
            Event::InstanceLeft { instance, .. } => {
                let track = self.track(*instance);
                track.close(now);
                track.resume = None;
                track.left = Some(now);
            }
            Event::LifeCycle {
                instance,
                from,
                to,
                cause,
            } => {
                let track = self.track(*instance);
                match (cause, to) {
                    (LifeCycleCause::RefreshStart, _) => track.start(PhaseKind::Reinstall, now),
                    (_, LifeCycleState::InService) => {
                        track.close(now);
                        track.resume = None;
                    }
                    (_, LifeCycleState::Terminating | LifeCycleState::Detaching) => {
                        track.start(PhaseKind::Remove, now);
                    }
                    _ if *from == LifeCycleState::Creating => {
                        track.close(now);
                    }
                    _ => {}
                }
            }
            Event::Reinstalled { instance, .. } => {
                self.track(*instance).start(PhaseKind::Health, now);
            }
            Event::HookStarted { instance, .. } => {
                let track = self.track(*instance);
                track.resume = track.close(now);
                track.open = Some((PhaseKind::Hook, now));
            }
            Event::HookCompleted { instance, .. } => {
                let track = self.track(*instance);
                track.close(now);
                if let Some(kind) = track.resume.take() {
                    track.open = Some((kind, now));
                }
            }
            _ => {}
        }
    }

    fn item(&mut self, activity: Sym, batch: u32, instance: Sym) -> usize {
        let next = self.items.len();
        let i = *self
            .item_index
            .entry((activity, batch, instance))
            .or_insert(next);
        if i == next {
            let a = self.activity_index.get(&activity).copied().unwrap_or(0);
            let b = self
                .batch_index
                .get(&(activity, batch))
                .copied()
                .unwrap_or(0);
            self.items.push(ItemData {
                activity: a,
                batch: b,
                instance,
                statuses: Vec::new(),
                spans: Vec::new(),
                open: None,
                skipped: Vec::new(),
            });
        }
        i
    }

    /// `(times FAILED, retries)` of a batch, for the batch table.
    fn batch_failures(&self, activity: &str, num: u64) -> (u32, u32) {
        self.batches
            .iter()
            .find(|b| {
                u64::from(b.num) == num
                    && self
                        .activities
                        .get(b.activity)
                        .is_some_and(|a| a.name == activity)
            })
            .map_or((0, 0), |b| (b.failed, b.retries))
    }

    fn activities_json(&self) -> Vec<Value> {
        self.activities
            .iter()
            .map(|a| {
                let mut v = a.info.clone();
                if let Value::Object(map) = &mut v {
                    map.insert("id".into(), Value::from(a.name.as_str()));
                    map.insert("created".into(), Value::from(a.created_ms));
                    map.insert("st".into(), Value::Array(a.statuses.clone()));
                    map.insert("ph".into(), Value::Array(a.phases.clone()));
                }
                v
            })
            .collect()
    }

    fn batches_json(&self) -> Vec<Value> {
        self.batches
            .iter()
            .map(|b| {
                json!({
                    "a": b.activity,
                    "n": b.num,
                    "size": b.size,
                    "failed": b.failed,
                    "retries": b.retries,
                    "st": b.statuses,
                })
            })
            .collect()
    }

    /// Phases of `instance` clipped to `[start, end]`.
    fn clipped(&self, instance: Sym, start: u64, end: u64, out: &mut Vec<Value>) {
        let Some(track) = self.tracks.get(&instance) else {
            return;
        };
        for &(s, e, kind) in &track.done {
            let (s, e) = (s.max(start), e.min(end));
            if e > s {
                out.push(json!([s, e, kind.code()]));
            }
        }
    }

    fn items_json(&self, timeline: &Timeline) -> Vec<Value> {
        self.items
            .iter()
            .map(|item| {
                let mut phases = Vec::new();
                for &(s, e, _) in &item.spans {
                    self.clipped(item.instance, s, e, &mut phases);
                }
                json!({
                    "id": timeline.names.get(item.instance),
                    "a": item.activity,
                    "b": item.batch,
                    "st": item.statuses,
                    "sp": item.spans.iter().map(|(s, e, o)| json!([s, e, o])).collect::<Vec<_>>(),
                    "ph": phases,
                    "skipped": item.skipped,
                })
            })
            .collect()
    }

    /// Instances that are no refresh item but were created or removed during the run
    /// (surge, replacements, scale-in): their own rows, with their create/remove phases.
    fn others_json(&self, timeline: &Timeline) -> Vec<Value> {
        let in_refresh: std::collections::BTreeSet<Sym> =
            self.items.iter().map(|i| i.instance).collect();
        self.instance_order
            .iter()
            .filter(|s| !in_refresh.contains(s))
            .filter_map(|s| {
                let track = &self.tracks[s];
                let joined_later = track.joined.is_some_and(|t| t > 0);
                if !(track.surge || joined_later || track.left.is_some()) {
                    return None;
                }
                Some(json!({
                    "id": timeline.names.get(*s),
                    "surge": track.surge,
                    "joined": track.joined,
                    "left": track.left,
                    "ph": track.done.iter().map(|(a, b, k)| json!([a, b, k.code()])).collect::<Vec<_>>(),
                }))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Sweep report

/// Renders the sweep's `report.html` from its `summary.json` value, its trade-off (the
/// floor-constrained frontier `sweep::tradeoff` computes for `tradeoff.svg` too, as JSON) and
/// its rendered SVG charts (`(file name, svg)`), embedded inline.
pub fn sweep_html(summary: &Value, tradeoff: &Value, charts: &[(String, String)]) -> String {
    let name = summary
        .pointer("/scenario/name")
        .and_then(Value::as_str)
        .unwrap_or("sweep");
    let title = format!("refreshsim sweep — {name}");
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"meta\">refreshsim {} · sweep seed {} · {} runs per variant · floor {} · scenario sha256 <code>{}</code></p></header>",
        H(&title),
        H(summary.get("version").and_then(Value::as_str).unwrap_or("")),
        summary.get("seed").unwrap_or(&Value::Null),
        summary.get("runs_per_variant").unwrap_or(&Value::Null),
        summary.get("floor").unwrap_or(&Value::Null),
        H(summary
            .pointer("/scenario/sha256")
            .and_then(Value::as_str)
            .unwrap_or("")),
    );
    body.push_str(SWEEP_CONTROLS);
    body.push_str("<section id=\"charts\"><h2>Charts</h2>\n");
    for (file, svg) in charts {
        let svg = inline_svg(svg);
        let _ = writeln!(
            body,
            "<figure class=\"svg\" data-file=\"{}\">{svg}<figcaption>{}</figcaption></figure>",
            H(file),
            H(file)
        );
    }
    body.push_str("</section>\n");
    let mut data = summary.clone();
    if let Value::Object(map) = &mut data {
        map.insert("tradeoff".into(), tradeoff.clone());
    }
    page(&title, &body, &data, &format!("{TABLE_JS}{SWEEP_JS}"))
}

/// An SVG document for inline use: without its XML declaration.
fn inline_svg(svg: &str) -> &str {
    svg.strip_prefix("<?xml").map_or(svg, |rest| {
        rest.find("?>").map_or(svg, |i| rest[i + 2..].trim_start())
    })
}

// ---------------------------------------------------------------------------------------------
// Advise report

/// Renders advise's `report.html` from `advice` (the advice.json value), `candidates`
/// (`advise::render::candidates_json`: every setting the search ran) and `chart` (advice.svg,
/// embedded inline). The recommendation is plain HTML; the candidates table and the trade-off
/// are drawn by script from the data blob (the advice with `keys` and `candidates` added).
pub fn advise_html(advice: &Value, candidates: &Value, chart: &str) -> String {
    let text = |p: &str| advice.pointer(p).and_then(Value::as_str).unwrap_or("");
    let title = format!("refreshsim advise — {}", text("/scenario/name"));
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"meta\">refreshsim {} · seed {} · {} · confidence {} · objective {} · scenario sha256 <code>{}</code></p></header>",
        H(&title),
        H(text("/version")),
        advice.get("seed").unwrap_or(&Value::Null),
        if advice.get("exact").and_then(Value::as_bool) == Some(true) {
            "exact (no randomness: one run decides a setting)".to_string()
        } else {
            format!("up to {} runs per setting", json_text(advice.get("runs")))
        },
        advice.get("confidence").unwrap_or(&Value::Null),
        H(text("/objective")),
        H(text("/scenario/sha256")),
    );
    body.push_str(&advice_section(advice));
    body.push_str(ADVISE_CONTROLS);
    let _ = writeln!(
        body,
        "<section id=\"charts\"><h2>Feasible region</h2>\n<figure class=\"svg\" data-file=\"advice.svg\">{}<figcaption>advice.svg</figcaption></figure></section>",
        inline_svg(chart)
    );
    let mut data = advice.clone();
    if let (Value::Object(map), Value::Object(extra)) = (&mut data, candidates) {
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
    }
    page(&title, &body, &data, &format!("{TABLE_JS}{ADVISE_JS}"))
}

fn json_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The constraints asked for, the answer (recommended or closest setting) and its numbers.
fn advice_section(advice: &Value) -> String {
    let mut out = String::from(
        "<section id=\"advice\"><h2>Constraints</h2>\n<table class=\"kv\" id=\"constraint-table\"><tbody>\n",
    );
    if let Some(Value::Object(c)) = advice.get("constraints") {
        for (k, v) in c {
            match v {
                Value::Null => kv_row(&mut out, k, &Value::from("not asked")),
                v => kv_row(&mut out, k, v),
            }
        }
    }
    out.push_str("</tbody></table>\n");
    let feasible = advice.get("feasible").and_then(Value::as_bool) == Some(true);
    let binding = json_text(advice.get("binding_constraint"));
    let (heading, answer) = if feasible {
        (
            format!("Recommended settings (binding constraint: {binding})"),
            advice.get("recommended"),
        )
    } else {
        (
            format!("No setting meets every constraint — the closest, which cannot meet {binding}"),
            advice.get("closest"),
        )
    };
    let _ = writeln!(
        out,
        "<h2 id=\"answer\" data-feasible=\"{feasible}\">{}</h2>",
        H(&heading)
    );
    let Some(r) = answer.filter(|r| r.is_object()) else {
        out.push_str("<p>No setting could be evaluated.</p></section>\n");
        return out;
    };
    out.push_str("<table class=\"kv\" id=\"recommended-table\"><tbody>\n");
    if let Some(Value::Object(settings)) = r.get("settings") {
        for (k, v) in settings {
            kv_row(&mut out, k, v);
        }
    }
    let get = |p: &str| json_text(r.pointer(p));
    for (label, value) in [
        (
            "duration p50 / p90 / p99 (s)",
            format!(
                "{} / {} / {}",
                get("/duration_s/p50"),
                get("/duration_s/p90"),
                get("/duration_s/p99")
            ),
        ),
        (
            "in service p1 / p50",
            format!(
                "{} / {}",
                get("/min_in_service/p1"),
                get("/min_in_service/p50")
            ),
        ),
        (
            "surge instance-hours (mean)",
            get("/surge_instance_hours/mean"),
        ),
        ("chance of a failure pause", get("/failure_pause_chance")),
        ("runs", get("/runs")),
    ] {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", H(label), H(&value));
    }
    if let Some(Value::Object(cs)) = r.get("constraints") {
        for (k, c) in cs {
            let met = c.get("met").and_then(Value::as_bool) == Some(true);
            let _ = writeln!(
                out,
                "<tr><th>constraint {}</th><td class=\"{}\">{} — {} runs meeting, lower bound {}, slack {}</td></tr>",
                H(k),
                if met { "st-SUCCESSFUL" } else { "st-FAILED" },
                if met { "met" } else { "not met" },
                H(&json_text(c.get("runs_meeting"))),
                H(&json_text(c.get("lower_bound"))),
                H(&json_text(c.get("slack"))),
            );
        }
    }
    out.push_str("</tbody></table>\n<h3>RollingUpdateSettings</h3>\n");
    let pretty = |v: Option<&Value>| {
        v.map_or_else(String::new, |v| {
            serde_json::to_string_pretty(v).expect("a JSON value serialises")
        })
    };
    let _ = writeln!(
        out,
        "<pre id=\"rolling-update-settings\">{}</pre>\n<h3>StartInstanceRefresh request</h3>\n<pre id=\"start-request\">{}</pre>\n<h3>Replay its run 0</h3>\n<pre id=\"replay\">{}</pre></section>",
        H(&pretty(r.get("RollingUpdateSettings"))),
        H(&pretty(r.get("start_request"))),
        H(&get("/replay")),
    );
    out
}

const ADVISE_CONTROLS: &str = "<section id=\"candidates\"><h2>Candidates</h2>\n\
<p class=\"note\">Every setting the search ran. Settings ruled out early (a constraint already broken, or unable to win) have fewer runs than the others; only settings with every run can meet every constraint.</p>\n\
<form id=\"filters\" class=\"controls\" onsubmit=\"return false\">\
<label><input id=\"f-feasible\" type=\"checkbox\"> meets every constraint</label> \
<label>p90 duration ≤ <input id=\"f-p90\" type=\"number\" step=\"60\" min=\"0\"> s</label> \
<label>in service p1 ≥ <input id=\"f-floor\" type=\"number\" step=\"1\" min=\"0\"></label> \
<label>surge instance-h ≤ <input id=\"f-surge\" type=\"number\" step=\"1\" min=\"0\"></label> \
<button id=\"f-clear\" type=\"button\">Clear</button> <span id=\"f-count\"></span></form>\n\
<div class=\"scroll\"><table id=\"candidate-table\" class=\"sortable\"><thead></thead><tbody></tbody></table></div>\n\
<h3>Trade-off among candidates that meet the floor, the deadline and the surge budget</h3>\n\
<p id=\"tradeoff-text\" class=\"note\"></p>\n\
<div class=\"chart\"><canvas id=\"tradeoff\" width=\"800\" height=\"320\"></canvas></div>\n\
<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n\
</section>\n";

const SWEEP_CONTROLS: &str = "<section id=\"variants\"><h2>Variants</h2>\n\
<form id=\"filters\" class=\"controls\" onsubmit=\"return false\">\
<label>min capacity fraction (worst run) ≥ <input id=\"f-floor\" type=\"number\" step=\"0.01\" min=\"0\" max=\"1\"></label> \
<label>p90 duration ≤ <input id=\"f-p90\" type=\"number\" step=\"60\" min=\"0\"> s</label> \
<label>P(successful) ≥ <input id=\"f-psucc\" type=\"number\" step=\"0.01\" min=\"0\" max=\"1\"></label> \
<button id=\"f-clear\" type=\"button\">Clear</button> <span id=\"f-count\"></span></form>\n\
<div class=\"scroll\"><table id=\"variant-table\" class=\"sortable\"><thead></thead><tbody></tbody></table></div>\n\
<h3>Trade-off among variants that meet the floor</h3>\n\
<p id=\"tradeoff-text\" class=\"note\"></p>\n\
<div class=\"chart\"><canvas id=\"tradeoff\" width=\"800\" height=\"320\"></canvas></div>\n\
<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n\
</section>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_escapes_what_could_end_the_element() {
        let v = json!({"m": "a</script><!--&\u{2028}x"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        assert!(!s.contains('\u{2028}'));
        let back: Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn html_escape_covers_markup_characters() {
        assert_eq!(
            H("<a href=\"x\">&'").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn phase_track_resumes_after_a_hook_and_drops_empty_phases() {
        let mut t = PhaseTrack::default();
        t.start(PhaseKind::Reinstall, 10);
        let resume = t.close(20);
        t.open = Some((PhaseKind::Hook, 20));
        t.close(30);
        t.open = resume.map(|k| (k, 30));
        t.close(30);
        assert_eq!(
            t.done,
            vec![(10, 20, PhaseKind::Reinstall), (20, 30, PhaseKind::Hook)]
        );
    }
}
