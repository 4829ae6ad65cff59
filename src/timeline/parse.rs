//! Reading timelines back: rows (from CSV or JSONL, produced by refreshsim or by hand) into
//! typed records, so the checker runs on any timeline. Parsing is strict: an unknown kind, a
//! status that is not Tencent's, or a malformed detail is an error naming the row.

use super::detail::{DetailValue, ValueForm, parse_detail};
use super::names::{Names, Sym};
use super::record::{
    Departure, Event, LifeCycleCause, Msg, Phase, Record, Row, RunEndReason, ScalingCause,
    StatusCause, parse_digest,
};
use super::{RunMeta, Timeline};
use crate::api::{
    Action, ActivityStatus, ActivityType, BatchPause, BatchStatus, CreationType, EnabledStatus,
    ErrorCode, FailProcess, GroupStatus, HookResultReason, InstanceStatus, LifeCycleState,
    LifecycleActionResult, LifecycleTransition, RefreshMode, RefreshSettings,
    ScalingActivityStatus, ScalingActivityType,
};
use crate::time::{Epoch, SimTime, parse_rfc3339_secs};
use std::collections::BTreeMap;
use std::io::{BufRead, Read};

/// A bad row: its 1-based line in the file, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A timeline read from a file, with its `run` row when it has one.
#[derive(Debug, Clone)]
pub struct ReadTimeline {
    pub meta: Option<RunMeta>,
    pub timeline: Timeline,
}

/// Maximum rows read from one file (D12: everything is bounded).
pub const MAX_ROWS: usize = 50_000_000;

pub fn read_csv<R: Read>(input: R) -> Result<ReadTimeline, ParseError> {
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| ParseError {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let expected: Vec<&str> = super::COLUMNS.to_vec();
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(ParseError {
            line: 1,
            message: format!(
                "expected the header {}, found {}",
                expected.join(","),
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        });
    }
    let mut rows = Vec::new();
    for (i, result) in reader.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = result.map_err(|e| ParseError {
            line,
            message: e.to_string(),
        })?;
        rows.push((line, row));
        if rows.len() > MAX_ROWS {
            return Err(ParseError {
                line,
                message: format!("more than {MAX_ROWS} rows"),
            });
        }
    }
    from_rows(rows)
}

pub fn read_jsonl<R: BufRead>(input: R) -> Result<ReadTimeline, ParseError> {
    let mut rows = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| ParseError {
            line: n,
            message: e.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line).map_err(|e| ParseError {
            line: n,
            message: e.to_string(),
        })?;
        rows.push((n, row));
        if rows.len() > MAX_ROWS {
            return Err(ParseError {
                line: n,
                message: format!("more than {MAX_ROWS} rows"),
            });
        }
    }
    from_rows(rows)
}

/// Rows in file order → records. The epoch comes from the first row's `time` and `time_ms`.
pub fn from_rows(rows: Vec<(usize, Row)>) -> Result<ReadTimeline, ParseError> {
    let Some((first_line, first)) = rows.first() else {
        return Err(ParseError {
            line: 1,
            message: "the timeline has no rows".into(),
        });
    };
    let unix = parse_rfc3339_secs(&first.time).map_err(|m| ParseError {
        line: *first_line,
        message: m,
    })?;
    let epoch = Epoch::from_unix_secs(unix.saturating_sub(first.time_ms / 1000));
    let mut names = Names::new();
    let mut records = Vec::with_capacity(rows.len());
    let mut meta = None;
    for (line, row) in &rows {
        let at = |message: String| ParseError {
            line: *line,
            message,
        };
        if row.kind == "run" {
            meta = Some(parse_meta(row).map_err(at)?);
            continue;
        }
        let event = parse_event(row, &mut names).map_err(at)?;
        records.push(Record {
            time: SimTime(row.time_ms),
            seq: row.seq,
            event,
        });
    }
    Ok(ReadTimeline {
        meta,
        timeline: Timeline {
            epoch,
            names,
            records,
        },
    })
}

fn parse_meta(row: &Row) -> Result<RunMeta, String> {
    let d = Detail::parse(&row.detail)?;
    Ok(RunMeta {
        version: d.text("version")?.to_string(),
        seed: d.number("seed")?,
        scenario_name: d.text("scenario")?.to_string(),
        scenario_sha256: d.text("scenario_sha256")?.to_string(),
    })
}

/// The detail column as a key → value map.
struct Detail {
    values: BTreeMap<String, DetailValue>,
}

impl Detail {
    fn parse(text: &str) -> Result<Detail, String> {
        let mut values = BTreeMap::new();
        for (key, value) in parse_detail(text)? {
            if values.contains_key(&key) {
                return Err(format!("detail has `{key}` twice"));
            }
            values.insert(key, value);
        }
        Ok(Detail { values })
    }

    /// An optional text value.
    fn optional_text(&self, key: &str) -> Result<Option<&str>, String> {
        match self.values.get(key) {
            None => Ok(None),
            Some(_) => self.text(key).map(Some),
        }
    }

    /// A text value (plain or quoted); a raw JSON value here is an error.
    fn text(&self, key: &str) -> Result<&str, String> {
        match self.values.get(key) {
            None => Err(format!("detail has no `{key}`")),
            Some(v) => match v.form {
                ValueForm::Plain | ValueForm::Quoted => Ok(&v.text),
                ValueForm::Json => Err(format!(
                    "detail `{key}` must be text, found a JSON value (quote it)"
                )),
            },
        }
    }

    /// A JSON value (request bodies, responses): raw JSON, or text for JSON that is not an
    /// object or array (`DetailWriter::put_json`).
    fn json(&self, key: &str) -> Result<&str, String> {
        self.optional_json(key)?
            .ok_or_else(|| format!("detail has no `{key}`"))
    }

    fn optional_json(&self, key: &str) -> Result<Option<&str>, String> {
        Ok(self.values.get(key).map(|v| match v.form {
            ValueForm::Json | ValueForm::Plain | ValueForm::Quoted => v.text.as_str(),
        }))
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, String> {
        let text = self.text(key)?;
        text.parse()
            .map_err(|_| format!("detail `{key}` must be a number, found {text:?}"))
    }

    /// An optional `fields` digest (absent in timelines that predate it).
    fn digest(&self, key: &str) -> Result<Option<u64>, String> {
        match self.optional_text(key)? {
            None => Ok(None),
            Some(text) => parse_digest(text)
                .map(Some)
                .ok_or_else(|| format!("detail `{key}` must be 16 hex digits, found {text:?}")),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.text(key)? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!(
                "detail `{key}` must be true or false, found {other:?}"
            )),
        }
    }

    fn enumerated<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> Result<T, String> {
        let text = self.text(key)?;
        parse(text).ok_or_else(|| format!("detail `{key}` has an unknown value {text:?}"))
    }
}

fn parse_enum<T>(column: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, String> {
    parse(text).ok_or_else(|| format!("`{column}` has an unknown value {text:?}"))
}

fn optional<T>(
    column: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        parse_enum(column, text, parse).map(Some)
    }
}

fn required<'a>(column: &str, text: &'a str) -> Result<&'a str, String> {
    if text.is_empty() {
        Err(format!("`{column}` is empty"))
    } else {
        Ok(text)
    }
}

fn sym(names: &mut Names, text: &str) -> Sym {
    names.intern(text)
}

fn opt_sym(names: &mut Names, text: &str) -> Option<Sym> {
    (!text.is_empty()).then(|| names.intern(text))
}

fn status_cause(text: &str) -> Option<StatusCause> {
    [
        StatusCause::Started,
        StatusCause::StopRequested,
        StatusCause::ResumeRequested,
        StatusCause::CancelRequested,
        StatusCause::BatchFailed,
        StatusCause::AutoCancel,
        StatusCause::AutoRollback,
        StatusCause::PausePolicy,
        StatusCause::Completed,
        StatusCause::RolledBack,
        StatusCause::SurgeOutFailed,
        StatusCause::SurgeInFailed,
        StatusCause::InternalError,
    ]
    .into_iter()
    .find(|c| c.as_str() == text)
}

fn lifecycle_cause(text: &str) -> Option<LifeCycleCause> {
    [
        LifeCycleCause::RefreshStart,
        LifeCycleCause::RefreshDone,
        LifeCycleCause::Hook,
        LifeCycleCause::HookDone,
        LifeCycleCause::Created,
        LifeCycleCause::External,
        LifeCycleCause::Api,
        LifeCycleCause::ScalingActivity,
    ]
    .into_iter()
    .find(|c| c.as_str() == text)
}

fn departure(text: &str) -> Option<Departure> {
    [Departure::Destroyed, Departure::Detached]
        .into_iter()
        .find(|d| d.as_str() == text)
}

/// Messages are kept as text: a known text maps back to its `Msg`, anything else is custom.
fn message(names: &mut Names, text: &str) -> Msg {
    let fixed = [
        Msg::Empty,
        Msg::Success,
        Msg::NotFound,
        Msg::NotRunning,
        Msg::Cancelled,
        Msg::ReinstallFailed,
        Msg::ImageNotFound,
        Msg::InstanceStopped,
        Msg::HookAbandoned,
        Msg::CreateFailed,
        Msg::RemoveFailed,
    ];
    fixed
        .into_iter()
        .find(|m| m.render(names) == text)
        .unwrap_or_else(|| Msg::Custom(names.intern(text)))
}

fn parse_event(row: &Row, names: &mut Names) -> Result<Event, String> {
    let d = Detail::parse(&row.detail)?;
    let event = match row.kind.as_str() {
        "instance_joined" => Event::InstanceJoined {
            instance: sym(names, required("instance_id", &row.instance_id)?),
            state: parse_enum("to", &row.to, LifeCycleState::parse)?,
            image: sym(names, d.text("image")?),
            instance_type: sym(names, d.text("instance_type")?),
            surge: d.flag("surge")?,
            creation: d.enumerated("creation", CreationType::parse)?,
            protected: d.flag("protected")?,
            fields: d.digest("fields")?,
            replaces: d.optional_text("replaces")?.map(|old| names.intern(old)),
        },
        "instance_left" => Event::InstanceLeft {
            instance: sym(names, required("instance_id", &row.instance_id)?),
            from: parse_enum("from", &row.from, LifeCycleState::parse)?,
            how: parse_enum("to", &row.to, departure)?,
            cause: sym(names, d.text("cause")?),
        },
        "lifecycle" => Event::LifeCycle {
            instance: sym(names, required("instance_id", &row.instance_id)?),
            from: parse_enum("from", &row.from, LifeCycleState::parse)?,
            to: parse_enum("to", &row.to, LifeCycleState::parse)?,
            cause: d.enumerated("cause", lifecycle_cause)?,
        },
        "reinstall" => Event::Reinstalled {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            batch: row.batch,
            instance: sym(names, required("instance_id", &row.instance_id)?),
            image: sym(names, d.text("image")?),
            instance_type: sym(names, d.text("instance_type")?),
            lc_version: d.number("lc_version")?,
            fields: d.digest("fields")?,
        },
        "group_enabled" => Event::GroupEnabled {
            from: parse_enum("from", &row.from, EnabledStatus::parse)?,
            to: parse_enum("to", &row.to, EnabledStatus::parse)?,
            cause: sym(names, d.text("cause")?),
        },
        "group_status" => Event::GroupStatus {
            from: parse_enum("from", &row.from, GroupStatus::parse)?,
            to: parse_enum("to", &row.to, GroupStatus::parse)?,
        },
        "role" => Event::RoleAuthorized {
            authorized: match row.to.as_str() {
                "AUTHORIZED" => true,
                "UNAUTHORIZED" => false,
                other => {
                    return Err(format!(
                        "`to` must be AUTHORIZED or UNAUTHORIZED, found {other:?}"
                    ));
                }
            },
        },
        "scaling_activity" => Event::ScalingActivity {
            id: sym(names, d.text("id")?),
            activity: opt_sym(names, &row.activity_id),
            activity_type: d.enumerated("type", ScalingActivityType::parse)?,
            from: optional("from", &row.from, ScalingActivityStatus::parse)?,
            to: parse_enum("to", &row.to, ScalingActivityStatus::parse)?,
            instances: d.number("instances")?,
            cause: d.enumerated("cause", ScalingCause::parse)?,
        },
        "activity_created" => Event::ActivityCreated {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            group: sym(names, d.text("group")?),
            activity_type: d.enumerated("type", ActivityType::parse)?,
            mode: d.enumerated("mode", RefreshMode::parse)?,
            settings: RefreshSettings {
                batch_number: d.number("BatchNumber")?,
                batch_pause: d.enumerated("BatchPause", BatchPause::parse)?,
                max_surge: d.number("MaxSurge")?,
                fail_process: d.enumerated("FailProcess", FailProcess::parse)?,
                check_instance_target_health: d.flag("CheckInstanceTargetHealth")?,
                check_instance_target_health_timeout_s: d
                    .number("CheckInstanceTargetHealthTimeout")?,
            },
            origin: opt_sym(names, d.text("origin")?),
            instances: d.number("instances")?,
        },
        "activity" => Event::ActivityStatus {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            from: parse_enum("from", &row.from, ActivityStatus::parse)?,
            to: parse_enum("to", &row.to, ActivityStatus::parse)?,
            cause: d.enumerated("cause", status_cause)?,
        },
        "phase" => Event::Phase {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            from: parse_enum("from", &row.from, Phase::parse)?,
            to: parse_enum("to", &row.to, Phase::parse)?,
        },
        "batch" => Event::BatchStatus {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            batch: row.batch,
            from: optional("from", &row.from, BatchStatus::parse)?,
            to: parse_enum("to", &row.to, BatchStatus::parse)?,
            size: d.number("size")?,
        },
        "instance" => Event::InstanceStatus {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            batch: row.batch,
            instance: sym(names, required("instance_id", &row.instance_id)?),
            from: optional("from", &row.from, InstanceStatus::parse)?,
            to: parse_enum("to", &row.to, InstanceStatus::parse)?,
            msg: message(names, d.text("message")?),
            scaling_activity: opt_sym(names, d.text("last_activity")?),
        },
        "instance_skipped" => Event::InstanceSkipped {
            activity: sym(names, required("activity_id", &row.activity_id)?),
            batch: row.batch,
            instance: sym(names, required("instance_id", &row.instance_id)?),
        },
        "api_call" => Event::ApiCall {
            request_id: sym(names, d.text("request_id")?),
            action: parse_enum("to", &row.to, Action::parse)?,
            body: d.json("body")?.into(),
        },
        "api_result" => {
            let error = match row.to.as_str() {
                "OK" => None,
                code => Some((
                    parse_enum("to", code, ErrorCode::parse)?,
                    d.text("message")?.into(),
                )),
            };
            Event::ApiResult {
                request_id: sym(names, d.text("request_id")?),
                action: parse_enum("from", &row.from, Action::parse)?,
                error,
                activity: opt_sym(names, &row.activity_id),
                response: d.optional_json("response")?.map(Into::into),
            }
        }
        "launch_config" => Event::LaunchConfig {
            version: row
                .to
                .strip_prefix('v')
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("`to` must be v<version>, found {:?}", row.to))?,
            image: sym(names, d.text("image")?),
            changed: d.text("changed")?.into(),
            fields: d.digest("fields")?,
        },
        "image" => Event::ImageAvailability {
            image: sym(names, d.text("image")?),
            available: match row.to.as_str() {
                "AVAILABLE" => true,
                "MISSING" => false,
                other => {
                    return Err(format!(
                        "`to` must be AVAILABLE or MISSING, found {other:?}"
                    ));
                }
            },
        },
        "hook_started" => Event::HookStarted {
            instance: sym(names, required("instance_id", &row.instance_id)?),
            hook: sym(names, d.text("hook")?),
            transition: parse_enum("to", &row.to, LifecycleTransition::parse)?,
        },
        "hook_completed" => Event::HookCompleted {
            instance: sym(names, required("instance_id", &row.instance_id)?),
            hook: sym(names, d.text("hook")?),
            transition: parse_enum("from", &row.from, LifecycleTransition::parse)?,
            result: parse_enum("to", &row.to, LifecycleActionResult::parse)?,
            reason: d.enumerated("reason", HookResultReason::parse)?,
        },
        "scaling_ignored" => Event::ScalingIgnored {
            source: sym(names, d.text("source")?),
            what: sym(names, d.text("what")?),
            reason: sym(names, d.text("reason")?),
        },
        "run_end" => Event::RunEnd {
            reason: parse_enum("to", &row.to, RunEndReason::parse)?,
        },
        other => return Err(format!("unknown kind {other:?}")),
    };
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_round_trips_through_csv_and_jsonl() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let scenario = crate::scenario::load_scenario(&path).unwrap();
            let run = crate::run::run_scenario(&scenario, scenario.seed, true).unwrap();
            let timeline = run.timeline.unwrap();
            let mut csv = Vec::new();
            timeline.write_csv(&run.meta, &mut csv).unwrap();
            let back =
                read_csv(csv.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(back.meta.as_ref(), Some(&run.meta));
            let mut again = Vec::new();
            back.timeline.write_csv(&run.meta, &mut again).unwrap();
            assert_eq!(
                String::from_utf8(again).unwrap(),
                String::from_utf8(csv).unwrap(),
                "{}",
                path.display()
            );
            let mut jsonl = Vec::new();
            timeline.write_jsonl(&run.meta, &mut jsonl).unwrap();
            let back = read_jsonl(jsonl.as_slice()).unwrap();
            assert_eq!(back.timeline.content_hash(), timeline.content_hash());
        }
    }

    #[test]
    fn bad_rows_are_errors_with_their_line() {
        let csv = "time_ms,time,seq,kind,activity_id,batch,instance_id,from,to,detail\n0,2025-01-01T00:00:00Z,1,activity,asr-1,0,,INIT,DONE,cause=started\n";
        let err = read_csv(csv.as_bytes()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("DONE"), "{}", err.message);
        let err = read_csv("a,b\n".as_bytes()).unwrap_err();
        assert_eq!(err.line, 1);
        let err = read_jsonl("{\"oops\":1}\n".as_bytes()).unwrap_err();
        assert_eq!(err.line, 1);
    }
}
