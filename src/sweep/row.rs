//! One run of a sweep reduced to its metrics: a row of `runs.csv`. Times are kept as integer
//! milliseconds and written as seconds with three decimals, so a row read back from a chunk
//! file is exactly the row that was written (shards merge byte-for-byte).

use super::grid::Variant;
use super::plan::Plan;
use crate::api::{ActivityStatus, InstanceStatus};
use crate::run::RunDigest;

/// The fixed columns of `runs.csv`, after `variant,run,seed` and one column per varied key.
pub const METRIC_COLUMNS: &[&str] = &[
    "status",
    "start_error",
    "limit",
    "activities",
    "batch_number",
    "max_surge",
    "duration_s",
    "first_pause_s",
    "pauses",
    "failed_pauses",
    "operator_free",
    "in_service_before",
    "min_in_service",
    "min_in_service_fraction",
    "below_floor_s",
    "surge_instance_s",
    "surge_peak",
    "instances_successful",
    "instances_failed",
    "instances_not_found",
    "instances_cancelled",
    "instances_other",
    "api_errors",
    "api_error_codes",
    "events",
    "end_s",
];

/// `status` when no refresh activity was created.
pub const NO_ACTIVITY: &str = "NONE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub variant: u32,
    pub run: u32,
    pub seed: u64,
    /// Final status of the first refresh activity, or `NONE`.
    pub status: String,
    /// The code of the first refused `StartInstanceRefresh`, or empty.
    pub start_error: String,
    /// The run bound that stopped the run (`max_events`, `max_sim_time`, `max_records`, `max_call_bytes`, `max_memory_bytes`), or empty.
    pub limit: String,
    pub activities: u32,
    /// Effective settings of the first activity.
    pub batch_number: Option<u32>,
    pub max_surge: Option<u32>,
    /// From the first refresh activity's creation until no refresh activity is left running;
    /// `None` if one never ended (e.g. paused with nobody to resume it).
    pub duration_ms: Option<u64>,
    /// From the first activity's creation to the first `*_PAUSE`.
    pub first_pause_ms: Option<u64>,
    pub pauses: u32,
    pub failed_pauses: u32,
    pub in_service_before: Option<u32>,
    pub min_in_service: Option<u32>,
    pub below_floor_ms: u64,
    pub surge_instance_ms: u64,
    pub surge_peak: u32,
    /// Instances of the first activity by final status: successful, failed, not found,
    /// cancelled, other (still waiting or in flight).
    pub instances: [u32; 5],
    pub api_errors: u32,
    /// `Code:count;...` in code order.
    pub api_error_codes: String,
    pub events: u64,
    pub end_ms: u64,
}

impl RunRow {
    pub fn from_digest(variant: u32, run: u32, seed: u64, digest: &RunDigest) -> RunRow {
        let m = &digest.metrics;
        let first = digest.activities.first();
        let all_ended = digest.activities.iter().all(|a| a.status.is_terminal());
        let duration_ms = match (m.first_refresh_created_ms, m.last_refresh_ended_ms) {
            (Some(created), Some(ended)) if all_ended => Some(ended - created),
            _ => None,
        };
        let first_pause_ms = match (m.first_refresh_created_ms, m.first_pause_ms) {
            (Some(created), Some(paused)) => Some(paused - created),
            _ => None,
        };
        let mut instances = [0u32; 5];
        if let Some(act) = first {
            for (status, count) in InstanceStatus::ALL.iter().zip(act.instances) {
                let slot = match status {
                    InstanceStatus::Successful => 0,
                    InstanceStatus::Failed => 1,
                    InstanceStatus::NotFound => 2,
                    InstanceStatus::Cancelled => 3,
                    InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => 4,
                };
                instances[slot] += count;
            }
        }
        RunRow {
            variant,
            run,
            seed,
            status: first.map_or(NO_ACTIVITY.to_string(), |a| a.status.as_str().to_string()),
            start_error: m
                .first_start_error
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            limit: digest.limit.unwrap_or_default().to_string(),
            activities: digest.activities.len() as u32,
            batch_number: first.and_then(|a| u32::try_from(a.settings.batch_number).ok()),
            max_surge: first.and_then(|a| u32::try_from(a.settings.max_surge).ok()),
            duration_ms,
            first_pause_ms,
            pauses: m.pauses,
            failed_pauses: m.failed_pauses,
            in_service_before: m.in_service_before,
            min_in_service: m.min_in_service,
            below_floor_ms: m.below_floor_ms,
            surge_instance_ms: m.surge_instance_ms,
            surge_peak: m.surge_peak,
            instances,
            api_errors: m.api_errors.values().sum(),
            api_error_codes: m
                .api_errors
                .iter()
                .map(|(code, n)| format!("{}:{n}", code.as_str()))
                .collect::<Vec<_>>()
                .join(";"),
            events: digest.events,
            end_ms: digest.end.as_ms(),
        }
    }

    pub fn successful(&self) -> bool {
        self.status == ActivityStatus::Successful.as_str()
    }

    /// Succeeded without ever pausing: no operator had to act.
    pub fn operator_free(&self) -> bool {
        self.successful() && self.pauses == 0
    }

    /// The capacity floor as a fraction of the in-service count before the refresh.
    pub fn min_in_service_fraction(&self) -> Option<f64> {
        match (self.min_in_service, self.in_service_before) {
            (Some(min), Some(before)) if before > 0 => Some(f64::from(min) / f64::from(before)),
            _ => None,
        }
    }

    /// The metric columns, rendered.
    pub fn metric_fields(&self) -> Vec<String> {
        let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            self.status.clone(),
            self.start_error.clone(),
            self.limit.clone(),
            self.activities.to_string(),
            opt(self.batch_number),
            opt(self.max_surge),
            self.duration_ms.map(seconds).unwrap_or_default(),
            self.first_pause_ms.map(seconds).unwrap_or_default(),
            self.pauses.to_string(),
            self.failed_pauses.to_string(),
            self.operator_free().to_string(),
            opt(self.in_service_before),
            opt(self.min_in_service),
            self.min_in_service_fraction()
                .map(|f| format!("{f:.4}"))
                .unwrap_or_default(),
            seconds(self.below_floor_ms),
            seconds(self.surge_instance_ms),
            self.surge_peak.to_string(),
            self.instances[0].to_string(),
            self.instances[1].to_string(),
            self.instances[2].to_string(),
            self.instances[3].to_string(),
            self.instances[4].to_string(),
            self.api_errors.to_string(),
            self.api_error_codes.clone(),
            self.events.to_string(),
            seconds(self.end_ms),
        ]
    }

    /// Reads a row back from its rendered metric columns (`fields` in `METRIC_COLUMNS` order).
    pub fn from_fields(
        variant: u32,
        run: u32,
        seed: u64,
        fields: &[&str],
    ) -> Result<RunRow, String> {
        if fields.len() != METRIC_COLUMNS.len() {
            return Err(format!(
                "expected {} metric columns, found {}",
                METRIC_COLUMNS.len(),
                fields.len()
            ));
        }
        let col = |name: &str| {
            METRIC_COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("a metric column")
        };
        let field = |name: &str| fields[col(name)];
        let num = |name: &str| -> Result<u64, String> {
            field(name)
                .parse()
                .map_err(|_| format!("{name}: expected a number, found {:?}", field(name)))
        };
        let small = |name: &str| -> Result<u32, String> {
            u32::try_from(num(name)?).map_err(|_| format!("{name}: out of range"))
        };
        let opt = |name: &str| -> Result<Option<u32>, String> {
            if field(name).is_empty() {
                Ok(None)
            } else {
                small(name).map(Some)
            }
        };
        let secs = |name: &str| -> Result<u64, String> {
            parse_seconds(field(name)).ok_or_else(|| {
                format!(
                    "{name}: expected seconds like 12.345, found {:?}",
                    field(name)
                )
            })
        };
        let opt_secs = |name: &str| -> Result<Option<u64>, String> {
            if field(name).is_empty() {
                Ok(None)
            } else {
                secs(name).map(Some)
            }
        };
        let row = RunRow {
            variant,
            run,
            seed,
            status: field("status").to_string(),
            start_error: field("start_error").to_string(),
            limit: field("limit").to_string(),
            activities: small("activities")?,
            batch_number: opt("batch_number")?,
            max_surge: opt("max_surge")?,
            duration_ms: opt_secs("duration_s")?,
            first_pause_ms: opt_secs("first_pause_s")?,
            pauses: small("pauses")?,
            failed_pauses: small("failed_pauses")?,
            in_service_before: opt("in_service_before")?,
            min_in_service: opt("min_in_service")?,
            below_floor_ms: secs("below_floor_s")?,
            surge_instance_ms: secs("surge_instance_s")?,
            surge_peak: small("surge_peak")?,
            instances: [
                small("instances_successful")?,
                small("instances_failed")?,
                small("instances_not_found")?,
                small("instances_cancelled")?,
                small("instances_other")?,
            ],
            api_errors: small("api_errors")?,
            api_error_codes: field("api_error_codes").to_string(),
            events: num("events")?,
            end_ms: secs("end_s")?,
        };
        // Derived columns must agree with what they derive from.
        let rendered = row.metric_fields();
        for name in ["operator_free", "min_in_service_fraction"] {
            if rendered[col(name)] != field(name) {
                return Err(format!(
                    "{name}: found {:?}, but the other columns give {:?}",
                    field(name),
                    rendered[col(name)]
                ));
            }
        }
        Ok(row)
    }
}

/// `12345` ms → `"12.345"`.
pub fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `"12.345"` → 12345 ms (exactly three decimals, as `seconds` writes them).
pub fn parse_seconds(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.')?;
    if frac.len() != 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    whole
        .checked_mul(1000)?
        .checked_add(frac.parse::<u64>().ok()?)
}

/// The `runs.csv` header for a grid with these axis keys.
pub fn header(keys: &[String]) -> Vec<String> {
    let mut header = vec!["variant".to_string(), "run".to_string(), "seed".to_string()];
    header.extend(keys.iter().cloned());
    header.extend(METRIC_COLUMNS.iter().map(|c| c.to_string()));
    header.push("replay".to_string());
    header
}

/// A full `runs.csv` record: ids, the variant's values, metrics, and the replay command.
pub fn record(row: &RunRow, variant: &Variant, plan: &Plan) -> Vec<String> {
    let mut record = vec![
        row.variant.to_string(),
        row.run.to_string(),
        row.seed.to_string(),
    ];
    record.extend(variant.overrides.iter().map(|o| o.value_text.clone()));
    record.extend(row.metric_fields());
    record.push(replay_command(
        &plan.scenario_path,
        row.seed,
        variant,
        plan.replay_floor(),
    ));
    record
}

/// The command that replays one run with its full timeline; `floor` (permille) when the
/// sweep's `--floor` is not the scenario's own, so `below_floor_s` replays too.
pub fn replay_command(
    scenario_path: &str,
    seed: u64,
    variant: &Variant,
    floor: Option<u32>,
) -> String {
    let mut words = vec![
        "refreshsim".to_string(),
        "run".to_string(),
        shell_quote(scenario_path),
        "--seed".to_string(),
        seed.to_string(),
    ];
    if let Some(permille) = floor {
        words.push("--floor".to_string());
        words.push(super::exec::floor_text(permille));
    }
    for o in &variant.overrides {
        words.push("--set".to_string());
        words.push(shell_quote(&o.text()));
    }
    words.join(" ")
}

/// Quotes `word` for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunRow {
        RunRow {
            variant: 2,
            run: 7,
            seed: 99,
            status: "SUCCESSFUL".into(),
            start_error: String::new(),
            limit: String::new(),
            activities: 1,
            batch_number: Some(20),
            max_surge: Some(10),
            duration_ms: Some(2_077_123),
            first_pause_ms: None,
            pauses: 0,
            failed_pauses: 0,
            in_service_before: Some(2000),
            min_in_service: Some(1900),
            below_floor_ms: 0,
            surge_instance_ms: 20_770_000,
            surge_peak: 10,
            instances: [1990, 0, 0, 0, 0],
            api_errors: 1,
            api_error_codes: "RequestLimitExceeded:1".into(),
            events: 4011,
            end_ms: 2_077_123,
        }
    }

    #[test]
    fn rows_round_trip_through_their_rendering() {
        let row = sample();
        let fields = row.metric_fields();
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        assert_eq!(RunRow::from_fields(2, 7, 99, &refs).unwrap(), row);
        assert_eq!(fields[6], "2077.123");
        assert_eq!(fields[10], "true");
        assert_eq!(fields[13], "0.9500");
    }

    #[test]
    fn inconsistent_or_malformed_rows_are_refused() {
        let row = sample();
        let mut fields = row.metric_fields();
        fields[10] = "false".into();
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        assert!(
            RunRow::from_fields(2, 7, 99, &refs)
                .unwrap_err()
                .contains("operator_free")
        );
        let mut fields = row.metric_fields();
        fields[6] = "12.5".into();
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        assert!(
            RunRow::from_fields(2, 7, 99, &refs)
                .unwrap_err()
                .contains("duration_s")
        );
        assert!(RunRow::from_fields(2, 7, 99, &refs[..3]).is_err());
    }

    #[test]
    fn seconds_are_exact_milliseconds() {
        assert_eq!(seconds(5), "0.005");
        assert_eq!(parse_seconds("0.005"), Some(5));
        assert_eq!(parse_seconds("1.5"), None);
        assert_eq!(parse_seconds("x.500"), None);
    }

    #[test]
    fn replay_commands_quote_what_the_shell_would_split() {
        assert_eq!(shell_quote("scenarios/a.toml"), "scenarios/a.toml");
        assert_eq!(shell_quote("my file.toml"), "'my file.toml'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(
            shell_quote("timing.reinstall={ uniform = { min = \"1s\" } }"),
            "'timing.reinstall={ uniform = { min = \"1s\" } }'"
        );
    }
}
