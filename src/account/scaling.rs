//! `DescribeAutoScalingActivities` responses (SDK model `Activity`): the scaling activities a
//! refresh's `LastActivityId`s name, with their times and status.

use super::json::{Obj, parse_time};
use super::{AccountError, Body};

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingActivity {
    pub at: String,
    pub path: String,
    pub id: String,
    pub group_id: Option<String>,
    pub activity_type: Option<String>,
    /// `INIT`, `RUNNING`, `SUCCESSFUL`, `PARTIALLY_SUCCESSFUL`, `FAILED`, `CANCELLED`.
    pub status_code: Option<String>,
    pub status_message: Option<String>,
    pub cause: Option<String>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub created: Option<u64>,
    /// `ActivityRelatedInstanceSet`: instance id and its status in this activity.
    pub instances: Vec<(String, Option<String>)>,
}

pub fn scaling_activities(body: &Body) -> Result<Vec<ScalingActivity>, AccountError> {
    let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
    let mut out = Vec::new();
    for a in root.objects("ActivitySet")? {
        let mut instances = Vec::new();
        for i in a.objects("ActivityRelatedInstanceSet")? {
            instances.push((
                i.str_req("InstanceId")?.to_string(),
                i.str_opt("InstanceStatus")?.map(str::to_string),
            ));
        }
        out.push(ScalingActivity {
            at: a.at.to_string(),
            path: a.path.clone(),
            id: a.str_req("ActivityId")?.to_string(),
            group_id: a.str_opt("AutoScalingGroupId")?.map(str::to_string),
            activity_type: a.str_opt("ActivityType")?.map(str::to_string),
            status_code: a.str_opt("StatusCode")?.map(str::to_string),
            status_message: a.str_opt("StatusMessage")?.map(str::to_string),
            cause: a.str_opt("Cause")?.map(str::to_string),
            start: parse_time(&a, "StartTime")?,
            end: parse_time(&a, "EndTime")?,
            created: parse_time(&a, "CreatedTime")?,
            instances,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Action, OnError, read_responses};

    #[test]
    fn sdk_form_with_nulls_reads() {
        let text = r#"{"TotalCount": 1, "ActivitySet": [{"AutoScalingGroupId": "asg-1", "ActivityId": "asa-1",
            "ActivityType": "SCALE_OUT", "StatusCode": "SUCCESSFUL", "StatusMessage": "Success",
            "Cause": null, "Description": null, "StartTime": "2023-09-07T16:27:49Z",
            "EndTime": "2023-09-07T16:29:55Z", "CreatedTime": "2023-09-07T16:27:49Z",
            "ActivityRelatedInstanceSet": [{"InstanceId": "ins-1", "InstanceStatus": "SUCCESSFUL"}],
            "StatusMessageSimplified": null, "LifecycleActionResultSet": null,
            "DetailedStatusMessageSet": null, "InvocationResultSet": null, "RelatedInstanceSet": null}],
            "RequestId": "r"}"#;
        let (bodies, _) = read_responses(
            "a.json",
            text,
            Action::DescribeAutoScalingActivities,
            OnError::Refuse,
        )
        .unwrap();
        let set = scaling_activities(&bodies[0]).unwrap();
        assert_eq!(set[0].id, "asa-1");
        assert_eq!(set[0].end.unwrap() - set[0].start.unwrap(), 126);
        assert_eq!(
            set[0].instances,
            vec![("ins-1".into(), Some("SUCCESSFUL".into()))]
        );
    }
}
