//! `DescribeRefreshActivities` responses, typed (field names from Tencent's SDK models:
//! RefreshActivity, RefreshBatch, RefreshBatchRelatedInstance, RefreshSettings,
//! RollingUpdateSettings).

use super::json::{Obj, parse_time};
use super::{AccountError, Body};
use crate::api::{ActivityStatus, BatchStatus, InstanceStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshActivity {
    /// `file` or `file:line`, and the activity's JSON path.
    pub at: String,
    pub path: String,
    /// Poll order of the body it came from (file order, then line order).
    pub poll: usize,
    pub group_id: Option<String>,
    pub id: String,
    pub origin_id: Option<String>,
    pub batches: Vec<RefreshBatch>,
    pub mode: Option<String>,
    pub settings: RefreshSettings,
    pub activity_type: Option<String>,
    pub status: ActivityStatus,
    pub current_batch: Option<u64>,
    /// Unix seconds.
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub created: Option<u64>,
    /// Paths of fields present that refreshsim does not know.
    pub unknown_fields: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshSettings {
    pub batch_number: Option<u64>,
    pub batch_pause: Option<String>,
    pub max_surge: Option<u64>,
    pub fail_process: Option<String>,
    pub check_target_health: Option<bool>,
    pub check_target_health_timeout: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshBatch {
    pub path: String,
    pub number: u64,
    pub status: BatchStatus,
    pub instances: Vec<RefreshInstance>,
    pub start: Option<u64>,
    pub end: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshInstance {
    pub id: String,
    pub status: InstanceStatus,
    pub last_activity: Option<String>,
    pub message: Option<String>,
}

/// The activities of one response body, in its order.
pub fn activities(body: &Body) -> Result<Vec<RefreshActivity>, AccountError> {
    let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
    let mut out = Vec::new();
    for activity in root.objects("RefreshActivitySet")? {
        out.push(activity_of(&activity, body.index)?);
    }
    Ok(out)
}

fn enum_of<T>(
    obj: &Obj<'_>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    values: &str,
) -> Result<T, AccountError> {
    let text = obj.str_req(key)?;
    parse(text).ok_or_else(|| obj.error(key, format!("expected one of {values}, found {text:?}")))
}

const ACTIVITY_STATUSES: &str =
    "INIT, RUNNING, SUCCESSFUL, FAILED_PAUSE, AUTO_PAUSE, MANUAL_PAUSE, CANCELLED, FAILED";
const BATCH_STATUSES: &str =
    "WAITING, INIT, RUNNING, FAILED, PARTIALLY_SUCCESSFUL, CANCELLED, SUCCESSFUL";
const INSTANCE_STATUSES: &str = "WAITING, INIT, RUNNING, FAILED, CANCELLED, SUCCESSFUL, NOT_FOUND";

fn activity_of(a: &Obj<'_>, poll: usize) -> Result<RefreshActivity, AccountError> {
    let id = a.str_req("RefreshActivityId")?.to_string();
    let status = enum_of(a, "Status", ActivityStatus::parse, ACTIVITY_STATUSES)?;
    let mut batches = Vec::new();
    for b in a.objects("RefreshBatchSet")? {
        batches.push(batch_of(&b)?);
    }
    let settings = match a.obj_opt("RefreshSettings")? {
        None => RefreshSettings::default(),
        Some(s) => settings_of(&s)?,
    };
    let activity = RefreshActivity {
        at: a.at.to_string(),
        path: a.path.clone(),
        poll,
        group_id: a.str_opt("AutoScalingGroupId")?.map(str::to_string),
        id,
        origin_id: a.str_opt("OriginRefreshActivityId")?.map(str::to_string),
        batches,
        mode: a.str_opt("RefreshMode")?.map(str::to_string),
        settings,
        activity_type: a.str_opt("ActivityType")?.map(str::to_string),
        status,
        current_batch: a.u64_opt("CurrentRefreshBatchNum")?,
        start: parse_time(a, "StartTime")?,
        end: parse_time(a, "EndTime")?,
        created: parse_time(a, "CreatedTime")?,
        unknown_fields: a.unread(),
    };
    Ok(activity)
}

fn settings_of(s: &Obj<'_>) -> Result<RefreshSettings, AccountError> {
    let rolling = s.obj_opt("RollingUpdateSettings")?;
    let mut out = RefreshSettings {
        check_target_health: s.bool_opt("CheckInstanceTargetHealth")?,
        check_target_health_timeout: s.u64_opt("CheckInstanceTargetHealthTimeout")?,
        ..RefreshSettings::default()
    };
    if let Some(r) = rolling {
        out.batch_number = r.u64_opt("BatchNumber")?;
        out.batch_pause = r.str_opt("BatchPause")?.map(str::to_string);
        out.max_surge = r.u64_opt("MaxSurge")?;
        out.fail_process = r.str_opt("FailProcess")?.map(str::to_string);
    }
    Ok(out)
}

fn batch_of(b: &Obj<'_>) -> Result<RefreshBatch, AccountError> {
    let number = b
        .u64_opt("RefreshBatchNum")?
        .ok_or_else(|| b.error("RefreshBatchNum", "expected a batch number, found nothing"))?;
    let status = enum_of(b, "RefreshBatchStatus", BatchStatus::parse, BATCH_STATUSES)?;
    let mut instances = Vec::new();
    for i in b.objects("RefreshBatchRelatedInstanceSet")? {
        instances.push(RefreshInstance {
            id: i.str_req("InstanceId")?.to_string(),
            status: enum_of(
                &i,
                "InstanceStatus",
                InstanceStatus::parse,
                INSTANCE_STATUSES,
            )?,
            // A WAITING instance shows "" (no attempt yet): the same as none.
            last_activity: i
                .str_opt("LastActivityId")?
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            message: i.str_opt("InstanceStatusMessage")?.map(str::to_string),
        });
    }
    let start = parse_time(b, "StartTime")?;
    let end = parse_time(b, "EndTime")?;
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(b.error("EndTime", "expected EndTime >= StartTime"));
    }
    Ok(RefreshBatch {
        path: b.path.clone(),
        number,
        status,
        instances,
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Action, OnError, read_responses};

    fn parse(text: &str) -> Result<Vec<RefreshActivity>, AccountError> {
        let (bodies, _) = read_responses(
            "d.json",
            text,
            Action::DescribeRefreshActivities,
            OnError::SkipPolls,
        )?;
        activities(&bodies[0])
    }

    fn tencent_example() -> String {
        let reference: serde_json::Value =
            serde_json::from_str(&crate::account::tests::fixture("DescribeRefreshActivities"))
                .unwrap();
        reference.to_string()
    }

    #[test]
    fn tencents_example_reads_whole() {
        let activities = parse(&tencent_example()).unwrap();
        assert_eq!(activities.len(), 1);
        let a = &activities[0];
        assert_eq!(a.id, "asr-cs0fxpcu");
        assert_eq!(a.status, ActivityStatus::Successful);
        assert_eq!(a.batches.len(), 3);
        assert_eq!(a.settings.batch_number, Some(3));
        assert_eq!(a.settings.check_target_health, Some(true));
        let first = a.batches.iter().find(|b| b.number == 1).unwrap();
        assert_eq!(first.end.unwrap() - first.start.unwrap(), 126);
        assert_eq!(first.instances.len(), 2);
        assert!(a.unknown_fields.is_empty(), "{:?}", a.unknown_fields);
    }

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let text = tencent_example().replace("\"2023-09-07T16:29:56Z\"", "\"yesterday\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.starts_with("d.json: Response.RefreshActivitySet[0].RefreshBatchSet[1].StartTime: expected an RFC 3339"),
            "{err}"
        );
        let text = tencent_example().replace(
            "\"RefreshBatchStatus\":\"SUCCESSFUL\"",
            "\"RefreshBatchStatus\":\"DONE\"",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("RefreshBatchSet[0].RefreshBatchStatus: expected one of"),
            "{err}"
        );
    }
}
